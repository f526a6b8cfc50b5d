"""The report page: ReportData in, one self-contained HTML document out. Pure: no I/O, no clock.

Every string that comes from the spec, a saved result or the stack goes through `esc` (or svg.text), so a
name such as `<script>` is shown as text. The page carries its own stylesheet and no script at all, and a
Content-Security-Policy that forbids loading anything, so it opens offline and fetches nothing.
"""
from __future__ import annotations

import time

from obs.report import charts, svg
from obs.report.data import ReportData, SloStatus, Verdict
from obs.report.saved import SavedDrill, SavedVerify
from obs.report.theme import CSS
from obs.verify.result import Status

esc = svg.esc
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SHOWN_FINDINGS = 40     # per section; the JSON result holds them all


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else svg.fmt_seconds(seconds)


def _maybe(value: float | None, fmt: object = svg.fmt_seconds) -> str:
    return "—" if value is None else esc(fmt(value))  # type: ignore[operator]


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    """Cells are HTML already escaped by the caller; heads are plain text."""
    th = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _mark(ok: bool, skipped: bool = False) -> str:
    return '<span class="skip">skip</span>' if skipped else ('<span class="ok">pass</span>' if ok
                                                             else '<span class="fail">FAIL</span>')


# -- sections --------------------------------------------------------------------------------------------------

