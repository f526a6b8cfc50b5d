"""The report's charts, as inline SVG: hops against their floors, pages against their bounds, SLO time
series against their alert thresholds, and the pipeline's counts. Each returns a <figure>, or "" when there
is nothing to draw (the page then says why in words). Every mark has the class `mark`, which the browser
tests count."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from obs.report import svg
from obs.report.data import PipelineRow, Series, Threshold
from obs.report.saved import DrillDoc, VerifyDoc

LABEL_W = 190          # room for row labels left of the bars
RIGHT = svg.WIDTH - 16
ROW = 24
SERIES_CLASSES = 6     # s1..s6 in the stylesheet; more lines reuse them


def _slow(seconds: float, floor: float) -> bool:
    # The same rule as obs.verify.result.Hop.slow: more than 2x (+ 0.5 s of scheduling noise) its floor.
    return seconds > 2 * floor + 0.5


def hop_chart(verify: VerifyDoc) -> str:
    rows = [(p.name, h) for p in verify.results for h in p.hops]
    if not rows:
        return ""
    top, height = 8, 8 + ROW * len(rows)
    hi = svg.nice_max(max([h.floor_seconds for _, h in rows] + [h.seconds or 0 for _, h in rows]) * 1.05)
    x = svg.Linear(0, hi, LABEL_W, RIGHT)
    body = [svg.x_axis(x, svg.ticks(hi), top, height, svg.fmt_seconds, "seconds per hop")]
    for i, (probe, hop) in enumerate(rows):
        y = top + i * ROW
        body.append(svg.text(LABEL_W - 8, y + ROW / 2 + 4, f"{probe} › {hop.id.value}", "label", "end"))
        if hop.seconds is None:
            body.append(svg.el("rect", {"x": LABEL_W, "y": y + 5, "width": RIGHT - LABEL_W, "height": ROW - 10,
                                        "cls": "mark lost"}, svg.tooltip(f"{probe}: lost at {hop.title}")))
            body.append(svg.text(LABEL_W + 6, y + ROW / 2 + 4, f"lost here: {hop.title}", "onmark"))
        else:
            cls = "mark slow" if _slow(hop.seconds, hop.floor_seconds) else "mark took"
            tip = f"{probe} › {hop.title}: {svg.fmt_seconds(hop.seconds)} (floor {svg.fmt_seconds(hop.floor_seconds)})"
            body.append(svg.el("rect", {"x": LABEL_W, "y": y + 5, "width": max(x(hop.seconds) - LABEL_W, 1.5),
                                        "height": ROW - 10, "cls": cls}, svg.tooltip(tip)))
        fx = x(hop.floor_seconds)
        body.append(svg.el("line", {"x1": fx, "x2": fx, "y1": y + 2, "y2": y + ROW - 2, "cls": "mark floor"},
                           svg.tooltip(f"floor {svg.fmt_seconds(hop.floor_seconds)}")))
    legend = [("took", "took"), ("slow", "slow: over 2× its floor + 0.5 s"), ("floor", "floor the config allows"),
              ("lost", "lost at this hop")]
    return svg.figure("Each hop of each probe against its floor", height + 36, "".join(body), legend)


def drill_chart(drill: DrillDoc) -> str:
    if not drill.incidents:
        return ""
    top, row = 8, ROW * 2
    height = top + row * len(drill.incidents)
    values = [v for i in drill.incidents for v in (i.paged_after_s, i.resolved_after_s, i.bound_s,
                                                   i.resolve_bound_s) if v is not None]
    hi = svg.nice_max(max(values) * 1.05)
    x = svg.Linear(0, hi, LABEL_W, RIGHT)
    body = [svg.x_axis(x, svg.ticks(hi), top, height, svg.fmt_seconds, "seconds from the break")]
    for n, inc in enumerate(drill.incidents):
        y = top + n * row
        body.append(svg.text(LABEL_W - 8, y + row / 2 + 4, inc.incident.value, "label", "end"))
        for k, (what, value, bound, cls, missing) in enumerate((
                ("to page", inc.paged_after_s, inc.bound_s, "paged" if inc.ok else "slow", "did not page"),
                ("to resolve", inc.resolved_after_s, inc.resolve_bound_s, "resolved", "never resolved"))):
            by = y + 4 + k * (row - 8) / 2
            bh = (row - 8) / 2 - 2
            if value is None:
                body.append(svg.el("rect", {"x": LABEL_W, "y": by, "width": RIGHT - LABEL_W, "height": bh,
                                            "cls": "mark lost"}, svg.tooltip(f"{inc.incident.value}: never {what}")))
                body.append(svg.text(LABEL_W + 6, by + bh - 2, missing, "onmark small"))
            else:
                tip = f"{inc.incident.value} {what}: {svg.fmt_seconds(value)} (bound {svg.fmt_seconds(bound)})"
                body.append(svg.el("rect", {"x": LABEL_W, "y": by, "width": max(x(value) - LABEL_W, 1.5),
                                            "height": bh, "cls": f"mark {cls}"}, svg.tooltip(tip)))
            bx = x(bound)
            body.append(svg.el("line", {"x1": bx, "x2": bx, "y1": by - 1, "y2": by + bh + 1,
                                        "cls": "mark bound" if k == 0 else "mark rbound"},
                               svg.tooltip(f"bound {what}: {svg.fmt_seconds(bound)}")))
    legend = [("paged", "time to page, within its bound"), ("slow", "paged late or more than once"),
              ("resolved", "time to resolve, after the restore"), ("bound", "bound to page"),
              ("rbound", "bound to resolve"), ("lost", "never paged or resolved")]
    return svg.figure("Time to page and to resolve, per incident, against its bound", height + 36, "".join(body),
                      legend)


def _segments(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Break a line where samples are missing (no traffic: the ratio is absent, not zero)."""
    if len(points) < 2:
        return [list(points)] if points else []
    steps = sorted(b[0] - a[0] for a, b in zip(points, points[1:], strict=False))
    gap = 3 * steps[len(steps) // 2]
    out = [[points[0]]]
    for a, b in zip(points, points[1:], strict=False):
        if b[0] - a[0] > gap:
            out.append([])
        out[-1].append(b)
    return out


def series_chart(title: str, series: Sequence[Series], thresholds: Sequence[Threshold], start: float, end: float,
                 fmt: Callable[[float], str], unit: str, width: float = svg.WIDTH) -> str:
    """Lines over time with the alert thresholds dashed across. The y axis reaches the highest line or the
    lowest threshold, whichever is higher: the first alert to fire is always in view; thresholds above
    the axis are named in the legend."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    left, top, bottom, right = 62, 10, 170, width - 12
    data_max = max(v for s in drawn for _, v in s.points)
    lowest = min((t.value for t in thresholds), default=0.0)
    hi = svg.nice_max(max(data_max, lowest) * 1.1)
    x = svg.Linear(start, end, left, right)
    y = svg.Linear(0, hi, bottom, top)
    span = end - start
    body = [svg.y_axis(y, svg.ticks(hi, 4), left, right, fmt, unit),
            svg.x_axis(x, [t for t in svg.time_ticks(start, end, 4 if width < svg.WIDTH else 6)
                        if start <= t <= end], top, bottom,
                       lambda t: svg.fmt_time(t, span), "time (UTC)")]
    legend = []
    for t in thresholds:
        if t.value > hi:
            legend.append((f"threshold {t.severity}", f"{t.label} at {fmt(t.value)}: above the chart"))
            continue
        ty = y(t.value)
        body.append(svg.el("line", {"x1": left, "x2": right, "y1": ty, "y2": ty,
                                    "cls": f"mark threshold {t.severity}"}, svg.tooltip(f"{t.label}: {fmt(t.value)}")))
        legend.append((f"threshold {t.severity}", f"{t.label} at {fmt(t.value)}"))
    for n, s in enumerate(drawn):
        cls = f"s{s.colour % SERIES_CLASSES + 1}"
        for seg in _segments(s.points):
            path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(seg))
            body.append(svg.el("path", {"d": path, "cls": f"mark line {cls}"}, svg.tooltip(s.name)))
        t_last, v_last = s.points[-1]
        body.append(svg.el("circle", {"cx": x(t_last), "cy": y(v_last), "r": 2.5, "cls": f"mark dot {cls}"},
                           svg.tooltip(f"{s.name} now: {fmt(v_last)}")))
        legend.insert(n, (f"line {cls}", s.name))
    return svg.figure(title, bottom + 36, "".join(body), legend, width=width)


def _share_bar(r: PipelineRow) -> str:
    """A row's outcomes as shares of one small bar, for the pipeline table."""
    width, height = 160, 12
    total = r.accepted + r.refused + r.dropped
    marks, at = [], 0.0
    for value, cls, what in ((r.accepted, "accepted", "accepted"), (r.refused, "refused", "refused"),
                             (r.dropped, "dropped", "dropped")):
        if value > 0:
            marks.append(svg.el("rect", {"x": at * width, "y": 1, "width": max(value / total * width, 1.5),
                                         "height": height - 2, "cls": f"mark {cls}"},
                                svg.tooltip(f"{svg.fmt_count(value)} {what}")))
            at += value / total
    if total == 0:
        marks.append(svg.el("rect", {"x": 0, "y": height / 2 - 1, "width": width, "height": 2, "cls": "mark idle"},
                            svg.tooltip("nothing counted yet")))
    return svg.el("svg", {"cls": "chart share", "viewBox": f"0 0 {width} {height}", "role": "img",
                          "aria_label": f"{r.name}: shares accepted, refused, dropped"}, "".join(marks))


def pipeline_table(rows: Sequence[PipelineRow]) -> str:
    """One row per component: the counts, and their shares as a bar."""
    if not rows:
        return ""
    head = "".join(f'<th{" class=num" if n in (3, 4, 5) else ""}>{h}</th>' for n, h in enumerate(
        ("component", "part", "items", "accepted", "refused", "dropped", "share")))
    body = "".join(
        f"<tr><td>{svg.esc(r.component)}</td><td>{svg.esc(r.kind.value)} <code>{svg.esc(_short(r.name))}</code></td>"
        f"<td>{svg.esc(r.signal)}</td>"
        + "".join(f"<td class=num>{svg.esc(svg.fmt_count(v))}</td>" for v in (r.accepted, r.refused, r.dropped))
        + f"<td>{_share_bar(r)}</td></tr>" for r in rows)
    legend = "".join(f'<li><span class="swatch {cls}"></span>{svg.esc(label)}</li>' for cls, label in (
        ("accepted", "accepted, sent or delivered"), ("refused", "refused: pushed back, or failed to deliver"),
        ("dropped", "dropped: lost"), ("idle", "nothing counted yet")))
    return (f'<table class="pipeline"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'<ul class="legend">{legend}</ul>')


def _short(name: str) -> str:
    """An Alertmanager's URL as host:port, the way people name it."""
    return (urlsplit(name).netloc or name) if "://" in name else name
