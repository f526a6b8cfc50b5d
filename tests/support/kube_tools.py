"""Run the validators of the Kubernetes artifacts (deploy/kubernetes, deploy/rulers) on a generated tree.

Every program is the pinned build from obs.stack.build.ensure: kustomize, kubecheck (obs's own, obs/stack/
kubecheck: strict decoding into the operators' Go types, then their CRD schemas through the apiserver's code),
Thanos's rules-check, cortextool's offline rule commands, promtool for the rule groups and the collector built
from the tree's own manifest for a collector's config. Each call returns a Result; nothing here asserts.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs.emit import yaml_dump, yaml_read
from obs.model import conventions as c
from obs.stack.build import ensure
from tests.support.real_tools import TIMEOUT, otelcol_for

TOOLS = ("kustomize", "kubecheck", "thanos", "cortextool", "promtool")


@dataclass(frozen=True)
class Result:
    code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def __str__(self) -> str:
        return f"exit {self.code}:\n{self.output[-6000:]}"


def tool(name: str) -> Path:
    return ensure([name], progress=lambda _: None)[name]


def run(argv: Iterable[object], cwd: Path | None = None, stdin: str | None = None) -> Result:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT)
    return Result(done.returncode, (done.stdout + done.stderr).strip())


def kustomize_build(directory: Path) -> Result:
    """`kustomize build DIR`; on success the output is the built objects alone (stderr is empty then)."""
    done = subprocess.run([str(tool("kustomize")), "build", str(directory)], capture_output=True, text=True,
                          timeout=TIMEOUT)
    return Result(done.returncode, done.stdout if done.returncode == 0 else (done.stdout + done.stderr).strip())


def kubecheck(*files: Path, stdin: str | None = None) -> Result:
    return run([tool("kubecheck"), *(files or ["-"])], stdin=stdin)


def kubecheck_objects(objects: Iterable[dict[str, Any]]) -> Result:
    """kubecheck on objects written the way obs writes YAML, as one multi-document stream on stdin."""
    return kubecheck(stdin="---\n".join(yaml_dump.dump(o) for o in objects))


def documents(text: str) -> list[dict[str, Any]]:
    docs = yaml_read.load_all(text)
    assert all(isinstance(d, dict) for d in docs), "a document that is not a mapping"
    return docs  # type: ignore[return-value]


def read(path: Path) -> dict[str, Any]:
    data = yaml_read.load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def manifests(tree: Path) -> list[Path]:
    """The object files of deploy/kubernetes (the kustomization is kustomize's, not an object)."""
    root = tree / c.KUBERNETES_DIR
    return sorted(p for p in root.rglob("*.yaml") if p != tree / c.KUSTOMIZATION)


def thanos_files(tree: Path) -> list[Path]:
    return sorted((tree / c.RULERS_DIR / "thanos").glob("*.yaml"))


def cortex_tenants(tree: Path) -> dict[str, list[Path]]:
    """Each tenant's namespace files; cortextool loads a tenant's files together (a namespace must be unique)."""
    root = tree / c.RULERS_DIR / "cortex"
    return {d.name: sorted(d.glob("*.yaml")) for d in sorted(root.iterdir()) if d.is_dir()}


def write_rule_file(groups: list[Any], path: Path) -> Path:
    path.write_text(yaml_dump.dump({"groups": groups}))
    return path


def promtool_check_rules(*files: Path) -> Result:
    return run([tool("promtool"), "check", "rules", *files])


def thanos_rules_check(*files: Path) -> Result:
    return run([tool("thanos"), "tools", "rules-check", *(f"--rules={f}" for f in files)])


def cortextool_check(*files: Path) -> Result:
    """What cortextool checks without a server: `rules lint --dry-run` (strict parse, rule validation, every
    expression through the PromQL parser, nothing written) and `rules check` (recording rule names)."""
    cortextool = tool("cortextool")
    lint = run([cortextool, "rules", "lint", "--dry-run", *files])
    if not lint.ok:
        return lint
    return run([cortextool, "rules", "check", *files])


def otelcol_validate(tree: Path, config: dict[str, Any], scratch: Path) -> Result:
    """`otelcol validate` on a collector config, with the collector built from the tree's builder manifest."""
    path = scratch / "otelcol.yaml"
    path.write_text(yaml_dump.dump(config))
    # From the scratch directory: whatever a component makes while validating lands there.
    return run([otelcol_for(tree), "validate", f"--config={path}"], cwd=scratch)
