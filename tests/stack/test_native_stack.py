"""The native stack with the real binaries: up, status, healing, a taken port, down.

Runs the four real components (built by obs.stack.build.ensure when missing, which
takes minutes the first time) from configs generated for a fast-profile spec whose
ports are free and far from the defaults, so a developer's own stack is untouched.
"""
from __future__ import annotations

import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest
import requests

from obs import versions
from obs.cli import main
from obs.commands.generate import generate
from obs.errors import StackError
from obs.model import conventions as c
from obs.project import load_model
from obs.stack import build, ports
from obs.stack.components import NATIVE as COMPONENTS
from obs.stack.components import NATIVE_ORDER as ORDER
from obs.stack.components import PYTHON, urls
from obs.stack.native import Stack
from obs.stack.state import identity
from tests.support.stack_spec import SECRET_ENV, free_ports, write_spec

pytestmark = pytest.mark.live
SECRET_VALUE = "routing-key-from-the-environment"


def progress(message: str) -> None:
    print(message, file=sys.stderr)


@pytest.fixture(scope="module")
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, SECRET_VALUE)
        yield


@pytest.fixture(scope="module")
def spec(tmp_path_factory, environment) -> Path:
    spec = write_spec(tmp_path_factory.mktemp("stack"), free_ports())
    generate(spec, None, check=False)
    return spec


@pytest.fixture(scope="module")
def stack(spec):
    st = Stack(spec.parent, load_model(spec))
    st.up(progress)
    yield st
    st.down()


def pids(stack: Stack) -> dict[str, int | None]:
    return {name: stack.pid(name) for name in ORDER}


def test_up_brings_all_four_real_components_healthy_on_the_spec_ports(stack):
    assert [(s.name, s.state) for s in stack.status()] == [(name, "healthy") for name in ORDER]
    manifest = stack.out / c.OTELCOL_MANIFEST
    for name in ORDER:
        comp = COMPONENTS[name]
        started, cmdline = identity(stack.pid(name))
        if comp.binary == PYTHON:   # obs's own contract receivers: this Python running `-m obs receivers`
            assert cmdline[:4] == [sys.executable, "-m", "obs", "receivers"]
        else:
            assert cmdline[0] == str(build.binary_path(comp.binary, manifest if name == "otelcol" else None))
        for host, port in comp.listens(stack.model):
            assert not ports.is_free(host, port), f"{name} does not listen on {host}:{port}"
            assert ports.owner(port)[0] == stack.pid(name)


def test_the_processes_are_the_pinned_releases(stack):
    u = urls(stack.model)
    build_info = requests.get(f"{u['prometheus']}/api/v1/status/buildinfo", timeout=5).json()["data"]
    assert build_info["version"] == versions.PROMETHEUS_RELEASE
    am = requests.get(f"{u['alertmanager']}/api/v2/status", timeout=5).json()
    assert am["versionInfo"]["version"] == versions.ALERTMANAGER.lstrip("v")
    assert am["cluster"]["status"] == "disabled"
    assert requests.get(f"{u['jaeger_query']}/api/services", timeout=5).status_code == 200
    assert requests.get(u["collector_health"], timeout=5).status_code == 200


def test_an_env_secret_becomes_a_private_file_and_the_local_alertmanager_reads_a_stand_in_instead(stack):
    secret = stack.out / c.secret_file(SECRET_ENV)
    assert secret.read_text() == SECRET_VALUE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    loaded = requests.get(f"{urls(stack.model)['alertmanager']}/api/v2/status", timeout=5).json()["config"]["original"]
    assert SECRET_VALUE not in loaded
    assert SECRET_VALUE not in (stack.out / c.ALERTMANAGER_CONFIG).read_text()
    # Production reads the real key's file; the local stack pages obs receivers with a stand-in key.
    assert c.secret_file(SECRET_ENV) in (stack.out / c.ALERTMANAGER_CONFIG).read_text()
    stand_in = c.local_stand_in_file("pagerduty", "oncall")
    assert stand_in in loaded and c.secret_file(SECRET_ENV) not in loaded
    assert stat.S_IMODE((stack.out / stand_in).stat().st_mode) == 0o600


