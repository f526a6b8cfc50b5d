"""`obs budget`: the rows read from the recorded series, per group, and the exit codes CI relies on."""
from __future__ import annotations

import json

import pytest

from obs.cli import main
from obs.generate.slo.windows import period_window
from obs.model import conventions as c
from obs.project import load_model
from obs.report import budget
from obs.verify import clients
from tests.support.paths import FIXTURES, REPO


class FakePrometheus:
    """Answers instant queries from {metric name: [(labels, value)]}; the selector must name the SLO."""

    base = "http://prometheus.test"

    def __init__(self, series: dict[str, list[tuple[dict[str, str], str]]] | None = None, down: bool = False):
        self.series, self.down = series or {}, down

    def query(self, expr: str) -> list[dict]:
        if self.down:
            raise clients.Unreachable("Prometheus", self.base, "connection refused")
        name = expr.split("{", 1)[0]
        return [{"metric": labels, "value": [0, value]} for labels, value in self.series.get(name, [])
                if all(f'{k}="{v}"' in expr for k, v in labels.items() if k in (c.LABEL_SERVICE, c.LABEL_SLO))]


def _slo(model, service: str, name: str):
    return next(s for s in model.slos if s.service == service and s.name == name)


def test_a_slo_reads_attained_budget_left_burn_rate_and_when_it_runs_out():
    model = load_model(REPO / "obs.yaml")
    slo = _slo(model, "api-gateway", "availability")
    own = {c.LABEL_SERVICE: "api-gateway", c.LABEL_SLO: "availability"}
    prom = FakePrometheus({c.slo_error_ratio(str(period_window(slo))): [(own, "0.0005")],
                           c.SLO_BUDGET_REMAINING: [(own, "0.5")], c.SLO_BURN_RATE_CURRENT: [(own, "2")]})
    [row] = budget.rows_for(prom, slo)
    assert row.attained == pytest.approx(0.9995) and row.budget_left == 0.5 and row.burn_rate == 2
    # Half of a 30d budget left, burning at twice the sustainable rate: 7.5 days.
    assert row.exhausted_in_s == pytest.approx(0.5 * 30 * 86400 / 2) and not row.exhausted


@pytest.mark.parametrize("left, rate, runs_out, spent", [
    ("0.2", "0", None, False),          # not burning: it never runs out
    ("-0.1", "3", 0.0, True),           # overspent: already out
    ("NaN", "1", None, False),          # no number is no data, not a number
])
def test_edge_rates_and_budgets_read_as_a_person_would(left, rate, runs_out, spent):
    model = load_model(REPO / "obs.yaml")
    slo = _slo(model, "api-gateway", "availability")
    own = {c.LABEL_SERVICE: "api-gateway", c.LABEL_SLO: "availability"}
    [row] = budget.rows_for(FakePrometheus({c.SLO_BUDGET_REMAINING: [(own, left)],
                                            c.SLO_BURN_RATE_CURRENT: [(own, rate)]}), slo)
    assert row.exhausted_in_s == runs_out and row.exhausted is spent


def test_a_grouped_slo_has_a_row_per_group_and_an_slo_without_data_one_row_saying_so():
    model = load_model(FIXTURES / "slo" / "obs.yaml")
    slo = next(s for s in model.slos if s.group_by)
    own = {c.LABEL_SERVICE: slo.service, c.LABEL_SLO: slo.name}
    prom = FakePrometheus({c.SLO_BUDGET_REMAINING: [({**own, "http_route": "/a"}, "0.9"),
                                                    ({**own, "http_route": "/b"}, "0.1")]})
    rows = budget.rows_for(prom, slo)
    assert [(r.group, r.budget_left) for r in rows] == [({"http_route": "/a"}, 0.9), ({"http_route": "/b"}, 0.1)]
    [empty] = budget.rows_for(FakePrometheus(), slo)
    assert empty.group == {"http_route": ""} and empty.attained is None and empty.budget_left is None


@pytest.fixture
def fake(monkeypatch):
    """`obs budget` against a FakePrometheus instead of the local stack's."""
    holder: dict[str, FakePrometheus] = {}

    class _Clients:
        def __init__(self, prom):
            self.prometheus = prom

    monkeypatch.setattr("obs.report.page.clients_for", lambda model, out, env: _Clients(holder["prom"]))
    return holder


def test_the_cli_exits_1_when_a_budget_is_spent_and_lists_it_in_json(fake, capsys):
    own = {c.LABEL_SERVICE: "api-gateway", c.LABEL_SLO: "availability"}
    fake["prom"] = FakePrometheus({c.SLO_BUDGET_REMAINING: [(own, "-0.25")], c.SLO_BURN_RATE_CURRENT: [(own, "4")]})
    code = main(["budget", str(REPO / "obs.yaml"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["spent"] == 1
    spent = [r for r in doc["slos"] if r["exhausted"]]
    assert [(r["service"], r["slo"]) for r in spent] == [("api-gateway", "availability")]
    assert len(doc["slos"]) == len(load_model(REPO / "obs.yaml").slos)


def test_the_cli_exits_0_with_budget_left_and_3_when_prometheus_does_not_answer(fake, capsys):
    fake["prom"] = FakePrometheus()
    assert main(["budget", str(REPO / "obs.yaml")]) == 0
    out = capsys.readouterr().out
    assert "api-gateway" in out and "no data" in out
    fake["prom"] = FakePrometheus(down=True)
    assert main(["budget", str(REPO / "obs.yaml")]) == 3
    assert "start the stack with `obs up`" in capsys.readouterr().err
