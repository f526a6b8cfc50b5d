"""Generation at scale: 1,000 services x 3 SLOs, from spec text to a written tree.

    python bench/generate_at_scale.py [--services 1000] [--layout templated|per_service] [--keep DIR]
                                      [--without dashboards] [--by-generator] [--rulers]
                                      [--names numbered|realistic] [--various] [--richer] [--shuffled]
                                      [--distinct] [--own-objectives] [--write-spec FILE]

Prints the wall and CPU time of each phase (load+validate, render, write, an unchanged rewrite, --check),
peak memory (tracemalloc's peak of Python allocations, and the process's max RSS), and ratios
against floors measured on the same machine in the same run: the time to json.dumps and to write
the same number of bytes into the same number of files. The spec is written to a temporary
directory; nothing is left behind unless --keep is given. bench/generate_vs_sloth.py runs the same
SLOs through the obs CLI and Sloth side by side.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections import Counter
from importlib import import_module
from pathlib import Path
from typing import Any

import obs.generate
from obs.emit import writer
from obs.generate import LAYOUT, kubernetes, render
from obs.generate.common import Inputs
from obs.project import load_model

DOMAINS = ("payments", "checkout", "search", "catalog", "identity", "billing", "shipping", "inventory", "reviews",
           "ads", "ml", "notify", "media", "profile", "pricing", "fraud", "ledger", "gateway", "orders", "cart")
COMPONENTS = ("api", "worker", "web", "consumer", "scheduler", "indexer", "gateway", "sync", "export", "admin",
              "events", "cache-warmer", "grpc", "batch", "stream", "ingest", "render", "proxy", "auth", "store")
REGIONS = ("", "-eu", "-us", "-ap")


def realistic(i: int) -> tuple[str, str, int]:
    """(name, team, SLOs) of the i-th service as a platform team names them: <domain>-<component>[-<region>], the
    domain's team, and three SLOs for one in three services, two for one in three, availability alone for the rest."""
    domain, rest = DOMAINS[i % len(DOMAINS)], i // len(DOMAINS)
    component, region = COMPONENTS[rest % len(COMPONENTS)], REGIONS[(rest // len(COMPONENTS)) % len(REGIONS)]
    return f"{domain}-{component}{region}", domain, 3 - i % 3


OBJECTIVES = (99.9, 99.5, 99.95, 99)
THRESHOLDS = ("500ms", "250ms", "1s")
# --richer: as many values as a large platform's services hold between them.
RICHER_OBJECTIVES = (*OBJECTIVES, 99.99, 99.8)
RICHER_THRESHOLDS = (*THRESHOLDS, "300ms", "200ms", "750ms", "2s")


def varied(i: int, richer: bool = False, shuffled: bool = False, values: int = 0) -> tuple[float, str, bool, bool]:
    """(availability objective, latency threshold, classic histogram, latency per route) of the i-th service of a
    varied spec: objectives of four values, thresholds of three (`richer`: six and seven), a quarter of the services
    on classic histograms (whose thresholds must be bucket boundaries: 500ms), one in six latency SLOs grouped by
    route. Each setting cycles with i, so services that share one share most others: 33 shapes of service at a
    thousand with `richer` and realistic names. `shuffled`: the richer values, each drawn on its own (a seeded random
    draw per service), as a spec written by a script that picks each setting at random: 171 shapes at a thousand with
    realistic names, most of a few members, and the stamp's worst realistic case (obs.generate.stamp). `values`:
    with `shuffled`, the objectives and thresholds drawn from are the first `values` of each (0: all), so that the
    number of shapes, and with it the cost of a render, can be set (BENCHMARKS.md, "how many shapes")."""
    if shuffled:
        draw = random.Random(i * 7919 + 13)
        classic = draw.random() < 0.25
        objectives, thresholds = RICHER_OBJECTIVES[:values or None], RICHER_THRESHOLDS[:values or None]
        return (draw.choice(objectives), "500ms" if classic else draw.choice(thresholds), classic,
                draw.random() < 1 / 6)
    objectives, thresholds = (RICHER_OBJECTIVES, RICHER_THRESHOLDS) if richer else (OBJECTIVES, THRESHOLDS)
    classic = i % 4 == 0
    return (objectives[i % len(objectives)], "500ms" if classic else thresholds[i % len(thresholds)], classic,
            i % 6 == 1)


def distinct_threshold(i: int) -> str:
    """A latency threshold of the i-th service's own (native histograms read any): before thresholds were stood in
    for (obs.generate.stamp_thresholds), the stamp's worst case, every service its own shape, rendered in full; now
    services share a shape where their thresholds fall between the same schema-0 buckets."""
    return f"{100 + i}ms"


def own_objective(i: int) -> float:
    """An availability objective of the i-th service's own (99.001 to 99.999, as a script that draws them from a
    range writes them): every service its own shape, rendered in full, for the stamp has no stand-in for an objective
    (what the promtool suites expect is worked out from it). The stamp's worst case, and the full render's cost."""
    return round(99 + (i % 999 + 1) / 1000, 3)


def settings(i: int, various: bool = False, distinct: bool = False, richer: bool = False, shuffled: bool = False,
             own_objectives: bool = False, values: int = 0, own_texts: bool = False) -> tuple[float, str, bool, bool]:
    """varied(i, richer, shuffled) with `various`, `richer` or `shuffled`, else the defaults; with `distinct`, the
    threshold of distinct_threshold(i) where the histogram is native; with `own_objectives`, the availability
    objective of own_objective(i). `values` goes to varied(); `own_texts`, one of VARIETY, sets no setting (spec()
    writes the runbooks)."""
    objective, threshold, classic, grouped = (varied(i, richer, shuffled, values) if various or richer or shuffled
                                              else (99.9, "500ms", False, False))
    return (own_objective(i) if own_objectives else objective,
            distinct_threshold(i) if distinct and not classic else threshold, classic, grouped)


# settings()' options, as in argparse
VARIETY = ("various", "distinct", "richer", "shuffled", "own_objectives", "values", "own_texts")


def variety(args: argparse.Namespace) -> dict[str, Any]:
    """The settings() options add_settings_arguments() parsed, by name: for spec(), settings() and Sloth's specs."""
    return {name: getattr(args, name) for name in VARIETY}


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """--various, --richer, --shuffled (and its --values), --distinct and --own-objectives: the per-service settings()
    of this benchmark's spec and of bench/generate_vs_sloth.py's, which gives Sloth the same objectives and
    thresholds."""
    parser.add_argument("--various", action="store_true",
                        help="Services as a team writes them: descriptions, owners, runbooks, calls, and objectives, "
                        "thresholds, histograms and groupings that vary (bench/generate_at_scale.py varied()).")
    parser.add_argument("--richer", action="store_true",
                        help="--various with objectives of six values and thresholds of seven: more shapes of service, "
                        "fewer members each.")
    parser.add_argument("--shuffled", action="store_true",
                        help="--richer with each setting of each service drawn at random on its own (seeded): the "
                        "many shapes of few members a script that picks settings at random writes.")
    parser.add_argument("--values", type=int, default=0, metavar="K",
                        help="With --shuffled: draw each objective and threshold from the first K values of "
                        "--richer's six and seven (default: all), for fewer shapes of more members.")
    parser.add_argument("--distinct", action="store_true",
                        help="Each service its own latency threshold (100ms, 101ms, ...): services share a shape "
                        "only where their thresholds fall between the same schema-0 buckets "
                        "(obs.generate.stamp_thresholds).")
    parser.add_argument("--own-texts", action="store_true",
                        help="Each SLO its own runbook, by the service's number (bench/generate_at_scale.py "
                        "own_runbook()): texts of each service's own, stood in for (obs.generate.stamp_texts).")
    parser.add_argument("--own-objectives", action="store_true",
                        help="Each service its own availability objective (99.001, 99.002, ...): every service its "
                        "own shape, rendered in full (bench/generate_at_scale.py own_objective()).")


def own_runbook(i: int, slo: str) -> str:
    """A runbook of the i-th service's SLO as a wiki numbers its pages: by the service's number, not its name. Before
    obs stood in for a service's texts (obs.generate.stamp_texts), every service was then a shape of its own."""
    return f"https://runbooks.example.com/{1000 + i}/{slo}"


def named(i: int, names: str) -> tuple[str, str, int]:
    return realistic(i) if names == "realistic" else (f"svc-{i:04d}", f"team-{i % 20}", 3)


def spec(services: int, layout: str = "templated", rulers: bool = False, names: str = "numbered",
         various: bool = False, distinct: bool = False, richer: bool = False, shuffled: bool = False,
         own_objectives: bool = False, values: int = 0, own_texts: bool = False) -> str:
    """Each service: HTTP availability and latency SLOs, and an events SLO, like the repo's api-gateway (numbered:
    svc-0000, ... of 20 teams); or names, teams and SLO sets of realistic(). `various`: as a team writes them, each
    with its description, owner and runbooks, one in five calling two others, and the settings of varied().
    `richer`: `various`, with the more values of varied(richer=True); `shuffled`: those drawn at random on their
    own (varied(shuffled=True)). `distinct`: each service its own latency threshold, distinct_threshold();
    `own_objectives`: its own availability objective, own_objective(); `values`: with `shuffled`, see varied();
    `own_texts`: each SLO its own runbook, by the service's number (own_runbook())."""
    various = various or richer or shuffled
    lines = ["version: obs/v1", "project: scale", "services:"]
    for i in range(services):
        name, team, slos = named(i, names)
        objective, threshold, classic, grouped = settings(i, various, distinct, richer, shuffled, own_objectives,
                                                          values)
        lines += [f"  - name: {name}", f"    team: {team}"]
        if various:
            lines += [f"    description: The {name.split('-')[1]} of {team}, run by on-call rota #{i % 37}.",
                      f"    owner: oncall-{team}"]
            if i % 5 == 0:
                lines += [f"    calls: [{named((i + 1) % services, names)[0]}, {named((i + 7) % services, names)[0]}]"]
            if classic:
                lines += ["    histogram: classic"]
        runbook = (f", alerting: {{runbook_url: '{own_runbook(i, 'availability')}'}}" if own_texts else
                   f", alerting: {{runbook_url: 'https://runbooks.example.com/{name}'}}" if various else "")
        lines += ["    http: true", "    slos:",
                  f"      - {{name: availability, objective: {objective}, sli: {{availability: {{}}}}{runbook}}}"]
        if slos > 1:
            group = ", group_by: [http_route]" if grouped else ""
            own = f", alerting: {{runbook_url: '{own_runbook(i, 'latency')}'}}" if own_texts else ""
            lines += [f"      - {{name: latency, objective: 99, sli: {{latency: {{threshold: {threshold}}}}}"
                      f"{group}{own}}}"]
        if slos > 2:
            lines += ["      - name: jobs", "        objective: 99", "        sli:", "          events:",
                      f"            error_query: sum(rate(jobs_total{{service_name=\"{name}\",outcome=\"failure\"}}"
                      "[{{window}}]))",
                      f"            total_query: sum(rate(jobs_total{{service_name=\"{name}\"}}[{{{{window}}}}]))"]
            if own_texts:
                lines += [f"        alerting: {{runbook_url: '{own_runbook(i, 'jobs')}'}}"]
    lines += ["alerting:", "  receivers:", "    - {name: pager, pagerduty: {routing_key: {env: PD_KEY}}}",
              "    - {name: chat, slack: {api_url: {env: SLACK_URL}, channel: '#alerts'}}", "  routes:",
              "    - {match: {severity: page}, receiver: pager}", "    - {match: {severity: ticket}, receiver: chat}",
              f"dashboards: {{layout: {layout}}}"] + (["rulers: [thanos, cortex]"] if rulers else [])
    return "\n".join(lines) + "\n"


CPU: list[float] = []   # the CPU seconds of each timed() call, in order: the machine is shared, wall time is not all


def timed(fn):
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU.append(time.process_time() - cpu)
    return result, time.perf_counter() - start


def floor_write(root: Path, files: dict[str, str]) -> float:
    """Plain writes of the same bytes into the same number of files (no fsync, no staging): the I/O floor."""
    start = time.perf_counter()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--layout", choices=("templated", "per_service"), default="templated",
                        help="The spec's dashboards.layout.")
    parser.add_argument("--keep", type=Path, help="Generate here and keep the result.")
    parser.add_argument("--write-spec", type=Path, metavar="FILE",
                        help="Only write the spec these options make to FILE, and stop: to read it, or to time it "
                        "against Sloth with bench/generate_vs_sloth.py --spec FILE.")
    parser.add_argument("--rulers", action="store_true",
                        help="Name both scale-out rulers in the spec: two more copies of every rule group.")
    parser.add_argument("--names", choices=("numbered", "realistic"), default="numbered",
                        help="numbered: svc-0000 ... with 3 SLOs each; realistic: <domain>-<component>[-<region>], "
                        "teams by domain, 1 to 3 SLOs.")
    add_settings_arguments(parser)
    parser.add_argument("--by-generator", action="store_true", help="Also time each generator module on its own.")
    parser.add_argument("--trace-memory", action="store_true",
                        help="Also measure load+render again under tracemalloc (slow) for the peak of Python "
                        "allocations.")
    parser.add_argument("--without", action="append", default=[], metavar="PREFIX",
                        help="Leave out the generator modules starting with PREFIX (say, dashboards), to see the rest.")
    args = parser.parse_args()
    obs.generate.MODULES = tuple(m for m in obs.generate.MODULES if not m.startswith(tuple(args.without)))
    if args.write_spec:
        args.write_spec.write_text(spec(args.services, args.layout, args.rulers, args.names, **variety(args)))
        return

    work = Path(tempfile.mkdtemp(prefix="obs-scale-"))
    out = args.keep or work / "out"
    spec_path = work / "obs.yaml"
    spec_path.write_text(spec(args.services, args.layout, args.rulers, args.names, **variety(args)))
    try:
        model, t_load = timed(lambda: load_model(spec_path))
        files, t_render = timed(lambda: render(model, Inputs()))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
        drift, t_write = timed(lambda: writer.write(out, files, LAYOUT))
        _, t_rewrite = timed(lambda: writer.write(out, files, LAYOUT))
        check, t_check = timed(lambda: writer.diff(out, files, LAYOUT))
        assert not check.changed and not check.missing and not check.extra

        size = sum(len(t.encode("utf-8")) for t in files.values())
        payload = {rel: text for rel, text in files.items()}
        _, t_json = timed(lambda: json.dumps(payload))
        t_floor_write = floor_write(work / "floor", files)
        slos = sum(len(s.slos) for s in model.services)

        print(f"spec: {args.services} services, {slos} SLOs, {spec_path.stat().st_size / 1024:.0f} KiB of YAML")
        print(f"output: {len(files)} files, {size / 2**20:.1f} MiB "
              f"({', '.join(f'{top}: {n}' for top, n in sorted(Counter(r.split('/')[0] for r in files).items()))})")
        boards = [t for r, t in files.items() if r.startswith(("dashboards/", "deploy/kubernetes/dashboards/"))]
        print(f"dashboards ({args.layout}): {len(boards)} files with their ConfigMaps, "
              f"{sum(len(t.encode('utf-8')) for t in boards) / 2**20:.2f} MiB")
        c_load, c_render, c_write, c_rewrite, c_check = CPU[:5]
        print(f"load+validate  {t_load:8.2f} s   cpu {c_load:6.2f} s")
        print(f"render         {t_render:8.2f} s   cpu {c_render:6.2f} s   {t_render / slos * 1000:.2f} ms per SLO, "
              f"{t_render / (size / 2**20):.2f} s per MiB")
        print(f"write          {t_write:8.2f} s   cpu {c_write:6.2f} s   ({len(drift.missing)} new files, staged, "
              "one syncfs, journal commit)")
        print(f"rewrite        {t_rewrite:8.2f} s   cpu {c_rewrite:6.2f} s   (unchanged: compare only)")
        print(f"--check        {t_check:8.2f} s   cpu {c_check:6.2f} s")
        print(f"total          {t_load + t_render + t_write:8.2f} s   cpu {c_load + c_render + c_write:6.2f} s   "
              "load+render+write")
        print(f"peak memory    {rss:8.0f} MiB max RSS after load+render")
        print(f"floor json.dumps of the output  {t_json:6.2f} s   render is {t_render / t_json:.0f}x that")
        print(f"floor plain write of the files  {t_floor_write:6.2f} s   write is {t_write / t_floor_write:.1f}x that")
        if args.by_generator:
            for name in obs.generate.MODULES:
                module = import_module(f"obs.generate.{name}")
                # In render()'s order: the first module that needs a shared part (the rule groups) builds it.
                part, took = timed(lambda module=module: module.generate(model, Inputs()))
                print(f"  {name:22s} {took:7.2f} s  {len(part):5d} files  "
                      f"{sum(len(t.encode('utf-8')) for t in part.values()) / 2**20:7.1f} MiB")
            # Derived from the others' output (it wraps the dashboards' JSON), so timed over the rendered tree.
            part, took = timed(lambda: kubernetes.derive(model, files))
            obs.generate.common.forget(model)
            print(f"  {'kubernetes (derived)':22s} {took:7.2f} s  {len(part):5d} files  "
                  f"{sum(len(t.encode('utf-8')) for t in part.values()) / 2**20:7.1f} MiB")
        if args.trace_memory:
            del files, model
            gc.collect()
            tracemalloc.start()
            render(load_model(spec_path), Inputs())
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"peak traced    {peak / 2**20:8.1f} MiB of Python allocations during load+render")
        print(f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
