"""`obs drill --incident KIND`: break one thing for real, time the page at the receiver, restore, time the resolve.

Every incident is driven for real on the running native stack: components are SIGKILLed and started
again, traffic is OTLP from the SDK (obs/verify/canary.py), the paging integration is made to reject
events at the contract receivers. Pages are read where Alertmanager's real PagerDuty and Slack
integrations delivered them (obs/verify/pages.py), so a page counts only if the vendor's contract
accepted it. Each measured time is held against the worst case obs/model/detection.py computes.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from obs.model import conventions as c
from obs.model.detection import HANDOFF_S, Incident, bound, first_slo, quiet_window
from obs.model.domain import SLO, Model, Service
from obs.verify import clients
from obs.verify.canary import FAILING, GOOD, Canary
from obs.verify.context import Context
from obs.verify.pages import WATCHER_CLASS, Notice, Receivers, notice
from obs.verify.result import Finding

POLL_S = 0.25
# Requests per export while an SLO outage runs: above the SLOs' minimum-traffic guard within two exports.
OUTAGE_PER_PUSH = 100
# A service's traffic must promise this many requests per quiet window before its stopping pages
# (obs/generate/incident_alerts.py); the warm-up sends this many times more.
TRAFFIC_WARMUP_FACTOR = 3


@dataclass
class IncidentResult:
    incident: Incident
    bound_s: float
    rule: str
    paged_after_s: float | None = None
    pages: int = 0
    receiver: str | None = None
    resolved_after_s: float | None = None
    resolve_bound_s: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.paged_after_s is not None and self.paged_after_s <= self.bound_s and self.pages == 1
                and not any(f.status == "fail" for f in self.findings))

    def as_dict(self) -> dict:
        r = (lambda v: None if v is None else round(v, 1))
        return {"incident": self.incident.value, "paged_after_s": r(self.paged_after_s), "pages": self.pages,
                "receiver": self.receiver, "resolved_after_s": r(self.resolved_after_s),
                "bound_s": round(self.bound_s, 1), "resolve_bound_s": round(self.resolve_bound_s, 1),
                "rule": self.rule, "ok": self.ok, "findings": [f.as_dict() for f in self.findings],
                "notes": self.notes}


@dataclass
class Expect:
    """The page an incident must produce: at which receiver, about which alert."""
    alertname: str
    service: str | None = None
    component: str | None = None
    receiver: str | None = None        # default: wherever the first matching notice lands

    def matches(self, n: Notice) -> bool:
        if not n.page or (self.receiver is not None and n.receiver != self.receiver):
            return False
        if self.alertname == WATCHER_CLASS:
            return n.kind == "pagerduty" and n.alertname == WATCHER_CLASS
        return n.about(self.alertname, self.service, self.component)


class Drill:
    """One incident. Subclasses say how to break it, what keeps it going, and how to mend it."""

    incident: Incident
    expect: Expect
    means: Expect | None = None        # the drill's own page, used to break something else: not counted

    def __init__(self, run: Runner):
        self.run, self.ctx, self.model = run, run.ctx, run.ctx.model

    def inject(self) -> None: ...
    def during(self) -> None: ...          # called every poll while waiting for the page
    def restore(self) -> None: ...
    def after(self) -> None: ...           # called every poll while waiting for the resolve
    def finish(self) -> None: ...          # always called, also on Ctrl-C

    @property
    def starts_on(self) -> Callable[[Notice], bool] | None:
        """A notice that marks the start, when the clock starts later than inject (notification)."""
        return None


def _every(interval: float) -> Callable[[], bool]:
    """True at most once per interval: the SDK's export schedule."""
    last = [-math.inf]

    def due() -> bool:
        now = time.monotonic()
        if now - last[0] >= interval:
            last[0] = now
            return True
        return False
    return due