def test_status_reports_every_component_healthy_and_exits_0(stack, spec, capsys):
    assert main(["status", str(spec), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["healthy"] is True and doc["runtime"] == "native"
    assert {x["name"]: x["pid"] for x in doc["components"]} == pids(stack)
    assert doc["urls"] == urls(stack.model)


def test_logs_show_what_the_component_itself_wrote(stack, capsys):
    assert main(["logs", "prometheus", "--out", str(stack.out), "-n", "500"]) == 0
    out = capsys.readouterr().out
    assert "--- obs up" in out and "Server is ready to receive web requests." in out


def test_a_second_up_leaves_every_healthy_component_alone(stack):
    before = pids(stack)
    stack.up(progress)
    assert pids(stack) == before


@pytest.mark.parametrize("victim", ORDER)
def test_up_heals_a_killed_component_and_leaves_the_others_alone(stack, spec, victim, capsys):
    before = pids(stack)
    stack.kill(victim)
    assert main(["status", str(spec)]) == 1
    assert f"{victim}" in capsys.readouterr().out
    assert {s.name: s.state for s in stack.status()}[victim] == "stopped"
    stack.up(progress)
    after = pids(stack)
    assert after[victim] not in (None, before[victim])
    assert {n: p for n, p in after.items() if n != victim} == {n: p for n, p in before.items() if n != victim}
    assert all(s.healthy for s in stack.status())


def test_a_component_that_exits_at_start_fails_up_with_its_own_last_log_lines(stack):
    config = stack.out / c.PROMETHEUS_CONFIG
    original = config.read_bytes()
    others = {n: p for n, p in pids(stack).items() if n != "prometheus"}
    try:
        config.write_text("global:\n  scrape_interval: not-a-duration\n")
        with pytest.raises(StackError) as failure:
            stack.up(progress)
        message = str(failure.value)
        assert "prometheus exited" in message and "not-a-duration" in message
    finally:
        config.write_bytes(original)
    stack.up(progress)
    assert all(s.healthy for s in stack.status())
    assert {n: p for n, p in pids(stack).items() if n != "prometheus"} == others


def test_up_fails_with_exit_3_naming_a_port_that_another_process_holds(stack, spec, capsys):
    stack.stop("alertmanager")
    port = stack.model.stack.ports["alertmanager"]
    try:
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            assert main(["up", str(spec), "--runtime", "native"]) == 3
            err = capsys.readouterr().err
            assert f"port {port}" in err and f"pid {os.getpid()}" in err
            assert stack.pid("alertmanager") is None
    finally:
        stack.up(progress)
    assert [s for s in stack.status() if not s.healthy] == []


def test_down_leaves_no_process_and_no_listening_port(tmp_path, environment, capsys):
    spec = write_spec(tmp_path, free_ports(), project="down-test")
    # Straight from the CLI on an ungenerated tree: up generates, starts, waits.
    assert main(["up", str(spec), "--runtime", "native", "--format", "json"]) == 0
    started = {x["name"]: x["pid"] for x in json.loads(capsys.readouterr().out)["components"]}
    assert all(started.values())
    model = load_model(spec)
    assert main(["down", str(spec)]) == 0
    for name, pid in started.items():
        assert identity(pid) is None, f"{name} (pid {pid}) still runs"
        assert not (tmp_path / c.STATE_PIDS / f"{name}.pid").exists()
        for host, port in COMPONENTS[name].listens(model):
            assert ports.is_free(host, port), f"{name}'s port {port} still listens"
    assert (tmp_path / c.state_data_dir("prometheus")).is_dir()
    assert main(["status", str(spec)]) == 3
    assert main(["down", str(spec), "--purge"]) == 0
    assert not (tmp_path / c.STATE_DIR).exists()
