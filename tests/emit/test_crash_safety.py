"""SIGKILL `obs generate` at over a hundred random moments: the tree is always wholly old or wholly new, whether
the run is one process or splits its per-file work between two (obs.emit.halves), as a large tree does.

The run replaces an old tree (spec A) with a new one (spec B) that changes, adds and removes files.
Kills land at three kinds of moment: anywhere in the run; while new files are being staged; and
just after the journal is committed, while files are being moved into place. Before recovery the
tree must be exactly old, exactly new, or carry a committed journal; after `writer.recover` it must
be exactly old or exactly new, with no staging left behind.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from obs.emit import writer
from obs.generate import LAYOUT, render
from obs.project import load_model

SERVICES = 8          # enough files that staging and moving take a while, few enough to keep the run short
KILLS_PER_MOMENT = 35  # x3 kinds of moment = 105 kills


def spec(first: int, last: int, objective_of) -> str:
    lines = ["version: obs/v1", "project: crash", "services:"]
    for i in range(first, last):
        name = f"svc-{i:03d}"
        lines += [f"  - name: {name}", f"    team: t{i % 3}", "    http: true", "    slos:",
                  f"      - {{name: availability, objective: {objective_of(i)}, sli: {{availability: {{}}}}}}",
                  "      - {name: latency, objective: 99, sli: {latency: {threshold: 500ms}}}",
                  "      - name: jobs", "        objective: 99", "        sli:", "          events:",
                  f"            error_query: sum(rate(jobs_failed_total{{service_name=\"{name}\"}}[{{{{window}}}}]))",
                  f"            total_query: sum(rate(jobs_total{{service_name=\"{name}\"}}[{{{{window}}}}]))"]
    lines += ["alerting:", "  receivers:", "    - {name: pager, pagerduty: {routing_key: {env: PD_KEY}}}",
              "    - {name: chat, slack: {api_url: {file: /run/secrets/slack}, channel: '#alerts'}}",
              "  routes:", "    - {match: {severity: page}, receiver: pager}",
              "    - {match: {severity: ticket}, receiver: chat}"]
    return "\n".join(lines) + "\n"


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file a user would see, leaving out only the writer's own staging and journal."""
    files = {}
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if rel.parts[0].startswith(writer.STAGING_PREFIX) or rel.parts[0].startswith(writer.JOURNAL):
            continue
        if path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()
                  if p.name.startswith(writer.STAGING_PREFIX) or p.name.startswith(writer.JOURNAL))


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    (root / "a").mkdir()
    (root / "b").mkdir()
    spec_a, spec_b = root / "a" / "obs.yaml", root / "b" / "obs.yaml"
    spec_a.write_text(spec(0, SERVICES, lambda i: 99.9))
    spec_b.write_text(spec(2, SERVICES + 2, lambda i: 99.5 if i % 2 else 99.9))   # 2 gone, 2 new, some changed
    old, new = render(load_model(spec_a)), render(load_model(spec_b))
    template = root / "old-tree"
    writer.write(template, old, LAYOUT)
    old, new = writer.tree(old), writer.tree(new)   # with the ownership record each tree carries
    as_bytes = lambda files: {rel: text.encode("utf-8") for rel, text in files.items()}  # noqa: E731
    return root, spec_b, template, as_bytes(old), as_bytes(new)


