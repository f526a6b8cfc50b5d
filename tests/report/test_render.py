"""The report page without a browser: every section, empty data, escaping, and the numbers on the axes."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from obs.model.floors import HopId
from obs.report import charts, html, svg
from obs.report.data import Series, Severity, Threshold, Verdict
from obs.verify.result import Finding, Status
from tests.support import report_data as rd

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def charts_in(page: str) -> list[ET.Element]:
    """Every chart, parsed as XML: a chart that is not well-formed fails here."""
    return [ET.fromstring(s) for s in SVG.findall(page)]


def marks(chart: ET.Element) -> list[ET.Element]:
    return [e for e in chart.iter() if "mark" in (e.get("class") or "").split()]


def test_a_full_report_has_every_section_and_every_chart_has_marks():
    page = html.render(rd.full())
    for section in ('id="verify"', 'id="drill"', 'id="slos"', 'id="pipeline"'):
        assert section in page
    found = charts_in(page)
    # hops, drill, two per SLO (error ratio, burn rate), one share bar per pipeline row
    assert len(found) == 1 + 1 + 2 * 2 + len(rd.PIPELINE)
    assert all(marks(c) for c in found), [c.get("aria-label") for c in found if not marks(c)]


def test_the_hop_chart_draws_a_bar_and_a_floor_per_hop_and_names_a_slow_one():
    report = rd.verify_report()
    chart = ET.fromstring(charts.hop_chart(rd.saved_verify(report).result).split("<figcaption>")[0] + "</figure>")
    hops = sum(len(r.hops) for r in report.results)
    bars = [e for e in marks(chart) if e.tag == "rect"]
    floors = [e for e in marks(chart) if "floor" in e.get("class", "")]
    assert (len(bars), len(floors)) == (hops, hops)
    assert [b.get("class") for b in bars].count("mark slow") == 1   # metric › prometheus: 3.2 s against 0.05 s


def test_a_lost_hop_is_named_by_probe_and_hop_and_drawn_as_lost():
    page = html.render(rd.full(verify=rd.saved_verify(rd.verify_report(lost_at=HopId.ALERTMANAGER))))
    assert "<b>alert</b>: lost at <b>alertmanager</b>" in page
    assert "lost here: Prometheus → Alertmanager" in page
    assert 'class="mark lost"' in page
    assert "verify: alert failed" in page and 'class="verdict fail"' in page


def test_the_drill_chart_has_two_bars_and_two_bounds_per_incident_and_names_what_never_paged():
    drill = rd.saved_drill()
    chart = ET.fromstring(charts.drill_chart(drill.result).split("<figcaption>")[0] + "</figure>")
    n = len(drill.result.incidents)
    assert len([e for e in marks(chart) if e.tag == "rect"]) == 2 * n
    assert len([e for e in marks(chart) if e.tag == "line"]) == 2 * n
    page = html.render(rd.full())
    assert "did not page" in page and "drill: collector did not page once" in page
    assert "drill: crash paged late" in page


def test_an_slo_chart_draws_its_lines_and_the_thresholds_in_view_and_names_those_above_it():
    s = rd.slo()
    figure = charts.series_chart("t", s.error_ratio, s.ratio_thresholds, s.start, s.end, svg.fmt_percent, "ratio")
    chart = ET.fromstring(SVG.search(figure).group(0))  # type: ignore[union-attr]
    lines = [e for e in marks(chart) if "line" in e.get("class", "").split()]
    thresholds = [e for e in marks(chart) if "threshold" in e.get("class", "")]
    assert len(lines) == 2 and all(e.get("d", "").startswith("M") for e in lines)
    # the axis reaches the lowest threshold (0.1 %), not the page at 1.44 %, which the legend names instead
    assert len(thresholds) == 1 and "ticket" in thresholds[0].get("class", "")
    assert "page at 14.4× over 1h and 5m at 1.44 %: above the chart" in figure


def test_a_line_breaks_where_samples_are_missing_instead_of_bridging_the_gap():
    points = tuple((float(t), 0.1) for t in (*range(0, 100, 10), *range(500, 600, 10)))
    figure = charts.series_chart("t", [Series("5m window", points)], [], 0, 600, svg.fmt_percent, "ratio")
    assert figure.count('class="mark line s1"') == 2


@pytest.mark.parametrize("changes, verdict, reason", [
    ({}, Verdict.FAIL, "drill: crash paged late"),
    ({"drill": None}, Verdict.PASS, None),
    ({"drill": None, "slos": (rd.slo(budget_left=-0.2),)}, Verdict.FAIL,
     "SLO checkout/availability: error budget exhausted"),
    ({"drill": None, "verify": None, "slos": ()}, Verdict.UNKNOWN, None),
])
def test_the_verdict_fails_for_each_failed_check_late_page_or_exhausted_budget(changes, verdict, reason):
    got, reasons = rd.full(**changes).verdict()
    assert got == verdict
    assert (reason in reasons) if reason else reasons == ()


def test_with_nothing_reached_and_nothing_saved_the_page_says_so_and_draws_no_chart():
    page = html.render(rd.unreached())
    assert "not reached" in page and "nothing answers at http://127.0.0.1:9090" in page
    assert "No verify result is saved" in page and "No drill result is saved" in page
    assert "checkout / availability" in page     # the spec's SLOs are named even without data
    assert charts_in(page) == []


def test_saved_results_are_shown_when_the_stack_is_not_reached():
    page = html.render(rd.unreached(verify=rd.saved_verify(), drill=rd.saved_drill()))
    assert len(charts_in(page)) == 2 and "all 4 checks passed" in page and "SLOErrorBudgetBurn" in page


def test_a_result_made_with_another_spec_is_flagged():
    page = html.render(rd.full(verify=rd.saved_verify(digest="cd" * 32)))
    assert "made with another version of the spec" in page


HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def test_every_name_from_the_spec_or_a_result_is_text_never_markup():
    report = rd.verify_report(project=HOSTILE)
    report.results[0].summary = HOSTILE
    report.results[0].findings.append(Finding(HOSTILE, Status.WARN, HOSTILE, HOSTILE))
    data = rd.full(project=HOSTILE, spec=HOSTILE, verify=rd.saved_verify(report),
                   slos=(rd.slo(service=HOSTILE, name=HOSTILE),),
                   pipeline=(replace(rd.PIPELINE[0], name=HOSTILE, component=HOSTILE),),
                   notes=(HOSTILE,))
    page = html.render(data)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "onerror=\"" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert all(marks(c) for c in charts_in(page))     # escaped names keep every chart well-formed


def test_the_page_fetches_nothing_and_runs_no_script():
    page = html.render(rd.full())
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)=(?!["']?#)|url\(|@import|<link|<script""", page, re.I)


