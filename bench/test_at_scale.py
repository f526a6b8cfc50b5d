"""`obs test` on a spec of many services: one of each shape of service against --every-service, in the same run.

    python bench/test_at_scale.py [--services 100] [--names numbered|realistic] [--various] [--richer] [--shuffled]
                                  [--distinct] [--own-objectives]

Each command runs as its own process, timed from start to exit (bench/generate_vs_sloth.py's timed()), once each:
promtool's suites dominate and take seconds apiece. Printed: the suites each ran, wall and CPU seconds, the ratio.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_at_scale import add_settings_arguments, spec, variety  # noqa: E402
from generate_vs_sloth import timed  # noqa: E402

from obs.generate import render  # noqa: E402
from obs.model import conventions as c  # noqa: E402
from obs.project import load_model  # noqa: E402


def suites(spec_path: Path) -> tuple[int, int]:
    """(suites `obs test` runs, suites in all): those stamped from another's text take its result."""
    tree = render(load_model(spec_path))
    alike = tree.alike()
    paths = [p for p in tree if p.startswith(c.ALERT_TESTS_DIR + "/")]
    return sum(alike.get(p, p) == p for p in paths), len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--names", choices=("numbered", "realistic"), default="numbered")
    add_settings_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="obs-test-bench-") as tmp:
        spec_path = Path(tmp) / "obs.yaml"
        spec_path.write_text(spec(args.services, names=args.names, **variety(args)))
        obs = [sys.executable, "-m", "obs", "test", str(spec_path)]
        shapes, every = timed(obs), timed([*obs, "--every-service"])
        run, reported = suites(spec_path)
        print(f"{args.services} services, {args.names} names: {reported} suites")
        for label, n, took in (("obs test", run, shapes), ("obs test --every-service", reported, every)):
            print(f"{label:<26}{n:5d} suites run  {took.wall:7.1f} s wall  {took.cpu:7.1f} s cpu")
        print(f"one of each shape / every service   {shapes.wall / every.wall:.2f}x wall   "
              f"{shapes.cpu / every.cpu:.2f}x cpu")


if __name__ == "__main__":
    main()