class CanaryDrill(Drill):
    """Incidents driven through a canary instance of a spec service."""

    def __init__(self, run: Runner, service: Service, slo: SLO | None):
        super().__init__(run)
        self.canary = Canary(self.ctx, service, slo)
        self.due = _every(self.model.stack.timing.sdk_metric_interval.s)
        self.retired = False

    def push(self) -> None:
        if self.due() and not self.canary.push():
            self.run.progress(f"the collector did not accept the canary's export ({self.canary.describe_failure()})")

    def retire(self) -> None:
        """The canary stops for good: its silence would page for the job, so it is silenced for as long."""
        if self.retired:
            return
        self.retired = True
        t = self.model.stack.timing
        self.run.silence(self.canary.job, t.silence_memory.s + quiet_window(t).s + 60)

    def finish(self) -> None:
        self.retire()
        self.canary.close()


class SloDrill(CanaryDrill):
    """errors / latency: the canary's requests fail the SLO's SLI until the page; then it recovers."""

    def __init__(self, run: Runner, incident: Incident, service: Service, slo: SLO):
        super().__init__(run, service, slo)
        self.incident, self.slo = incident, slo
        self.expect = Expect(c.SLO_BURN_ALERT, service=service.name)
        self.recovered = False

    def inject(self) -> None:
        self.due()
        self.canary.record(1, GOOD)      # the good series exists from the start, so recovery counts at once
        self.outage()

    def during(self) -> None:
        if self.due():
            self.outage()

    def outage(self) -> None:
        """One export of failing requests: several times the good requests the whole service serves meanwhile,
        so the SLI reads an outage however much good traffic other instances (or earlier drills) send."""
        sel = f'{{{c.LABEL_SERVICE}="{self.slo.service}",{c.LABEL_SLO}="{self.slo.name}"}}'
        rate = 0.0
        try:
            rows = self.ctx.prometheus().query(f"{c.slo_events('5m')}{sel} - {c.slo_errors('5m')}{sel}")
            rate = max(0.0, sum(float(r["value"][1]) for r in rows))
        except (clients.Unreachable, clients.ApiError, ValueError, KeyError):
            pass
        interval = self.model.stack.timing.sdk_metric_interval.s
        self.canary.record(max(OUTAGE_PER_PUSH, math.ceil(4 * rate * interval)), FAILING)
        self.canary.push()

    def restore(self) -> None:
        self.retire()
        self.healthy()

    def healthy(self) -> None:
        """Recovery: the service serves good requests again. The first export carries enough of them that
        every page tier's long or short window falls below its threshold (whichever takes fewer); later ones
        keep it healthy (rate() needs a second sample of the good series to count the first)."""
        self.canary.record(OUTAGE_PER_PUSH + (0 if self.recovered else self.dilution()), GOOD)
        self.recovered = True
        self.canary.push()

    def dilution(self) -> int:
        """Good requests that bring the SLO's error ratio under every page tier's threshold, read from the
        windows Prometheus recorded (earlier drills' errors included)."""
        sel = f'{{{c.LABEL_SERVICE}="{self.slo.service}",{c.LABEL_SLO}="{self.slo.name}"}}'
        needed = 0.0
        for tier in (t for t in self.slo.tiers if t.severity == "page"):
            limit = float(tier.burn_rate * self.slo.error_budget)
            cheapest = math.inf
            for window in {tier.long, tier.short}:
                errors, events = (self._rate(f"{name}{sel}") for name in (c.slo_errors(str(window)),
                                                                             c.slo_events(str(window))))
                cheapest = min(cheapest, max(0.0, (errors / limit - events) * window.s))
            needed = max(needed, 0.0 if cheapest == math.inf else cheapest)
        # Fallback when Prometheus cannot say: this canary's own failures.
        if needed == 0.0 and self.canary.sent[FAILING]:
            lowest = min(float(t.burn_rate * self.slo.error_budget) for t in self.slo.tiers if t.severity == "page")
            needed = self.canary.sent[FAILING] / lowest
        return math.ceil(needed * 1.5)

    def _rate(self, promql: str) -> float:
        try:
            return sum(float(r["value"][1]) for r in self.ctx.prometheus().query(promql))
        except (clients.Unreachable, clients.ApiError, ValueError, KeyError):
            return 0.0

    def after(self) -> None:
        if self.due():
            self.healthy()


