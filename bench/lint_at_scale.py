"""`obs lint` on 1,000 services against `obs generate` on the same spec, in the same run.

    python bench/lint_at_scale.py [--services 1000] [--runs 3] [--names numbered|realistic]
                                  [--various] [--richer] [--shuffled] [--distinct] [--own-objectives]

Lint renders the whole tree as generate does, then reads it back the way the components read it (secrets,
binds, routing, grouped SLOs' series): generate's time is its floor. Each command runs as its own process,
timed from start to exit (bench/generate_vs_sloth.py's timed(), best of --runs, interleaved). Printed: wall and
CPU seconds and peak RSS of each, the ratio lint/generate, and what reading every YAML artifact back costs
through libyaml against the pure parser alone (obs.emit.yaml_read, in this process, best of --runs), with both
reads checked equal.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_at_scale import add_settings_arguments, spec, variety  # noqa: E402
from generate_vs_sloth import Run, timed  # noqa: E402

from obs.emit import yaml_read  # noqa: E402
from obs.generate import render  # noqa: E402
from obs.project import load_model  # noqa: E402


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def read_back(texts: list[str], runs: int, pure: bool) -> tuple[float, list[list[object]]]:
    """The best time to read every text with yaml_read.load_all, and what it read; `pure`: libyaml kept out."""
    fast = yaml_read.fast_compose
    if pure:
        yaml_read.fast_compose = lambda text: None   # type: ignore[assignment]
    try:
        times, read = [], []
        for _ in range(runs):
            start = time.perf_counter()
            read = [yaml_read.load_all(t) for t in texts]
            times.append(time.perf_counter() - start)
        return min(times), read
    finally:
        yaml_read.fast_compose = fast   # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--names", choices=("numbered", "realistic"), default="numbered")
    add_settings_arguments(parser)
    args = parser.parse_args()
    obs = [sys.executable, "-m", "obs"]
    with tempfile.TemporaryDirectory(prefix="obs-lint-bench-") as tmp:
        spec_path = Path(tmp) / "obs.yaml"
        spec_path.write_text(spec(args.services, names=args.names, **variety(args)))
        generated: list[Run] = []
        linted: list[Run] = []
        for i in range(args.runs):
            generated.append(timed([*obs, "generate", str(spec_path), "--out", str(Path(tmp) / f"out-{i}")]))
            linted.append(timed([*obs, "lint", str(spec_path)]))
        gen, lint = best(generated), best(linted)
        print(f"{args.services} services, {args.names} names; best of {args.runs} run(s) each")
        print(f"obs generate   {gen.wall:6.2f} s wall  {gen.cpu:6.2f} s cpu  {gen.rss_mib:5.0f} MiB peak RSS")
        print(f"obs lint       {lint.wall:6.2f} s wall  {lint.cpu:6.2f} s cpu  {lint.rss_mib:5.0f} MiB peak RSS")
        print(f"lint / generate   {lint.wall / gen.wall:.2f}x wall   {lint.cpu / gen.cpu:.2f}x cpu")
        tree = render(load_model(spec_path))
        texts = [tree[p] for p in tree if p.endswith((".yml", ".yaml"))]
        fast, fast_read = read_back(texts, args.runs, pure=False)
        pure, pure_read = read_back(texts, args.runs, pure=True)
        if fast_read != pure_read:
            raise SystemExit("libyaml and the pure parser read the artifacts differently")
        print(f"reading {len(texts)} YAML artifacts back: {fast:.2f} s through libyaml, {pure:.2f} s pure "
              f"({fast / pure:.2f}x), read alike")


if __name__ == "__main__":
    main()
