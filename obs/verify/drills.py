"""The incidents `obs drill` can drive, each as a class: how to break it, keep it going, mend it, and the page
it must produce. The runner (obs/verify/incidents.py) times them; nothing here waits for a page.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from obs.model import conventions as c
from obs.model.detection import MIN_EXPECTED_REQUESTS, TRAFFIC_BASELINE, Incident, bound, quiet_window
from obs.model.domain import SLO, Service
from obs.model.kinds import ReceiverKind, Severity
from obs.verify import clients
from obs.verify.canary import FAILING, GOOD, Canary
from obs.verify.pages import WATCHER_CLASS, Notice, Receivers

if TYPE_CHECKING:
    from obs.verify.incidents import Runner

# Requests per export while an SLO outage runs: above the SLOs' minimum-traffic guard within two exports.
OUTAGE_PER_PUSH = 100
# A service's traffic must promise this many requests per quiet window before its stopping pages
# (obs/generate/pipeline/incidents.py); the warm-up sends this many times more.
TRAFFIC_WARMUP_FACTOR = 3


@dataclass
class Expect:
    """The page an incident must produce: at which receiver, about which alert."""
    alertname: str
    service: str | None = None
    component: str | None = None
    slo: str | None = None
    receiver: str | None = None        # default: wherever the first matching notice lands

    def matches(self, n: Notice) -> bool:
        if not n.page or (self.receiver is not None and n.receiver != self.receiver):
            return False
        if self.alertname == WATCHER_CLASS:
            return n.kind == ReceiverKind.PAGERDUTY and n.alertname == WATCHER_CLASS
        return n.about(self.alertname, self.service, self.component, self.slo)


class Drill:
    """One incident. Subclasses say how to break it, what keeps it going, and how to mend it."""

    incident: Incident
    expect: Expect
    means: Expect | None = None        # the drill's own page, used to break something else: not counted

    def __init__(self, run: Runner):
        self.run, self.ctx, self.model = run, run.ctx, run.ctx.model

    def warm_up(self) -> None: ...         # what must run normally before the incident can be noticed
    def inject(self) -> None: ...
    def during(self) -> None: ...          # called every poll while waiting for the page
    def restore(self) -> None: ...
    def after(self) -> None: ...           # called every poll while waiting for the resolve
    def finish(self) -> None: ...          # always called, also on Ctrl-C

    def quiet_matchers(self) -> dict[str, str]:
        """Labels a silence needs to keep this drill's own page from reaching people (`obs drill --env`)."""
        e = self.expect
        found = {"alertname": e.alertname, "service": e.service, "component": e.component, "slo": e.slo}
        return {k: v for k, v in found.items() if v is not None}

    def settled(self) -> bool:
        """Nothing the incident set off still fires or is pending: polled after the resolve."""
        return True

    @property
    def starts_on(self) -> Callable[[Notice], bool] | None:
        """A notice that marks the start, when the clock starts later than inject (notification)."""
        return None

    @property
    def lead_s(self) -> float:
        """How long after inject the incident itself can begin: the wait for its page is this much longer."""
        return 0.0


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

    def exports(self, count: int, requests: int) -> None:
        """A running service's exports before the incident: `count` of them, `requests` each, one interval apart."""
        self.run.progress(f"{self.incident.value}: warming up the canary {self.canary.job}")
        for _ in range(count):
            self.canary.record(requests)
            self.canary.push()
            self.run.sleep(self.model.stack.timing.sdk_metric_interval.s)

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

    def quiet_matchers(self) -> dict[str, str]:
        matchers = super().quiet_matchers()
        if self.expect.alertname in (c.SERVICE_SILENT_ALERT, c.SERVICE_TRAFFIC_STOPPED_ALERT):
            # Pages per job: the canary's own job is enough, and hides nothing of the real deployment.
            matchers = {"alertname": self.expect.alertname, "job": self.canary.job}
        return matchers


