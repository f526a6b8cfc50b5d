"""obs's SLO rules against Sloth v0.16.0's, in one real Prometheus over the same series.

    python bench/slo_vs_sloth.py [--slos 100] [--history 3d] [--warmup 6m] [--measure 12m]

100 availability SLOs (99.9%, 30d, the SRE workbook tiers) are generated twice: by obs
and by Sloth (built from the Go module proxy). Three days of healthy history are
backfilled with promtool (raw counters at 1m; obs's recorded windows, which a steady
history makes constant, every 4m), then Prometheus scrapes the live counters every 15s
and evaluates both rule sets. After the warm-up a quarter of the services fail 100% of
requests, a quarter 20%, a quarter 10%; the rest stay healthy.

Printed: each set's rule-evaluation time from Prometheus's own
prometheus_rule_group_last_duration_seconds (per evaluation round, and per minute given
each group's interval), and each set's time to page per scenario: obs's 1h/14.4x tier
against Sloth's page alert (whose 1h/14.4x condition is the first to hold with a full
healthy history). Goal: obs <= 0.5x Sloth's cost, detection equal or faster.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _slo_bench import HEALTHY, RATE, Exporter, Traffic, free_port, write_history  # noqa: E402

from obs.generate.common import Inputs  # noqa: E402
from obs.generate.slo import rules as slo_rules  # noqa: E402
from obs.generate.slo.windows import recorded_windows  # noqa: E402
from obs.model import conventions as c  # noqa: E402
from obs.model.durations import Duration  # noqa: E402
from obs.project import load_model  # noqa: E402
from obs.stack import build  # noqa: E402

SCENARIOS = (("100% errors", 1.0), ("20% errors", 0.2), ("10% errors", 0.1), ("healthy", HEALTHY))
SLOTH_ALERT = "SlothBurn"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def obs_rules(services: list[str], out: Path):
    spec = out / "obs.yaml"
    entries = "".join(f"  - name: {s}\n    http: true\n    slos:\n      - name: availability\n"
                      f"        objective: 99.9\n        sli: {{availability: {{}}}}\n" for s in services)
    spec.write_text(f"version: obs/v1\nproject: bench\nstack: {{profile: production}}\nservices:\n{entries}")
    model = load_model(spec)
    for path, text in slo_rules.generate(model, Inputs()).items():
        (out / "rules" / Path(path).name).write_text(text)
    return model


def sloth_rules(services: list[str], sloth: Path, out: Path) -> None:
    specs = out / "sloth-specs"
    specs.mkdir()
    for s in services:
        sel = f'service_name="{s}"'
        (specs / f"{s}.yml").write_text(f"""version: prometheus/v1
