"""Run the real tools on a generated tree, batched: one process per tool and kind of check.

`problems(tree)` returns what promtool (check rules, check config, test rules on every
generated suite), amtool check-config and otelcol validate said, one entry per failing
call; an empty list means every tool accepted every artifact.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from obs.generate import render
from obs.model import conventions as c
from obs.model.domain import Model
from obs.stack.build import ensure

TIMEOUT = 600


def tool(name: str) -> Path:
    return ensure([name], progress=lambda _: None)[name]


def otelcol_for(tree: Path) -> Path:
    return ensure(["otelcol"], manifest=tree / c.OTELCOL_MANIFEST, progress=lambda _: None)["otelcol"]


def write_tree(model: Model, target: Path) -> Path:
    for rel, text in render(model).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def _run(argv: list, cwd: Path) -> tuple[int, str]:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    return done.returncode, (done.stdout + done.stderr).strip()


def calls(tree: Path, collector: bool = True) -> list[tuple[str, list, Path]]:
    """(what, argv, cwd) for every check; suites run from alerts/tests/ as `obs test` runs them."""
    promtool, amtool = tool("promtool"), tool("amtool")
    rules = sorted(p.relative_to(tree) for p in (tree / c.ALERTS_DIR).glob("*.rules.yml"))
    suites = sorted(p.name for p in (tree / c.ALERT_TESTS_DIR).glob("*.test.yml"))
    out = [("promtool check rules", [promtool, "check", "rules", *rules], tree),
           ("promtool check config", [promtool, "check", "config", c.PROMETHEUS_CONFIG], tree),
           ("promtool check config (compose)", [promtool, "check", "config", c.COMPOSE_PROMETHEUS_CONFIG], tree),
           ("amtool check-config", [amtool, "check-config", c.ALERTMANAGER_CONFIG, c.COMPOSE_ALERTMANAGER_CONFIG],
            tree)]
    if suites:
        out.append(("promtool test rules", [promtool, "test", "rules", *suites], tree / c.ALERT_TESTS_DIR))
    if collector:
        otelcol = otelcol_for(tree)
        # Under `topology: ha` the gateways' configs too (deploy/otelcol/gateway-<i>.yaml and their compose twins).
        gateways = sorted(str(p.relative_to(tree)) for p in (tree / "deploy").glob("*/*gateway-*.yaml"))
        out += [(f"otelcol validate {cfg}", [otelcol, "validate", f"--config={cfg}"], tree)
                for cfg in (c.OTELCOL_CONFIG, c.COMPOSE_OTELCOL_CONFIG, *gateways)]
    return out


def problems(tree: Path, collector: bool = True) -> list[str]:
    found = []
    for what, argv, cwd in calls(tree, collector):
        code, output = _run(argv, cwd)
        if code != 0:
            found.append(f"{what} failed (exit {code}):\n{output[-4000:]}")
    return found