class SloDrill(CanaryDrill):
    """errors / latency: the canary's requests fail the SLO's SLI until the page; then it recovers."""

    def __init__(self, run: Runner, incident: Incident, service: Service, slo: SLO):
        super().__init__(run, service, slo)
        self.incident, self.slo = incident, slo
        self.expect = Expect(c.SLO_BURN_ALERT, service=service.name, slo=slo.name)
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
        for tier in (t for t in self.slo.tiers if t.severity == Severity.PAGE):
            limit = float(tier.burn_rate * self.slo.error_budget)
            cheapest = math.inf
            for window in {tier.long, tier.short}:
                errors, events = (self._rate(f"{name}{sel}") for name in (c.slo_errors(str(window)),
                                                                             c.slo_events(str(window))))
                cheapest = min(cheapest, max(0.0, (errors / limit - events) * window.s))
            needed = max(needed, 0.0 if cheapest == math.inf else cheapest)
        # The recorded windows lag the canary's last failures by up to an evaluation of the slowest rule: its
        # own failures, under the lowest threshold in any window that holds them (and so this recovery too).
        lowest = min(float(t.burn_rate * self.slo.error_budget) for t in self.slo.tiers if t.severity == Severity.PAGE)
        needed = max(needed, self.canary.sent[FAILING] / lowest)
        return math.ceil(needed * 1.5)

    def _rate(self, promql: str) -> float:
        try:
            return sum(float(r["value"][1]) for r in self.ctx.prometheus().query(promql))
        except (clients.Unreachable, clients.ApiError, ValueError, KeyError):
            return 0.0

    def after(self) -> None:
        if self.due():
            self.healthy()

    def settled(self) -> bool:
        """No page tier of the SLO fires or is pending: the recovery left nothing to page a minute later."""
        sel = (f'ALERTS{{alertname="{c.SLO_BURN_ALERT}",{c.LABEL_SERVICE}="{self.slo.service}",'
               f'{c.LABEL_SLO}="{self.slo.name}",{c.LABEL_SEVERITY}="page"}}')
        try:
            return not self.ctx.prometheus().query(sel)
        except (clients.Unreachable, clients.ApiError):
            return False


class CrashDrill(CanaryDrill):
    incident = Incident.CRASH

    def __init__(self, run: Runner, service: Service):
        super().__init__(run, service, None)
        self.expect = Expect(c.SERVICE_SILENT_ALERT, service=service.name)

    def warm_up(self) -> None:
        self.exports(2, 10)     # two exports: the job is seen, as a running service is

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
        t = self.model.stack.timing
        needed = MIN_EXPECTED_REQUESTS * TRAFFIC_BASELINE.s / quiet_window(t).s * TRAFFIC_WARMUP_FACTOR
        self.exports(3, int(needed / 2))    # rate() counts the increase after the first export

    def inject(self) -> None:
        pass                    # still exporting, but no requests

    def during(self) -> None:
        self.push()

    def after(self) -> None:
        self.canary.record(50)  # traffic is back
        self.push()


class ComponentDrill(Drill):
    """collector / trace-backend / metrics-backend / alertmanager: SIGKILL the process, start it again.

    Under `topology: ha` the metrics backend is every Prometheus replica and the alerting tier every Alertmanager:
    one of them down pages nobody, all of them down is the incident. Only what the drill killed is started again,
    so replicas someone stopped on purpose stay stopped."""

    def __init__(self, run: Runner, incident: Incident, processes: list[str], expect: Expect):
        super().__init__(run)
        self.incident, self.processes, self.expect = incident, processes, expect
        self.killed: list[str] = []

    def inject(self) -> None:
        running = [name for name in self.processes if self.run.stack.pid(name) is not None] or self.processes
        for name in running:
            pid = self.run.stack.kill(name)
            self.killed.append(name)
            self.run.progress(f"killed {name} (pid {pid})")

    def restore(self) -> None:
        while self.killed:
            name = self.killed.pop(0)
            self.run.stack.start(name)
            self.run.progress(f"{name} started again")
        if self.incident is Incident.ALERTMANAGER:
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

    def _fault(self, mode: str) -> None:
        receivers = self.run.receivers
        if not isinstance(receivers, Receivers):   # pragma: no cover - refused before a deployed drill starts
            raise TypeError("the notification drill needs obs's contract receivers")
        receivers.fault(self.kind, mode)

    def inject(self) -> None:
        self._fault("reject")
        self.rejecting = True

    def restore(self) -> None:
        self._fault("accept")
        self.rejecting = False

    def finish(self) -> None:
        if self.rejecting:
            self.restore()
        super().finish()

    @property
    def starts_on(self) -> Callable[[Notice], bool]:
        return lambda n: n.kind == self.kind and not n.accepted

    @property
    def lead_s(self) -> float:
        """The integration fails only once the crash's page tries it: up to the crash's own bound."""
        b = bound(self.model, Incident.CRASH)
        return b.seconds if b else 0.0