service: {s}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate({c.HTTP_DURATION}_count{{{sel},{c.HTTP_STATUS_LABEL}=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate({c.HTTP_DURATION}_count{{{sel}}}[{{{{.window}}}}]))
    alerting:
      name: {SLOTH_ALERT}
      page_alert: {{labels: {{severity: page}}}}
      ticket_alert: {{labels: {{severity: ticket}}}}
""")
    (out / "rules" / "sloth").mkdir()
    subprocess.run([str(sloth), "generate", "--no-log", "-i", str(specs), "-o", str(out / "rules" / "sloth")],
                   check=True, capture_output=True)


def group_costs(url: str) -> dict[str, tuple[float, float]]:
    """rule group -> (last evaluation seconds, interval seconds), from Prometheus's own /metrics."""
    last, interval = {}, {}
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        for name, into in (("prometheus_rule_group_last_duration_seconds{", last),
                           ("prometheus_rule_group_interval_seconds{", interval)):
            if line.startswith(name):
                group = line.split('rule_group="', 1)[1].split('"', 1)[0].split(";", 1)[1]
                into[group] = float(line.rsplit(" ", 1)[1])
    return {g: (last[g], interval[g]) for g in last if g in interval}


def first_pages(url: str, seen: dict, now: float) -> None:
    for a in requests.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]:
        labels = a["labels"]
        if a["state"] != "firing" or labels.get("severity") != "page":
            continue
        if labels["alertname"] == c.SLO_BURN_ALERT:
            keys = [("obs any page", labels["service"])]
            if labels.get(c.LABEL_TIER) == "1h":
                keys.append(("obs 1h tier", labels["service"]))
        elif labels["alertname"] == SLOTH_ALERT:
            keys = [("sloth page", labels["sloth_service"])]
        else:
            continue
        for key in keys:
            seen.setdefault(key, now)


def run(args: argparse.Namespace, out: Path) -> dict:
    bins = build.ensure(["prometheus", "sloth"], progress=log)
    services = [f"svc-{i:03d}" for i in range(args.slos)]
    (out / "rules").mkdir()
    model = obs_rules(services, out)
    sloth_rules(services, bins["sloth"], out)
    ratios = [SCENARIOS[min(i * len(SCENARIOS) // len(services), len(SCENARIOS) - 1)][1]
              for i in range(len(services))]
    port, prom_port = free_port(), free_port()
    now = time.time()
    traffic = Traffic(services, ratios, now - args.history, now + args.warmup, f"127.0.0.1:{port}", args.replicas)
    windows = [w for w in recorded_windows(model.slos[0]) if w <= Duration.parse("3d")]
    recorded = {**{c.slo_errors(str(w)): RATE * HEALTHY for w in windows},
                **{c.slo_events(str(w)): RATE for w in windows}}
    history = out / "history.om"
    log(f"writing {args.history / 86400:g}d of history")
    samples = write_history(history, traffic, now - 120, args.resolution, recorded, 240)
    log(f"backfilling {samples} samples with promtool")
    subprocess.run([str(bins["promtool"]), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
                    str(history), str(out / "data")], check=True, capture_output=True)
    history.unlink()
    (out / "prometheus.yml").write_text(f"""global: {{scrape_interval: 15s, evaluation_interval: 15s}}
rule_files: [rules/*.yml, rules/sloth/*.yml]
scrape_configs:
  - job_name: synthetic
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""")
    exporter = Exporter(port, time.time)
    exporter.traffic = traffic
    log_file = (out / "prometheus.log").open("w")
    prom = subprocess.Popen([str(bins["prometheus"]), f"--config.file={out / 'prometheus.yml'}",
                             f"--storage.tsdb.path={out / 'data'}", "--storage.tsdb.retention.time=30d",
                             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=log_file, stderr=log_file)
    url = f"http://127.0.0.1:{prom_port}"
    costs: dict[str, list[tuple[float, float]]] = {}
    fired: dict = {}
    try:
        deadline = traffic.switch_at + args.measure
        next_cost = 0.0
        while time.time() < deadline:
            time.sleep(1)
            if prom.poll() is not None:
                raise SystemExit(f"prometheus exited; see {out / 'prometheus.log'}")
            try:
                if time.time() >= traffic.switch_at:
                    first_pages(url, fired, time.time())
                if time.time() >= next_cost and time.time() > now + 90:
                    for g, v in group_costs(url).items():
                        costs.setdefault(g, []).append(v)
                    next_cost = time.time() + 15
            except requests.RequestException:
                continue
    finally:
        prom.terminate()
        prom.wait(30)
        exporter.close()
    return summarise(services, ratios, traffic.switch_at, fired, costs, samples)


def summarise(services, ratios, switch_at, fired, costs, samples) -> dict:
    def cost(prefix: str) -> dict:
        groups = {g: v for g, v in costs.items() if g.startswith(prefix)}
        per_round = sum(statistics.mean(d for d, _ in v) for v in groups.values())
        per_minute = sum(statistics.mean(d * 60 / i for d, i in v) for v in groups.values())
        return {"groups": len(groups), "seconds_per_round": per_round, "seconds_per_minute": per_minute}
    result = {"slos": len(services), "backfilled_samples": samples, "obs": cost("obs-slo-"),
              "sloth": cost("sloth-slo-"), "detection": {}}
    for name, ratio in SCENARIOS:
        members = [s for s, r in zip(services, ratios, strict=True) if r == ratio]
        row = {}
        for rule_set in ("obs 1h tier", "obs any page", "sloth page"):
            times = [fired[(rule_set, s)] - switch_at for s in members if (rule_set, s) in fired]
            row[rule_set] = {"paged": len(times), "of": len(members),
                             "median_seconds": round(statistics.median(times), 1) if times else None}
        result["detection"][name] = row
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--slos", type=int, default=100)
    p.add_argument("--history", default="3d", help="healthy history to backfill (Sloth's longest raw window)")
    p.add_argument("--warmup", default="6m", help="live scraping before the errors start")
    p.add_argument("--measure", default="12m", help="how long to watch for pages after the errors start")
    p.add_argument("--replicas", type=int, default=2, help="instances per service; each has a 200 and a 500 series")
    p.add_argument("--resolution", default="30s", help="sample interval of the backfilled raw history")
    p.add_argument("--keep", type=Path, help="keep the rules, data and log here")
    args = p.parse_args()
    for name in ("history", "warmup", "measure", "resolution"):
        setattr(args, name, Duration.parse(getattr(args, name)).s)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        result = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="obs-bench-slo-") as tmp:
            result = run(args, Path(tmp))
    o, s = result["obs"], result["sloth"]
    print(json.dumps(result, indent=2))
    print(f"\nrule evaluation, {result['slos']} SLOs: obs {o['seconds_per_minute']:.3f} s/min "
          f"({o['groups']} groups), Sloth {s['seconds_per_minute']:.3f} s/min ({s['groups']} groups): "
          f"ratio {o['seconds_per_minute'] / s['seconds_per_minute']:.3f}x per minute, "
          f"{o['seconds_per_round'] / s['seconds_per_round']:.3f}x per evaluation round")
    for name, row in result["detection"].items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v['median_seconds']}s ({v['paged']}/{v['of']})"
                                          for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