def start(spec_b: Path, out: Path, split: bool) -> subprocess.Popen:
    """`obs generate`; with `split`, every file's plan and staging and every move split between two processes
    (obs.emit.halves), as at scale: this tree is far below the size that splits by itself."""
    code = ("import sys, obs.emit.halves as h; h.MIN_ITEMS = 1 if sys.argv.pop(1) == 'split' else h.MIN_ITEMS; "
            "from obs.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.Popen([sys.executable, "-c", code, "split" if split else "whole", "generate", str(spec_b),
                             "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(appeared, proc: subprocess.Popen) -> None:
    """Poll until appeared() (or the run ends), often enough not to miss the short journal window.
    waitid(WNOWAIT), not poll(): the child stays unreaped, so its pid cannot be reused
    by another process before the kill."""
    while not appeared():
        if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return
        time.sleep(0.0002)   # yield the CPU to the child; the journal stays far longer than this


def staging_began(out: Path):
    return lambda: any(name.startswith(writer.STAGING_PREFIX) for name in os.listdir(out))


def journal_committed(out: Path):
    return (out / writer.JOURNAL).exists


def differences(tree: dict[str, bytes], expected: dict[str, bytes]) -> str:
    lines = [f"{rel}: {len(tree.get(rel, b''))} bytes, expected {len(expected.get(rel, b''))}"
             for rel in sorted(set(tree) | set(expected)) if tree.get(rel) != expected.get(rel)]
    return "\n".join(lines[:20])


def kill_and_judge(out: Path, proc: subprocess.Popen, old: dict, new: dict) -> str:
    proc.send_signal(signal.SIGKILL)   # a no-op if it already ended; it is not reaped until wait()
    proc.wait()
    before = snapshot(out)
    committed = (out / writer.JOURNAL).exists()
    if committed:
        outcome = "committed, rolled forward"
    elif before == old:
        outcome = "old"
    else:
        assert before == new, "neither old nor new, and no committed journal:\n" + differences(before, new)
        outcome = "new"
    writer.recover(out, LAYOUT)
    after = snapshot(out)
    assert after == (new if committed else before), f"{outcome}, after recovery:\n" + differences(
        after, new if committed else before)
    assert leftovers(out) == []
    return outcome


@pytest.mark.parametrize(("split", "fresh"), [(False, False), (True, False), (True, True)],
                         ids=["in-one-process", "split-in-two-processes", "split-into-an-empty-folder"])
def test_a_kill_at_any_moment_of_generate_leaves_the_tree_wholly_old_or_wholly_new(trees, split, fresh):
    """Into an empty folder, the new folders move in whole (one rename each): a kill leaves nothing or all."""
    root, spec_b, template, old, new = trees
    assert old != new and set(old) - set(new) and set(new) - set(old)
    assert any(old[k] != new[k] for k in set(old) & set(new))
    root = root / f"{'split' if split else 'whole'}-{'fresh' if fresh else 'over-old'}"
    root.mkdir()
    if fresh:
        template, old = root / "empty", {}
        template.mkdir()
    rng = random.Random(int(os.environ.get("OBS_CRASH_SEED", time.time_ns())))

    full = root / "timing"
    shutil.copytree(template, full)
    began = time.monotonic()
    proc = start(spec_b, full, split)
    wait_for(staging_began(full), proc)
    staging_at = time.monotonic() - began
    proc.wait()
    total = time.monotonic() - began
    assert proc.returncode == 0 and snapshot(full) == new

    outcomes: Counter[str] = Counter()
    moments = ["anywhere", "staging", "journal"] * KILLS_PER_MOMENT
    rng.shuffle(moments)
    for n, moment in enumerate(moments):
        out = root / f"run-{n}"
        shutil.copytree(template, out)
        proc = start(spec_b, out, split)
        if moment == "anywhere":
            time.sleep(rng.uniform(0, total * 1.1))
        elif moment == "staging":
            wait_for(staging_began(out), proc)
            time.sleep(rng.uniform(0, max(total - staging_at, 0.01)))
        else:
            wait_for(journal_committed(out), proc)
            time.sleep(rng.uniform(0, 0.002))
        outcomes[kill_and_judge(out, proc, old, new)] += 1
        shutil.rmtree(out)

    print(f"\n{sum(outcomes.values())} kills: {dict(outcomes)}; a full run took {total:.2f}s, "
          f"staging began at {staging_at:.2f}s")
    assert sum(outcomes.values()) >= 100
    # The kills must have reached both sides of the commit point, or the test proved nothing.
    assert outcomes["old"] > 0 and outcomes["committed, rolled forward"] > 0
