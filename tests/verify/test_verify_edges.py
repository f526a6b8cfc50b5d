"""Full request visibility, without a stack: declared calls against Jaeger's service graph, and orphaned spans.

The graph rows and traces below have the shapes Jaeger v2 (2.13, memory storage) answers
`/api/dependencies` and v1 `/api/traces` with (checked against the running one, see the live test).
"""
from __future__ import annotations

import pytest

from obs.model import conventions as c
from obs.project import load_text
from obs.verify import servicegraph as sg
from obs.verify.coverage import summarize
from obs.verify.report import shown_findings, table, to_junit
from obs.verify.result import Finding, ProbeResult, Report

SPEC = """\
version: obs/v1
project: graph
stack: {profile: fast}
services:
  - name: api-gateway
    calls: [memory-search]
  - name: memory-search
  - name: embedder
  - name: legacy
    telemetry: {otlp: false, scrape: [{targets: ["127.0.0.1:9999"]}]}
"""


def model(spec: str = SPEC):
    return load_text(spec, "obs.yaml")


def statuses(found: list[Finding]) -> dict[str, str]:
    return {f.hop: f.status for f in found}


EVERYONE = {"api-gateway", "memory-search", "embedder"}


@pytest.mark.parametrize("observed, with_spans, expected", [
    ({("api-gateway", "memory-search"): 40}, EVERYONE,
     {"edge api-gateway → memory-search": "info"}),
    ({}, EVERYONE, {"edge api-gateway → memory-search": "fail"}),
    ({("api-gateway", "memory-search"): 0}, EVERYONE, {"edge api-gateway → memory-search": "fail"}),
    ({("memory-search", "api-gateway"): 7}, EVERYONE,
     {"edge api-gateway → memory-search": "fail", "edge memory-search → api-gateway": "warn"}),
    ({("api-gateway", "memory-search"): 3, ("api-gateway", "embedder"): 2}, EVERYONE,
     {"edge api-gateway → memory-search": "info", "edge api-gateway → embedder": "warn"}),
    ({("api-gateway", "memory-search"): 3, ("api-gateway", "api-gateway"): 3}, EVERYONE,
     {"edge api-gateway → memory-search": "info"}),
    ({("api-gateway", "memory-search"): 3, ("browser", "api-gateway"): 5}, EVERYONE,
     {"edge api-gateway → memory-search": "info", "edge browser → api-gateway": "info"}),
    ({("api-gateway", "memory-search"): 3, ("batch", "cron"): 5}, EVERYONE,
     {"edge api-gateway → memory-search": "info"}),
    ({("api-gateway", "memory-search"): 3, (c.VERIFY_SERVICE, "api-gateway"): 1}, EVERYONE,
     {"edge api-gateway → memory-search": "info"}),
], ids=[
    "a declared call that traces show passes and says how many calls were traced",
    "a declared call with no trace at all fails",
    "a declared call Jaeger lists with zero calls fails",
    "traffic the other way round does not satisfy a declared call, and is itself undeclared",
    "an undeclared call from a declared service is a warning",
    "a service's spans calling its own spans are no edge of the graph",
    "a caller not in the spec is reported for information",
    "calls between services the spec does not know are not its business",
    "obs verify's own probe is no caller to declare",
])
def test_declared_calls_are_checked_against_the_graph_jaeger_computes(observed, with_spans, expected):
    assert statuses(sg.edge_findings(model(), observed, with_spans)) == expected


def test_a_missing_edge_names_both_services_the_window_and_the_propagation_fix():
    [f] = sg.edge_findings(model(), {}, EVERYONE)
    assert f.why == ("no trace in Jaeger has a span of memory-search whose parent is a span of api-gateway "
                     "in the last 10m")
    assert "api-gateway propagates W3C tracecontext" in f.fix and "OTEL_PROPAGATORS" in f.fix
    assert "`obs env api-gateway`" in f.fix and "both services send traces" in f.fix


def test_a_missing_edge_says_which_end_sends_no_spans_at_all():
    [f] = sg.edge_findings(model(), {}, {"api-gateway", "embedder"})
    assert f.status == "fail" and f.why.endswith("; memory-search sends no spans at all")
    [f] = sg.edge_findings(model(), {}, {"embedder"})
    assert f.why.endswith("; api-gateway and memory-search send no spans at all")


def test_an_undeclared_call_gets_the_calls_line_to_add_keeping_the_declared_ones():
    found = sg.edge_findings(model(), {("api-gateway", "memory-search"): 1, ("api-gateway", "embedder"): 2}, EVERYONE)
    [warn] = [f for f in found if f.status == "warn"]
    assert warn.fix == "add `calls: [memory-search, embedder]` to service api-gateway"
    assert "2 call(s) in the last 10m" in warn.why and "does not declare it" in warn.why


def test_a_declared_call_to_a_service_without_otlp_is_not_checked_and_says_why():
    spec = SPEC.replace("calls: [memory-search]", "calls: [memory-search, legacy]")
    found = sg.edge_findings(model(spec), {("api-gateway", "memory-search"): 1}, EVERYONE)
    assert statuses(found) == {"edge api-gateway → memory-search": "info", "edge api-gateway → legacy": "info"}
    assert "legacy sends no OTLP" in next(f.why for f in found if "legacy" in f.hop)


# --- orphans -------------------------------------------------------------------------------------------

