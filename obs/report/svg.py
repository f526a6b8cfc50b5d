"""Inline SVG primitives: escaped elements, linear scales, readable ticks, axes and number formats.

Colours are never written here: every mark carries a class the page's stylesheet colours, so one chart
follows the light theme, the dark theme and print alike. Charts are drawn in a fixed coordinate space
(WIDTH wide) and scaled by the browser to the page (viewBox), so text and marks keep their proportions.
"""
from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 720
HALF = 470          # a chart drawn half as wide, for two side by side: its text stays as large on the page
TICK = 4
# Time-axis steps a person reads at a glance, in seconds.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def el(name: str, attrs: dict[str, object], body: str = "") -> str:
    """An element; attribute values are escaped, None leaves the attribute out. `cls` stands for class."""
    parts = [name] + [f'{"class" if k == "cls" else k.replace("_", "-")}="{esc(_attr(v))}"'
                      for k, v in attrs.items() if v is not None]
    return f"<{' '.join(parts)}>{body}</{name}>" if body else f"<{' '.join(parts)}/>"


def _attr(v: object) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def text(x: float, y: float, body: str, cls: str = "", anchor: str = "start") -> str:
    """Text is escaped here: a name from the spec or a result is only ever text."""
    return el("text", {"x": x, "y": y, "cls": cls or None, "text_anchor": anchor if anchor != "start" else None},
              esc(body))


def tooltip(body: str) -> str:
    return f"<title>{esc(body)}</title>"


@dataclass(frozen=True)
class Linear:
    """Maps [lo, hi] onto [a, b] (pixels)."""
    lo: float
    hi: float
    a: float
    b: float

    def __call__(self, v: float) -> float:
        span = self.hi - self.lo
        return self.a if span == 0 else self.a + (v - self.lo) / span * (self.b - self.a)


def nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


def nice_max(v: float, count: int = 5) -> float:
    """The smallest round number at or above v, so the top tick closes the axis."""
    if v <= 0:
        return 1.0
    step = nice_step(v, count)
    return math.ceil(v / step - 1e-9) * step


def ticks(hi: float, count: int = 5) -> list[float]:
    step = nice_step(hi, count)
    return [i * step for i in range(int(hi / step + 1e-9) + 1)]


def time_ticks(start: float, end: float, count: int = 6) -> list[float]:
    span = max(end - start, 1.0)
    step = next((s for s in TIME_STEPS if span / s <= count), TIME_STEPS[-1] * math.ceil(span / count / 86400))
    first = math.ceil(start / step) * step
    return [first + i * step for i in range(int((end - first) / step) + 1)]


def fmt_time(t: float, span: float) -> str:
    """UTC; seconds only where the axis is short, the date only where it crosses days."""
    pattern = "%H:%M:%S" if span < 600 else ("%d %b %H:%M" if span > 86400 else "%H:%M")
    return time.strftime(pattern, time.gmtime(t))


def fmt_seconds(v: float) -> str:
    if v == 0:
        return "0 s"
    if v < 1:
        return f"{v * 1000:.0f} ms" if v >= 0.01 else f"{v * 1000:.1f} ms"
    return f"{v:.0f} s" if v >= 100 or v == int(v) else f"{v:.1f} s"


def fmt_count(v: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(v) >= size:
            return f"{v / size:.1f}{unit}".replace(".0", "")
    return f"{v:.0f}"


def fmt_percent(ratio: float) -> str:
    """A ratio as a percentage with the digits that matter: 99.95 %, 0.14 %, 0.0021 %."""
    p = ratio * 100
    if p == 0 or abs(p) >= 10:
        return f"{p:.2f} %".replace(".00 %", " %")
    digits = max(2, 1 - math.floor(math.log10(abs(p))))     # two significant digits below 1 %
    return f"{p:.{digits}f} %"


def fmt_rate(v: float) -> str:
    return f"{v:.3g}×"


def x_axis(scale: Linear, values: Sequence[float], top: float, bottom: float, fmt: Callable[[float], str],
           label: str) -> str:
    """Vertical grid lines from top to bottom, tick labels under them, the unit label at the right end."""
    out = [el("line", {"x1": scale.a, "x2": scale.b, "y1": bottom, "y2": bottom, "cls": "axis"})]
    for v in values:
        x = scale(v)
        out.append(el("line", {"x1": x, "x2": x, "y1": top, "y2": bottom, "cls": "grid"}))
        out.append(text(x, bottom + TICK + 11, fmt(v), "tick", "middle"))
    out.append(text(scale.b, bottom + TICK + 26, label, "unit", "end"))
    return "".join(out)


def y_axis(scale: Linear, values: Sequence[float], left: float, right: float, fmt: Callable[[float], str],
           label: str) -> str:
    out = [el("line", {"x1": left, "x2": left, "y1": scale.a, "y2": scale.b, "cls": "axis"})]
    for v in values:
        y = scale(v)
        out.append(el("line", {"x1": left, "x2": right, "y1": y, "y2": y, "cls": "grid"}))
        out.append(text(left - TICK - 2, y + 4, fmt(v), "tick", "end"))
    out.append(text(left - TICK - 2, scale.b - 10, label, "unit", "end"))
    return "".join(out)


def figure(title: str, height: float, body: str, legend: Sequence[tuple[str, str]] = (), note: str = "",
           width: float = WIDTH) -> str:
    """A chart with its title (for screen readers and print) and an HTML legend of (mark class, label)."""
    svg = el("svg", {"cls": "chart", "viewBox": f"0 0 {width:.0f} {height:.0f}", "role": "img",
                     "aria_label": title, "preserveAspectRatio": "xMinYMin meet"}, tooltip(title) + body)
    items = "".join(f'<li><span class="swatch {esc(cls)}"></span>{esc(label)}</li>' for cls, label in legend)
    caption = (f'<ul class="legend">{items}</ul>' if items else "") + (f'<p class="note">{esc(note)}</p>'
                                                                        if note else "")
    return f'<figure>{svg}<figcaption>{caption}</figcaption></figure>' if caption else f"<figure>{svg}</figure>"