def header(d: ReportData) -> str:
    verdict, reasons = d.verdict()
    tone = {Verdict.PASS: "pass", Verdict.FAIL: "fail"}.get(verdict, "")
    badge = f'<span class="verdict {tone}">{esc(verdict.value)}</span>'
    digest = f'<code title="sha256 {esc(d.spec_sha256)}">{esc(d.spec_sha256[:12])}</code>' if d.spec_sha256 \
        else '<span class="muted">not readable</span>'
    stack = (f'<span class="ok">answering</span> ({esc(d.stack.where)})' if d.stack.reached
             else f'<span class="fail">not reached</span>: {esc(d.stack.why)}')
    versions = ", ".join(
        f"{esc(v.component)} {esc(v.running or v.pinned or '?')}"
        + ("" if v.running is None or v.pinned is None or v.running == v.pinned
           else f' <span class="warn">(pinned {esc(v.pinned)})</span>')
        + ("" if v.running is not None or not d.stack.reached else ' <span class="muted">(not reporting)</span>')
        for v in d.stack.versions)
    rows = [("Made", esc(_when(d.made_at))), ("Spec", f"{esc(d.spec)} · sha256 {digest}"), ("Stack", stack),
            ("Versions", versions + ("" if d.stack.reached else ' <span class="muted">(as pinned)</span>'))]
    out = [f"<header><h1>obs report · {esc(d.project)}{badge}</h1>",
           '<dl class="summary">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"]
    if reasons:
        out.append('<div class="card alert"><b>Why it fails</b><ul class="findings">'
                   + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul></div>")
    for note in d.notes:
        out.append(f'<div class="card caution">{esc(note)}</div>')
    out.append('<nav><a href="#verify">Verify</a><a href="#drill">Drill</a><a href="#slos">SLOs</a>'
               '<a href="#pipeline">Pipeline</a></nav></header>')
    return "".join(out)


def _saved_line(saved: SavedVerify | SavedDrill, spec_sha256: str | None) -> str:
    line = f"Saved {esc(_when(saved.saved_at))}"
    if saved.spec_sha256 and spec_sha256 and saved.spec_sha256 != spec_sha256:
        line += (' · <span class="warn">made with another version of the spec</span> '
                 f"(sha256 <code>{esc(saved.spec_sha256[:12])}</code>)")
    return f'<p class="muted">{line}</p>'


def verify_section(d: ReportData) -> str:
    head = '<section id="verify"><h2>Verify: what was checked and what arrived</h2>'
    if d.verify is None:
        return head + '<p class="muted">No verify result is saved: run <code>obs verify</code>.</p></section>'
    v = d.verify.result
    failed = [r for r in v.results if not (r.ok or r.skipped)]
    ratio = f" ({v.seconds / v.floor_seconds:.2f}× the floor of {svg.fmt_seconds(v.floor_seconds)})" \
        if v.floor_seconds else ""
    verdict = (f'<span class="ok">all {len(v.results)} checks passed</span>' if not failed
               else f'<span class="fail">{len(failed)} of {len(v.results)} checks failed</span>')
    out = [head, _saved_line(d.verify, d.spec_sha256),
           f"<p>{verdict} in {esc(svg.fmt_seconds(v.seconds))}{esc(ratio)} · environment {esc(v.env)} · "
           f"{esc(v.profile)} profile · budget {esc(svg.fmt_seconds(v.budget_seconds))}</p>"]
    lost = [f"<li><b>{esc(r.name)}</b>: lost at <b>{esc(h.id.value)}</b> ({esc(h.title)})</li>"
            for r in v.results for h in r.hops if h.seconds is None]
    found = [(r.name, f) for r in v.results for f in r.findings if f.status in (Status.FAIL, Status.WARN)]
    if lost or found:
        items = lost + [f'<li><span class="{"fail" if f.status == Status.FAIL else "warn"}">{esc(f.status.value)}'
                        f"</span> {esc(name)} · <b>{esc(f.hop)}</b>: {esc(f.why)}"
                        + (f'<br><span class="fix">fix: {esc(f.fix)}</span>' if f.fix else "") + "</li>"
                        for name, f in found[:SHOWN_FINDINGS]]
        more = f"<p class=note>… and {len(found) - SHOWN_FINDINGS} more in the JSON result</p>" \
            if len(found) > SHOWN_FINDINGS else ""
        out.append(f'<div class="card {"alert" if failed else "caution"}"><b>Lost or late, by hop</b>'
                   f'<ul class="findings">{"".join(items)}</ul>{more}</div>')
    out.append(charts.hop_chart(v))
    rows = [[esc(r.name), _mark(r.ok, r.skipped), _maybe(r.seconds if r.hops else None),
             _maybe(r.floor_seconds if r.hops else None), esc(r.summary)] for r in v.results]
    out.append(_table(["check", "result", "took", "floor", "detail"], rows, {2, 3}))
    out += [f'<p class="warn">warning: {esc(w)}</p>' for w in v.warnings]
    return "".join(out) + "</section>"


def drill_section(d: ReportData) -> str:
    head = '<section id="drill"><h2>Drill: which incidents paged, and how fast</h2>'
    if d.drill is None:
        return head + '<p class="muted">No drill result is saved: run <code>obs drill</code>.</p></section>'
    r = d.drill.result
    out = [head, _saved_line(d.drill, d.spec_sha256), charts.drill_chart(r)]
    rows = [[esc(i.incident.value), _mark(i.ok), _maybe(i.paged_after_s), _maybe(i.bound_s), esc(i.pages),
             esc(i.receiver or "—"), _maybe(i.resolved_after_s), _maybe(i.resolve_bound_s), esc(i.rule)]
            for i in r.incidents]
    out.append(_table(["incident", "result", "paged after", "bound", "pages", "receiver", "resolved after",
                       "bound", "rule"], rows, {2, 3, 4, 6, 7}))
    found = [(i.incident.value, f) for i in r.incidents for f in i.findings]
    if found:
        out.append('<div class="card alert"><ul class="findings">' + "".join(
            f"<li>{esc(kind)} · <b>{esc(f.hop)}</b>: {esc(f.why)}"
            + (f'<br><span class="fix">fix: {esc(f.fix)}</span>' if f.fix else "") + "</li>"
            for kind, f in found[:SHOWN_FINDINGS]) + "</ul></div>")
    slowest = max((i.paged_after_s or 0 for i in r.incidents), default=0)
    out.append(f'<p class="note">Slowest page {esc(svg.fmt_seconds(slowest))}; the platform\'s target is '
               f"{esc(svg.fmt_seconds(r.target_s))} with production timing.</p>")
    return "".join(out) + "</section>"


def _slo_card(s: SloStatus, range_s: float) -> str:
    worst = " (worst group)" if s.grouped else ""
    left = "—" if s.budget_left is None else svg.fmt_percent(s.budget_left)
    left_cls = "" if s.budget_left is None else ("fail" if s.budget_left < 0 else "warn" if s.budget_left < 0.25
                                                else "ok")
    stats = [("objective", f"{s.objective:g} %"), ("attained" + worst, _maybe(s.attained, svg.fmt_percent)),
             ("budget left" + worst, f'<span class="{left_cls}">{esc(left)}</span>'), ("period", esc(s.period))]
    out = [f'<article class="card"><h3>{esc(s.service)} / {esc(s.slo)}</h3><div class="stats">'
           + "".join(f"<div><b>{v}</b><span>{esc(k)}</span></div>" for k, v in stats) + "</div>"]
    out.append(_windows(s))
    if s.start and s.end and s.start > s.end - range_s + 1:
        out.append(f'<p class="note">Data since {esc(_when(s.start))}: the stack\'s history is shorter than the '
                   f"{esc(_duration(range_s))} range.</p>")
    ratio = charts.series_chart(f"{s.service}/{s.slo}: error ratio", s.error_ratio, s.ratio_thresholds, s.start,
                                s.end, svg.fmt_percent, "error ratio", svg.HALF)
    burn = charts.series_chart(f"{s.service}/{s.slo}: burn rate", s.burn_rate, s.burn_thresholds, s.start, s.end,
                               svg.fmt_rate, "burn rate", svg.HALF)
    out.append(f'<div class="pair">{ratio}{burn}</div>' if ratio or burn else
               f'<p class="muted">No SLO series in the last {esc(_duration(range_s))}: the service has sent no '
               "traffic the SLI counts (the ratio is absent, not zero, without traffic).</p>")
    return "".join(out) + "</article>"


def _windows(s: SloStatus) -> str:
    """The burn rate now over each window, a column each; where a tier alerts on the window, its threshold."""
    head = "".join(f"<th class=num>{esc(w.window)}</th>" for w in s.windows)
    now, alerts = [], []
    for w in s.windows:
        above = w.threshold is not None and w.burn_rate is not None and w.burn_rate > w.threshold
        now.append(f'<td class="num{" fail" if above else ""}">{_maybe(w.burn_rate, svg.fmt_rate)}</td>')
        tier = "" if w.threshold is None else (f"{esc(svg.fmt_rate(w.threshold))}<br><span class=muted>"
                                               f"{esc(w.severity or '')}{', ' + esc(w.short) if w.short else ''}"
                                               "</span>")
        alerts.append(f"<td class=num>{tier or '—'}</td>")
    return (f'<table class="windows"><thead><tr><th>window</th>{head}</tr></thead><tbody>'
            f'<tr><th>burn rate now</th>{"".join(now)}</tr><tr><th>alerts at</th>{"".join(alerts)}</tr>'
            "</tbody></table>")


def slo_section(d: ReportData) -> str:
    out = [f'<section id="slos"><h2>SLOs: where each stands over the last {esc(_duration(d.range_s))}</h2>']
    if not d.stack.reached:
        out.append(f'<p class="muted">Not known: Prometheus was not reached ({esc(d.stack.why)}).</p>')
        if d.declared_slos:
            out.append("<p>The spec declares: " + ", ".join(f"{esc(a)} / {esc(b)}" for a, b in d.declared_slos)
                       + ".</p>")
        return "".join(out) + "</section>"
    if not d.slos:
        out.append('<p class="muted">The spec declares no SLO.</p>')
    out += [_slo_card(s, d.range_s) for s in d.slos]
    return "".join(out) + "</section>"


def pipeline_section(d: ReportData) -> str:
    out = ['<section id="pipeline"><h2>Pipeline health</h2>']
    if not d.stack.reached:
        return "".join(out) + '<p class="muted">Not known: Prometheus was not reached.</p></section>'
    table = charts.pipeline_table(d.pipeline)
    out.append('<p class="note">Counts since each component last started, read from its own metrics.</p>' + table
               if table else '<p class="muted">No component has counted anything yet (the collector\'s counters '
               "appear once they are non-zero).</p>")
    return "".join(out) + "</section>"


def render(d: ReportData) -> str:
    body = "".join((header(d), verify_section(d), drill_section(d), slo_section(d), pipeline_section(d)))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark">'
            f"<title>obs report · {esc(d.project)}</title><style>{CSS}</style></head><body>{body}"
            f"<footer>Made by obs from {esc(d.spec)} at {esc(_when(d.made_at))}. Self-contained: no script, "
            "nothing fetched.</footer></body></html>\n")
