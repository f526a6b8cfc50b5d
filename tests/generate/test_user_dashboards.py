"""User dashboards: `dashboards/*.dashboard.py` files written with grafanalib, rendered next to the
generated ones; a broken one is a located SpecError, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from obs.cli import main
from obs.errors import SpecError
from obs.generate.common import Inputs
from obs.generate.dashboards import render as dashboards
from obs.model import conventions as c
from obs.project import load_model
from tests.support.paths import REPO


@pytest.fixture(scope="module")
def model():
    return load_model(REPO / c.SPEC_FILE)


def spec(tmp_path: Path, services: str, project: str = "demo") -> Path:
    path = tmp_path / c.SPEC_FILE
    path.write_text(f"version: obs/v1\nproject: {project}\nservices:\n{services}", encoding="utf-8")
    return path


USER_DASHBOARD = '''\
from grafanalib.core import Dashboard, Target, TimeSeries, GridPos

dashboard = Dashboard(
    title="Agent queue",
    uid="demo-agent-queue",
    panels=[TimeSeries(title="Queue depth", targets=[Target(expr="sum(agent_queue_depth)", refId="A")],
                       gridPos=GridPos(h=8, w=24, x=0, y=0))],
)
'''


def test_a_user_dashboard_file_is_rendered_next_to_the_generated_ones(model):
    out = dashboards.generate(model, Inputs(user_dashboards=(("agents.dashboard.py", USER_DASHBOARD),)))
    d = json.loads(out[f"{c.DASHBOARDS_DIR}/agents.json"])
    assert (d["uid"], d["title"], d["panels"][0]["type"], d["panels"][0]["id"]) == \
        ("demo-agent-queue", "Agent queue", "timeseries", 1)
    assert d["panels"][0]["targets"][0]["expr"] == "sum(agent_queue_depth)"
    assert set(out) - {f"{c.DASHBOARDS_DIR}/agents.json"} == set(dashboards.generate(model, Inputs()))


@pytest.mark.parametrize("source, line, message", [
    ("from grafanalib.core import Dashboard\ndashboard = Dashboard(title='x'\n", 2, "SyntaxError: '(' was never closed"),
    ("from grafanalib.core import Dashboard\n\ndashboard = Dashbord(title='x')\n", 3,
     "NameError: name 'Dashbord' is not defined"),
    ("from grafanalib.core import Dashboard, Row\n\n\ndashboard = Dashboard(title='x', panels=[Row(panels=3)])\n", 4,
     "TypeError"),
    ("import grafanalib.core\nboard = grafanalib.core.Dashboard(title='x')\n", None,
     "defines no `dashboard`; assign a grafanalib Dashboard to it"),
    ("dashboard = {'title': 'x'}\n", None, "`dashboard` is a dict, not a grafanalib Dashboard"),
    ("import sys\nsys.exit(3)\n", 2, "SystemExit: 3"),
])
def test_a_broken_user_dashboard_gives_a_located_spec_error(model, source, line, message):
    with pytest.raises(SpecError) as err:
        dashboards.generate(model, Inputs(user_dashboards=(("broken.dashboard.py", source),)))
    (problem,) = err.value.problems
    assert (problem.path, problem.line) == ("broken.dashboard.py", line)
    assert message in problem.message
    where = "dashboards/broken.dashboard.py" + (f":{line}:" if line else ": ")
    assert str(err.value).startswith(where) and "Traceback" not in str(err.value)


def test_a_user_dashboard_may_not_overwrite_a_generated_one(model):
    name = c.overview_dashboard_uid(model.project) + c.USER_DASHBOARD_SUFFIX
    with pytest.raises(SpecError, match="would overwrite the generated dashboards/ai-tools-overview.json"):
        dashboards.generate(model, Inputs(user_dashboards=((name, USER_DASHBOARD),)))


def test_every_broken_user_dashboard_is_reported_in_one_run(model):
    with pytest.raises(SpecError) as err:
        dashboards.generate(model, Inputs(user_dashboards=(("a.dashboard.py", "x = ("), ("b.dashboard.py", "1/0"))))
    assert [(p.path, p.line) for p in err.value.problems] == [("a.dashboard.py", 1), ("b.dashboard.py", 1)]


def test_obs_generate_renders_user_dashboards_and_reports_broken_ones_with_exit_2(tmp_path, capsys):
    path = spec(tmp_path, "  - name: shop\n    http: true\n")
    (tmp_path / c.DASHBOARDS_DIR).mkdir()
    user = tmp_path / c.DASHBOARDS_DIR / "agents.dashboard.py"
    user.write_text(USER_DASHBOARD, encoding="utf-8")
    assert main(["generate", str(path)]) == 0
    assert json.loads((tmp_path / c.DASHBOARDS_DIR / "agents.json").read_text())["uid"] == "demo-agent-queue"
    assert user.read_text(encoding="utf-8") == USER_DASHBOARD           # the user's source is theirs, untouched
    assert main(["generate", str(path), "--check"]) == 0                 # and its JSON is not "extra"
    assert (tmp_path / c.dashboard_file(c.service_template_dashboard_uid("demo"))).is_file()
    user.write_text("from grafanalib.core import Dashboard\n\ndashboard = Dashboard(titel='x')\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["generate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dashboards/agents.dashboard.py:3:") and "unexpected keyword argument 'titel'" in err
    assert "Traceback" not in err