class CrashDrill(CanaryDrill):
    incident = Incident.CRASH

    def __init__(self, run: Runner, service: Service):
        super().__init__(run, service, None)
        self.expect = Expect(c.SERVICE_SILENT_ALERT, service=service.name)

    def warm_up(self) -> None:
        for _ in range(2):      # two exports: the job is seen, as a running service is
            self.canary.record(10)
            self.canary.push()
            self.run.sleep(self.model.stack.timing.sdk_metric_interval.s)

    def inject(self) -> None:
        pass                    # the crash: no export from now on

    def after(self) -> None:
        self.canary.record(1)   # restarted: it exports again
        self.push()


class TrafficDrill(CanaryDrill):
    incident = Incident.TRAFFIC

    def __init__(self, run: Runner, service: Service):
        super().__init__(run, service, None)
        self.expect = Expect(c.SERVICE_TRAFFIC_STOPPED_ALERT, service=service.name)

    def warm_up(self) -> None:
        from obs.generate.incident_alerts import MIN_EXPECTED_REQUESTS, TRAFFIC_BASELINE
        t = self.model.stack.timing
        needed = MIN_EXPECTED_REQUESTS * TRAFFIC_BASELINE.s / quiet_window(t).s * TRAFFIC_WARMUP_FACTOR
        pushes = 3
        for _ in range(pushes):
            self.canary.record(int(needed / (pushes - 1)))
            self.canary.push()
            self.run.sleep(t.sdk_metric_interval.s)

    def inject(self) -> None:
        pass                    # still exporting, but no requests

    def during(self) -> None:
        self.push()

    def after(self) -> None:
        self.canary.record(50)  # traffic is back
        self.push()


class ComponentDrill(Drill):
    """collector / trace-backend / metrics-backend / alertmanager: SIGKILL the process, start it again."""

    def __init__(self, run: Runner, incident: Incident, component: str, expect: Expect):
        super().__init__(run)
        self.incident, self.component, self.expect = incident, component, expect
        self.killed = False

    def inject(self) -> None:
        pid = self.run.stack.kill(self.component)
        self.killed = True
        self.run.progress(f"killed {self.component} (pid {pid})")

    def restore(self) -> None:
        self.run.stack.start(self.component)
        self.killed = False
        self.run.progress(f"{self.component} started again")
        if self.component == "alertmanager":
            self.run.resilence()

    def finish(self) -> None:
        if self.killed:
            self.restore()


class NotificationDrill(CrashDrill):
    """The paging integration rejects every event; a canary's crash makes Alertmanager try it. A crash, not an
    SLO outage: it leaves no errors in the SLOs' windows for later drills to dilute."""

    incident = Incident.NOTIFICATION

    def __init__(self, run: Runner, service: Service, kind: str, fallback: str):
        super().__init__(run, service)
        self.kind = kind
        self.means = self.expect           # the crash's own page is what the failing integration rejects
        self.expect = Expect(c.NOTIFICATIONS_FAILING_ALERT, receiver=fallback)
        self.rejecting = False

    def inject(self) -> None:
        self.run.receivers.fault(self.kind, "reject")
        self.rejecting = True

    def restore(self) -> None:
        self.run.receivers.fault(self.kind, "accept")
        self.rejecting = False

    def finish(self) -> None:
        if self.rejecting:
            self.restore()
        super().finish()

    @property
    def starts_on(self) -> Callable[[Notice], bool]:
        return lambda n: n.kind == self.kind and not n.accepted


