"""The domain model: durations, tiers as data, exact thresholds, and names."""
import dataclasses
from decimal import Decimal

import pytest

from obs.model import conventions as c
from obs.model.build import le_label
from obs.model.durations import Duration
from obs.model.windows import WORKBOOK, workbook_tiers
from obs.project import load_model
from tests.support.paths import REPO


@pytest.mark.parametrize("text, ms, canonical", [
    ("500ms", 500, "500ms"),
    ("5m", 300_000, "5m"),
    ("90m", 5_400_000, "1h30m"),
    ("1h30m", 5_400_000, "1h30m"),
    ("30d", 2_592_000_000, "30d"),
    ("4w", 2_419_200_000, "28d"),
    ("0s", 0, "0s"),
])
def test_durations_parse_and_print_in_prometheus_notation(text, ms, canonical):
    d = Duration.parse(text)
    assert d.ms == ms
    assert str(d) == canonical


@pytest.mark.parametrize("bad", ["", "5", "m", "5 m", "1.5h", "-5m", "5mm"])
def test_durations_reject_anything_prometheus_would_not_accept(bad):
    with pytest.raises(ValueError):
        Duration.parse(bad)


def test_the_workbook_tiers_are_the_defaults_for_a_30_day_period():
    assert workbook_tiers(Duration.parse("30d")) == WORKBOOK
    assert [(t.severity, str(t.long), str(t.short), t.burn_rate) for t in WORKBOOK] == [
        ("page", "1h", "5m", Decimal("14.4")), ("page", "6h", "30m", Decimal("6")),
        ("ticket", "1d", "2h", Decimal("3")), ("ticket", "3d", "6h", Decimal("1"))]


def test_tiers_for_other_periods_consume_the_same_share_of_budget():
    for period in ("28d", "7d", "90d"):
        p = Duration.parse(period)
        for scaled, base in zip(workbook_tiers(p), WORKBOOK, strict=True):
            if scaled.burn_rate == 1 and base.burn_rate * p.ms / Duration.parse("30d").ms < 1:
                continue  # clamped: see the next test
            share = scaled.burn_rate * scaled.long.ms / p.ms
            expected = base.burn_rate * base.long.ms / Duration.parse("30d").ms
            assert abs(share - expected) < Decimal("0.00001")


def test_thresholds_are_exact_decimals_with_no_float_noise():
    model = load_model(REPO / "obs.yaml")
    slo = next(s for s in model.slos if s.service == "api-gateway" and s.name == "availability")
    assert slo.error_budget == Decimal("0.001")
    assert [str(t.burn_rate * slo.error_budget) for t in slo.tiers] == ["0.0144", "0.006", "0.003", "0.001"]


@pytest.mark.parametrize("bound, le", [(0.5, "0.5"), (1, "1.0"), (10, "10.0"), (0.005, "0.005"), (2.5, "2.5"),
                                       (0.00001, "0.00001")])
def test_le_labels_match_prometheus_3_normalisation(bound, le):
    assert le_label(bound) == le


def test_dashboard_uids_are_stable_and_fit_grafanas_40_characters():
    long = c.dashboard_uid("a-very-long-project-name", "slo", "a-very-long-service-name-availability")
    assert len(long) <= 40
    assert long == c.dashboard_uid("a-very-long-project-name", "slo", "a-very-long-service-name-availability")
    assert c.dashboard_uid("ai-tools", "overview") == "ai-tools-overview"


def test_the_repo_spec_describes_the_ai_tools_platform():
    model = load_model(REPO / "obs.yaml")
    assert [s.name for s in model.services] == [
        "api-gateway", "agent-runner", "dspy-orchestrator", "memory-search", "redis-cache", "postgres"]
    gateway = model.service("api-gateway")
    assert {(s.name, s.sli.kind, str(s.objective)) for s in gateway.slos} == {
        ("availability", "availability", "99.9"), ("latency", "latency", "95")}
    assert next(s for s in gateway.slos if s.name == "latency").sli.threshold_le == "0.5"
    routes = {dict(r.matchers)["severity"]: r.receiver for r in model.routes}
    assert {k: next(x.kind for x in model.receivers if x.name == v) for k, v in routes.items()} == {
        "page": "pagerduty", "ticket": "slack"}
    assert next(x for x in model.receivers if x.kind == "slack").channel == "#prod-alerts"


def test_no_tier_burns_slower_than_1x_so_an_error_rate_under_budget_never_tickets():
    for period in ("7d", "28d"):
        assert min(t.burn_rate for t in workbook_tiers(Duration.parse(period))) == Decimal(1)


def test_a_model_with_one_more_service_finds_it_and_every_other_by_name():
    model = load_model(REPO / "obs.yaml")
    model.service(model.services[0].name)   # this model's lookup is made, and the new one's is made from it
    extra = dataclasses.replace(model.services[0], name="stand-in")
    more = model.with_service(extra)
    assert more == dataclasses.replace(model, services=(*model.services, extra))
    assert more.service("stand-in") is extra
    assert [more.service(s.name) for s in model.services] == list(model.services)
    with pytest.raises(KeyError):
        model.service("stand-in")   # the model it was made from is as it was
