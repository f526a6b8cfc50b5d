"""Real clients for live tests: a Node.js and a Python service, instrumented only the documented zero-code way.

`tests/realsvc/node/` is `api-gateway` (plain node:http under
`node --require @opentelemetry/auto-instrumentations-node/register`); it calls `tests/realsvc/python/`,
`memory-search` (Flask under `opentelemetry-instrument`). Both take nothing but OTEL_* variables plus their own
PORT and app settings; neither imports OpenTelemetry.

Installs come from the project's own files and are cached like the Go builds, under obs's cache root:

    <cache>/realsvc/node-<hash of package.json + package-lock.json, node major>/   npm ci, node_modules
    <cache>/realsvc/python-<hash of requirements.txt, python minor>/               a venv of its own
    <cache>/realsvc/npm-cache/, <cache>/realsvc/pip-cache/                         the clients' download caches

An entry is built in place under a cross-process lock and counts as installed only once its stamp is written
last, so a killed install is redone, and two pytest workers or a rerun share one install. A failed install
raises RealServiceError naming what is missing and how to get it: tests using these fail, never skip.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests

from obs.stack import tools
from obs.stack.cache import cache_root, locked
from tests.support.paths import REALSVC

NODE_SRC = REALSVC / "node"
PYTHON_SRC = REALSVC / "python"
NODE_APP = NODE_SRC / "app.js"
PYTHON_APP = PYTHON_SRC / "app.py"
NODE_REGISTER = "@opentelemetry/auto-instrumentations-node/register"
STAMP = ".realsvc-ok"
# How long a service may take from exec to answering on its port (Node loads ~200 modules at start).
START_BUDGET_S = 60.0
STOP_GRACE_S = 15.0
# The only OTEL_* variables a service sees are those its caller passes; these are its whole environment else.
BASE_PATH = "/usr/bin:/bin"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PR_SET_PDEATHSIG = 1


class RealServiceError(RuntimeError):
    """A real service could not be installed or started; the message says what is missing and what to do."""


def root() -> Path:
    return cache_root() / "realsvc"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _run_logged(argv: list[str], log: Path, what: str, how: str, **kwargs) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        try:
            proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=900, **kwargs)
        except subprocess.TimeoutExpired:
            raise RealServiceError(f"{what} took over 15 minutes; see {log}. {how}") from None
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise RealServiceError(f"{what} failed (exit {proc.returncode}); {how}. Last lines of {log}:\n{tail}")


def _install(entry: Path, recipe: dict, build: Callable[[Path, Path], None]) -> bool:
    """Build `entry` in place unless its stamp matches `recipe`. True when it was (re)built.

    In place, not in a temp dir renamed later: a virtualenv's scripts name their interpreter by absolute path.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    with locked(f"realsvc-{entry.name}"):
        try:
            if json.loads((entry / STAMP).read_text()).get("recipe") == recipe:
                return False
        except (OSError, ValueError):
            pass
        shutil.rmtree(entry, ignore_errors=True)   # a half-built entry from a killed install
        entry.mkdir()
        log = entry.parent / f"{entry.name}.log"
        log.write_text("")
        started = time.monotonic()
        build(entry, log)
        stamp = {"recipe": recipe, "install_seconds": round(time.monotonic() - started, 1),
                 "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (entry / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        return True


def _installer_env(path: str, **extra: str) -> dict[str, str]:
    """The installers keep the user's network settings (proxies, CA bundles, ~/.npmrc, pip.conf): only the
    services get a scrubbed environment. PATH is the minimal one; nothing of the project's venv leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return {**env, "PATH": path, **extra}


def _tool(name: str) -> Path:
    try:
        return tools.find(name)
    except tools.ToolMissing as e:
        raise RealServiceError(f"the real-clients tests need {name}: {e}") from None


def node_version() -> str:
    out = subprocess.run([str(_tool("node")), "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def install_node() -> Path:
    """`npm ci` of tests/realsvc/node's committed lockfile, cached; returns the directory holding node_modules."""
    node, npm = _tool("node"), _tool("npm")
    version = node_version()
    files = {n: (NODE_SRC / n).read_bytes() for n in ("package.json", "package-lock.json")}
    major = version.lstrip("v").split(".")[0]
    entry = root() / f"node-{_digest(*files.values(), major.encode())}"

    def build(entry: Path, log: Path) -> None:
        for name, data in files.items():
            (entry / name).write_bytes(data)
        # npm is a node script (`#!/usr/bin/env node`): its PATH holds exactly the node tools.find chose.
        env = _installer_env(f"{node.parent}:{BASE_PATH}", npm_config_update_notifier="false")
        _run_logged([str(npm), "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline",
                     "--cache", str(root() / "npm-cache")], log,
                    "npm ci of tests/realsvc/node",
                    "it needs the npm registry (https://registry.npmjs.org) or a warm npm cache in "
                    f"{root() / 'npm-cache'}; check the network or npm's proxy settings and rerun",
                    cwd=entry, env=env)
        register = entry / "node_modules" / "@opentelemetry" / "auto-instrumentations-node"
        if not register.is_dir():
            raise RealServiceError(f"npm ci finished but {register} is missing; see {log}")

    _install(entry, {"lock": entry.name, "node": version}, build)
    return entry


def install_python() -> Path:
    """A venv of its own with tests/realsvc/python/requirements.txt, cached; returns its `opentelemetry-instrument`.

    Not the project's venv: the services' OpenTelemetry versions must not disturb obs's own.
    """
    requirements = (PYTHON_SRC / "requirements.txt").read_bytes()
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    entry = root() / f"python-{_digest(requirements, minor.encode())}"

    def build(entry: Path, log: Path) -> None:
        (entry / "requirements.txt").write_bytes(requirements)
        # The interpreter running the tests is the one program here not found by tools.find: it is this process.
        _run_logged([sys.executable, "-m", "venv", str(entry / "venv")], log, "creating the services' venv",
                    "Debian needs `apt-get install python3-venv`")
        python = entry / "venv" / "bin" / "python"
        env = _installer_env(BASE_PATH, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_REQUIRE_VIRTUALENV="false")
        _run_logged([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--cache-dir",
                     str(root() / "pip-cache"), "-r", str(entry / "requirements.txt")], log,
                    "pip install of tests/realsvc/python/requirements.txt",
                    "it needs PyPI (https://pypi.org) or a warm pip cache in "
                    f"{root() / 'pip-cache'}; check the network or pip's index settings and rerun", env=env)
        # --no-deps installs exactly the lock; `pip check` proves the lock is complete.
        _run_logged([str(python), "-m", "pip", "check"], log, "pip check of the services' venv",
                    "tests/realsvc/python/requirements.txt is missing a dependency: add the pin pip names",
                    env=env)

    _install(entry, {"requirements": entry.name, "python": sys.version.split()[0]}, build)
    return instrument_path(entry)


def instrument_path(entry: Path) -> Path:
    return entry / "venv" / "bin" / "opentelemetry-instrument"


def _service_env(otel: Mapping[str, str], path: str, app: Mapping[str, str]) -> dict[str, str]:
    """Exactly the caller's OTEL_* variables, the app's settings and a minimal PATH: nothing from os.environ."""
    stray = sorted(k for k in otel if not k.startswith("OTEL_"))
    if stray:
        raise ValueError(f"otel env may hold only OTEL_* variables, got {stray}")
    return {"PATH": path, "LANG": "C.UTF-8", **app, **otel}


def wait_listening(proc: subprocess.Popen, port: int, log: Path, budget: float = START_BUDGET_S) -> None:
    """Until something accepts a TCP connection on 127.0.0.1:port; fails if the process exits first.

    A bare connect, not an HTTP request: a readiness request would be a request the instrumentation counts.
    """
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RealServiceError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}; "
                                   f"its log {log}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RealServiceError(f"nothing listened on 127.0.0.1:{port} within {budget:.0f}s; log {log}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the test process dies (killed, or a pipe closed under it),
    so a service never outlives its test. The setting survives exec (opentelemetry-instrument execs python)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(argv: list[str], env: dict[str, str], cwd: Path, port: int, log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    wait_listening(proc, port, log)
    return proc


def start_node(env: Mapping[str, str], port: int, downstream: str, log: Path) -> subprocess.Popen:
    """api-gateway on 127.0.0.1:port; GET /work calls `downstream` (a full URL) and answers its status."""
    app_dir = install_node()
    node = _tool("node")
    argv = [str(node), "--require", NODE_REGISTER, str(NODE_APP)]
    full = _service_env(env, f"{node.parent}:{BASE_PATH}", {"PORT": str(port), "DOWNSTREAM_URL": downstream})
    # cwd is the install: `--require` resolves the register hook from node_modules there.
    return _spawn(argv, full, app_dir, port, log)


def start_python(env: Mapping[str, str], port: int, log: Path, *, error_every: int = 0, slow_every: int = 0,
                 slow_seconds: float = 0.0, medium_every: int = 0, medium_seconds: float = 0.0) -> subprocess.Popen:
    """memory-search on 127.0.0.1:port; GET /search fails every error_every-th and sleeps every slow_every-th
    (slow_seconds) and every other medium_every-th (medium_seconds)."""
    instrument = install_python()
    python = instrument.parent / "python"
    app = {"PORT": str(port), "ERROR_EVERY": str(error_every), "SLOW_EVERY": str(slow_every),
           "SLOW_SECONDS": str(slow_seconds), "MEDIUM_EVERY": str(medium_every),
           "MEDIUM_SECONDS": str(medium_seconds), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    full = _service_env(env, f"{instrument.parent}:{BASE_PATH}", app)
    return _spawn([str(instrument), str(python), str(PYTHON_APP)], full, PYTHON_SRC, port, log)


def stop(proc: subprocess.Popen, grace: float = STOP_GRACE_S) -> int:
    """SIGTERM (the services flush their telemetry and exit), SIGKILL after `grace` seconds. The exit code."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)   # its own session: nothing it spawned outlives it
        except ProcessLookupError:
            pass
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return proc.wait(grace)


def drive(url: str, n: int, rate: float, *, workers: int = 4, timeout: float = 30.0) -> Counter:
    """GET `url` n times, starting at most `rate` requests per second, at most `workers` at once.

    Loopback only. Returns how many answers had each status code (0: no answer). Bounded: every request
    has `timeout`, so the whole run ends within n / rate + timeout seconds or so.
    """
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"drive sends traffic to loopback only, not {host!r}")
    if not (0 < n <= 100_000 and 0 < rate <= 1000):
        raise ValueError(f"drive: n={n} and rate={rate} must be within 1..100000 and 0..1000/s")
    counts: Counter = Counter()
    lock = threading.Lock()
    next_index = iter(range(n))
    start = time.monotonic()

    def worker() -> None:
        with requests.Session() as session:
            session.trust_env = False      # no proxy from the environment for loopback traffic
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                try:
                    status = session.get(url, timeout=timeout).status_code
                except requests.RequestException:
                    status = 0
                with lock:
                    counts[status] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


# What the old-semconv run leaves out of `obs env`: the Python distro's defaults then apply (the old
# `http.server.duration` in ms with `http.status_code`, and explicit buckets).
OLD_SEMCONV_DROPS = ("OTEL_SEMCONV_STABILITY_OPT_IN", "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION")
AGGREGATION = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"
RESOURCE = "OTEL_RESOURCE_ATTRIBUTES"


def obs_env(spec: Path, service: str) -> dict[str, str]:
    """Exactly what `obs env SERVICE SPEC` prints, read from its JSON form (`python -m obs env ... --format json`).

    The tests spell no OTEL_* variable themselves: a service starts with this, plus what `service_env` adds.
    The interpreter is this process's own (the project's venv), like every other in-process use of obs.
    """
    proc = subprocess.run([sys.executable, "-m", "obs", "env", service, str(spec), "--format", "json"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RealServiceError(f"obs env {service} {spec} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    env = json.loads(proc.stdout)["env"]
    stray = sorted(k for k in env if not k.startswith("OTEL_"))
    if stray:
        raise RealServiceError(f"obs env {service} printed more than OTEL_* variables: {stray}")
    return env


def service_env(spec: Path, service: str, *, instance: str | None = None, drop: tuple[str, ...] = (),
                **overrides: str) -> dict[str, str]:
    """`obs env`'s settings for one instance of `service`.

    `instance` is appended to OTEL_RESOURCE_ATTRIBUTES as `service.instance.id`, what a deployment gives each
    replica (the generated Prometheus promotes it to `service_instance_id` and `instance`), so runs and replicas
    are told apart. `drop` removes settings, so the SDK's own default applies (`OLD_SEMCONV_DROPS`: the
    distro's defaults for semconv and histograms); `overrides` replace one (`AGGREGATION`: a replica with
    another bucket layout). Both are for the tests that need exactly that and say why.
    """
    env = obs_env(spec, service)
    unknown = sorted(k for k in (*drop, *overrides) if k not in env)
    if unknown:
        raise ValueError(f"obs env {service} prints no {unknown}: nothing to drop or override")
    for key in drop:
        del env[key]
    env.update(overrides)
    if instance is not None:
        env[RESOURCE] = ",".join(filter(None, [env.get(RESOURCE, ""), f"service.instance.id={instance}"]))
    return env
