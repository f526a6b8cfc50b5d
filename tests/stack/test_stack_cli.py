"""The stack commands and the supervisor's parts that need no stack binary.

Everything live (the four real components started, healed and stopped) is in
test_native_stack.py; here are the argv, the runtime choice, secrets, pid records,
port ownership, logs and exit codes.
"""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from obs.cli import main
from obs.commands._stack import exit_code
from obs.errors import StackError
from obs.model import conventions as c
from obs.project import load_model
from obs.stack import build, ports, runtime, secrets
from obs.stack.components import COMPONENTS, reach, urls
from obs.stack.compose_runtime import ComposeStack
from obs.stack.native import ComponentStatus, Stack
from obs.stack.state import ProcessRecord, State, identity, is_running
from tests.support.stack_spec import SECRET_ENV, free_ports, write_spec


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path, free_ports())


@pytest.fixture
def no_docker(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def fake_docker(directory: Path, info_status: int) -> Path:
    """A `docker` whose `info` exits with `info_status`: stands in for the engine probe only."""
    directory.mkdir(exist_ok=True)
    exe = directory / "docker"
    exe.write_text(f"#!/bin/sh\n[ \"$1\" = info ] && exit {info_status}\nexit 0\n")
    exe.chmod(0o755)
    return directory


@pytest.mark.parametrize("argv", [["stack", "build"], ["up"], ["down"], ["status"], ["logs"]])
def test_every_stack_command_teaches_by_example_in_its_help(argv, capsys):
    assert main([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and f"obs {argv[0]}" in out


@pytest.mark.parametrize("argv, wanted", [
    ([], ["otelcol", "jaeger", "prometheus", "alertmanager"]),   # what the stack runs: a cold demo skips Sloth
    (["--all"], ["otelcol", "jaeger", "prometheus", "promtool", "alertmanager", "sloth",
                 "kustomize", "thanos", "cortextool", "controller-gen", "kubecheck"]),
])
def test_obs_stack_build_builds_what_the_stack_runs_and_the_tools_of_tests_only_when_asked(spec, monkeypatch, argv, wanted):
    asked: list[list[str]] = []

    def ensure(names, manifest=None, progress=None, jobs=1):
        asked.append(list(names))
        assert jobs == 2      # side by side by default: 0.90x the cold build time on 2 cores
        return {n: spec.parent / n for n in names}
    monkeypatch.setattr(build, "ensure", ensure)
    monkeypatch.setattr(build, "build_seconds", lambda name, manifest=None: None)
    assert main(["stack", "build", str(spec), *argv]) == 0
    assert asked == [wanted]


def test_compose_runs_docker_compose_on_the_generated_file(tmp_path):
    stack = ComposeStack(tmp_path, None)
    compose = ["docker", "compose", "-f", str(tmp_path.resolve() / c.COMPOSE_FILE)]
    assert stack.argv("up", "-d") == [*compose, "up", "-d"]
    assert stack.argv("down") == [*compose, "down"]
    assert stack.logs_argv("prometheus", 20, True) == [*compose, "logs", "--no-log-prefix", "-n", "20", "-f",
                                                       "prometheus"]


def test_compose_without_docker_fails_with_exit_3_and_points_to_native(spec, no_docker, capsys):
    State(spec.parent).write_runtime("compose")
    assert main(["down", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "Docker" in err and "--runtime native" in err


def test_compose_up_without_docker_raises_a_stack_error(spec, no_docker):
    (spec.parent / c.COMPOSE_FILE).write_text("services: {}\n")
    with pytest.raises(StackError, match="not on PATH"):
        ComposeStack(spec.parent, load_model(spec)).up()


@pytest.mark.parametrize("info_status, expected", [(0, "compose"), (1, "native"), (None, "native")])
def test_auto_runtime_is_compose_only_when_a_docker_engine_answers(tmp_path, monkeypatch, info_status, expected):
    bin_dir = fake_docker(tmp_path / "bin", info_status) if info_status is not None else tmp_path
    monkeypatch.setenv("PATH", str(bin_dir))
    assert runtime.choose("auto") == expected
    assert runtime.choose("native") == "native"


def test_prometheus_binds_the_spec_address_and_takes_its_resend_delay_from_the_timing_profile(spec):
    model = load_model(spec)
    argv = COMPONENTS["prometheus"].argv(model, spec.parent, Path("/b/prometheus"))
    port = model.stack.ports["prometheus"]
    assert argv[argv.index("--web.listen-address") + 1] == f"127.0.0.1:{port}"
    assert "--rules.alert.resend-delay=1s" in argv
    assert "--web.enable-otlp-receiver" in argv
    assert argv[argv.index("--storage.tsdb.path") + 1] == str(spec.parent.resolve() / ".obs" / "prometheus")


def test_alertmanager_runs_without_cluster_gossip(spec):
    argv = COMPONENTS["alertmanager"].argv(load_model(spec), spec.parent, Path("/b/alertmanager"))
    assert "--cluster.listen-address=" in argv


@pytest.mark.parametrize("bind, client", [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "::1"),
                                          ("10.1.2.3", "10.1.2.3")])
def test_a_wildcard_bind_is_reached_through_loopback(bind, client):
    assert reach(bind) == client


def test_urls_name_every_endpoint_the_verifier_needs(spec):
    model = load_model(spec)
    p = model.stack.ports
    assert urls(model) == {
        "prometheus": f"http://127.0.0.1:{p['prometheus']}",
        "alertmanager": f"http://127.0.0.1:{p['alertmanager']}",
        "jaeger_query": f"http://127.0.0.1:{p['jaeger_query']}",
        "otlp_grpc": f"http://127.0.0.1:{p['otlp_grpc']}",
        "otlp_http": f"http://127.0.0.1:{p['otlp_http']}",
        "collector_health": f"http://127.0.0.1:{p['collector_health']}/",
        "collector_metrics": f"http://127.0.0.1:{p['collector_metrics']}/metrics",
        "grafana": f"http://127.0.0.1:{p['grafana']}",
        "receivers": f"http://127.0.0.1:{p['local_receivers']}",
    }


def test_an_env_secret_becomes_a_file_only_its_owner_can_read(spec):
    out = spec.parent
    assert secrets.materialise(load_model(spec), out, {SECRET_ENV: "s3cr3t"}) == []
    path = out / c.secret_file(SECRET_ENV)
    assert path.read_text() == "s3cr3t"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_unset_env_secret_the_local_stack_needs_is_a_warning_naming_it_and_writes_nothing(spec):
    # The local overlay sends PagerDuty pages to obs receivers with a stand-in key: its secret is not needed.
    assert secrets.materialise(load_model(spec), spec.parent, {}) == []
    assert not (spec.parent / c.secret_file(SECRET_ENV)).exists()
    mail = spec.parent / "mail" / "obs.yaml"
    mail.parent.mkdir()
    mail.write_text(spec.read_text().replace("""    - name: oncall
      pagerduty:""", """    - name: mail
      email:
        to: ops@example.com
        from: obs@example.com
        smarthost: smtp.example.com:587
        auth_password: {env: OBS_TEST_SMTP}
    - name: oncall
      pagerduty:"""))
    warnings = secrets.materialise(load_model(mail), mail.parent, {})
    assert len(warnings) == 1 and "OBS_TEST_SMTP" in warnings[0] and "'mail'" in warnings[0]


def test_grafana_gets_a_random_admin_password_kept_across_runs(tmp_path):
    first = secrets.grafana_admin_password(tmp_path / "a").read_text()
    assert secrets.grafana_admin_password(tmp_path / "a").read_text() == first
    assert secrets.grafana_admin_password(tmp_path / "b").read_text() != first
    assert len(first) >= 24 and first.lower() not in ("admin", "password")


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield proc
    proc.kill()
    proc.wait()


def record_of(proc: subprocess.Popen) -> ProcessRecord:
    started, cmdline = identity(proc.pid)
    return ProcessRecord(pid=proc.pid, started=started, cmdline=cmdline, fingerprint="x")


@pytest.mark.parametrize("change, ours", [
    ({}, True),
    ({"started": "1"}, False),                       # same pid, another process's start time: reused pid
    ({"cmdline": ["prometheus", "--x"]}, False),     # same pid, another program
])
def test_a_pid_record_matches_only_the_process_it_was_written_for(sleeper, change, ours):
    rec = record_of(sleeper)
    assert is_running(ProcessRecord(**{**rec.__dict__, **change})) is ours


def test_a_killed_process_is_not_running_even_before_it_is_reaped(sleeper):
    rec = record_of(sleeper)
    os.kill(sleeper.pid, signal.SIGKILL)
    os.waitid(os.P_PID, sleeper.pid, os.WEXITED | os.WNOWAIT)  # dead but still a zombie
    assert not is_running(rec)


def test_down_never_signals_a_process_whose_record_does_not_match(spec, sleeper):
    state = State(spec.parent)
    state.prepare()
    state.write("prometheus", ProcessRecord(**{**record_of(sleeper).__dict__, "cmdline": ["prometheus"]}))
    assert Stack(spec.parent, None).down() == []
    assert sleeper.poll() is None
    assert not state.pid_file("prometheus").exists()


def test_down_never_signals_a_live_process_named_by_a_crafted_record_from_outside_obss_cache(spec, sleeper):
    # Exact pid, start time and argv of a live process: only the binary's home says it is not obs's.
    state = State(spec.parent)
    state.prepare()
    state.write("prometheus", record_of(sleeper))
    assert state.read("prometheus") is None
    assert Stack(spec.parent, None).down() == []
    assert sleeper.poll() is None


def test_a_taken_port_is_reported_with_the_process_holding_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not ports.is_free("127.0.0.1", port)
        assert ports.owner(port) == (os.getpid(), Path(f"/proc/{os.getpid()}/comm").read_text().strip())
    assert ports.is_free("127.0.0.1", port)


def status(name: str, healthy: bool, pid: int | None) -> ComponentStatus:
    return ComponentStatus(name, healthy, pid, "u", "h", "healthy" if healthy else "stopped")


@pytest.mark.parametrize("rows, code", [
    ([("a", True, 1), ("b", True, 2)], 0),
    ([("a", True, 1), ("b", False, None)], 1),
    ([("a", False, 1), ("b", False, None)], 1),       # running but unhealthy is not "down"
    ([("a", False, None), ("b", False, None)], 3),
])
def test_status_exit_code_is_0_healthy_1_degraded_3_down(rows, code):
    assert exit_code([status(*r) for r in rows]) == code


def test_status_of_a_stack_never_started_exits_3_listing_every_component(spec, capsys):
    assert main(["status", str(spec), "--format", "json"]) == 3
    import json

    doc = json.loads(capsys.readouterr().out)
    assert [(x["name"], x["state"]) for x in doc["components"]] == [
        ("receivers", "stopped"), ("jaeger", "stopped"), ("alertmanager", "stopped"), ("prometheus", "stopped"),
        ("otelcol", "stopped")]
    assert doc["runtime"] == "native" and doc["healthy"] is False


def test_logs_prints_the_last_n_lines_of_a_component(tmp_path, capsys):
    state = State(tmp_path)
    state.prepare()
    state.log_file("alertmanager").write_text("".join(f"line {i}\n" for i in range(100)))
    assert main(["logs", "alertmanager", "--out", str(tmp_path), "-n", "3"]) == 0
    assert capsys.readouterr().out == "line 97\nline 98\nline 99\n"


def test_logs_of_a_component_never_started_exits_3(tmp_path, capsys):
    assert main(["logs", "jaeger", "--out", str(tmp_path)]) == 3
    assert "obs up" in capsys.readouterr().err


def test_up_without_generated_configs_says_to_generate(tmp_path):
    with pytest.raises(StackError, match="obs generate"):
        Stack(tmp_path, None).up()
