"""The OpenTelemetry Collector, built by the collector builder from a manifest.

The cached binary is keyed by a hash of the manifest's components, so a changed
component list rebuilds while an unchanged one (reformatted, re-described) is reused.
"""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from obs import versions
from obs.emit import yaml_dump, yaml_read
from obs.errors import StackError
from obs.stack import cache
from obs.stack.gotool import Go

BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
# The builder is a cobra app without a root --version flag.
BUILDER_CHECK = {"builder": ["version"]}
OTELCOL_CHECK = {"otelcol": ["--version"]}
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions", "providers", "converters")
DEFAULT_MANIFEST = Path("deploy/otelcol/builder-config.yaml")
# Cold builds on 2 cores, measured (BENCHMARKS.md): for the progress lines and the build order.
BUILDER_COLD_SECONDS = 38
COLLECTOR_COLD_SECONDS = 195


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml_read.load(Path(path).read_text())
    except FileNotFoundError:
        raise StackError(
            f"collector builder manifest {path} does not exist. Generate it first "
            "(obs generate writes deploy/otelcol/builder-config.yaml) or pass --manifest PATH."
        ) from None
    except (OSError, yaml_read.ArtifactError) as exc:
        raise StackError(f"cannot read collector builder manifest {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StackError(f"collector builder manifest {path} is not a YAML mapping")
    for kind in KINDS:
        entries = data.get(kind) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("gomod") for e in entries):
            raise StackError(
                f"collector builder manifest {path}: `{kind}` must be a list of entries "
                "each with a `gomod: <module> <version>` line"
            )
    return data


def components(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Each kind's entries as sorted 'gomod [import] [name]' strings; order is irrelevant to the build."""
    out: dict[str, list[str]] = {}
    for kind in KINDS:
        rows = [
            " ".join(str(e[k]) for k in ("gomod", "import", "name") if e.get(k))
            for e in manifest.get(kind) or []
        ]
        if rows:
            out[kind] = sorted(rows)
    return out


def manifest_key(manifest: dict[str, Any]) -> str:
    telemetry = manifest.get("telemetry") or {}
    dist = manifest.get("dist") or {}
    material = {
        "builder": versions.OTELCOL_BUILDER,
        "components": components(manifest),
        "telemetry": {k: str(v) for k, v in sorted(telemetry.items())},
        "replaces": sorted(map(str, manifest.get("replaces") or [])),
        "excludes": sorted(map(str, manifest.get("excludes") or [])),
        "build_tags": str(dist.get("build_tags") or ""),
    }
    blob = json.dumps(material, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def entry_for(manifest: dict[str, Any]) -> Path:
    return cache.bin_root() / f"otelcol-{versions.OTELCOL_CORE}-{manifest_key(manifest)}"


def current_link() -> Path:
    """`<cache>/bin/otelcol-<ver>`: points at the most recently ensured manifest's build."""
    return cache.bin_root() / f"otelcol-{versions.OTELCOL_CORE}"


def builder_entry() -> Path:
    return cache.bin_root() / f"builder-{versions.OTELCOL_BUILDER}"


def build_manifest(manifest: dict[str, Any], src: Path) -> Path:
    """The caller's manifest with output name and location pinned to our cache."""
    m = copy.deepcopy(manifest)
    dist = dict(m.get("dist") or {})
    dist["name"] = "otelcol"
    dist["output_path"] = str(src / "dist")
    dist.setdefault("module", "obs.local/stack/otelcol")
    dist.setdefault("description", "OpenTelemetry Collector built by obs")
    dist.setdefault("version", versions.OTELCOL_CORE.lstrip("v"))
    m["dist"] = dist
    path = src / "builder-config.yaml"
    path.write_text(yaml_dump.dump(m))
    return path


def ensure_builder(go: Go, progress: Callable[[str], None]) -> Path:
    entry = builder_entry()
    ver = versions.OTELCOL_BUILDER

    def build(tmp: Path) -> None:
        progress(f"installing the collector builder {ver} (about {BUILDER_COLD_SECONDS} s cold)...")
        go.run(
            ["install", f"{BUILDER_MODULE}@{ver}"], cache.cache_root(),
            f"go install {BUILDER_MODULE}@{ver}", extra_env={"GOBIN": str(tmp)},
        )

    stamp = cache.install(entry, f"builder {ver}", BUILDER_CHECK, build)
    if stamp:
        progress(f"collector builder {ver} installed in {stamp['build_seconds']}s")
    return entry / "builder"


def ensure_otelcol(go_factory: Callable[[], Go], manifest_path: Path, progress: Callable[[str], None]) -> Path:
    manifest = load_manifest(manifest_path)
    key = manifest_key(manifest)
    entry = entry_for(manifest)
    recipe = f"otelcol {versions.OTELCOL_CORE} {key}"
    if cache.is_ready(entry, recipe, OTELCOL_CHECK):
        progress(f"otelcol {versions.OTELCOL_CORE} ({key}) is already built")
    else:
        go = go_factory()
        builder = ensure_builder(go, progress)
        src = cache.src_root() / entry.name

        def build(tmp: Path) -> None:
            src.mkdir(parents=True, exist_ok=True)
            config = build_manifest(manifest, src)
            progress(
                f"building otelcol {versions.OTELCOL_CORE} for manifest {manifest_path} "
                f"(key {key}; a cold build takes about {round(COLLECTOR_COLD_SECONDS / 60)} min on 2 cores)..."
            )
            go.run(["--config", str(config)], src, f"collector builder ({manifest_path})", exe=builder)
            shutil.move(str(src / "dist" / "otelcol"), tmp / "otelcol")

        stamp = cache.install(entry, recipe, OTELCOL_CHECK, build)
        if stamp:
            progress(f"otelcol {versions.OTELCOL_CORE} ({key}) built in {stamp['build_seconds']}s")
    cache.point_link(current_link(), entry)
    return entry / "otelcol"