def test_rendering_is_pure_the_same_data_gives_the_same_page():
    assert html.render(rd.full()) == html.render(rd.full())


def test_both_themes_and_print_are_in_the_stylesheet():
    page = html.render(rd.full())
    assert "@media (prefers-color-scheme: dark)" in page and "@media print" in page


@pytest.mark.parametrize("value, text", [
    (0.9995, "99.95 %"), (0.0014, "0.14 %"), (0.000021, "0.0021 %"), (0.0, "0 %"), (-1.2, "-120 %"), (1.0, "100 %"),
])
def test_percentages_keep_the_digits_that_matter(value, text):
    assert svg.fmt_percent(value) == text


@pytest.mark.parametrize("value, text", [(0.0, "0 s"), (0.005, "5.0 ms"), (0.25, "250 ms"), (1.0, "1 s"),
                                         (2.5, "2.5 s"), (20.0, "20 s"), (125.3, "125 s")])
def test_seconds_read_in_the_unit_that_fits(value, text):
    assert svg.fmt_seconds(value) == text


@pytest.mark.parametrize("value, top", [(0.93, 1.0), (1.02, 1.25), (14.4, 15.0), (0.0144, 0.015), (666, 800), (0, 1)])
def test_the_axis_closes_on_a_round_number_at_or_above_the_data(value, top):
    assert svg.nice_max(value) == pytest.approx(top)


def test_time_ticks_are_round_and_inside_the_range():
    ticks = svg.time_ticks(1_800_000_030, 1_800_000_030 + 6 * 3600)
    assert ticks and all(t % 3600 == 0 for t in ticks) and 1 < len(ticks) <= 7


def test_thresholds_are_drawn_with_their_severity():
    t = Threshold("page", 0.5, Severity.PAGE)
    figure = charts.series_chart("t", [Series("x", ((0, 0.1), (60, 0.2)))], [t], 0, 60, svg.fmt_percent, "r")
    assert 'class="mark threshold page"' in figure
