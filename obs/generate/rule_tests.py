"""promtool unit tests for every SLO: alerts/tests/<service>.test.yml, run from inside alerts/tests/.

For each SLO they prove, against the real rules: a full outage pages within the workbook
detection time (plus slack) and resolves after recovery; an error rate just under budget
fires nothing; zero traffic fires nothing and records no NaN or Inf; a slow burn tickets
but never pages; a trickle below min_events fires nothing; missing data raises the
no-data alert only after its `for:`. What could not be proven for an SLO is said in the
file's header.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from obs.emit import yaml_dump
from obs.emit.yaml_dump import Shared
from obs.generate import units
from obs.generate.common import Inputs, Later, every_service, header, per_model
from obs.generate.slo import checks as k
from obs.generate.slo.alerts import NO_DATA_FOR, alert_labels, no_data_alert, templated
from obs.generate.slo.ideal import minutes
from obs.generate.slo.rules import group_names
from obs.generate.slo.scenarios import HEALTHY_GROUP, Scenario, scenarios
from obs.generate.slo.series import Segment, Unsynthesisable, series_for
from obs.generate.units import Part
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Service

EVALUATION_INTERVAL = "1m"


def _group(slo: SLO, s: Scenario) -> dict[str, Any]:
    series = series_for(slo, s.segments, le_form=s.le_form) + s.extra_series
    checks = list(s.checks)
    if s.healthy_group:
        healthy = [Segment(x.minutes, x.per_minute, 0 * x.error_ratio) for x in s.segments]
        series += series_for(slo, healthy, group=HEALTHY_GROUP)
        end = sum(x.minutes for x in s.segments)
        checks.append(k.never(k.alerts(slo, labels={g: HEALTHY_GROUP for g in slo.group_by}), end))
    name = f"{slo.service} {slo.name}: {s.name}"
    # promtool names the test group only for failed alert tests; a PromQL comment names it for the rest.
    checks = [{**check, "expr": f"# {name}\n{check['expr']}"} for check in checks]
    group: dict[str, Any] = {"name": name, "interval": EVALUATION_INTERVAL, "input_series": series}
    if s.alert_checks:
        group["alert_rule_test"] = s.alert_checks
    if checks:
        group["promql_expr_test"] = checks
    return group


def no_data_group(model: Model, service: Service) -> dict[str, Any]:
    """No series at all: quiet while the `for:` runs (a fresh stack), then one ticket per SLO."""
    after = minutes(NO_DATA_FOR) + 2
    expected = [{"exp_labels": alert_labels(model, slo, "ticket"),
                 "exp_annotations": no_data_alert(model, slo)["annotations"]} for slo in service.slos]
    group: dict[str, Any] = {"name": f"{service.name}: missing SLI data raises {c.SLO_NO_DATA_ALERT} only after "
                                     f"{NO_DATA_FOR}, once per SLO",
                             "interval": EVALUATION_INTERVAL, "input_series": []}
    for minute, exp in ((minutes(NO_DATA_FOR) - 2, []), (after, expected)):
        kind, check = k.alert_test(c.SLO_NO_DATA_ALERT, not any(map(templated, service.slos)), exp, minute,
                                   **{c.LABEL_SERVICE: service.name})
        group.setdefault(kind, []).append(check)
    return group


def slo_tests(model: Model, slo: SLO) -> tuple[Shared, list[str]]:
    """The SLO's test groups, and notes on what they leave out: kept per model, for its part of the suite and of
    the suite's header (obs.generate.units)."""
    def build() -> tuple[Shared, list[str]]:
        built, why = scenarios(model, slo)
        notes = [f"{slo.name}: {w}" for w in why]
        try:
            return Shared([_group(slo, s) for s in built]), notes
        except Unsynthesisable as e:
            return Shared(), [*notes, f"{slo.name}: REDUCED to the no-data proof: obs cannot synthesise series for "
                                      f"its query ({e}); test that SLI with your own series"]
    return per_model(model, ("rule_tests", slo.service, slo.name), build)


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    return {}


def _frame(model: Model, service: Service) -> str:
    """The suite with a mark where each SLO's test groups go, after the no-data test, and where its notes go."""
    rule_file = "../" + c.rules_file(service.name).split("/", 1)[1]
    doc = {"rule_files": [rule_file], "evaluation_interval": EVALUATION_INTERVAL,
           "group_eval_order": group_names(service),
           "tests": Shared.joined([Shared([no_data_group(model, service)]), units.marked(Part.TESTS, "")])}
    lines = [header(model), f"Run: cd {c.ALERT_TESTS_DIR} && promtool test rules {service.name}.test.yml",
             units.mark(Part.NOTES)]
    return yaml_dump.dump(doc, header="\n".join(lines))


def _tests_part(model: Model, slo: SLO) -> str:
    return slo_tests(model, slo)[0].block("")


def _notes_part(model: Model, slo: SLO) -> str:
    """The SLO's notes as the suite's header writes them (yaml_dump.dump())."""
    notes = slo_tests(model, slo)[1]
    return "\n".join(yaml_dump.comment("\n".join(f"Note: {n}" for n in notes))) if notes else ""


def frame(model: Model, service: Service) -> dict[str, Later]:
    return {c.rule_test_file(service.name): partial(_frame, model, service)} if service.slos else {}


def unit(model: Model, service: Service) -> dict[str, Later]:
    """The test groups and notes of the service's one SLO, as its suite holds them."""
    slo, = service.slos
    return {units.part_path(service.name, slo.name, Part.TESTS): partial(_tests_part, model, slo),
            units.part_path(service.name, slo.name, Part.NOTES): partial(_notes_part, model, slo)}


def files(model: Model, service: Service) -> dict[str, Later]:
    return units.whole(model, service, frame, unit)


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return every_service(model, files)
