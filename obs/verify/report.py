"""How a verify run is shown: live progress on a terminal, a summary table, or JSON / JUnit for CI."""
from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from obs.verify.result import Finding, ProbeResult, Report, Status

# Findings shown per check on a terminal; JSON and JUnit carry them all.
MAX_FINDINGS = 4


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}s"


class LiveProgress:
    """A table of checks and what each is doing, redrawn in place while probes run (stderr, terminals only)."""

    def __init__(self, console: Console):
        self.console = console
        self.state: dict[str, str] = {}
        self.lock = threading.Lock()
        self.live = Live(self._render(), console=console, refresh_per_second=12, transient=True)

    def __call__(self, check: str, message: str) -> None:
        with self.lock:
            self.state[check] = message
            self.live.update(self._render())

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 2))
        for check, message in self.state.items():
            mark = Text("✓", style="green") if message == "done" else Text("…", style="yellow")
            table.add_row(mark, Text(check, style="bold"), Text(message, style="dim"))
        return table

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.console.is_terminal:
            self.live.stop()


def _mark(r: ProbeResult) -> Text:
    if r.skipped:
        return Text("skip", style="dim")
    return Text("pass", style="green bold") if r.ok else Text("FAIL", style="red bold")


def shown_findings(r: ProbeResult) -> list[Finding]:
    """What a terminal shows: failures, then warnings; info findings are in the summary, JSON and JUnit."""
    return sorted((f for f in r.findings if f.status in (Status.FAIL, Status.WARN)),
                  key=lambda f: f.status != Status.FAIL)


def table(report: Report) -> Group:
    where = f" · environment {report.env}" if report.env != "local" else ""
    t = Table(title=f"obs verify · {report.project}{where} · {report.profile} profile", title_justify="left",
              show_edge=False, header_style="bold")
    for col, justify in (("check", "left"), ("result", "left"), ("took", "right"), ("floor", "right"),
                         ("detail", "left")):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in report.results:
        t.add_row(r.name, _mark(r), _seconds(r.seconds) if r.hops else "", _seconds(r.floor) if r.hops else "",
                  r.summary)
        for h in r.hops:
            style = "red" if h.seconds is None else ("yellow" if h.slow else "dim")
            t.add_row(Text(f"  └ {h.id}", style="dim"), "", Text(_seconds(h.seconds), style=style),
                      Text(_seconds(h.floor), style="dim"), Text(h.title, style="dim"))
    parts: list[object] = [t]
    for r in report.results:
        shown = shown_findings(r)
        for f in shown[:MAX_FINDINGS]:
            line = Text()
            line.append(f"{'✗' if f.status == 'fail' else '!'} {r.name}: ",
                        style="red bold" if f.status == Status.FAIL else "yellow")
            line.append(f"{f.hop}: ", style="bold")
            line.append(f.why)
            parts.append(line)
            if f.fix:
                parts.append(Text(f"    fix: {f.fix}", style="cyan"))
        if len(shown) > MAX_FINDINGS:
            parts.append(Text(f"  … and {len(shown) - MAX_FINDINGS} more for {r.name} (--format json lists "
                              "them all)", style="dim"))
    for w in report.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    verdict = "all checks passed" if report.ok else f"{sum(not r.ok for r in report.results)} check(s) failed"
    ratio = f" ({report.seconds / report.floor:.2f}× the floor of {report.floor:.2f}s)" if report.floor else ""
    parts.append(Text(f"{verdict} in {report.seconds:.2f}s{ratio}", style="green" if report.ok else "red bold"))
    return Group(*parts)  # type: ignore[arg-type]


def to_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n"


def to_junit(report: Report) -> str:
    """One test suite, one test case per check; hop timings go to system-out so CI shows them."""
    failures = sum(not r.ok and not r.skipped for r in report.results)
    suites = ET.Element("testsuites", name="obs verify", tests=str(len(report.results)), failures=str(failures),
                        time=f"{report.seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=f"obs verify {report.project}", tests=str(len(report.results)),
                          failures=str(failures), skipped=str(sum(r.skipped for r in report.results)),
                          time=f"{report.seconds:.3f}")
    props = ET.SubElement(suite, "properties")
    for k, v in (("profile", report.profile), ("floor_seconds", f"{report.floor:.3f}"),
                 ("budget_seconds", f"{report.budget:.3f}")):
        ET.SubElement(props, "property", name=k, value=v)
    for r in report.results:
        case = ET.SubElement(suite, "testcase", classname="obs.verify", name=r.name, time=f"{r.seconds:.3f}")
        if r.skipped:
            ET.SubElement(case, "skipped", message=r.summary)
        elif not r.ok:
            failed = [f for f in r.findings if f.status == Status.FAIL]
            first = failed[0] if failed else None
            failure = ET.SubElement(case, "failure", message=r.summary, type=first.hop if first else "failed")
            failure.text = "\n".join(f"{f.hop}: {f.why}" + (f"\nfix: {f.fix}" if f.fix else "") for f in failed)
        lines = [f"{h.id}: {_seconds(h.seconds)} (floor {_seconds(h.floor)}) {h.title}" for h in r.hops]
        lines += [f"{f.status}: {f.hop}: {f.why}" + (f" (fix: {f.fix})" if f.fix else "")
                  for f in r.findings if f.status != Status.FAIL]
        if lines:
            ET.SubElement(case, "system-out").text = "\n".join(lines)
    if report.warnings:
        ET.SubElement(suite, "system-err").text = "\n".join(report.warnings)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
