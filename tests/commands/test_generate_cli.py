"""The CLI around generation: deterministic output, --check, init, schema, and help that teaches."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import jsonschema
import pytest
from ruamel.yaml import YAML

from obs.cli import cli, main
from obs.model import conventions as c
from tests.support.paths import REPO

USER_DASHBOARD = """\
from grafanalib.core import Dashboard

dashboard = Dashboard(title="Mine", uid="mine", panels=[])
"""


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path, capsys) -> Path:
    """A copy of the repo's obs.yaml, generated once, with artifacts beside it."""
    shutil.copy(REPO / "obs.yaml", tmp_path / "obs.yaml")
    assert main(["generate", str(tmp_path / "obs.yaml")]) == 0
    capsys.readouterr()
    return tmp_path


def check(project: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["generate", str(project / "obs.yaml"), "--check", *extra])
    return code, capsys.readouterr().out


def test_two_runs_in_separate_processes_with_different_hash_seeds_write_byte_identical_trees(tmp_path):
    shutil.copy(REPO / "obs.yaml", tmp_path / "obs.yaml")
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-m", "obs", "generate", str(tmp_path / "obs.yaml"), "--out",
                        str(tmp_path / f"out-{seed}")], check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True)
    first, second = tree(tmp_path / "out-1"), tree(tmp_path / "out-2")
    assert first and first == second
    assert any(rel.startswith(c.ALERTS_DIR + "/") for rel in first)


def test_regenerating_an_unchanged_spec_rewrites_nothing(project, capsys):
    before = {rel: (project / rel).stat().st_mtime_ns for rel in tree(project)}
    assert main(["generate", str(project / "obs.yaml")]) == 0
    assert capsys.readouterr().out.strip().endswith("up to date")
    assert {rel: (project / rel).stat().st_mtime_ns for rel in tree(project)} == before


def test_check_right_after_generate_is_clean(project, capsys):
    assert check(project, capsys) == (0, "")


def test_check_names_a_hand_edited_file_as_drifted_exits_1_and_writes_nothing(project, capsys):
    edited = next(p for p in sorted((project / c.ALERTS_DIR).glob("*.rules.yml")))
    edited.write_text(edited.read_text() + "# a hand edit\n")
    before = tree(project)
    code, out = check(project, capsys)
    assert code == 1
    rel = edited.relative_to(project).as_posix()
    assert out.splitlines() == [f"drifted: {edited}",
                                f"blocked: {project / rel}: refusing to overwrite: edited since obs wrote it; make the "
                                "change in the spec (obs regenerates this file from it), or pass --force to overwrite "
                                "the edit"]
    assert tree(project) == before


POSTGRES = "  - name: postgres\n    team: platform\n    description: Primary database.\n"
# The incident rules and the service info records name every declared service: dropping one changes them wherever
# they are carried (the rule files, the rulers' files, the PrometheusRule). The templated dashboards name no service.
CHANGED_WITHOUT_POSTGRES = sorted([
    ".obs-owned.json", c.PIPELINE_RULES_FILE, c.COMPOSE_FILE, c.kube_file("rules", c.PIPELINE_RULES_NAME),
    c.KUSTOMIZATION, c.thanos_rules_file(c.PIPELINE_RULES_NAME),
    c.cortex_rules_file("anonymous", f"ai-tools-{c.PIPELINE_RULES_NAME}")])
EXTRA_WITHOUT_POSTGRES = sorted([
    c.instrumentation_file("postgres", "compose"), c.instrumentation_file("postgres"),
    c.kube_file("instrumentation", "postgres")])


def test_check_lists_a_deleted_file_as_missing_a_dropped_services_file_as_extra_and_ignores_the_users(project, capsys):
    deleted = project / c.PROMETHEUS_CONFIG
    deleted.unlink()
    stray = project / c.ALERTS_DIR / "team.rules.yml"   # the user's own, beside obs's: never obs's business
    stray.write_text("groups: []\n")
    spec = project / "obs.yaml"
    spec.write_text(spec.read_text().replace(POSTGRES, ""))
    code, out = check(project, capsys)
    assert code == 1
    assert out.splitlines() == ([f"drifted: {project / p}" for p in CHANGED_WITHOUT_POSTGRES] + [f"missing: {deleted}"]
                                + [f"extra: {project / p}" for p in EXTRA_WITHOUT_POSTGRES])
    assert not deleted.exists() and stray.exists()


def test_a_user_dashboard_in_python_is_an_input_never_an_extra_file(project, capsys):
    (project / c.DASHBOARDS_DIR / "mine.dashboard.py").write_text(USER_DASHBOARD)
    # Its JSON, and its ConfigMap for Grafana's sidecar in a cluster, listed in the kustomization.
    assert check(project, capsys)[1].splitlines() == [f"drifted: {project / '.obs-owned.json'}",
                                                      f"drifted: {project / c.KUSTOMIZATION}",
                                                      f"missing: {project / c.DASHBOARDS_DIR / 'mine.json'}",
                                                      f"missing: {project / c.kube_file('dashboards', 'dashboard-mine')}"]
    assert main(["generate", str(project / "obs.yaml")]) == 0
    capsys.readouterr()
    assert check(project, capsys) == (0, "")
    assert json.loads((project / c.DASHBOARDS_DIR / "mine.json").read_text())["uid"] == "mine"


