"""obs's whole tree against Sloth's rules alone, on the same 1,000 services x 3 SLOs, in the same run.

    python bench/generate_vs_sloth.py [--services 1000] [--runs 1] [--without dashboards] [--rulers]
                                      [--names numbered|realistic] [--various] [--richer] [--shuffled]
                                      [--distinct] [--own-objectives]
    python bench/generate_vs_sloth.py --spec obs.yaml [--runs 1] [--without dashboards]

The SLOs are those of bench/generate_at_scale.py (per service: HTTP availability 99.9, latency 99 under 500ms,
an events SLO on jobs_total). Sloth v0.16.0 (built from the Go module proxy at its pin, or taken from obs's tool
cache) gets the same three SLOs per service as its own spec, one file per service, the events written as the
queries obs's SLIs read. Each tool runs as its own process, timed from start to exit: `obs generate` (spec to a
written tree: rules, tests, configs, dashboards, OpenSLO, compose, Kubernetes), then `obs generate --check` on
that tree, then `sloth generate` (spec to rule files). Printed: wall and CPU seconds and peak RSS of each, and
the ratios obs/Sloth. With `--spec`, any obs spec of your own instead: Sloth gets its SLOs as sloth_from_model()
writes them. Goal (issue 17): obs <= 1.0x Sloth's time, obs peak RSS <= 200 MB, --check <= generate. Last, what
obs's stamp makes of the spec (stamping()): where most services are rendered in full, each has a field of its own
that the stamp cannot stand in for, and obs's time is a full render's per service.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_at_scale import add_settings_arguments, named, settings, spec, variety  # noqa: E402

import obs  # noqa: E402
from obs.errors import ObsError  # noqa: E402
from obs.generate import stampings  # noqa: E402
from obs.generate.slo import sli  # noqa: E402
from obs.generate.stamp import Stamping  # noqa: E402
from obs.generate.stamp_tree import Deferred  # noqa: E402
from obs.model import conventions as c  # noqa: E402
from obs.model.domain import SLO, Model  # noqa: E402
from obs.model.kinds import Severity, SliKind  # noqa: E402
from obs.project import load_model  # noqa: E402
from obs.stack import build  # noqa: E402


@dataclass
class Run:
    wall: float
    cpu: float          # user + system of the process
    rss_mib: float      # its peak resident set


# Starts the command timed() runs, and reports its rusage as JSON. A process's peak RSS counts the memory of the
# process it was forked from, until it runs its own program: once this benchmark had read a spec of a thousand
# services written out in full (72 MiB), every command it started read as at least that much, over obs's own 68 MiB.
# Started from here a command counts this small interpreter's instead (under 11 MiB), and its wall time is its own.
_LAUNCHER = """
import json, os, sys, time
devnull = os.open(os.devnull, os.O_WRONLY)
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss]))
"""


def timed(argv: list[str], cwd: Path | None = None) -> Run:
    """Run `argv` to completion, started by a small launcher (_LAUNCHER); its own rusage (os.wait4), not that of
    every child so far. The filesystem is synced first, so neither tool pays for the writeback of what ran before
    it."""
    os.sync()
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the launcher of {' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    wall, code, cpu, rss_kib = json.loads(done.stdout)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}):\n{done.stderr}")
    return Run(wall, cpu, rss_kib / 1024)


def seconds(duration: str) -> str:
    return str(float(duration[:-2]) / 1000) if duration.endswith("ms") else duration[:-1]


def sloth_specs(services: int, out: Path, names: str = "numbered", **options: Any) -> None:
    """The same SLOs in Sloth's prometheus/v1 format, as event queries over the series obs's SLIs read (with
    `options`, settings()' objectives and thresholds; Sloth has no grouping, so a grouped SLO is one SLO)."""
    count, bucket = f"{c.HTTP_DURATION}_count", f"{c.HTTP_DURATION}_bucket"
    out.mkdir()
    for i in range(services):
        name, _, slos = named(i, names)
        objective, threshold, _, _ = settings(i, **options)
        sel = f'{c.SERVICE_NAME_LABEL}="{name}"'
        total = f"sum(rate({count}{{{sel}}}[{{{{.window}}}}]))"
        docs = [f"""  - name: availability
    objective: {objective}
    sli:
      events:
        error_query: sum(rate({count}{{{sel},{c.HTTP_STATUS_LABEL}=~"5.."}}[{{{{.window}}}}]))
        total_query: {total}
    alerting: &alerting
      name: SlothBurn
      page_alert: {{labels: {{severity: page}}}}
      ticket_alert: {{labels: {{severity: ticket}}}}
""", f"""  - name: latency
    objective: 99
    sli:
      events:
        error_query: ({total} - sum(rate({bucket}{{{sel},le="{seconds(threshold)}"}}[{{{{.window}}}}])))
        total_query: {total}
    alerting: *alerting
""", f"""  - name: jobs
    objective: 99
    sli:
      events:
        error_query: sum(rate(jobs_total{{{sel},outcome="failure"}}[{{{{.window}}}}]))
        total_query: sum(rate(jobs_total{{{sel}}}[{{{{.window}}}}]))
    alerting: *alerting
"""]
        (out / f"{name}.yml").write_text(f"version: prometheus/v1\nservice: {name}\nslos:\n" + "".join(docs[:slos]))


SLOTH_WINDOW = "{{.window}}"


def _sloth_sli(slo: SLO) -> list[str]:
    """The SLO's SLI in Sloth's terms, as the lines under `sli:`: the event queries obs's own rules read over every
    form of the HTTP histogram (availability, latency: the requests judged, less those under the threshold), an
    events SLI's queries as written, a raw one as Sloth's raw query."""
    w, kind = SLOTH_WINDOW, slo.sli.kind
    if kind == SliKind.RAW:
        return ["raw:", f"  error_ratio_query: {_block(str(slo.sli.error_ratio_query).replace(sli.WINDOW, w))}"]
    if kind == SliKind.EVENTS:
        error, total = (str(q).replace(sli.WINDOW, w) for q in (slo.sli.error_query, slo.sli.total_query))
    elif kind == SliKind.AVAILABILITY:
        error, total = sli.http_counts(slo, failed=True, window=w), sli.http_counts(slo, window=w)
    else:
        total = sli.http_counted(slo, window=w)
        error = f"clamp_min(\n{total}\n- ({sli.http_fast(slo, window=w)}),\n0\n)"
    return ["events:", f"  error_query: {_block(error)}", f"  total_query: {_block(total)}"]


def _block(query: str) -> str:
    """A query as a YAML literal block at the depth of sloth_from_model()'s SLI queries."""
    return "|-\n" + "\n".join(" " * 10 + line for line in query.split("\n"))


def sloth_from_model(model: Model, out: Path) -> int:
    """The SLOs of any obs spec in Sloth's prometheus/v1 format, one file per service with SLOs (_sloth_sli()), each
    alerting on the severities its tiers have; returns how many SLOs. Sloth has no grouping (a grouped SLO's queries
    sum by its labels, so Sloth records a ratio per group all the same), no tiers of one's own (it writes the SRE
    workbook's four) and one period per run (its default, 30d): the same SLOs, not the same rules."""
    out.mkdir()
    count = 0
    for service in model.services:
        docs = []
        for slo in service.slos:
            severities = {t.severity for t in slo.tiers}
            docs += [f"  - name: {slo.name}", f"    objective: {slo.objective}", "    sli:",
                     *("      " + line for line in _sloth_sli(slo)),
                     "    alerting:", "      name: SlothBurn",
                     *(f"      {s}_alert: " + (f"{{labels: {{severity: {s}}}}}" if s in severities
                                                   else "{disable: true}") for s in (Severity.PAGE, Severity.TICKET))]
        if docs:
            (out / f"{service.name}.yml").write_text(
                f"version: prometheus/v1\nservice: {service.name}\nslos:\n" + "\n".join(docs) + "\n")
            count += len(service.slos)
    return count


def stamping(model: Model) -> str:
    """What obs's stamp (obs.generate.stamp, obs.generate.units) makes of the spec, in this process: its shapes of
    service, and where their renders in full would be many, its shapes of SLO (the units: each SLO's part of its
    service's files) with the services' frames (cheap); the renders that prove their stamps; and the services,
    frames and SLOs rendered in full besides. Where most are rendered in full, each is a shape of its own (an
    objective of its own)."""
    stamps = stampings(model)
    jobs = stamps.jobs()
    done = [job() for job in jobs]
    if isinstance(stamps, Stamping):
        files = stamps.made(done)
        in_full = {made.owner for made in files.values() if type(made) is Deferred}
        return (f"obs's stamp    {stamps.shapes} shapes of {len(model.services)} services, {len(jobs)} renders to "
                f"prove them, {len(in_full)} services rendered in full besides")
    fulls = stamps.then(done)
    in_full = [len({made.owner for made in s.files(full).values() if type(made) is Deferred})
               for s, full in zip(stamps.all, fulls, strict=True)]
    services, slos = stamps.shapes
    count = sum(len(s.slos) for s in model.services)
    return (f"obs's stamp    {services} shapes of {len(model.services)} services, {slos} of {count} SLOs (as units), "
            f"{len(jobs)} renders to prove them; {in_full[0]} frames and {sum(in_full[1:])} SLOs rendered in full "
            "besides")


def obs_argv(without: list[str], *args: str) -> list[str]:
    """`obs generate ...` in a fresh interpreter, as the `obs` command runs; with `without`, those generator modules
    left out."""
    if not without:
        return [sys.executable, "-m", "obs", *args]
    code = ("import sys, obs.generate as g; "
            f"g.MODULES = tuple(m for m in g.MODULES if not m.startswith({tuple(without)!r})); "
            "from obs.cli import main; sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, *args]


def tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1, help="Runs of each tool; the fastest is reported.")
    parser.add_argument("--without", action="append", default=[], metavar="PREFIX",
                        help="Leave out obs's generator modules starting with PREFIX (say, dashboards).")
    parser.add_argument("--rulers", action="store_true",
                        help="Name both scale-out rulers in obs's spec: two more copies of every rule group.")
    parser.add_argument("--names", choices=("numbered", "realistic"), default="numbered",
                        help="The services of bench/generate_at_scale.py's spec: numbered (svc-0000 ..., 3 SLOs each) "
                        "or realistic (<domain>-<component>[-<region>], 1 to 3 SLOs); Sloth gets the same SLOs.")
    add_settings_arguments(parser)
    parser.add_argument("--spec", type=Path, metavar="OBS_YAML",
                        help="Time this obs spec of your own instead of the generated one; Sloth gets its SLOs "
                        "(sloth_from_model()). The options that shape the generated spec do not apply.")
    args = parser.parse_args()
    if args.spec and (args.rulers or args.names != "numbered" or any(variety(args).values())):
        parser.error("--spec times the spec as written: drop --rulers, --names and the settings options")
    model = None
    if args.spec:   # before Sloth is built: a spec obs refuses is reported at once
        try:
            model = load_model(args.spec)
        except ObsError as e:   # as `obs validate` reports it: every problem, located
            raise SystemExit(f"{e}\n(`obs validate {args.spec}` says the same)") from None
        if not any(s.slos for s in model.services):
            raise SystemExit(f"{args.spec}: no service has an SLO, so Sloth has nothing to generate: "
                             "give a service `slos:` to compare the two")
    sloth = build.ensure(["sloth"], progress=lambda m: print(m, file=sys.stderr))["sloth"]
    # obs as installed: pip compiles a package's modules to bytecode, but an editable install under
    # PYTHONDONTWRITEBYTECODE (set in many CI and container shells) would compile all of obs again on every run.
    compileall.compile_dir(str(Path(obs.__file__).parent), quiet=1)

    work = Path(tempfile.mkdtemp(prefix="obs-vs-sloth-"))
    try:
        if model is not None:   # read where it is, so that the files it names by relative path are found
            spec_path, services = args.spec.resolve(), len(model.services)
            slos = sloth_from_model(model, work / "sloth-specs")
        else:
            spec_path, services = work / "obs.yaml", args.services
            slos = sum(named(i, args.names)[2] for i in range(services))
            spec_path.write_text(spec(args.services, rulers=args.rulers, names=args.names, **variety(args)))
            sloth_specs(args.services, work / "sloth-specs", args.names, **variety(args))
        runs: dict[str, list[Run]] = {"obs generate": [], "obs generate --check": [], "sloth generate": []}
        # Every run writes into folders of its own, and nothing is deleted until all runs are done: on ext4
        # without a journal (this VM's root), a file created within minutes of thousands being deleted costs
        # up to 30x more, the allocator skipping each recently deleted inode (ext4 recently_deleted()), so
        # clearing one tool's tree before a run would time the deletion's aftermath, not the tool.
        for i in range(args.runs):
            (work / f"sloth-out-{i}").mkdir()
            out = ["--out", str(work / f"out-{i}")]
            runs["obs generate"].append(timed(obs_argv(args.without, "generate", str(spec_path), *out)))
            runs["obs generate --check"].append(
                timed(obs_argv(args.without, "generate", str(spec_path), *out, "--check")))
            runs["sloth generate"].append(timed([str(sloth), "generate", "--no-log", "-i", str(work / "sloth-specs"),
                                                 "-o", str(work / f"sloth-out-{i}")]))
        best = {name: min(rs, key=lambda r: r.wall) for name, rs in runs.items()}
        obs_files, obs_bytes = tree_size(work / "out-0")
        sloth_files, sloth_bytes = tree_size(work / "sloth-out-0")
        print(f"{services} services, {slos} SLOs" + (f", {args.spec}" if args.spec else "")
              + (f", obs without {', '.join(args.without)}" if args.without else "")
              + (", obs with both rulers' copies" if args.rulers else "")
              + ("" if args.spec else f", {args.names} names")
              + (", richer settings each drawn at random" + (f" from the first {args.values} values of each"
                                                              if args.values else "")
                 if args.shuffled else ", richer various settings"
                 if args.richer else ", various settings" if args.various else "")
              + (", a latency threshold per service" if args.distinct else "")
              + (", an availability objective per service" if args.own_objectives else "")
              + (", a runbook of each SLO's own" if args.own_texts else "")
              + f"; best of {args.runs} run(s) each")
        print(f"obs output   {obs_files:6d} files {obs_bytes / 2**20:7.1f} MiB")
        print(f"sloth output {sloth_files:6d} files {sloth_bytes / 2**20:7.1f} MiB")
        for name, r in best.items():
            print(f"{name:22s} {r.wall:7.2f} s wall {r.cpu:7.2f} s cpu {r.rss_mib:7.0f} MiB peak RSS")
        o, s, k = best["obs generate"], best["sloth generate"], best["obs generate --check"]
        print(f"obs / sloth    {o.wall / s.wall:5.2f}x wall  {o.cpu / s.cpu:5.2f}x cpu   (goal <= 1.0x)")
        print(f"obs peak RSS   {o.rss_mib:5.0f} MiB   (goal <= 200 MB)")
        print(f"--check / generate  {k.wall / o.wall:5.2f}x wall  {k.cpu / o.cpu:5.2f}x cpu   (goal <= 1.0x)")
        print(f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
        print(stamping(model if model is not None else load_model(spec_path)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