def resolve_bound(model: Model, incident: Incident) -> float:
    """From the restore to the resolved notification: the condition clears within a scrape, an export and
    the SLO rules' evaluations; Alertmanager sends resolved notices at its next group_interval."""
    from obs.generate.pipeline_alerts import rate_window
    t = model.stack.timing
    clears = t.sdk_metric_interval.s + t.scrape_interval.s + t.slo_long_interval.s + 2 * t.evaluation_interval.s
    if incident in (Incident.METRICS_BACKEND, Incident.ALERTMANAGER):
        # The next heartbeat: Prometheus (re)sends the Watchdog within a resend delay, sent on at once.
        return 30.0 + t.resend_delay.s + t.heartbeat_interval.s + HANDOFF_S
    if incident is Incident.NOTIFICATION:
        clears += rate_window(t).s      # the failure counter's increase must leave its window
    if incident in (Incident.COLLECTOR, Incident.TRACE_BACKEND):
        clears += 30.0                  # the component's own start-up
    return clears + t.group_interval.s + HANDOFF_S


class Runner:
    """Runs incidents one after another on a running native stack."""

    def __init__(self, ctx: Context, stack, receivers: Receivers, am: clients.Alertmanager,
                 progress: Callable[[str], None] = lambda message: None):
        self.ctx, self.stack, self.receivers, self.am, self.progress = ctx, stack, receivers, am, progress
        self.silences: list[dict] = []       # re-posted after Alertmanager restarts: a SIGKILL loses them

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def silence(self, job: str, seconds: float) -> None:
        now = time.time()
        doc = {"matchers": [{"name": "alertname", "value": f"{c.SERVICE_SILENT_ALERT}|{c.SERVICE_TRAFFIC_STOPPED_ALERT}",
                             "isRegex": True, "isEqual": True},
                            {"name": "job", "value": job, "isRegex": False, "isEqual": True}],
               "startsAt": _iso(now), "endsAt": _iso(now + seconds), "createdBy": "obs drill",
               "comment": "obs drill: the drill's canary is retired; its silence is not an incident",
               "_until": now + seconds}
        self.silences.append(doc)
        self._post_silence({k: v for k, v in doc.items() if not k.startswith("_")})

    def _post_silence(self, doc: dict) -> None:
        try:
            r = self.am.request("POST", "/api/v2/silences", json=doc)
            ok = r.status_code == 200
        except clients.Unreachable:
            ok = False
        if not ok:
            self.progress(f"could not silence the retired canary {doc['matchers'][1]['value']}; its silence may page")

    def resilence(self) -> None:
        """Alertmanager snapshots silences every few minutes and on a clean stop; a SIGKILL loses the newer ones."""
        now = time.time()
        for doc in self.silences:
            if doc["_until"] > now:
                self._post_silence({k: v for k, v in doc.items() if not k.startswith("_")})

    # -- choosing ------------------------------------------------------------------

    def drill(self, incident: Incident) -> Drill | str:
        """The drill for an incident, or why this spec cannot have it."""
        m = self.ctx.model
        services = [s for s in m.services if s.otlp]
        http = [s for s in services if s.http] or services
        if incident in (Incident.ERRORS, Incident.LATENCY):
            # errors: an availability SLO, else an events SLO (its error selector counts failures).
            slo = (first_slo(m, "availability") or first_slo(m, "events") if incident is Incident.ERRORS
                   else first_slo(m, "latency"))
            if slo is None:
                return f"no {'availability' if incident is Incident.ERRORS else 'latency'} SLO pages"
            return SloDrill(self, incident, m.service(slo.service), slo)
        if incident is Incident.CRASH:
            return CrashDrill(self, services[0]) if services else "no service sends OTLP"
        if incident is Incident.TRAFFIC:
            return TrafficDrill(self, [s for s in services if s.http][0]) if any(s.http for s in services) \
                else "no HTTP service"
        if incident is Incident.NOTIFICATION:
            from obs.generate.alertmanager import fallbacks
            from obs.stack.components import paging_receiver
            pager = next((r for r in m.receivers if r.name == paging_receiver(m)), None)
            if pager is None or not services:
                return "no receiver gets pages" if pager is None else "no service sends OTLP"
            fallback = fallbacks(m).get(pager.kind)
            if fallback is None or pager.kind not in ("pagerduty", "slack"):
                return (f"no receiver of another kind than {pager.kind} to hear that {pager.name} fails; add one "
                        "(alerting.fallback_receiver)")
            return NotificationDrill(self, services[0], pager.kind, fallback)
        component = {Incident.COLLECTOR: "otelcol", Incident.TRACE_BACKEND: "jaeger",
                     Incident.METRICS_BACKEND: "prometheus", Incident.ALERTMANAGER: "alertmanager"}[incident]
        expect = (Expect(c.COMPONENT_DOWN_ALERT, component=component)
                  if incident in (Incident.COLLECTOR, Incident.TRACE_BACKEND) else Expect(WATCHER_CLASS))
        del http
        return ComponentDrill(self, incident, component, expect)

    # -- running -------------------------------------------------------------------

    def run(self, incident: Incident) -> IncidentResult:
        m = self.ctx.model
        b = bound(m, incident)
        result = IncidentResult(incident, b.seconds if b else 0.0, b.rule if b else "none",
                                resolve_bound_s=resolve_bound(m, incident))
        drill = self.drill(incident)
        if isinstance(drill, str):
            result.findings.append(Finding("spec", "fail", f"cannot drill {incident.value}: {drill}",
                                           "add what is missing to the spec, or leave this incident out"))
            return result
        try:
            self._run(drill, result)
        finally:
            drill.finish()
        return result

    def _run(self, drill: Drill, result: IncidentResult) -> None:
        if isinstance(drill, (CrashDrill, TrafficDrill)):   # a notification drill is a crash too
            self.progress(f"{drill.incident.value}: warming up the canary {drill.canary.job}")
            drill.warm_up()
        if result.incident in (Incident.METRICS_BACKEND, Incident.ALERTMANAGER):
            self._await_heartbeat(result)
        self.receivers.skip()
        seen: list[Notice] = []
        t0 = time.time()
        self.progress(f"{drill.incident.value}: breaking it now; the page is due within {result.bound_s:.0f}s")
        drill.inject()
        page = self._wait(drill, seen, drill.during, lambda n: n.action == "trigger" and n.accepted
                          and drill.expect.matches(n), result.bound_s * 1.5 + 30)
        start = t0
        if drill.starts_on is not None:
            first = next((n for n in seen if drill.starts_on(n)), None)
            start = first.at if first else t0
            if first is not None:
                result.notes.append(f"the paging integration first rejected a page {first.at - t0:.1f}s in")
        if page is None:
            result.findings.append(self.diagnose(drill, seen, result.bound_s * 1.5 + 30))
        else:
            result.paged_after_s = page.at - start
            result.receiver = page.receiver
            self.progress(f"{drill.incident.value}: paged {page.receiver} after {result.paged_after_s:.1f}s; restoring")
        t_restore = time.time()
        drill.restore()
        if page is not None:
            done = self._wait(drill, seen, drill.after, lambda n: n.action == "resolve" and n.accepted and
                              n.key == page.key and n.receiver == page.receiver, result.resolve_bound_s * 1.5 + 30)
            if done is None:
                result.findings.append(Finding("receiver", "warn", f"the page did not resolve within "
                                               f"{result.resolve_bound_s * 1.5 + 30:.0f}s of the restore",
                                               "check the alert's condition cleared (`obs verify`)"))
            else:
                result.resolved_after_s = done.at - t_restore
            pages = [n for n in seen if n.action == "trigger" and n.accepted and n.page
                     and not (drill.means is not None and drill.means.matches(n))]
            result.pages = len({(n.receiver, n.key) for n in pages})
            if result.pages > 1:
                others = sorted({n.alertname or n.key for n in pages if n.key != page.key})
                result.findings.append(Finding("Alertmanager", "fail", f"{result.pages} pages for one incident; "
                                               f"also: {', '.join(others)}", "an inhibit rule should hold the "
                                               "symptoms back while the root cause pages"))

    def diagnose(self, drill: Drill, seen: list[Notice], waited: float) -> Finding:
        """Name the hop that lost the page: the rule never fired, Alertmanager held it back, or the receiver
        refused it."""
        name = drill.expect.alertname
        late = f"no {name} page reached a receiver within {waited:.0f}s"
        refused = [n for n in seen if not n.accepted and drill.expect.matches(Notice(**{**n.__dict__, "accepted": True}))]
        if refused:
            return Finding("receiver", "fail", f"{late}: {refused[0].receiver} ({refused[0].kind}) refused it",
                           "the payload breaks the vendor's contract: `obs logs receivers` shows why")
        if name == WATCHER_CLASS:
            return Finding("heartbeat watcher", "fail", f"{late}: the dead man's switch did not page", _fix(drill))
        try:
            firing = [a for a in self.ctx.prometheus().alerts()
                      if a.get("labels", {}).get("alertname") == name and a.get("state") == "firing"]
            held = self.am.alerts(alertname=name)
        except (clients.Unreachable, clients.ApiError):
            return Finding("receiver", "fail", late, _fix(drill))
        if not firing:
            return Finding("Prometheus rules", "fail", f"{late}: {name} never fired in Prometheus",
                           "`obs explain -v` shows what the rule waits for; `obs test` proves the rule")
        if not held:
            return Finding("Alertmanager", "fail", f"{late}: Prometheus fired it but Alertmanager never listed it",
                           "run `obs verify --only alert` for the alert path's diagnosis")
        state = held[0].get("status", {})
        if state.get("silencedBy") or state.get("inhibitedBy"):
            why = "silenced" if state.get("silencedBy") else "inhibited by another alert"
            return Finding("Alertmanager", "fail", f"{late}: Alertmanager holds it, {why}",
                           "`amtool silence query`, and the inhibit_rules in deploy/alertmanager/alertmanager.yml")
        return Finding("Alertmanager", "fail", f"{late}: Alertmanager holds it for "
                       f"{', '.join(r.get('name', '?') for r in held[0].get('receivers') or [])} but sent nothing",
                       "`obs logs alertmanager` shows the integration's errors")

    def _wait(self, drill: Drill, seen: list[Notice], tick: Callable[[], None], want: Callable[[Notice], bool],
              timeout: float) -> Notice | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tick()
            for event in self.receivers.events():
                n = notice(event)
                if n is None:
                    continue
                seen.append(n)
                if want(n):
                    return n
            time.sleep(POLL_S)
        return None

    def _await_heartbeat(self, result: IncidentResult) -> None:
        """The watcher pages only once armed: wait for a heartbeat to reach it first."""
        t = self.ctx.model.stack.timing
        deadline = time.monotonic() + t.heartbeat_interval.s * 2 + t.resend_delay.s + 10
        self.receivers.skip()
        while time.monotonic() < deadline:
            if any(e.get("kind") == "heartbeat" for e in self.receivers.events()):
                return
            time.sleep(POLL_S)
        result.notes.append("no heartbeat reached the watcher before the drill; it may not be armed")


def _fix(drill: Drill) -> str:
    if isinstance(drill, ComponentDrill) and drill.expect.alertname == WATCHER_CLASS:
        return ("the dead man's switch pages: check Alertmanager routes the Watchdog to obs-heartbeat and "
                "`obs logs receivers`")
    return "run `obs verify` for the hop that lost it; `obs explain` shows which rule should page"


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"
