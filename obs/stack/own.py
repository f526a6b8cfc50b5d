"""Programs of obs's own, in Go, built like the upstream ones: our source + pinned requires + `go mod tidy` + build.

Some checks need an upstream project's Go types or validation code, which no upstream command exposes
(kubecheck decodes Kubernetes objects into the operators' own types). The program's source ships inside the
obs package (obs/stack/<name>/*.go); its cache entry is named after a hash of everything the binary is made
of (the source, the pinned requires, the assets), so an edited source or a new pin builds a new binary and
never reuses a stale one.

Assets are files the program embeds that are made at build time, never committed: files copied out of a
pinned module's zip (ModuleFiles) and files a pinned generator writes (Generated).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass, field
from importlib import resources
from pathlib import Path

from obs.errors import StackError
from obs.stack import cache
from obs.stack.gotool import MIN_GO, Go


@dataclass(frozen=True)
class ModuleFiles:
    """Files matching `pattern` in `module`'s source (at the version the program resolves), copied into `into`."""

    module: str
    pattern: str
    into: str


@dataclass(frozen=True)
class Generated:
    """Files the binary `tool` (another build target, at `tool_version`) writes into `into`.

    `args` are the tool's arguments; `{into}` in them is the directory. The tool runs in the program's module,
    so package patterns name the packages at the versions the program resolves.
    """

    tool: str
    tool_version: str
    args: tuple[str, ...]
    into: str


Asset = ModuleFiles | Generated


@dataclass(frozen=True)
class OwnTarget:
    name: str
    # Directory of the program's Go files inside the obs.stack package.
    source: str
    # module -> version, from obs/versions.py; everything else is what `go mod tidy` resolves from these.
    requires: dict[str, str]
    version_args: dict[str, list[str]]
    assets: tuple[Asset, ...] = ()
    # A cold build's duration on 2 cores (measured, BENCHMARKS.md), for the progress line.
    cold_seconds: int = 0
    ldflags: list[str] = field(default_factory=list)

    @property
    def module(self) -> str:
        return f"obs.local/stack/{self.name}"

    @property
    def packages(self) -> dict[str, str]:
        return {self.name: self.module}

    @property
    def needs(self) -> tuple[str, ...]:
        """Binaries that must be built first (the generators of its assets)."""
        return tuple(dict.fromkeys(a.tool for a in self.assets if isinstance(a, Generated)))

    def sources(self) -> dict[str, bytes]:
        folder = resources.files("obs.stack").joinpath(self.source)
        found = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and f.name.endswith(".go")}
        if not found:
            raise StackError(f"no Go source for {self.name} in obs/stack/{self.source}: the obs install is broken "
                             "(reinstall it: `make install`)")
        return found

    @property
    def recipe(self) -> str:
        digest = {n: hashlib.sha256(b).hexdigest() for n, b in sorted(self.sources().items())}
        fields = [self.module, digest, self.requires, self.ldflags,
                  [(type(a).__name__, *astuple(a)) for a in self.assets]]
        return json.dumps(fields, sort_keys=True)

    @property
    def version(self) -> str:
        """Its version is what it is made of: a hash of the recipe."""
        return hashlib.sha256(self.recipe.encode()).hexdigest()[:12]

    @property
    def entry(self) -> Path:
        return cache.bin_root() / f"{self.name}-{self.version}"


def build(t: OwnTarget, go: Go, tools: Mapping[str, Path], tmp: Path, progress: Callable[[str], None]) -> None:
    """Write the program's module, resolve it, make its assets and build it into `tmp`."""
    src = cache.src_root() / t.entry.name
    if src.exists():
        shutil.rmtree(src)  # a fresh module each build: nothing from an older source or pin survives
    src.mkdir(parents=True)
    for name, data in t.sources().items():
        (src / name).write_bytes(data)
    (src / "go.mod").write_text(f"module {t.module}\n\ngo {MIN_GO[0]}.{MIN_GO[1]}\n")
    go.run(["mod", "edit", *(f"-require={m}@{v}" for m, v in sorted(t.requires.items()))], src,
           f"pinning {t.name}'s requires")
    go.run(["mod", "tidy"], src, f"go mod tidy ({t.name})")
    for asset in t.assets:
        into = src / asset.into
        into.mkdir(parents=True, exist_ok=True)
        if isinstance(asset, ModuleFiles):
            found = sorted(go.module_dir(src, asset.module).glob(asset.pattern))
            if not found:
                raise StackError(f"{asset.module} has no {asset.pattern} at the version {t.name} resolves; "
                                 "upstream moved it: update the asset in obs/stack/build.py with the pin")
            for f in found:
                shutil.copyfile(f, into / f.name)
        else:
            progress(f"{t.name}: {asset.tool} {' '.join(asset.args).format(into=asset.into)}")
            go.run([a.format(into=asset.into) for a in asset.args], src, f"{asset.tool} for {t.name}",
                   exe=tools[asset.tool])
    flags = ["-trimpath", "-ldflags", " ".join(["-s", "-w", *t.ldflags])]
    go.run(["build", *flags, "-o", f"{tmp}/{t.name}", "."], src, f"go build {t.name}")
