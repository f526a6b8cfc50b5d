"""Scrape probe: every target the spec declares is scraped again after verify starts, and the scrape succeeds.

A target listed as up may be an hour-old answer; a scrape that lands after the probe
started proves the scrape loop works now. The hop's floor is the scrape interval.
"""
from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from obs.model.floors import HopId
from obs.verify import clients, poll
from obs.verify.context import Context, down_reason
from obs.verify.diagnose import PROMETHEUS
from obs.verify.result import Finding, Hop, ProbeResult, Status

NAME = "scrape"


def parse_time(text: str) -> float:
    """Prometheus's RFC 3339 times carry nanoseconds; Python reads at most microseconds."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def find_target(targets: list[dict[str, Any]], address: str) -> dict[str, Any] | None:
    for t in targets:
        if t.get("labels", {}).get("instance") == address or f"//{address}/" in t.get("scrapeUrl", ""):
            return t
    return None


def declared(ctx: Context) -> list[tuple[str, str]]:
    """(service, host:port) of every scrape target in the spec."""
    return [(s.name, addr) for s in ctx.model.services for st in s.scrape for addr in st.targets]


def run(ctx: Context) -> ProbeResult | None:
    wanted = declared(ctx)
    if not wanted:
        return None
    floor = ctx.floors.scrape
    prom = ctx.prometheus()
    since = time.time()
    started = time.monotonic()
    ctx.progress(NAME, f"waiting for a fresh scrape of {len(wanted)} target(s)")
    latest: dict[str, dict[str, Any] | None] = {}

    def all_fresh() -> bool | None:
        try:
            targets = prom.targets()
        except (clients.Unreachable, clients.ApiError):
            return None
        for _, addr in wanted:
            latest[addr] = find_target(targets, addr)
        fresh = all(t is not None and t.get("health") == "up" and parse_time(t.get("lastScrape", "")) >= since
                    for t in latest.values())
        return True if fresh else None

    ok = poll.until(all_fresh, ctx.deadline, cap=poll.cap_for(floor), stop=ctx.stop) is not None
    took = time.monotonic() - started
    result = ProbeResult(NAME, ok, "", seconds=took, floor=floor,
                         hops=[Hop(HopId.SCRAPE, "Prometheus scrape of the declared targets", took if ok else None,
                                   floor)])
    if ok:
        result.summary = f"{len(wanted)} declared target(s) scraped successfully within {took:.3f}s"
        return result
    down = down_reason(prom, "/-/ready")
    if down is not None:
        result.findings = [Finding(PROMETHEUS, Status.FAIL,
                                   f"Prometheus at {ctx.ep.prometheus} does not answer ({down})",
                                   "run `obs up`, then `obs logs prometheus`")]
    for service, addr in wanted:
        t = latest.get(addr)
        if t is None and down is None:
            result.findings.append(Finding(f"scrape {service}", Status.FAIL, f"Prometheus has no target {addr}",
                                           "run `obs generate` and restart Prometheus (`obs up`)"))
        elif t is not None and t.get("health") != "up":
            result.findings.append(Finding(f"scrape {service}", Status.FAIL,
                                           f"scraping {t.get('scrapeUrl', addr)} fails: {t.get('lastError') or 'down'}",
                                           f"make {service} serve metrics there, or run `obs verify --traffic`, which "
                                           "serves synthetic metrics on loopback targets nothing listens on"))
    if not result.findings:
        result.findings.append(Finding(PROMETHEUS, Status.FAIL,
                                       "no fresh scrape of the declared targets within the budget",
                                       "raise stack.verify_budget above the scrape interval"))
    result.summary = f"scrape path: {result.findings[0].why}"
    return result