NOW = 1_800_000_000_000_000                       # µs
CUT = NOW - 7_000_000                             # settled: ended 7 s ago at the latest


def span(span_id: str, process: str, parent: str | None = None, start: int = NOW - 60_000_000,
         trace: str = "t1") -> dict:
    refs = [] if parent is None else [{"refType": "CHILD_OF", "traceID": trace, "spanID": parent}]
    return {"traceID": trace, "spanID": span_id, "references": refs, "startTime": start, "duration": 1000,
            "processID": process}


def trace(trace_id: str, *spans: dict) -> dict:
    def own(s: dict) -> dict:
        refs = [dict(r, traceID=trace_id) if r["refType"] == "CHILD_OF" else r for r in s["references"]]
        return dict(s, traceID=trace_id, references=refs)
    return {"traceID": trace_id, "spans": [own(s) for s in spans],
            "processes": {"p1": {"serviceName": "api-gateway"}, "p2": {"serviceName": "memory-search"},
                          "p3": {"serviceName": "stranger"}}}


WHOLE = trace("a", span("s1", "p1"), span("s2", "p1", "s1"), span("s3", "p2", "s2"))
CALLER_LOST = trace("b", span("s3", "p2", "s2"))
FRESH = trace("c", span("s3", "p2", "s2", start=NOW - 2_000_000))
STRANGER = trace("d", span("s3", "p3", "s2"))
LINKED = trace("e", {**span("s3", "p2"), "references": [{"refType": "FOLLOWS_FROM", "traceID": "zz", "spanID": "q"}]})
DECLARED = {"api-gateway", "memory-search"}


@pytest.mark.parametrize("traces, expected", [
    ([WHOLE], {"api-gateway": (0, 2), "memory-search": (0, 1)}),
    ([WHOLE, CALLER_LOST], {"api-gateway": (0, 2), "memory-search": (1, 2)}),
    ([WHOLE, WHOLE], {"api-gateway": (0, 2), "memory-search": (0, 1)}),
    ([WHOLE, FRESH], {"api-gateway": (0, 2), "memory-search": (0, 1)}),
    ([WHOLE, STRANGER], {"api-gateway": (0, 2), "memory-search": (0, 1)}),
    ([LINKED], {"memory-search": (0, 1)}),
    ([], {}),
], ids=[
    "a whole trace has no orphan in either service",
    "a callee span whose caller's span never arrived is an orphan of the callee",
    "a trace found through both services counts once",
    "a trace younger than the settle time is not judged: Node.js may still hold its parent",
    "spans of services the spec does not declare are not counted",
    "a link to another trace is no parent",
    "no trace, no share",
])
def test_orphans_are_spans_whose_parent_is_not_in_their_settled_trace(traces, expected):
    shares = sg.orphan_counts(traces, CUT, DECLARED)
    assert {s: (v.orphans, v.spans) for s, v in shares.items()} == expected


def test_the_share_is_reported_per_service_and_warns_only_above_the_threshold():
    shares = {"api-gateway": sg.Share(0, 80), "memory-search": sg.Share(3, 40)}
    found = sg.orphan_findings(shares, 6.25)
    assert [f.status for f in found] == ["info", "warn"]
    assert found[0].why == ("spans whose parent never arrived: api-gateway 0/80, memory-search 3/40 "
                            "(traces older than 6.2s)")
    assert found[1].hop == "service memory-search" and "3 of 40 span(s) of memory-search (8%)" in found[1].why
    assert "Node.js holds spans about 5 s" in found[1].fix
    assert [f.status for f in sg.orphan_findings({"memory-search": sg.Share(2, 40)}, 6.25)] == ["info"]


def test_the_settle_time_covers_nodes_five_seconds_even_in_the_fast_profile():
    fast = model()
    assert fast.stack.timing.sdk_span_delay.s < 1
    assert sg.settle_seconds(fast) > sg.NODE_SPAN_HOLD_S + fast.stack.timing.batch_timeout.s


# --- how findings of each status reach the outputs -------------------------------------------------------

def test_warnings_and_info_do_not_fail_a_check_and_the_summary_says_what_held():
    info = Finding("edge a → b", "info", "a → b: 4 call(s) traced in the last 10m")
    warn = Finding("edge a → c", "warn", "traces show a calling c", "add `calls: [b, c]` to service a")
    fail = Finding("edge b → a", "fail", "no trace in Jaeger has a span of a whose parent is a span of b", "fix")
    assert summarize("every declared call carries traces", [info]) == (
        "every declared call carries traces: a → b: 4 call(s) traced in the last 10m")
    assert summarize("title", [info, warn]) == "title; 1 warning(s): traces show a calling c"
    assert summarize("title", [info, warn, fail]).startswith("1 problem(s): no trace in Jaeger")
    result = ProbeResult("coverage:edges", True, "s", findings=[info, warn, fail])
    assert shown_findings(result) == [fail, warn]
    report = Report("p", "fast", 10, 1, results=[ProbeResult("coverage:edges", False, "s", findings=[info, fail]),
                                                  ProbeResult("coverage:orphans", True, "s", findings=[warn])])
    junit = to_junit(report)
    assert "info: edge a → b: a → b: 4 call(s)" in junit and "warn: edge a → c" in junit
    assert 'type="edge b → a"' in junit
    assert report.as_dict()["results"][1]["findings"][0]["status"] == "warn"
    assert table(report) is not None