def test_check_as_json_is_one_parseable_document_listing_each_kind_of_drift(project, capsys):
    (project / c.COMPOSE_FILE).write_text("services: {}\n")
    (project / c.ALERTMANAGER_CONFIG).unlink()
    (project / c.ALERTS_DIR / "stray.rules.yml").write_text("groups: []\n")
    spec = project / "obs.yaml"
    spec.write_text(spec.read_text().replace(POSTGRES, ""))
    code, out = check(project, capsys, "--format", "json")
    assert code == 1
    assert json.loads(out) == {
        "out": str(project), "check": True, "changed": CHANGED_WITHOUT_POSTGRES,
        "missing": [c.ALERTMANAGER_CONFIG], "extra": EXTRA_WITHOUT_POSTGRES, "kept": [],
        "blocked": [f"{c.COMPOSE_FILE}: refusing to overwrite: edited since obs wrote it; make the change in the spec "
                    "(obs regenerates this file from it), or pass --force to overwrite the edit"],
        "pending": False, "clean": False}


def test_init_writes_a_spec_that_validates_and_refuses_to_overwrite_without_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert main(["validate"]) == 0
    spec = tmp_path / "obs.yaml"
    spec.write_text(spec.read_text() + "# mine now\n")
    mine = spec.read_text()
    capsys.readouterr()
    assert main(["init"]) == 2
    assert "--force" in capsys.readouterr().err
    assert spec.read_text() == mine
    assert main(["init", "--force"]) == 0
    assert spec.read_text() != mine and "# mine now" not in spec.read_text()
    assert main(["generate", "--check"]) == 1   # nothing generated yet: every artifact is missing


def schema_of(capsys) -> dict:
    assert main(["schema"]) == 0
    return json.loads(capsys.readouterr().out)


def test_schema_is_a_valid_json_schema_that_accepts_the_repo_spec(capsys):
    schema = schema_of(capsys)
    jsonschema.Draft202012Validator.check_schema(schema)
    repo_spec = YAML(typ="safe", pure=True).load((REPO / "obs.yaml").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(repo_spec)) == []


@pytest.mark.parametrize("bad", [
    {"version": "obs/v1", "project": "x", "services": [{"name": "a", "htp": True}]},
    {"version": "obs/v2", "project": "x", "services": [{"name": "a"}]},
    {"version": "obs/v1", "project": "x", "services": [{"name": "a", "slos": [{"name": "s", "objective": 99}]}]},
    {"version": "obs/v1", "project": "x", "services": [{"name": "Upper"}]},
    {"version": "obs/v1", "project": "x", "services": [{"name": "a"}], "stack": {"ports": {"grafana": 70000}}},
])
def test_schema_rejects_what_obs_validate_rejects_so_editors_flag_it(bad, capsys):
    assert list(jsonschema.Draft202012Validator(schema_of(capsys)).iter_errors(bad))


def test_python_dash_m_obs_prints_help():
    done = subprocess.run([sys.executable, "-m", "obs", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "Usage: obs" in done.stdout and "generate" in done.stdout


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    # Through list_commands and get_command: obs's group imports each command only when asked for it.
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


def test_every_command_is_listed_and_found():
    from obs.cli import COMMANDS
    found = list(commands(cli))
    assert {argv[0] for argv in found} == {m.rstrip("_") for m in COMMANDS}
    assert ("stack", "build") in found


@pytest.mark.parametrize("argv", list(commands(cli)), ids=" ".join)
def test_every_command_help_teaches_by_example(argv, capsys):
    assert main([*argv, "--help"]) == 0
    assert "Examples" in capsys.readouterr().out


def test_two_concurrent_writers_to_one_tree_never_mix_or_lose_files(tmp_path):
    import threading

    from obs.emit import writer
    from obs.generate import LAYOUT

    a = {f"alerts/{i}.rules.yml": f"# generated by obs from a\na{i}\n" for i in range(200)}
    b = {f"alerts/{i}.rules.yml": f"# generated by obs from b\nb{i}\n" for i in range(150)}
    errors: list[BaseException] = []

    def write(files):
        try:
            writer.write(tmp_path, files, LAYOUT)
        except BaseException as e:  # a writer that lost its staging to the other's recovery
            errors.append(e)

    threads = [threading.Thread(target=write, args=(files,)) for files in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert writer.diff(tmp_path, a, LAYOUT).clean or writer.diff(tmp_path, b, LAYOUT).clean
    assert not list(tmp_path.glob(writer.STAGING_PREFIX + "*"))
