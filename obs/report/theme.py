"""The page's one stylesheet, inlined: a light and a dark theme (prefers-color-scheme) and print.

Charts carry classes only; every colour is a custom property here, so a mark is coloured alike in its
chart and its legend swatch. The series palette is Okabe and Ito's, told apart with colour blindness too.
Print always uses the light theme, keeps colours (print-color-adjust) and never splits a chart or a card.
"""
from __future__ import annotations

LIGHT = """
  --bg: #ffffff; --fg: #1b1f24; --muted: #59636e; --grid: #e4e7eb; --card: #f6f8fa; --border: #d8dee4;
  --ok: #1a7f37; --bad: #cf222e; --warn: #b35900; --info: #0969da;
  --s1: #0072b2; --s2: #e69f00; --s3: #009e73; --s4: #cc79a7; --s5: #56b4e9; --s6: #d55e00;
  --took: #0072b2; --resolved: #56b4e9;
"""
DARK = """
  --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --grid: #262c36; --card: #151b23; --border: #30363d;
  --ok: #3fb950; --bad: #f85149; --warn: #d29922; --info: #4493f8;
  --s1: #56b4e9; --s2: #f0b73a; --s3: #2ec4a0; --s4: #e39acb; --s5: #8fd0f5; --s6: #ff8a4c;
  --took: #56b4e9; --resolved: #8fd0f5;
"""

CSS = f"""
:root {{ color-scheme: light dark; {LIGHT} }}
@media (prefers-color-scheme: dark) {{ :root {{ {DARK} }} }}
* {{ box-sizing: border-box; }}
body {{ margin: 0 auto; max-width: 980px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid
  var(--border); padding-bottom: 4px; }} h3 {{ font-size: 15px; margin: 0 0 6px; }}
code, .mono {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }}
.muted, .note {{ color: var(--muted); }} .note {{ font-size: 12px; margin: 4px 0 0; }}
.verdict {{ display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff;
  background: var(--muted); margin-left: 8px; vertical-align: middle; font-size: 13px; }}
.verdict.pass {{ background: var(--ok); color: #fff; }} .verdict.fail {{ background: var(--bad); color: #fff; }}
.summary {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }}
.summary dt {{ color: var(--muted); }} .summary dd {{ margin: 0; }}
.card {{ background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 12px 14px;
  margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }}
.alert {{ border-left: 4px solid var(--bad); }} .caution {{ border-left: 4px solid var(--warn); }}
table {{ border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }}
th, td {{ text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--border); vertical-align: top; }}
th {{ color: var(--muted); font-weight: 600; }} td.num, th.num {{ text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap; }}
.ok {{ color: var(--ok); font-weight: 600; }} .fail {{ color: var(--bad); font-weight: 600; }}
.warn {{ color: var(--warn); font-weight: 600; }} .skip {{ color: var(--muted); }}
.stats {{ display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 4px 0 8px; }}
.stats div {{ display: flex; flex-direction: column; }} .stats b {{ font-size: 18px; }}
.stats div > span {{ color: var(--muted); font-size: 12px; }}
ul.findings {{ margin: 6px 0; padding-left: 18px; }} ul.findings li {{ margin: 3px 0; }}
.fix {{ color: var(--info); }}
nav a {{ color: var(--info); margin-right: 14px; text-decoration: none; }}
figure {{ margin: 8px 0 14px; break-inside: avoid; page-break-inside: avoid; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; gap: 0 20px; }}
@media (max-width: 760px) {{ .pair {{ grid-template-columns: 1fr; }} }}
table.windows th {{ white-space: nowrap; }} table.windows td {{ font-size: 12px; }}
svg.chart {{ width: 100%; height: auto; display: block; overflow: visible; }}
svg.chart.share {{ width: 160px; height: 12px; }}
svg.chart text {{ fill: var(--fg); font-size: 11px; font-family: inherit; }}
svg.chart .tick, svg.chart .unit {{ fill: var(--muted); font-size: 10px; }}
svg.chart .unit {{ font-style: italic; }} svg.chart .count {{ font-variant-numeric: tabular-nums; }}
svg.chart .onmark {{ fill: var(--bad); font-weight: 600; }} svg.chart .small {{ font-size: 10px; }}
svg.chart .grid {{ stroke: var(--grid); stroke-width: 1; }} svg.chart .axis {{ stroke: var(--muted); }}
svg.chart .took {{ fill: var(--took); }} svg.chart .slow {{ fill: var(--warn); }}
svg.chart .lost {{ fill: var(--bad); fill-opacity: 0.18; stroke: var(--bad); stroke-dasharray: 4 3; }}
svg.chart .floor, svg.chart .bound {{ stroke: var(--fg); stroke-width: 2.5; }}
svg.chart .rbound {{ stroke: var(--muted); stroke-width: 2.5; stroke-dasharray: 3 2; }}
svg.chart .paged, svg.chart .accepted {{ fill: var(--ok); }} svg.chart .resolved {{ fill: var(--resolved); }}
svg.chart .refused {{ fill: var(--warn); }} svg.chart .dropped {{ fill: var(--bad); }}
svg.chart .idle {{ fill: var(--grid); }}
svg.chart .line {{ fill: none; stroke-width: 1.8; stroke-linejoin: round; }}
svg.chart .threshold {{ stroke-width: 1.4; stroke-dasharray: 7 4; }}
svg.chart .threshold.page {{ stroke: var(--bad); }} svg.chart .threshold.ticket {{ stroke: var(--warn); }}
""" + "".join(f"svg.chart .line.s{i} {{ stroke: var(--s{i}); }} svg.chart .dot.s{i} {{ fill: var(--s{i}); }} "
              f".swatch.line.s{i} {{ background: var(--s{i}); }}\n" for i in range(1, 7)) + """
ul.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 2px 16px;
  font-size: 12px; color: var(--muted); }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: baseline;
  border-radius: 2px; }
.swatch.took { background: var(--took); } .swatch.slow { background: var(--warn); }
.swatch.lost { background: transparent; border: 1px dashed var(--bad); }
.swatch.floor, .swatch.bound { width: 3px; height: 12px; background: var(--fg); }
.swatch.rbound { width: 3px; height: 12px; background: var(--muted); }
.swatch.paged, .swatch.accepted { background: var(--ok); } .swatch.resolved { background: var(--resolved); }
.swatch.refused { background: var(--warn); } .swatch.dropped { background: var(--bad); }
.swatch.idle { background: var(--grid); }
.swatch.line { height: 3px; vertical-align: middle; }
.swatch.threshold { height: 0; background: none; border-top: 2px dashed; vertical-align: middle; }
.swatch.threshold.page { border-color: var(--bad); } .swatch.threshold.ticket { border-color: var(--warn); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  :root { color-scheme: light; """ + LIGHT + """ }
  body { max-width: none; padding: 0; font-size: 12px; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section { break-before: auto; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 14mm; }
"""
