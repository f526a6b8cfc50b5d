"""Spec -> Model: semantic checks the schema alone cannot express, all reported at once."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from obs import versions
from obs.errors import Problem
from obs.model import build_environments, queries
from obs.model import conventions as c
from obs.model import names as naming
from obs.model.domain import SLI, SLO, TLS, Histogram, Model, Receiver, Route, ScrapeTarget, Secret, Service, Stack
from obs.model.durations import Duration
from obs.model.kinds import DashboardLayout, MetricsPath, ReceiverKind, Ruler, Severity, SliKind, Topology
from obs.model.kubernetes import CollectorMode, Kubernetes, Monitor
from obs.model.timing import PROFILES
from obs.model.windows import BASE_WINDOW, Tier, fast_tier, workbook_tiers
from obs.spec import v1

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
DEFAULT_MIN_EVENTS = Decimal(5)   # per 5m: one event a minute
# A grouped SLO records every rule once per group: past this many groups a label is unbounded (a user id, a raw
# path), and Prometheus fails the rule rather than record it (the rule group `limit`).
DEFAULT_MAX_GROUPS = 100
MAX_BUCKET_SECONDS = 365 * 86400   # a latency bucket past a year is a unit mistake (and past 1e305 s not a number)


class ModelProblems(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problems")


def le_label(bound: float) -> str:
    """`le` as Prometheus 3 stores it: a float string, `1.0` for 1, never exponent notation."""
    d = Decimal(repr(float(bound))).normalize()
    text = format(d, "f")
    return text if "." in text else text + ".0"


def _number(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _decimal(x: float) -> Decimal:
    """The number as written: 99.9 stays 99.9 (not 99.900000000000005684...), 95.0 becomes 95."""
    d = Decimal(repr(float(x)))
    if abs(d) < 10**15 and d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return d


class _Builder:
    def __init__(self, spec: v1.Spec):
        self.spec = spec
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def found(self, found: list[tuple[str, str]]) -> bool:
        for path, message in found:
            self.problem(path, message)
        return not found

    def build(self, source: str) -> Model:
        spec = self.spec
        services = self._services()
        receivers = self._receivers()
        routes = self._routes({r.name for r in receivers}, {s.name for s in services})
        default = spec.alerting.default_receiver
        if default is not None and default not in {r.name for r in receivers}:
            self.problem("alerting.default_receiver", self._unknown_receiver(default, receivers))
        if default is None and receivers:
            default = receivers[0].name
        fallback = spec.alerting.fallback_receiver
        if fallback is not None and fallback not in {r.name for r in receivers}:
            self.problem("alerting.fallback_receiver", self._unknown_receiver(fallback, receivers))
        heartbeat = spec.alerting.heartbeat
        environments, problems = build_environments.build(spec)
        self.problems += problems
        self._topology()
        self._distinct_ports()
        self.found(naming.slo_ids(list(spec.services)))
        self.found(naming.stack_versions(spec.stack.versions))
        if self.problems:
            raise ModelProblems(self.problems)
        return Model(project=spec.project, source=source, stack=self._stack(), services=services,
                     receivers=receivers, routes=routes, default_receiver=default,
                     heartbeat=_secret(heartbeat.url) if heartbeat else None, fallback_receiver=fallback,
                     environments=environments, kubernetes=_kubernetes(spec.kubernetes),
                     dashboard_layout=DashboardLayout(spec.dashboards.layout),
                     rulers=tuple(Ruler(r) for r in dict.fromkeys(spec.rulers)))

    def _stack(self) -> Stack:
        st = self.spec.stack
        pins = {**naming.PINNED, "grafana": versions.GRAFANA_RELEASE}
        # Releases without their `v`; compose.image() puts it back where the image's tags have one.
        pins.update({k: v.lstrip("v") for k, v in st.versions.model_dump().items() if v is not None})
        r = st.receivers
        return self._replicas(Stack(
            timing=PROFILES[st.profile], metrics=MetricsPath(st.metrics), bind=st.bind, receivers_bind=r.bind,
            receivers_tls=TLS(r.tls.cert_file, r.tls.key_file, r.tls.client_ca_file) if r.tls else None,
            receivers_bearer=_secret(r.bearer_token), ports=st.ports.model_dump(), versions=pins,
            # On under `ha` in any profile: what a killed collector or gateway had accepted waits on disk.
            persistent_queue=(st.persistent_queue if st.persistent_queue is not None
                              else st.profile == "production" or Topology(st.topology) is Topology.HA),
            verify_budget=Duration.parse(st.verify_budget) if st.verify_budget else None,
            topology=Topology(st.topology),
        ))

    def _replicas(self, stack: Stack) -> Stack:
        st = self.spec.stack
        if Topology(st.topology) is not Topology.HA:
            return stack
        r = st.replicas or v1.Replicas()
        return replace(stack, alertmanagers=r.alertmanager, prometheis=r.prometheus, gateways=r.gateway,
                       timing=stack.timing.clustered(r.alertmanager))

    def _topology(self) -> None:
        """Settings that would defeat `topology: ha`, located; under `single`, replicas that would be ignored."""
        st = self.spec.stack
        if Topology(st.topology) is not Topology.HA:
            if st.replicas is not None:
                self.problem("stack.replicas", "replicas take effect only with `topology: ha`; set it, or remove "
                             "stack.replicas")
            return
        r = st.replicas or v1.Replicas()
        for name in ("alertmanager", "prometheus", "gateway"):
            if getattr(r, name) < 2:
                self.problem(f"stack.replicas.{name}", f"one replica leaves nothing to fail over to under "
                             f"`topology: ha`; use 2 or more (the default is {getattr(v1.Replicas(), name)})")
        if MetricsPath(st.metrics) is MetricsPath.PULL:
            self.problem("stack.metrics", "under `topology: ha` the collector pushes every point to each Prometheus "
                         "of the pair through its gateways; a pull exporter would be scraped per gateway, each "
                         "holding a share. Use `metrics: push` (the default)")
        if st.persistent_queue is False:
            self.problem("stack.persistent_queue", "under `topology: ha` a collector killed with data in memory "
                         "loses it; remove `persistent_queue: false`")

    def _distinct_ports(self) -> None:
        """Each component needs its own port; blame the one the user wrote, not the default it collides with.

        Under `topology: ha` replica i of a component listens on its port + i, so those ports count too."""
        ports = self.spec.stack.ports
        written = ports.model_fields_set
        stack = self._stack()
        # The defaults first, then the ports the user wrote; within each, every component's own port before the
        # extra replicas' (port + i). So what gets blamed is what the user wrote, or else the replica count that
        # put a replica on another component's port.
        claims: list[tuple[str, int]] = []
        for keys in (sorted(k for k in ports.model_dump() if k not in written), sorted(written)):
            claims += [(k, 0) for k in keys] + [(k, i) for k in keys for i in range(1, stack.replicas_of(k))]
        owner: dict[int, str] = {}
        blamed: set[str] = set()
        for name, i in claims:
            port = stack.ports[name] + i
            who = f"{name} (replica {i})" if stack.replicas_of(name) > 1 else name
            if port not in owner:
                owner[port] = who
                continue
            if name in blamed:
                continue
            blamed.add(name)
            if i == 0:
                ha = " (under `topology: ha`, replica i of a component takes its port + i)" if stack.ha else ""
                of = f" of {who}" if who != name else ""
                self.problem(f"stack.ports.{name}", f"port {port}{of} is already used by {owner[port]}; "
                             f"give each component its own port{ha}")
            else:
                component = {"alertmanager_cluster": "alertmanager", "gateway_health": "gateway",
                             "gateway_metrics": "gateway"}.get(name, name)
                where = (f"stack.replicas.{component}" if self.spec.stack.replicas is not None
                         and component in self.spec.stack.replicas.model_fields_set else f"stack.ports.{name}")
                self.problem(where, f"{who} would listen on {port}, which {owner[port]} uses (replica i of a "
                             f"component takes its port + i); give stack.ports.{name} room for every replica, or "
                             "run fewer")

    def _histogram(self, s: v1.Service, path: str) -> Histogram:
        """Native unless the service says otherwise, declares classic buckets, or Prometheus pulls its metrics."""
        pull = MetricsPath(self.spec.stack.metrics) is MetricsPath.PULL
        if s.histogram is None:
            return Histogram.CLASSIC if pull or s.latency_buckets else Histogram.NATIVE
        kind = Histogram(s.histogram)
        if kind is Histogram.NATIVE and pull:
            self.problem(f"{path}.histogram", "native histograms reach Prometheus only through OTLP push; set "
                         "`stack.metrics: push`, or `histogram: classic` with a bucket at each latency threshold")
        if kind is Histogram.NATIVE and s.latency_buckets:
            self.problem(f"{path}.latency_buckets", "buckets describe a classic histogram, but the service sends a "
                         "native one (any threshold works); drop latency_buckets or set `histogram: classic`")
        return kind

    def _calls(self, s: v1.Service, path: str, names: set[str]) -> tuple[str, ...]:
        for k, callee in enumerate(s.calls):
            if callee == s.name:
                self.problem(f"{path}.calls[{k}]", f"a service cannot call itself; list the services {s.name!r} calls")
            elif callee not in names:
                self.problem(f"{path}.calls[{k}]", f"no service named {callee!r}; declared: {', '.join(sorted(names))}")
        return tuple(dict.fromkeys(s.calls))

    def _services(self) -> tuple[Service, ...]:
        out, seen = [], set()
        service_names = {s.name for s in self.spec.services}
        for i, s in enumerate(self.spec.services):
            path = f"services[{i}]"
            if s.name in seen:
                self.problem(f"{path}.name", f"service {s.name!r} is declared twice; service names must be unique")
            seen.add(s.name)
            self.found(naming.service_name(s.name, f"{path}.name"))
            if not s.telemetry.otlp and not s.telemetry.scrape:
                self.problem(f"{path}.telemetry",
                             "the service sends no telemetry; set `otlp: true` or add `scrape:` targets")
            histogram = self._histogram(s, path)
            buckets = tuple(s.latency_buckets) if s.latency_buckets else c.OTEL_HTTP_BUCKETS
            if any(b > MAX_BUCKET_SECONDS for b in buckets):
                self.problem(f"{path}.latency_buckets", "bucket boundaries are seconds, and "
                             f"{max(buckets):g} is more than a year; write them in seconds (0.5 for 500 ms)")
                buckets = tuple(b for b in buckets if b <= MAX_BUCKET_SECONDS)   # the rest is still checked
            if list(buckets) != sorted(set(buckets)):
                self.problem(f"{path}.latency_buckets", "bucket boundaries must be strictly increasing; sort them and "
                             f"drop duplicates (got {', '.join(f'{b:g}' for b in buckets)})")
            slos, names = [], set()
            for j, slo in enumerate(s.slos):
                spath = f"{path}.slos[{j}]"
                if slo.name in names:
                    self.problem(f"{spath}.name", f"SLO {slo.name!r} is declared twice in service {s.name!r}; "
                                 "SLO names must be unique within a service")
                names.add(slo.name)
                built = self._slo(s, slo, buckets, histogram, spath)
                if built is not None:
                    slos.append(built)
            slos = [replace(o, kind_shared=any(x.sli.kind == o.sli.kind and x.name != o.name for x in slos))
                    for o in slos]
            scrape = tuple(ScrapeTarget(tuple(t.targets), t.path, Duration.parse(t.interval) if t.interval else None)
                           for t in s.telemetry.scrape)
            out.append(Service(s.name, s.team, s.owner, s.description or "", s.telemetry.otlp, s.http, buckets,
                               scrape, tuple(slos), histogram, self._calls(s, path, service_names)))
        return tuple(out)

    def _slo(self, svc: v1.Service, slo: v1.SLO, buckets: tuple[float, ...], histogram: Histogram,
             path: str) -> SLO | None:
        ok = True
        objective = _decimal(slo.objective)
        if not Decimal(0) < objective < Decimal(100):
            why = ("an objective of 100% leaves no error budget to alert on; use e.g. 99.9" if objective >= 100
                   else "it is the percentage of good events, e.g. 99.9")
            self.problem(f"{path}.objective", f"must be above 0 and below 100 (got {_number(slo.objective)}); {why}")
            ok = False
        period = Duration.parse(slo.window)
        if period < Duration.parse("1d"):
            self.problem(f"{path}.window", f"must be at least 1d so burn-rate windows fit inside it (got {slo.window})")
            ok = False
        sli = self._sli(svc, slo.sli, buckets, histogram, f"{path}.sli", slo.group_by)
        if slo.max_groups is not None and not slo.group_by:
            self.problem(f"{path}.max_groups", "limits the groups of a grouped SLO, and this SLO has no group_by; "
                                               "add `group_by: [label]` or drop max_groups")
            ok = False
        ok = self.found(naming.slo_labels(svc, slo, path)) and ok
        tiers = self._tiers(slo, period, objective, f"{path}.alerting") if ok else ()
        if not ok or sli is None:
            return None
        a = slo.alerting
        return SLO(
            service=svc.name, name=slo.name, objective=objective, period=period, sli=sli, tiers=tiers,
            min_events=_decimal(a.min_events) if a.min_events is not None else DEFAULT_MIN_EVENTS,
            group_by=tuple(slo.group_by), description=slo.description or "",
            max_groups=(slo.max_groups or DEFAULT_MAX_GROUPS) if slo.group_by else None,
            labels=tuple(sorted(a.labels.items())), annotations=tuple(sorted(a.annotations.items())),
            runbook_url=a.runbook_url,
        )

    def _sli(self, svc: v1.Service, sli: v1.SLI, buckets: tuple[float, ...], histogram: Histogram, path: str,
             group_by: list[str]) -> SLI | None:
        if sli.availability is not None or sli.latency is not None:
            kind = "availability" if sli.availability is not None else "latency"
            if not svc.http:
                self.problem(f"{path}.{kind}", f"needs the HTTP histogram; set `http: true` on service {svc.name!r} "
                             "or use an `events:` SLI")
                return None
            if sli.latency is None:
                return SLI(SliKind.AVAILABILITY, histogram=histogram)
            threshold = Duration.parse(sli.latency.threshold)
            if threshold.ms <= 0:
                self.problem(f"{path}.latency.threshold", f"must be above 0 (got {sli.latency.threshold}): every "
                             "request takes some time, so all would be slow; set the latency at which users notice, "
                             "e.g. 500ms")
                return None
            if histogram is Histogram.NATIVE:   # classic instances in the fleet are read at this `le` too
                return SLI(SliKind.LATENCY, threshold=threshold, threshold_le=le_label(threshold.s),
                           histogram=histogram)
            if not buckets:   # every boundary was refused above, where it is written
                return None
            if threshold.s not in buckets:
                near = min(buckets, key=lambda b: abs(b - threshold.s))
                self.problem(f"{path}.latency.threshold",
                             f"{sli.latency.threshold} is not a histogram bucket boundary, so the SLI cannot be "
                             f"computed exactly; use {Duration.seconds(near)}, add {threshold.s:g} to the service's "
                             "latency_buckets "
                             f"(boundaries: {', '.join(f'{b:g}' for b in buckets)}), or send a native histogram "
                             "(`histogram: native`, which `obs env` sets up), which reads any threshold")
                return None
            return SLI(SliKind.LATENCY, threshold=threshold, threshold_le=le_label(threshold.s), histogram=histogram)
        if sli.events is not None:
            err = self._query(sli.events.error_query, f"{path}.events.error_query", group_by)
            tot = self._query(sli.events.total_query, f"{path}.events.total_query", group_by)
            return SLI(SliKind.EVENTS, error_query=err, total_query=tot) if err and tot else None
        assert sli.raw is not None
        q = self._query(sli.raw.error_ratio_query, f"{path}.raw.error_ratio_query", group_by)
        return SLI(SliKind.RAW, error_ratio_query=q) if q else None

    def _query(self, query: str, path: str, group_by: list[str]) -> str | None:
        # Comments go: obs embeds the query in larger expressions, where one would hide the rest of a line.
        query = queries.strip_comments(query)
        if not WINDOW_PLACEHOLDER.search(query):
            self.problem(path, "must contain the {{window}} placeholder inside a range, e.g. rate(x_total[{{window}}])")
            return None
        normalized = WINDOW_PLACEHOLDER.sub("{{window}}", query)
        try:
            parsed = queries.parse(normalized.replace("{{window}}", "5m"))
        except Exception as e:  # the parser raises plain ValueError/RuntimeError with its message
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.problem(path, f"is not valid PromQL: {first}")
            return None
        kind = queries.value_type(parsed)
        if kind != "vector":
            fix = {"scalar": "wrap it in vector(...), or drop scalar(...)",
                   "matrix": "apply a function such as rate(...) to the range",
                   "string": "query a metric instead"}[kind]
            self.problem(path, f"must return an instant vector, but returns a {kind}; {fix}")
            return None
        dropped = [g for g in group_by if not queries.keeps(parsed, g)]
        if dropped:
            labels = ", ".join(group_by)
            self.problem(path, f"aggregates away the group_by label{'s' if len(dropped) > 1 else ''} "
                         f"{', '.join(dropped)}, so every group would read the same total; aggregate with "
                         f"`sum by ({labels}) (...)`, or remove group_by")
            return None
        return normalized

    def _tiers(self, slo: v1.SLO, period: Duration, objective: Decimal, path: str) -> tuple[Tier, ...]:
        a = slo.alerting
        if a.tiers is not None:
            candidates: list[tuple[str, Tier]] = []
            for k, t in enumerate(a.tiers):
                tp = f"{path}.tiers[{k}]"
                tier = Tier(Severity(t.severity), Duration.parse(t.long), Duration.parse(t.short),
                            _decimal(t.burn_rate), Duration.parse(t.for_) if t.for_ else Duration(0))
                # Equal windows make a single-window tier (what obs adds as its 5m fast-page tier).
                if tier.short > tier.long:
                    self.problem(f"{tp}.short", f"the short window ({t.short}) must not be longer than the long "
                                 f"one ({t.long})")
                for which, window in (("short", tier.short), ("long", tier.long)):
                    if window < BASE_WINDOW or window.ms % BASE_WINDOW.ms:
                        self.problem(f"{tp}.{which}", f"must be a multiple of {BASE_WINDOW}, the base window obs "
                                     f"records (got {window})")
                same = next((k2 for k2, (_, o) in enumerate(candidates)
                             if (o.severity, o.long) == (tier.severity, tier.long)), None)
                if same is not None:
                    # Alerts are told apart by severity and burnrate_tier (the long window): twins collide.
                    self.problem(f"{tp}.long", f"tiers[{same}] is already a {t.severity} tier over {t.long}; their "
                                 "alerts would carry the same labels; merge them or change one's long window")
                candidates.append((tp, tier))
        else:
            # The defaults are not written anywhere; the objective is what makes them unreachable.
            defaults = workbook_tiers(period)
            extra = fast_tier(defaults, (Decimal(100) - objective) / Decimal(100))
            candidates = [(path.removesuffix(".alerting") + ".objective", t)
                          for t in ((extra,) if extra else ()) + defaults]
        chosen = [(tp, t) for tp, t in candidates if (t.severity == Severity.PAGE and a.page) or
                  (t.severity == Severity.TICKET and a.ticket)]
        budget = (Decimal(100) - objective) / Decimal(100)
        for tp, tier in chosen:
            if tier.long > period:
                where = f"{tp}.long" if a.tiers is not None else path.removesuffix(".alerting") + ".window"
                self.problem(where, f"the {tier.severity} tier's long window {tier.long} is longer than the SLO "
                             f"window {period}; shorten the tier or lengthen `window:`")
            if tier.burn_rate * budget >= 1:
                limit = (Decimal(1) / budget).quantize(Decimal("0.01"))
                fix = (f"lower its burn_rate below {limit}" if a.tiers is not None else
                       f"set `{tier.severity}: false` or give `tiers:` with burn_rate below {limit}")
                self.problem(tp, f"the {tier.severity} tier {tier.long}/{tier.burn_rate}x can never fire at "
                             f"objective {_number(slo.objective)}%: it needs more than 100% errors; {fix}")
        return tuple(tier for _, tier in chosen)

    def _receivers(self) -> tuple[Receiver, ...]:
        out, seen = [], set()
        for i, r in enumerate(self.spec.alerting.receivers):
            if r.name in seen:
                self.problem(f"alerting.receivers[{i}].name",
                             f"receiver {r.name!r} is declared twice; receiver names must be unique")
            seen.add(r.name)
            if r.name == c.PROBE_RECEIVER:
                self.problem(f"alerting.receivers[{i}].name", f"{c.PROBE_RECEIVER!r} is reserved for obs verify; "
                             "choose another name")
            if r.pagerduty:
                out.append(Receiver(r.name, ReceiverKind.PAGERDUTY, secret=_secret(r.pagerduty.routing_key)))
            elif r.slack:
                out.append(Receiver(r.name, ReceiverKind.SLACK, secret=_secret(r.slack.api_url),
                                    channel=r.slack.channel))
            elif r.webhook:
                out.append(Receiver(r.name, ReceiverKind.WEBHOOK, secret=_secret(r.webhook.url_secret),
                                    url=r.webhook.url))
            elif r.email:
                e = r.email
                out.append(Receiver(r.name, ReceiverKind.EMAIL, secret=_secret(e.auth_password), email_to=e.to,
                                    email_from=e.sender, smarthost=e.smarthost, auth_username=e.auth_username))
        return tuple(out)

    def _routes(self, receivers: set[str], services: set[str]) -> tuple[Route, ...]:
        out = []
        for i, r in enumerate(self.spec.alerting.routes):
            path = f"alerting.routes[{i}]"
            if r.receiver not in receivers:
                self.problem(f"{path}.receiver", self._unknown_receiver(r.receiver, receivers))
            if r.match.service is not None and r.match.service not in services:
                self.problem(f"{path}.match.service", f"no service named {r.match.service!r}; declared: "
                             + ", ".join(sorted(services)))
            matchers = tuple((k, v) for k, v in (("severity", r.match.severity), ("service", r.match.service),
                                                 ("team", r.match.team)) if v is not None)
            out.append(Route(r.receiver, matchers,
                             Duration.parse(r.group_wait) if r.group_wait else None,
                             Duration.parse(r.repeat_interval) if r.repeat_interval else None))
        return tuple(out)

    @staticmethod
    def _unknown_receiver(name: str, receivers: Iterable[str] | Iterable[Receiver]) -> str:
        names = sorted(r if isinstance(r, str) else r.name for r in receivers)
        return f"no receiver named {name!r}; declared: {', '.join(names) or 'none (add alerting.receivers)'}"


def _secret(ref: v1.SecretRef | None) -> Secret | None:
    return Secret(file=ref.file, env=ref.env) if ref is not None else None


def _pairs(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _kubernetes(k: v1.Kubernetes) -> Kubernetes:
    monitors = {name: Monitor(_pairs(m.selector), m.port, m.path)
                for name, m in (("jaeger", k.monitors.jaeger), ("prometheus", k.monitors.prometheus),
                                ("alertmanager", k.monitors.alertmanager))}
    return Kubernetes(
        namespace=k.namespace, name_prefix=k.name_prefix, labels=_pairs(k.labels), rule_labels=_pairs(k.rule_labels),
        monitor_labels=_pairs(k.monitor_labels), alertmanager_config_labels=_pairs(k.alertmanager_config_labels),
        dashboard_labels=_pairs(k.dashboard_labels), collector_mode=CollectorMode(k.collector.mode),
        collector_image=k.collector.image, jaeger=k.jaeger, prometheus=k.prometheus, prometheus_name=k.prometheus_name,
        alerting_secret=k.secrets.alerting, collector_secret=k.secrets.collector, monitors=monitors,
        tenant=k.tenant)


def build(spec: v1.Spec, source: str = c.SPEC_FILE) -> Model:
    """Raises ModelProblems listing every semantic problem, each with its spec path."""
    try:
        return _Builder(spec).build(source)
    except InvalidOperation as e:  # pragma: no cover - guarded by schema bounds
        raise ModelProblems([Problem("", f"number out of range: {e}")]) from None
