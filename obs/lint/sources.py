"""What `obs lint` reads: the artifacts obs wrote in a folder, and the spec positions its findings point at."""
from __future__ import annotations

from pathlib import Path

from obs.emit import writer
from obs.errors import Problem, SpecError
from obs.generate import LAYOUT
from obs.lint import Finding
from obs.spec.loader import load as load_spec
from obs.spec.loader import locate

MAX_ARTIFACT_BYTES = 4 << 20


def read_artifacts(folder: Path) -> dict[str, str]:
    """The files obs wrote in `folder` (its ownership record names them), as they are now."""
    owned = writer.read_owned(folder, LAYOUT, MAX_ARTIFACT_BYTES)
    files = {rel: data.decode("utf-8", errors="replace") for rel, data in owned.items()
             if rel.endswith((".yml", ".yaml", ".json"))}
    if not files:
        raise SpecError(str(folder), [Problem("", "holds no generated artifacts; run `obs generate` first")])
    return files


def located(findings: list[Finding], spec: Path) -> list[Finding]:
    _, positions = load_spec(spec)
    out = []
    for f in findings:
        if f.spec_path is not None and f.file is None:
            p = locate(Problem(f.spec_path, f.message), positions)
            f = Finding(f.rule, f.message, f.severity, f.spec_path, str(spec), None, p.line, p.column)
        out.append(f)
    # Spec findings first, in file order; artifact findings after, by file.
    return sorted(out, key=lambda f: (f.spec_path is None, f.file or "", f.line or 0, f.column or 0))
