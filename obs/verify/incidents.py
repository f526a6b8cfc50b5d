"""`obs drill --incident KIND`: break one thing for real, time the page at the receiver, restore, time the resolve.

Every incident is driven for real on the running native stack: components are SIGKILLed and started
again, traffic is OTLP from the SDK (obs/verify/canary.py), the paging integration is made to reject
events at the contract receivers. Pages are read where Alertmanager's real PagerDuty and Slack
integrations delivered them (obs/verify/pages.py), so a page counts only if the vendor's contract
accepted it. Each measured time is held against the worst case obs/model/detection.py computes.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from obs.model import conventions as c
from obs.model.detection import HANDOFF_S, Incident, bound, first_slo
from obs.model.domain import Model
from obs.model.kinds import ReceiverKind, SliKind
from obs.stack.native import Stack
from obs.verify import clients
from obs.verify.context import Context
from obs.verify.drills import ComponentDrill, CrashDrill, Drill, Expect, NotificationDrill, SloDrill, TrafficDrill
from obs.verify.pages import WATCHER_CLASS, AlertmanagerPages, Notice, Receivers, notice
from obs.verify.result import Finding, Status
from obs.verify.selfmetrics import Snapshot

POLL_S = 0.25


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
    def paged_once(self) -> bool:
        return (self.paged_after_s is not None and self.pages == 1
                and not any(f.status == Status.FAIL for f in self.findings))

    @property
    def within_bound(self) -> bool:
        return self.paged_after_s is not None and self.paged_after_s <= self.bound_s

    @property
    def ok(self) -> bool:
        return self.paged_once and self.within_bound

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)
        return {"incident": self.incident.value, "paged_after_s": r(self.paged_after_s), "pages": self.pages,
                "receiver": self.receiver, "resolved_after_s": r(self.resolved_after_s),
                "bound_s": round(self.bound_s, 1), "resolve_bound_s": round(self.resolve_bound_s, 1),
                "rule": self.rule, "paged_once": self.paged_once, "within_bound": self.within_bound, "ok": self.ok,
                "findings": [f.as_dict() for f in self.findings],
                "notes": self.notes}


def resolve_bound(model: Model, incident: Incident) -> float:
    """From the restore to the resolved notification: the condition clears within a scrape, an export and
    the SLO rules' evaluations; Alertmanager sends resolved notices at its next group_interval."""
    t = model.stack.timing
    clears = t.sdk_metric_interval.s + t.scrape_interval.s + t.slo_long_interval.s + 2 * t.evaluation_interval.s
    if incident in (Incident.METRICS_BACKEND, Incident.ALERTMANAGER):
        # The next heartbeat: Prometheus (re)sends the Watchdog within a resend delay, sent on at once.
        return 30.0 + t.resend_delay.s + t.heartbeat_interval.s + HANDOFF_S
    if incident is Incident.NOTIFICATION:
        clears += t.rate_window.s      # the failure counter's increase must leave its window
    if incident in (Incident.COLLECTOR, Incident.TRACE_BACKEND):
        clears += 30.0                  # the component's own start-up
    return clears + t.group_interval.s + HANDOFF_S


