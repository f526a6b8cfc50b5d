"""Stack and pipeline-health alert rules, and the promtool tests that prove each one.

The alerts themselves are data in alerts.py (and incidents.py, verify_alerts.py); this module renders them twice: as the
rule file Prometheus loads, and as a `promtool test rules` suite run from inside alerts/tests/.
Every alert gets two tests: its bad series make it fire (with exactly the expected labels and
annotations, and not before its `for:`), and its healthy series leave it quiet.
"""
from __future__ import annotations

import re

from obs.generate.common import Inputs, yaml
from obs.generate.pipeline.alerts import PipelineAlert, Scenario, catalogue
from obs.generate.pipeline.incidents import incident_alerts
from obs.generate.pipeline.verify_alerts import verify_alerts
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.durations import Duration
from obs.model.kinds import ReceiverKind
from obs.model.timing import Timing

GROUPS = (c.PIPELINE_GROUP_INCIDENTS, c.PIPELINE_GROUP_STACK, c.PIPELINE_GROUP_COLLECTOR, c.PIPELINE_GROUP_VERIFY)
_LABEL_REF = re.compile(r"\{\{ \$labels\.([A-Za-z_][A-Za-z0-9_]*) \}\}")


def pipeline_alerts(model: Model) -> tuple[PipelineAlert, ...]:
    user_webhooks = any(r.kind == ReceiverKind.WEBHOOK for r in model.receivers)
    return (incident_alerts(model) + catalogue(model.stack.timing, user_webhooks)
            + verify_alerts(model.stack.timing))


def groups(model: Model) -> list[dict[str, object]]:
    """The rule groups, as every rule file that carries them (Prometheus, PrometheusRule, the rulers) holds them."""
    alerts: list[dict[str, object]] = rules(pipeline_alerts(model))["groups"]   # type: ignore[assignment]
    return [*alerts, services_group(model)]


def services_group(model: Model) -> dict[str, object]:
    """One constant series per service of the spec, labelled with its team: what the templated dashboards' $team
    and $service variables list, so a service appears there before (or without) any traffic or SLO."""
    def labels(name: str, team: str | None) -> dict[str, str]:
        return {c.LABEL_SERVICE: name, **({c.LABEL_TEAM: team} if team else {})}
    return {"name": c.PIPELINE_GROUP_SERVICES,
            "rules": [{"record": c.SERVICE_INFO, "expr": "vector(1)", "labels": labels(s.name, s.team)}
                      for s in model.services]}


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    alerts = pipeline_alerts(model)
    return {
        c.PIPELINE_RULES_FILE: yaml(model, {"groups": groups(model)}),
        c.PIPELINE_RULE_TESTS_FILE: yaml(model, tests(alerts, model.stack.timing)),
    }


def rules(alerts: tuple[PipelineAlert, ...]) -> dict[str, object]:
    return {"groups": [{"name": g, "rules": [_rule(a) for a in alerts if a.group == g]} for g in GROUPS]}


def _rule(a: PipelineAlert) -> dict[str, object]:
    rule: dict[str, object] = {"alert": a.name, "expr": a.expr}
    if a.for_ is not None:
        rule["for"] = str(a.for_)
    rule["labels"] = a.labels
    rule["annotations"] = _annotations(a)
    return rule


def _annotations(a: PipelineAlert) -> dict[str, str]:
    return {"summary": a.summary, "description": a.description, "runbook": a.runbook}


def expand(template: str, labels: dict[str, str]) -> str:
    """What Prometheus renders for `{{ $labels.x }}`; an absent label renders empty."""
    return _LABEL_REF.sub(lambda m: labels.get(m.group(1), ""), template)


def _ceil(d: Duration, step: Duration) -> Duration:
    return Duration(-(-d.ms // step.ms) * step.ms)


class _Clock:
    """Evaluation instants on the grid promtool evaluates at, derived from the timing profile."""

    def __init__(self, t: Timing, a: PipelineAlert):
        self.step = t.evaluation_interval
        slack = max(t.scrape_interval, t.evaluation_interval)
        self.onset = _ceil(a.bad.onset, self.step)
        hold = a.for_ or Duration(0)
        self.fire = _ceil(self.onset + hold + slack * 2, self.step)
        # Proves `for:` is honoured: condition true, but not yet for long enough.
        early = Duration((self.onset.ms + hold.ms // 2) // self.step.ms * self.step.ms)
        self.early = early if hold.ms >= 2 * self.step.ms and self.onset <= early < self.onset + hold else None

    def samples(self, interval: Duration) -> int:
        return self.fire.ms // interval.ms + 2


def _series(s: Scenario, n: int, interval: Duration) -> list[dict[str, str]]:
    step = f"{interval.s:g}"
    return [{"series": sel, "values": values.format(n=n, step=step)} for sel, values in s.series]


def _expected(a: PipelineAlert, fired: dict[str, str]) -> dict[str, object]:
    # Templates see the series' labels only, never the rule's own (as in Prometheus).
    labels = {**fired, **{k: expand(v, fired) for k, v in a.labels.items()}}
    return {"exp_labels": dict(sorted(labels.items())),
            "exp_annotations": {k: expand(v, fired) for k, v in _annotations(a).items()}}


def _fires(a: PipelineAlert, t: Timing) -> dict[str, object]:
    clock = _Clock(t, a)
    checks: list[dict[str, object]] = []
    if clock.early is not None:
        checks.append({"eval_time": str(clock.early), "alertname": a.name, "exp_alerts": []})
    checks.append({"eval_time": str(clock.fire), "alertname": a.name,
                   "exp_alerts": [_expected(a, f) for f in a.bad.fires]})
    interval = t.scrape_interval
    return {
        "name": f"{a.name} fires on its bad series, with its labels and annotations, and not on healthy ones",
        "interval": str(interval),
        "input_series": _series(a.bad, clock.samples(interval), interval)
        + _series(a.healthy, clock.samples(interval), interval),
        "alert_rule_test": checks,
    }


def _quiet(a: PipelineAlert, t: Timing) -> dict[str, object]:
    clock = _Clock(t, a)
    interval = t.scrape_interval
    return {
        "name": f"{a.name} stays quiet on healthy series",
        "interval": str(interval),
        "input_series": _series(a.healthy, clock.samples(interval), interval),
        "alert_rule_test": [{"eval_time": str(clock.fire), "alertname": a.name, "exp_alerts": []}],
    }


def _explained(a: PipelineAlert, t: Timing) -> dict[str, object]:
    clock = _Clock(t, a)
    interval = t.scrape_interval
    assert a.explained is not None
    return {
        "name": f"{a.name} stays quiet while {a.explained_by}",
        "interval": str(interval),
        "input_series": _series(a.explained, clock.samples(interval), interval),
        "alert_rule_test": [{"eval_time": str(clock.fire), "alertname": a.name, "exp_alerts": []}],
    }


def tests(alerts: tuple[PipelineAlert, ...], t: Timing) -> dict[str, object]:
    cases: list[dict[str, object]] = []
    for a in alerts:
        cases.append(_fires(a, t))
        if a.healthy.series:
            cases.append(_quiet(a, t))
        if a.explained is not None:
            cases.append(_explained(a, t))
    rules_path = "../" + c.PIPELINE_RULES_FILE.removeprefix(c.ALERTS_DIR + "/")
    return {"rule_files": [rules_path], "evaluation_interval": str(t.evaluation_interval), "tests": cases}
