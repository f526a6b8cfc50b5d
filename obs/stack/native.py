"""The native stack: the real binaries run as detached processes from the generated configs.

    stack = Stack(out_dir, model)
    stack.up(progress)        # idempotent: healthy components are left alone, others (re)started
    stack.status()            # [ComponentStatus(name, healthy, pid, url, ...)]
    stack.kill("prometheus")  # fault injection: SIGKILL, pid record kept so `up` heals it
    stack.down(purge=False)   # stops exactly the processes obs started

Processes run in their own session (a closed terminal does not take them down), with
cwd = the output directory and output appended to <out>/.obs/logs/<name>.log.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from obs.errors import StackError
from obs.generate.configs import alertmanager
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model
from obs.stack import build, health, ports, secrets
from obs.stack.components import NATIVE, NATIVE_ORDER, PYTHON, WATCHER_KEY_FILE, Component, public_url, stack_components
from obs.stack.state import ProcessRecord, State, identity

Progress = Callable[[str], None]
_PROCESS_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
TAIL = 20
# Generous: a cold Prometheus replays its WAL before it is ready.
HEALTH_TIMEOUT_S = 120.0
# A running but unhealthy component gets this long to recover before it is restarted.
SETTLE_S = 10.0
STOP_GRACE_S = 10.0


def quiet(_: str) -> None:
    """A Progress that says nothing."""
    pass


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    healthy: bool
    pid: int | None
    url: str
    health_url: str
    state: str          # healthy | unhealthy (ours, not answering) | stopped | foreign (someone else answers)
    detail: str = ""
    ports: tuple[int, ...] = ()   # every port it listens on, its own ports + replica index under `topology: ha`


def _alive(rec: ProcessRecord) -> bool:
    """Our process, until it is gone: one that is exiting has an empty command line but the same start
    time (a Python process takes a while to wind down its threads), and still holds its ports."""
    found = identity(rec.pid)
    return found is not None and found[0] == rec.started


class Stack:
    def __init__(self, out_dir: Path, model: Model | None, timeout: float = HEALTH_TIMEOUT_S):
        self.out = Path(out_dir).resolve()
        self._model = model
        self.state = State(self.out)
        self.timeout = timeout

    @property
    def model(self) -> Model:
        if self._model is None:
            raise StackError("this needs the spec; pass the spec (or fix it) and run again")
        return self._model

    @property
    def components(self) -> dict[str, Component]:
        """What this spec runs, in start order (under `topology: ha`, every replica by its own name); without a
        spec, the single topology's names."""
        return NATIVE if self._model is None else stack_components(self._model)

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(self.components)

    # -- what to run --------------------------------------------------------------

    def binaries(self, progress: Progress = quiet) -> dict[str, Path]:
        """Build whatever is missing (minutes when cold), then return name -> binary."""
        names = list(dict.fromkeys(comp.binary for comp in self.components.values() if comp.binary != PYTHON))
        found = build.ensure(names, manifest=self.out / c.OTELCOL_MANIFEST, progress=progress)
        return {**found, PYTHON: Path(sys.executable)}

    def _argv(self, comp: Component, binaries: dict[str, Path]) -> list[str]:
        return comp.argv(self.model, self.out, binaries[comp.binary])

    def _fingerprint(self, comp: Component, argv: list[str]) -> str:
        h = hashlib.sha256("\0".join(argv).encode())
        for pattern in comp.watched:
            for path in sorted(self.out.glob(pattern)):
                if path.is_file():
                    h.update(path.relative_to(self.out).as_posix().encode() + b"\0" + path.read_bytes())
        return h.hexdigest()[:16]

    def _check_generated(self) -> None:
        configs = dict.fromkeys(comp.config for comp in self.components.values())
        missing = [config for config in configs if not (self.out / config).is_file()]
        missing += [] if (self.out / c.OTELCOL_MANIFEST).is_file() else [c.OTELCOL_MANIFEST]
        if missing:
            raise StackError(f"{self.out} has no {', '.join(missing)}; run `obs generate` first")

    # -- up -----------------------------------------------------------------------

    def up(self, progress: Progress = quiet) -> list[ComponentStatus]:
        self._check_generated()
        binaries = self.binaries(progress)
        with self.state.locked():
            self.state.write_runtime("native")
            for warning in secrets.materialise(self.model, self.out):
                progress(f"warning: {warning}")
            for path, value in alertmanager.stand_ins(self.model, network.native(self.model)).items():
                secrets.write_private(self.out / path, value)
            # The watcher pages the local stand-in of the paging receiver, with that receiver's stand-in key.
            secrets.write_private(self.out / WATCHER_KEY_FILE,
                                  c.local_routing_key(self.model.paging_receiver or "watcher"))
            plan = {name: self._argv(comp, binaries) for name, comp in self.components.items()}
            # A replica left over from another topology (the spec changed) is stopped, not orphaned.
            for name in self.recorded():
                if name not in plan:
                    self._stop(name, progress)
            to_start = [name for name in plan if not self._keep(name, plan[name], progress)]
            self._check_ports(to_start)
            for name in to_start:
                self._start(name, plan[name], progress)
        return self.status()

    def _keep(self, name: str, argv: list[str], progress: Progress) -> bool:
        """True when this component is ours, current and healthy; otherwise stop what is left of it."""
        comp = self.components[name]
        rec = self.state.running(name)
        if rec is None:
            self.state.forget(name)
            return False
        if rec.fingerprint != self._fingerprint(comp, argv):
            progress(f"{name}: binary or config changed; restarting (pid {rec.pid})")
        elif health.wait(comp.health_url(self.model), time.monotonic() + SETTLE_S,
                         lambda: self.state.running(name) is not None) == "healthy":
            progress(f"{name}: healthy, left alone (pid {rec.pid})")
            return True
        else:
            progress(f"{name}: running but not healthy; restarting (pid {rec.pid})")
        self._stop(name, progress)
        return False

    def _check_ports(self, names: list[str]) -> None:
        taken = []
        for name in names:
            for host, port in self.components[name].listens(self.model):
                if not ports.is_free(host, port):
                    taken.append(f"port {port} ({name}, {host}) is already in use by {ports.describe_owner(port)}")
        if taken:
            raise StackError("cannot start the stack:\n  " + "\n  ".join(taken) +
                             "\nStop that process, or choose other ports under stack.ports in the spec.")

    def _start(self, name: str, argv: list[str], progress: Progress) -> None:
        comp = self.components[name]
        self.state.data_dir(name).mkdir(parents=True, exist_ok=True)
        log, offset = self.state.open_log(name, argv)
        started = time.monotonic()
        try:
            # The collector's persistent queue lives under the state dir the config names by this variable.
            env = {**os.environ, c.STATE_DIR_ENV: str(self.state.root), **dict(comp.env)}
            proc = subprocess.Popen(argv, cwd=self.out, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            raise StackError(f"cannot start {name} ({argv[0]}): {e}") from None
        finally:
            log.close()
        found = identity(proc.pid)
        if found is not None:
            # argv, not what /proc shows: right after exec the kernel may not have set it up yet.
            self.state.write(name, ProcessRecord(
                pid=proc.pid, started=found[0], cmdline=argv, fingerprint=self._fingerprint(comp, argv),
                log_offset=offset, started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z")))
        progress(f"{name}: started (pid {proc.pid}), waiting for {comp.health_url(self.model)}")
        outcome = health.wait(comp.health_url(self.model), started + self.timeout, lambda: proc.poll() is None)
        if outcome == "healthy":
            progress(f"{name}: healthy after {time.monotonic() - started:.1f}s")
            return
        log_path = self.state.log_file(name)
        lines = "\n".join(f"  | {line}" for line in self.state.tail(name, TAIL, offset))
        if outcome == "exited":
            self.state.forget(name)
            raise StackError(f"{name} exited with status {proc.returncode} right after starting. "
                             f"Last lines of {log_path}:\n{lines}")
        raise StackError(f"{name} (pid {proc.pid}) did not become healthy at {comp.health_url(self.model)} "
                         f"within {self.timeout:.0f}s; it is left running for inspection "
                         f"(`obs logs {name}`, `obs down`). Last lines of {log_path}:\n{lines}")

    # -- single components, also for fault injection ------------------------------

    def start(self, name: str, progress: Progress = quiet) -> None:
        """Start one component if it is not already running (no-op when it is)."""
        self._known(name)
        self._check_generated()
        if self.state.running(name) is not None:
            return
        argv = self._argv(self.components[name], self.binaries(progress))
        with self.state.locked():
            self.state.forget(name)
            self._check_ports([name])
            self._start(name, argv, progress)

    def stop(self, name: str, progress: Progress = quiet) -> bool:
        """SIGTERM, then SIGKILL after a grace period. True if something was running."""
        self._known(name)
        with self.state.locked():
            return self._stop(name, progress)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to the component and wait for it to die; its pid record stays, as after a crash."""
        self._known(name)
        rec = self.state.running(name)
        if rec is None:
            raise StackError(f"{name} is not running")
        os.kill(rec.pid, sig)
        self._wait_gone(rec, STOP_GRACE_S)
        return rec.pid

    def pid(self, name: str) -> int | None:
        rec = self.state.running(name)
        return rec.pid if rec else None

    def _stop(self, name: str, progress: Progress) -> bool:
        rec = self.state.running(name)
        if rec is None:
            self.state.forget(name)
            return False
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            try:
                os.kill(rec.pid, sig)
            except ProcessLookupError:
                break
            if self._wait_gone(rec, grace):
                break
            progress(f"{name}: still running {grace:.0f}s after {sig.name}")
        if self.state.running(name) is not None:
            raise StackError(f"{name} (pid {rec.pid}) survived SIGKILL; stop it by hand")
        self.state.forget(name)
        progress(f"{name}: stopped (pid {rec.pid})")
        return True

    def _wait_gone(self, rec: ProcessRecord, grace: float) -> bool:
        deadline = time.monotonic() + grace
        while _alive(rec):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _known(self, name: str) -> None:
        if name not in self.components:
            raise StackError(f"unknown component {name!r}; components: {', '.join(self.order)}")

    def recorded(self) -> list[str]:
        """Names with a pid record, whatever spec started them."""
        pids = self.out / c.STATE_PIDS
        if not pids.is_dir() or pids.is_symlink():
            return []
        return sorted(p.stem for p in pids.glob("*.pid") if _PROCESS_NAME.fullmatch(p.stem))

    # -- down and status ----------------------------------------------------------

    def down(self, purge: bool = False, progress: Progress = quiet) -> list[str]:
        """Stop every component obs started, last started first; return the names stopped."""
        stopped = []
        # Without a spec (or after it changed), every process with a pid record is still stopped.
        known = list(self.order) if self._model is not None else list(NATIVE_ORDER)
        names = known + [n for n in self.recorded() if n not in known]
        with self.state.locked():
            for name in reversed(names):
                if self._stop(name, progress):
                    stopped.append(name)
        if purge:
            shutil.rmtree(self.state.root, ignore_errors=True)
        return stopped

    def status(self) -> list[ComponentStatus]:
        return [self._status(name) for name in self.order]

    def _status(self, name: str) -> ComponentStatus:
        comp = self.components[name]
        rec = self.state.running(name)
        url, health_url = public_url(self.model, name), comp.health_url(self.model)
        ports_ = tuple(port for _, port in comp.listens(self.model))
        answers = health.answers(health_url)
        if rec and answers:
            return ComponentStatus(name, True, rec.pid, url, health_url, "healthy", ports=ports_)
        if rec:
            return ComponentStatus(name, False, rec.pid, url, health_url, "unhealthy",
                                   f"running, but {health_url} does not answer; see `obs logs {name}`", ports_)
        if answers:
            return ComponentStatus(name, False, None, url, health_url, "foreign",
                                   f"not started by obs, yet {health_url} answers: another process holds the port",
                                   ports_)
        return ComponentStatus(name, False, None, url, health_url, "stopped", "not running; `obs up` starts it",
                               ports_)
