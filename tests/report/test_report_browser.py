"""The report in a real browser: Debian's headless Chromium, driven by Playwright (its own browser download is
never used: the executable comes from obs.stack.tools). A page must load with no console error and no request
beyond itself, every chart must have drawn and painted its marks, in the light and the dark theme and for
print, and the spec's service and SLO names must be on it. The live tests make the pages from a real stack:
`obs verify --traffic --report`, `obs drill --report`, then `obs report`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from obs.cli import main
from obs.model import conventions as c
from obs.project import load_model
from obs.report import html
from obs.report.saved import Kind, load
from obs.stack.native import Stack
from tests.support import report_data as rd
from tests.support.verify_spec import SECRET_ENV, served_spec

# Per chart: its marks, those with geometry, and those the stylesheet paints (a fill or a stroke that shows).
CHARTS = """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const marks = Array.from(svg.querySelectorAll('.mark'));
  const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
  const painted = marks.filter(m => {
    const s = getComputedStyle(m);
    const paint = ['path', 'line'].includes(m.tagName) ? s.stroke : s.fill;
    return paint && paint !== 'none' && paint !== 'rgba(0, 0, 0, 0)' && s.visibility !== 'hidden' && s.display !== 'none';
  });
  return {label: svg.getAttribute('aria-label'), marks: marks.length, drawn: drawn.length, painted: painted.length,
          width: svg.getBoundingClientRect().width};
})"""


@dataclass
class Opened:
    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def charts(self) -> list[dict]:
        return self.page.evaluate(CHARTS)

    def text(self) -> str:
        return self.page.inner_text("body")


@pytest.fixture(scope="module")
def browser(tool):
    chromium = tool("chromium")          # Debian's package: `make browser` installs it, a missing one fails
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium))
        yield b
        b.close()


def open_report(browser: Browser, path: Path, scheme: str = "light", media: str = "screen") -> Opened:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.emulate_media(media=media)
    opened = Opened(page)
    url = path.resolve().as_uri()
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))

    def refuse(route):
        # The document itself is the one request a page may cause; anything else is recorded and refused.
        if route.request.url != url:
            opened.requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()
    context.route("**/*", refuse)
    page.goto(url, wait_until="load")
    return opened


def assert_every_chart_drawn(opened: Opened) -> list[dict]:
    found = opened.charts()
    assert found, "no chart on the page"
    for chart in found:
        assert chart["marks"] > 0 and chart["drawn"] == chart["marks"] and chart["painted"] == chart["marks"], chart
        assert chart["width"] > 0, chart
    return found


# -- without a stack: the page as the renderer makes it ----------------------------------------------------------

HOSTILE = "<script>window.pwned=1</script>"


def test_names_from_the_spec_are_text_in_the_browser_and_no_script_runs(browser, tmp_path):
    data = rd.full(project=HOSTILE, slos=(rd.slo(service=HOSTILE, name="<b>bold</b>"),),
                   pipeline=(replace(rd.PIPELINE[0], name='<img src=x onerror="window.pwned=2">'),))
    (tmp_path / "r.html").write_text(html.render(data))
    opened = open_report(browser, tmp_path / "r.html")
    assert opened.page.evaluate("() => window.pwned") is None
    assert opened.page.evaluate("() => document.querySelectorAll('script, img').length") == 0
    text = opened.text()
    assert HOSTILE in text and "<b>bold</b>" in text and '<img src=x onerror="window.pwned=2">' in text
    assert (opened.errors, opened.requests) == ([], [])
    assert_every_chart_drawn(opened)


def test_a_report_of_saved_results_alone_loads_clean_and_draws_its_charts(browser, tmp_path):
    (tmp_path / "r.html").write_text(html.render(rd.unreached(verify=rd.saved_verify(), drill=rd.saved_drill())))
    opened = open_report(browser, tmp_path / "r.html")
    assert (opened.errors, opened.requests) == ([], [])
    assert len(assert_every_chart_drawn(opened)) == 2
    assert "not reached" in opened.text()


# -- from a live stack -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "routing-key-from-the-environment")
        with served_spec(tmp_path_factory.mktemp("report")) as spec:
            yield spec


@pytest.fixture(scope="module")
def pages(spec):
    """The three pages a team would attach: after verify, after a drill, and `obs report` afterwards."""
    stack = Stack(spec.parent, load_model(spec))
    stack.up(lambda m: print(m, file=sys.stderr))
    try:
        folder = spec.parent
        verify_code = main(["verify", str(spec), "--traffic", "--format", "json", "--report",
                            str(folder / "verify.html")])
        drill = subprocess.run([sys.executable, "-m", "obs", "drill", str(spec), "--incident", "errors,crash",
                                "--report", str(folder / "drill.html")], capture_output=True, text=True,
                               cwd=folder, env=os.environ)
        sys.stderr.write(drill.stderr)
        report_code = main(["report", str(spec), "-o", str(folder / "report.html")])
        budget = subprocess.run([sys.executable, "-m", "obs", "budget", str(spec), "--format", "json"],
                                capture_output=True, text=True, cwd=folder, env=os.environ)
        (folder / "budget.json").write_text(budget.stdout)
    finally:
        stack.down()
    return {"verify": (verify_code, folder / "verify.html"), "drill": (drill.returncode, folder / "drill.html"),
            "report": (report_code, folder / "report.html"), "budget": (budget.returncode, folder / "budget.json")}


@pytest.mark.live
@pytest.mark.parametrize("which", ["verify", "drill", "report"])
def test_each_page_from_a_live_stack_loads_with_no_console_error_and_no_request(browser, pages, which):
    code, path = pages[which]
    assert code in (0, 1) and path.is_file(), (which, code)      # 1: a check failed; the page is written anyway
    opened = open_report(browser, path)
    assert opened.errors == [] and opened.requests == []


@pytest.mark.live
@pytest.mark.parametrize("scheme, media", [("light", "screen"), ("dark", "screen"), ("light", "print")])
def test_every_chart_draws_its_marks_in_each_theme_and_in_print(browser, pages, spec, scheme, media):
    opened = open_report(browser, pages["report"][1], scheme, media)
    found = assert_every_chart_drawn(opened)
    labels = [f["label"] for f in found]
    model = load_model(spec)
    assert "Each hop of each probe against its floor" in labels
    assert "Time to page and to resolve, per incident, against its bound" in labels
    for slo in model.slos:       # --traffic gave every SLO data: two charts each
        assert f"{slo.service}/{slo.name}: error ratio" in labels and f"{slo.service}/{slo.name}: burn rate" in labels
    assert any(label.endswith("shares accepted, refused, dropped") for label in labels)


@pytest.mark.live
def test_the_spec_service_and_slo_names_and_both_results_are_on_the_page(browser, pages, spec):
    text = open_report(browser, pages["report"][1]).text()
    model = load_model(spec)
    for slo in model.slos:
        assert f"{slo.service} / {slo.name}" in text
    assert "Verify: what was checked" in text and "No verify result is saved" not in text
    assert "errors" in text and "crash" in text and "No drill result is saved" not in text
    assert "answering (local)" in text and "prometheus 3.16.0" in text


@pytest.mark.live
def test_the_dark_theme_and_print_change_the_colours_not_the_structure(browser, pages):
    looks = {}
    for scheme, media in (("light", "screen"), ("dark", "screen"), ("dark", "print")):
        opened = open_report(browser, pages["report"][1], scheme, media)
        looks[(scheme, media)] = (opened.page.evaluate("() => getComputedStyle(document.body).backgroundColor"),
                                  len(opened.charts()))
    assert looks[("light", "screen")][0] != looks[("dark", "screen")][0]
    assert looks[("dark", "print")][0] == looks[("light", "screen")][0]       # print is always light
    assert len({n for _, n in looks.values()}) == 1


@pytest.mark.live
def test_the_report_prints_to_pdf(browser, pages):
    opened = open_report(browser, pages["report"][1], media="print")
    pdf = opened.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


@pytest.mark.live
def test_verify_and_drill_saved_their_results_and_the_drill_page_shows_the_verify_before_it(browser, pages, spec):
    assert load(spec.parent, Kind.VERIFY, "local") is not None and load(spec.parent, Kind.DRILL, "local") is not None
    assert (spec.parent / c.result_file(Kind.DRILL, "local")).is_file()
    text = open_report(browser, pages["drill"][1]).text()
    assert "No verify result is saved" not in text and "Drill: which incidents paged" in text


@pytest.mark.live
def test_obs_budget_lists_every_slo_and_the_errors_drill_shows_as_burn_on_the_live_stack(pages, spec):
    code, path = pages["budget"]
    doc = json.loads(path.read_text())
    model = load_model(spec)
    assert {(r["service"], r["slo"]) for r in doc["slos"]} == {(s.service, s.name) for s in model.slos}
    assert code == (1 if doc["spent"] else 0) and doc["spent"] == sum(r["exhausted"] for r in doc["slos"])
    # The errors drill failed requests on purpose: that SLO attained less than 100% and spent budget.
    burnt = [r for r in doc["slos"] if r["attained"] is not None and r["attained"] < 1]
    assert burnt and all(r["budget_left"] is not None and r["budget_left"] < 1 for r in burnt)
