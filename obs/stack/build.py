"""Build the stack's real binaries from the Go module proxy into a persistent cache.

    ensure(["prometheus", "otelcol"], manifest=Path("deploy/otelcol/builder-config.yaml"))

builds whatever is missing at the versions pinned in obs/versions.py and returns the
path of every binary. Layout: `<cache>/bin/<target>-<version>/<binary>` with a `.ok`
stamp, where `<cache>` is $OBS_CACHE_DIR or ~/.cache/obs. Builds run one at a time unless
`jobs` says otherwise: each Go build already uses every core while it compiles.

CLI: python -m obs.stack.build [names...] [--manifest PATH]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from obs import versions
from obs.errors import StackError
from obs.stack import cache, otelcol, own
from obs.stack.gotool import Go, SourceTrim
from obs.stack.own import Generated, ModuleFiles, OwnTarget

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    version: str
    # binary name -> Go package; the binary name is the package's last path element.
    packages: dict[str, str]
    # binary name -> arguments that print its version and exit 0.
    version_args: dict[str, list[str]]
    tags: str = ""
    ldflags: list[str] = field(default_factory=list)
    # `go install pkg@ver` works only for modules whose go.mod has no replace/exclude.
    go_install: bool = False
    # Files upstream generates before `go build` and so missing from the proxy's zip.
    placeholders: dict[str, str] = field(default_factory=dict)
    # Source the stack never runs, deleted before the build because compiling it is most of a cold build.
    trims: tuple[SourceTrim, ...] = ()
    # A cold build's duration on 2 cores (measured, BENCHMARKS.md), for the progress line.
    cold_seconds: int = 0

    @property
    def entry(self) -> Path:
        return cache.bin_root() / f"{self.name}-{self.version}"

    @property
    def recipe(self) -> str:
        fields = [self.module, self.version, self.packages, self.tags, self.ldflags,
                  self.go_install, self.placeholders, [dataclasses.astuple(t) for t in self.trims]]
        return json.dumps(fields, sort_keys=True)


_PROM_VERSION = "github.com/prometheus/common/version"
# remove_all_sd drops the cloud service-discovery plugins (most of the dependency graph); no builtinassets
# tag, so no UI, but the API works.
_PROM_TAGS = "netgo,remove_all_sd"


def _version_ldflags(release: str) -> list[str]:
    """What `--version` prints for the binaries that take their version from prometheus/common (Prometheus,
    Alertmanager, Thanos): the release, without its `v`, built by obs."""
    return [f"-X {_PROM_VERSION}.Version={release.lstrip('v')}", f"-X {_PROM_VERSION}.BuildUser=obs"]


_PROM_LDFLAGS = _version_ldflags(versions.PROMETHEUS_RELEASE)
_JAEGER = "github.com/jaegertracing/jaeger"
_JAEGER_COMPONENTS = "cmd/jaeger/internal/components.go"
_CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"

# Jaeger v2 is a collector distribution; obs configures only its storage, query, health check, the OTLP
# receiver and the storage exporter (deploy/jaeger/config.yaml), plus the batch processor and memory
# limiter kept for operators. The rest of upstream's component list (Kafka, Zipkin, Jaeger-protocol
# receivers, sampling, OTTL processors, span metrics, AWS auth) is removed from the list, with its imports,
# so Go never compiles it. With the typed-API trim below, Jaeger compiles 0.48x the source it did (BENCHMARKS.md).
_JAEGER_UNUSED = (
    f"{_CONTRIB}/connector/spanmetricsconnector",
    f"{_CONTRIB}/exporter/kafkaexporter",
    f"{_CONTRIB}/exporter/prometheusexporter",
    f"{_CONTRIB}/extension/basicauthextension",
    f"{_CONTRIB}/extension/pprofextension",
    f"{_CONTRIB}/extension/sigv4authextension",
    f"{_CONTRIB}/processor/attributesprocessor",
    f"{_CONTRIB}/processor/filterprocessor",
    f"{_CONTRIB}/processor/tailsamplingprocessor",
    f"{_CONTRIB}/receiver/jaegerreceiver",
    f"{_CONTRIB}/receiver/kafkareceiver",
    f"{_CONTRIB}/receiver/zipkinreceiver",
    "go.opentelemetry.io/collector/extension/zpagesextension",
    f"{_JAEGER}/cmd/jaeger/internal/extension/remotesampling",
    f"{_JAEGER}/cmd/jaeger/internal/extension/remotestorage",
    f"{_JAEGER}/cmd/jaeger/internal/integration/storagecleaner",
    f"{_JAEGER}/cmd/jaeger/internal/processors/adaptivesampling",
)
_JAEGER_TRIMS = tuple(
    trim
    for package in _JAEGER_UNUSED
    for trim in (
        SourceTrim(_JAEGER, _JAEGER_COMPONENTS, f'\t"{package}"\n'),
        # A Go package is named after the last element of its path.
        SourceTrim(_JAEGER, _JAEGER_COMPONENTS, f"\t\t{package.rsplit('/', 1)[1]}.NewFactory(),\n"),
    )
) + (
    # The Elasticsearch client's typed API (844 generated packages, about 100 s of a cold build on 2 cores)
    # hangs off the root package by one embedded field; Jaeger uses only the untyped esapi client, so the
    # TypedClient keeps its transport and loses its methods.
    SourceTrim("github.com/elastic/go-elasticsearch/v9", "elasticsearch.go",
               '\t"github.com/elastic/go-elasticsearch/v9/typedapi"\n'),
    SourceTrim("github.com/elastic/go-elasticsearch/v9", "elasticsearch.go",
               "type TypedClient struct {\n\tBaseClient\n\t*typedapi.MethodAPI\n}\n",
               "type TypedClient struct {\n\tBaseClient\n}\n"),
    SourceTrim("github.com/elastic/go-elasticsearch/v9", "elasticsearch.go",
               "\tclient.MethodAPI = typedapi.NewMethodAPI(client)\n"),
)

_CORTEX_TOOLS = "github.com/grafana/cortex-tools"
# cortextool's rule commands parse LogQL and validate Loki rule groups with Loki's own packages, and Loki is
# AGPL: obs compiles none of it (nor Mimir, Tempo or Grafana; checked on every build, _FORBIDDEN below). The
# Loki backend (`--backend=loki`) is cut out, so it refuses instead; the Cortex backend, which obs uses, is
# untouched. Its `version` command asks GitHub for the latest release, which a version check must not do.
_CORTEX_TOOLS_TRIMS = (
    SourceTrim(_CORTEX_TOOLS, "pkg/rules/parser.go", '\t"github.com/grafana/loki/pkg/ruler"\n'),
    SourceTrim(_CORTEX_TOOLS, "pkg/rules/parser.go", "ruler.ValidateGroups(grps...)",
               '[]error{errors.New("obs builds cortextool without its Loki backend")}'),
    SourceTrim(_CORTEX_TOOLS, "pkg/rules/rules.go", '\tlogql "github.com/grafana/loki/pkg/logql/syntax"\n'),
    SourceTrim(_CORTEX_TOOLS, "pkg/rules/rules.go", "return logql.ParseExpr(s)", "return nil, errInvalidBackend"),
    SourceTrim(_CORTEX_TOOLS, "cmd/cortextool/main.go", "\t\tversion.CheckLatest()\n"),
)
_MONITORING = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
_OTEL_OPERATOR = "github.com/open-telemetry/opentelemetry-operator"

TARGETS: dict[str, Target | OwnTarget] = {
    t.name: t
    for t in (
        Target(
            "jaeger", _JAEGER, versions.JAEGER_MODULE,
            {"jaeger": f"{_JAEGER}/cmd/jaeger"},
            {"jaeger": ["version"]},
            # The module tag is v1.x; the v2 release number is what users recognise.
            ldflags=[f"-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v{versions.JAEGER_RELEASE}"],
            trims=_JAEGER_TRIMS,
            cold_seconds=517,
        ),
        Target(
            "prometheus", "github.com/prometheus/prometheus", versions.PROMETHEUS_MODULE,
            {"prometheus": "github.com/prometheus/prometheus/cmd/prometheus"},
            {"prometheus": ["--version"]},
            tags=_PROM_TAGS, ldflags=_PROM_LDFLAGS,
            cold_seconds=336,
        ),
        # promtool apart: it compiles Kubernetes service discovery in whatever the tags say (a quarter of
        # Prometheus's graph), and only `obs test` and the test suite run it, never the stack.
        Target(
            "promtool", "github.com/prometheus/prometheus", versions.PROMETHEUS_MODULE,
            {"promtool": "github.com/prometheus/prometheus/cmd/promtool"},
            {"promtool": ["--version"]},
            tags=_PROM_TAGS, ldflags=_PROM_LDFLAGS,
            cold_seconds=260,
        ),
        Target(
            "alertmanager", "github.com/prometheus/alertmanager", versions.ALERTMANAGER,
            {
                "alertmanager": "github.com/prometheus/alertmanager/cmd/alertmanager",
                "amtool": "github.com/prometheus/alertmanager/cmd/amtool",
            },
            {"alertmanager": ["--version"], "amtool": ["--version"]},
            tags="netgo",
            ldflags=_version_ldflags(versions.ALERTMANAGER),
            # ui/web.go embeds app/dist, which upstream's release build makes with npm;
            # one file satisfies go:embed. The web UI then answers 404; the API is intact.
            placeholders={"ui/app/dist/README.txt": "obs builds alertmanager without its web UI.\n"},
            cold_seconds=88,
        ),
        Target(
            "sloth", "github.com/slok/sloth", versions.SLOTH,
            {"sloth": "github.com/slok/sloth/cmd/sloth"},
            {"sloth": ["version"]},
            ldflags=[f"-X github.com/slok/sloth/internal/info.Version={versions.SLOTH}"],
            go_install=True,
            cold_seconds=158,
        ),
        # The validators of the Kubernetes artifacts (deploy/kubernetes, deploy/rulers); only tests use them.
        Target(
            "kustomize", "sigs.k8s.io/kustomize/kustomize/v5", versions.KUSTOMIZE,
            {"kustomize": "sigs.k8s.io/kustomize/kustomize/v5"},
            {"kustomize": ["version"]},
            go_install=True,
            cold_seconds=59,
        ),
        # Untrimmed: `tools rules-check` lives in the one thanos binary beside every component. Of its cold build
        # 310 s are module downloads, which no trim saves, and its cloud object-store clients are about 15 % of
        # the 1,339 packages it compiles.
        Target(
            "thanos", "github.com/thanos-io/thanos", versions.THANOS,
            {"thanos": "github.com/thanos-io/thanos/cmd/thanos"},
            {"thanos": ["--version"]},
            # Thanos's own build tags (.promu.yml): it casts Prometheus's labels to its own by their memory layout,
            # which only the slice implementation has; without the tag the sidecar's first gRPC answer panics.
            tags="netgo,slicelabels",
            ldflags=_version_ldflags(versions.THANOS),
            cold_seconds=747,
        ),
        Target(
            "cortextool", _CORTEX_TOOLS, versions.CORTEX_TOOLS,
            {"cortextool": f"{_CORTEX_TOOLS}/cmd/cortextool"},
            {"cortextool": ["version"]},
            ldflags=[f"-X {_CORTEX_TOOLS}/pkg/version.Version={versions.CORTEX_TOOLS}"],
            trims=_CORTEX_TOOLS_TRIMS,
            cold_seconds=450,
        ),
        Target(
            "controller-gen", "sigs.k8s.io/controller-tools", versions.CONTROLLER_TOOLS,
            {"controller-gen": "sigs.k8s.io/controller-tools/cmd/controller-gen"},
            {"controller-gen": ["--version"]},
            go_install=True,
            cold_seconds=86,
        ),
        OwnTarget(
            "kubecheck", "kubecheck",
            {
                _MONITORING: versions.PROMETHEUS_OPERATOR,
                _OTEL_OPERATOR: versions.OPENTELEMETRY_OPERATOR,
                **{f"k8s.io/{m}": versions.KUBERNETES_LIBS
                   for m in ("api", "apimachinery", "apiextensions-apiserver", "apiserver", "client-go",
                             "component-base")},
            },
            {"kubecheck": ["--version"]},
            assets=(
                # The OpenTelemetry Operator publishes its CRDs in its module.
                ModuleFiles(_OTEL_OPERATOR, "config/crd/bases/*.yaml", "crds"),
                # prometheus-operator's are generated from its types as upstream does (`make generate-crds`:
                # the v1 and v1alpha1 packages, crdVersions=v1): the proxy serves no artifact of the pinned
                # version that carries them (the root module of v0.95.2 is refused, the monitoring module has
                # only Go).
                Generated("controller-gen", versions.CONTROLLER_TOOLS,
                          ("crd:crdVersions=v1", f"paths={_MONITORING}/v1", f"paths={_MONITORING}/v1alpha1",
                           "output:crd:dir={into}"), "crds"),
            ),
            cold_seconds=248,
        ),
    )
}

# Everything obs can build: what `obs stack build --all` and the whole test suite need.
ALL = ["otelcol", *TARGETS]
OTELCOL_COLD_SECONDS = otelcol.BUILDER_COLD_SECONDS + otelcol.COLLECTOR_COLD_SECONDS
# What the stack runs (amtool comes with Alertmanager). promtool serves `obs test` and the test suite,
# Sloth the benchmark against it and `obs import`'s cross-checks, the Kubernetes validators (kustomize,
# thanos, cortextool, kubecheck and the controller-gen that makes kubecheck's schemas) the tests of the
# Kubernetes artifacts; each is built when asked for.
STACK = ["otelcol", "jaeger", "prometheus", "alertmanager"]
# AGPL projects: none of their Go packages may be compiled into a binary obs builds. `go version -m` lists the
# modules a binary links, checked after every build.
_FORBIDDEN = ("github.com/grafana/mimir", "github.com/grafana/loki", "github.com/grafana/tempo",
              "github.com/grafana/grafana")
# Binaries that come out of another target's build.
_OWNER = {b: t.name for t in TARGETS.values() for b in t.packages}


def _target_of(name: str) -> str:
    if name == "otelcol":
        return name
    if name in _OWNER:
        return _OWNER[name]
    known = ", ".join(sorted({"otelcol", *_OWNER}))
    raise StackError(f"unknown stack binary {name!r}; known: {known}")


def binary_path(name: str, manifest: Path | None = None) -> Path:
    """Where the pinned version of `name` lives (or will live) in the cache.

    For otelcol, with a manifest: that manifest's build; without: the build of the
    manifest most recently passed to ensure() by any process sharing this cache, so
    pass the manifest whenever a specific component set matters.
    """
    if _target_of(name) == "otelcol":
        if manifest is not None:
            return otelcol.entry_for(otelcol.load_manifest(manifest)) / "otelcol"
        return otelcol.current_link() / "otelcol"
    return TARGETS[_OWNER[name]].entry / name


def _log(entry_name: str) -> Path:
    return cache.log_root() / f"{entry_name}.log"


def _check_licences(go: Go, binary: Path) -> None:
    linked = go.linked_modules(binary)
    bad = sorted(m for m in linked if any(m == f or m.startswith(f + "/") for f in _FORBIDDEN))
    if bad:
        raise StackError(f"{binary.name} links AGPL modules obs must not compile: {', '.join(bad)}. Cut the code "
                         "that imports them (a trim in obs/stack/build.py) or pin another version.")


def _build_own(t: OwnTarget, tools: dict[str, Path], progress: Progress) -> None:
    go = Go(_log(t.entry.name))

    def build(tmp: Path) -> None:
        usual = (f"a cold build takes about {_minutes(t.cold_seconds)} on 2 cores" if t.cold_seconds
                 else "cold builds take minutes")
        progress(f"building {t.name} {t.version}, obs's own (obs/stack/{t.source}; {usual}; log: {go.log})...")
        own.build(t, go, tools, tmp, progress)
        _check_licences(go, tmp / t.name)

    stamp = cache.install(t.entry, t.recipe, t.version_args, build)
    if stamp:
        progress(f"{t.name} {t.version} built in {stamp['build_seconds']}s")


def _build_target(t: Target, progress: Progress) -> None:
    go = Go(_log(t.entry.name))
    flags = ["-trimpath", "-ldflags", " ".join(["-s", "-w", *t.ldflags])]
    if t.tags:
        flags += ["-tags", t.tags]

    def build(tmp: Path) -> None:
        usual = (f"a cold build takes about {_minutes(t.cold_seconds)} on 2 cores" if t.cold_seconds
                 else "cold builds take minutes")
        progress(f"building {t.name} {t.version} ({usual}; log: {go.log})...")
        if t.go_install:
            pkgs = [f"{p}@{t.version}" for p in t.packages.values()]
            go.run(["install", *flags, *pkgs], cache.cache_root(), f"go install {' '.join(pkgs)}",
                   extra_env={"GOBIN": str(tmp)})
            return
        src = cache.src_root() / t.entry.name
        directives = go.scratch_module(
            src, t.name, t.module, t.version, list(t.packages.values()), t.placeholders, t.trims
        )
        if directives:
            progress(f"{t.name}: go.mod edits (upstream replace/exclude, local patches): {' '.join(directives)}")
        go.run(["build", *flags, "-o", f"{tmp}/", *t.packages.values()], src, f"go build {t.name} {t.version}")
        for binary in t.packages:
            _check_licences(go, tmp / binary)

    stamp = cache.install(t.entry, t.recipe, t.version_args, build)
    if stamp:
        progress(f"{t.name} {t.version} built in {stamp['build_seconds']}s")


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"


def ensure(
    names: list[str] | None = None,
    manifest: Path | None = None,
    progress: Progress = lambda msg: None,
    jobs: int = 1,
) -> dict[str, Path]:
    """Build every named binary that is missing or stale; return name -> path for each.

    Naming any binary of a target (promtool, amtool) builds and returns the whole target.
    `manifest` is the collector builder manifest, required when otelcol is named
    (defaults to deploy/otelcol/builder-config.yaml in the working directory).
    `jobs` targets build side by side: each Go build uses every core while it compiles, but leaves
    them idle while it downloads modules and links, which another build can use.
    """
    wanted = list(dict.fromkeys(_target_of(n) for n in (names or ALL)))

    def one(name: str, quiet: bool = False) -> dict[str, Path]:
        if name == "otelcol":
            mf = Path(manifest) if manifest is not None else otelcol.DEFAULT_MANIFEST
            return {"otelcol": otelcol.ensure_otelcol(
                lambda: Go(_log(f"otelcol-{versions.OTELCOL_CORE}")), mf, progress)}
        t = TARGETS[name]
        if cache.is_ready(t.entry, t.recipe, t.version_args):
            if not quiet:   # a tool another build needs is reported once, when it is asked for itself
                progress(f"{t.name} {t.version} is already built")
        elif isinstance(t, OwnTarget):
            tools: dict[str, Path] = {}
            for need in t.needs:
                tools.update(one(_target_of(need), quiet=True))
            _build_own(t, tools, progress)
        else:
            _build_target(t, progress)
        return {b: t.entry / b for b in t.packages}

    paths: dict[str, Path] = {}
    if jobs <= 1:
        for name in wanted:
            paths.update(one(name))
        return paths
    # Longest first, so the long pole starts at once and the short ones fill in beside it.
    order = sorted(wanted, key=lambda n: -(TARGETS[n].cold_seconds if n in TARGETS else OTELCOL_COLD_SECONDS))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(one, order):
            paths.update(result)
    return {k: paths[k] for k in sorted(paths, key=lambda k: wanted.index(_target_of(k)))}


def build_seconds(name: str, manifest: Path | None = None) -> float | None:
    """How long the cached build of `name` took, from its stamp (None if not built)."""
    stamp = cache.read_stamp(binary_path(name, manifest).parent)
    return stamp.get("build_seconds") if stamp else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m obs.stack.build", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"what to build (default: {' '.join(ALL)})")
    parser.add_argument("--manifest", type=Path, help="collector builder manifest (for otelcol)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.0f}s] {msg}", file=sys.stderr, flush=True)

    try:
        paths = ensure(args.names or None, args.manifest, progress)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for name, path in paths.items():
        print(f"{name}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