class Runner:
    """Runs incidents one after another on a running native stack."""

    def __init__(self, ctx: Context, stack: Stack | None, receivers: Receivers | AlertmanagerPages,
                 am: clients.Alertmanager, progress: Callable[[str], None] = lambda message: None,
                 quiet: bool = False):
        self.ctx, self.receivers, self.am, self.progress = ctx, receivers, am, progress
        self._stack = stack
        self.silences: list[tuple[str, float]] = []   # (job, until): re-posted after Alertmanager restarts
        # A deployed environment without --yes-page-for-real: each drill's own page is silenced while it runs,
        # and timed where Alertmanager routes it.
        self.quiet = quiet
        self.quieted: list[str] = []

    @property
    def stack(self) -> Stack:
        if self._stack is None:   # pragma: no cover - only synthetic kinds run without a local stack
            raise RuntimeError("this drill needs the local stack")
        return self._stack

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def silence(self, job: str, seconds: float) -> None:
        now = time.time()
        self.silences.append((job, now + seconds))
        self._post_silence(job, now, now + seconds)

    def _post_silence(self, job: str, starts: float, ends: float) -> None:
        try:
            self.am.silence({"alertname": f"{c.SERVICE_SILENT_ALERT}|{c.SERVICE_TRAFFIC_STOPPED_ALERT}", "job": job},
                            starts, ends, "obs drill: the drill's canary is retired; its silence is not an incident",
                            created_by="obs drill")
        except (clients.Unreachable, clients.ApiError):
            self.progress(f"could not silence the retired canary {job}; its silence may page")

    def resilence(self) -> None:
        """Alertmanager snapshots silences every few minutes and on a clean stop; a SIGKILL loses the newer ones."""
        now = time.time()
        for job, until in self.silences:
            if until > now:
                self._post_silence(job, now, until)

    # -- choosing ------------------------------------------------------------------

    def drill(self, incident: Incident) -> Drill | str:
        """The drill for an incident, or why this spec cannot have it."""
        m = self.ctx.model
        services = [s for s in m.services if s.otlp]
        http = [s for s in services if s.http] or services
        if incident in (Incident.ERRORS, Incident.LATENCY):
            # errors: an availability SLO, else an events SLO (its error selector counts failures).
            slo = (first_slo(m, SliKind.AVAILABILITY) or first_slo(m, SliKind.EVENTS) if incident is Incident.ERRORS
                   else first_slo(m, SliKind.LATENCY))
            if slo is None:
                return f"no {'availability' if incident is Incident.ERRORS else 'latency'} SLO pages"
            return SloDrill(self, incident, m.service(slo.service), slo)
        if incident is Incident.CRASH:
            return CrashDrill(self, services[0]) if services else "no service sends OTLP"
        if incident is Incident.TRAFFIC:
            return TrafficDrill(self, [s for s in services if s.http][0]) if any(s.http for s in services) \
                else "no HTTP service"
        if incident is Incident.NOTIFICATION:
            pager = next((r for r in m.receivers if r.name == m.paging_receiver), None)
            if pager is None or not services:
                return "no receiver gets pages" if pager is None else "no service sends OTLP"
            fallback = m.fallback_receivers().get(pager.kind)
            if fallback is None or pager.kind not in (ReceiverKind.PAGERDUTY, ReceiverKind.SLACK):
                return (f"no receiver of another kind than {pager.kind} to hear that {pager.name} fails; add one "
                        "(alerting.fallback_receiver)")
            return NotificationDrill(self, services[0], pager.kind, fallback)
        component = {Incident.COLLECTOR: "otelcol", Incident.TRACE_BACKEND: "jaeger",
                     Incident.METRICS_BACKEND: "prometheus", Incident.ALERTMANAGER: "alertmanager"}[incident]
        expect = (Expect(c.COMPONENT_DOWN_ALERT, component=component)
                  if incident in (Incident.COLLECTOR, Incident.TRACE_BACKEND) else Expect(WATCHER_CLASS))
        del http
        processes = [component]
        if m.stack.ha and incident in (Incident.METRICS_BACKEND, Incident.ALERTMANAGER):
            # One replica down pages nobody (the others carry on): the incident is the whole tier down.
            count = m.stack.prometheis if incident is Incident.METRICS_BACKEND else m.stack.alertmanagers
            processes = [c.replica(component, i) for i in range(count)]
        return ComponentDrill(self, incident, processes, expect)

    # -- running -------------------------------------------------------------------

    def run(self, incident: Incident) -> IncidentResult:
        m = self.ctx.model
        b = bound(m, incident)
        result = IncidentResult(incident, b.seconds if b else 0.0, b.rule if b else "none",
                                resolve_bound_s=resolve_bound(m, incident))
        drill = self.drill(incident)
        if isinstance(drill, str):
            result.findings.append(Finding("spec", Status.FAIL, f"cannot drill {incident.value}: {drill}",
                                           "add what is missing to the spec, or leave this incident out"))
            return result
        try:
            self._run(drill, result)
        finally:
            drill.finish()
            self._unquiet()
        return result

    def _quiet(self, drill: Drill, result: IncidentResult) -> None:
        if not self.quiet:
            return
        matchers = drill.quiet_matchers()
        now = time.time()
        ends = now + (drill.lead_s + result.bound_s + result.resolve_bound_s) * 3 + 300
        silence_id = self.am.silence(
            matchers, now, ends, "obs drill: this drill's own page, timed at Alertmanager; expires when it ends",
            created_by="obs drill")
        self.quieted.append(silence_id)
        if isinstance(self.receivers, AlertmanagerPages):
            self.receivers.ours.add(silence_id)
        result.notes.append("silenced while the drill ran, so nobody was paged: "
                            + ", ".join(f'{k}="{v}"' for k, v in matchers.items()))

    def _unquiet(self) -> None:
        for silence_id in self.quieted:
            try:
                self.am.expire(silence_id)
            except clients.Unreachable:
                self.progress(f"could not expire the drill's silence {silence_id}; it ends by itself")
        self.quieted.clear()

    def _run(self, drill: Drill, result: IncidentResult) -> None:
        drill.warm_up()
        if result.incident in (Incident.METRICS_BACKEND, Incident.ALERTMANAGER):
            self._await_heartbeat(result)
        if result.incident is Incident.ALERTMANAGER:
            self._await_silences_saved(result)
        self.receivers.skip()
        seen: list[Notice] = []
        t0 = time.time()
        self._quiet(drill, result)
        self.progress(f"{drill.incident.value}: breaking it now; the page is due within {result.bound_s:.0f}s")
        drill.inject()
        waited = (drill.lead_s + result.bound_s) * 1.5 + 30
        page = self._wait(drill, seen, drill.during, lambda n: n.action == "trigger" and n.accepted
                          and drill.expect.matches(n), waited)
        start = t0
        if drill.starts_on is not None:
            first = next((n for n in seen if drill.starts_on(n)), None)
            start = first.at if first else t0
            if first is not None:
                result.notes.append(f"the paging integration first rejected a page {first.at - t0:.1f}s in")
        if page is None:
            result.findings.append(self.diagnose(drill, seen, waited))
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
                result.findings.append(Finding("receiver", Status.WARN, f"the page did not resolve within "
                                               f"{result.resolve_bound_s * 1.5 + 30:.0f}s of the restore",
                                               "check the alert's condition cleared (`obs verify`)"))
            else:
                result.resolved_after_s = done.at - t_restore
                # Pages the recovery sets off (another burn-rate tier crossing late) count against this incident.
                if self._wait(drill, seen, drill.after, lambda n: False, result.resolve_bound_s * 1.5 + 30,
                              until=drill.settled) is None and not drill.settled():
                    result.findings.append(Finding("Prometheus rules", Status.WARN, "alerts the incident set off still "
                                                   "fire or are pending after its page resolved",
                                                   "`obs status` and the Prometheus alerts page show which"))
            pages = [n for n in seen if n.action == "trigger" and n.accepted and n.page
                     and not (drill.means is not None and drill.means.matches(n))]
            result.pages = len({(n.receiver, n.key) for n in pages})
            if result.pages > 1:
                others = sorted({n.alertname or n.key for n in pages if n.key != page.key})
                result.findings.append(Finding("Alertmanager", Status.FAIL, f"{result.pages} pages for one incident; "
                                               f"also: {', '.join(others)}", "an inhibit rule should hold the "
                                               "symptoms back while the root cause pages"))

    def diagnose(self, drill: Drill, seen: list[Notice], waited: float) -> Finding:
        """Name the hop that lost the page: the rule never fired, Alertmanager held it back, or the receiver
        refused it."""
        name = drill.expect.alertname
        late = f"no {name} page reached a receiver within {waited:.0f}s"
        refused = [n for n in seen
                   if not n.accepted and drill.expect.matches(Notice(**{**n.__dict__, "accepted": True}))]
        if refused:
            return Finding("receiver", Status.FAIL, f"{late}: {refused[0].receiver} ({refused[0].kind}) refused it",
                           "the payload breaks the vendor's contract: `obs logs receivers` shows why")
        if name == WATCHER_CLASS:
            return Finding("heartbeat watcher", Status.FAIL, f"{late}: the dead man's switch did not page", _fix(drill))
        try:
            firing = [a for a in self.ctx.prometheus().alerts()
                      if a.get("labels", {}).get("alertname") == name and a.get("state") == "firing"]
            held = self.am.alerts(alertname=name)
        except (clients.Unreachable, clients.ApiError):
            return Finding("receiver", Status.FAIL, late, _fix(drill))
        if not firing:
            return Finding("Prometheus rules", Status.FAIL, f"{late}: {name} never fired in Prometheus",
                           "`obs explain -v` shows what the rule waits for; `obs test` proves the rule")
        if not held:
            return Finding("Alertmanager", Status.FAIL, f"{late}: Prometheus fired it but Alertmanager never listed it",
                           "run `obs verify --only alert` for the alert path's diagnosis")
        state = held[0].get("status", {})
        if state.get("silencedBy") or state.get("inhibitedBy"):
            why = "silenced" if state.get("silencedBy") else "inhibited by another alert"
            return Finding("Alertmanager", Status.FAIL, f"{late}: Alertmanager holds it, {why}",
                           "`amtool silence query`, and the inhibit_rules in deploy/alertmanager/alertmanager.yml")
        return Finding("Alertmanager", Status.FAIL, f"{late}: Alertmanager holds it for "
                       f"{', '.join(r.get('name', '?') for r in held[0].get('receivers') or [])} but sent nothing",
                       "`obs logs alertmanager` shows the integration's errors")

    def _wait(self, drill: Drill, seen: list[Notice], tick: Callable[[], None], want: Callable[[Notice], bool],
              timeout: float, until: Callable[[], bool] = lambda: False) -> Notice | None:
        """Collect notices into `seen` until one is wanted (returned), `until()` holds, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until():
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

    def _await_silences_saved(self, result: IncidentResult) -> None:
        """A SIGKILLed Alertmanager starts again with the silences of its last snapshot, and Prometheus resends
        its alerts before the drill can post them again: a silence newer than the snapshot would let a retired
        canary page. Wait for the next snapshot (every `state_snapshot`) when one is that new."""
        snapshot = self.ctx.model.stack.timing.state_snapshot.s
        try:
            newest = max((datetime.fromisoformat(s["updatedAt"]).timestamp() for s in self.am.silences()
                          if s.get("status", {}).get("state") == "active"), default=0.0)
            if newest < time.time() - snapshot - 1:
                return
            before = _count(self.am.self_metrics(), SNAPSHOTS)
            self.progress(f"waiting up to {snapshot:.0f}s for Alertmanager to save its silences before the kill")
            deadline = time.monotonic() + snapshot * 2 + 5
            while time.monotonic() < deadline:
                if _count(self.am.self_metrics(), SNAPSHOTS) > before:
                    return
                self.sleep(POLL_S)
        except (clients.Unreachable, clients.ApiError, KeyError, ValueError):
            pass
        result.notes.append("Alertmanager may not have saved the newest silences: a retired canary may page")

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


SNAPSHOTS = c.ALERTMANAGER_SILENCE_SNAPSHOTS.removesuffix("_total")     # parse_metrics drops `_total`


def _count(metrics: Snapshot, name: str) -> float:
    return sum(v for (n, _), v in metrics.items() if n == name)


def _fix(drill: Drill) -> str:
    if isinstance(drill, ComponentDrill) and drill.expect.alertname == WATCHER_CLASS:
        return ("the dead man's switch pages: check Alertmanager routes the Watchdog to obs-heartbeat and "
                "`obs logs receivers`")
    return "run `obs verify` for the hop that lost it; `obs explain` shows which rule should page"

