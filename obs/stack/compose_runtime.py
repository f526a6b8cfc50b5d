"""The compose runtime: the generated docker-compose.yml under `docker compose`, where an engine exists.

Compose services are named like the native components (otelcol, jaeger, prometheus,
alertmanager) plus grafana; ports are published on the same addresses, so health
checks and URLs are the same for both runtimes.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from obs.errors import StackError
from obs.model import conventions as c
from obs.model.domain import Model
from obs.stack import health, secrets, tools
from obs.stack.components import ORDER, PYTHON, http_url, public_url, stack_components
from obs.stack.native import ComponentStatus, Progress, quiet
from obs.stack.state import State

SERVICES = (*ORDER, "grafana")
# Image pulls on a cold machine take a while.
HEALTH_TIMEOUT_S = 300.0
ENGINE_PROBE_TIMEOUT_S = 15


def engine_available(docker: str = "docker") -> bool:
    """True when a Docker engine answers (`docker info` exits 0)."""
    try:
        exe = tools.system_tool(docker)
    except tools.ToolMissing:
        return False
    try:
        return subprocess.run([exe, "info"], capture_output=True, timeout=ENGINE_PROBE_TIMEOUT_S).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class ComposeStack:
    def __init__(self, out_dir: Path, model: Model | None, docker: str = "docker",
                 timeout: float = HEALTH_TIMEOUT_S):
        self.out = Path(out_dir).resolve()
        self._model = model
        self.docker = docker
        self.timeout = timeout
        self.state = State(self.out)

    @property
    def model(self) -> Model:
        # `down` and `logs` run without the spec; everything else needs it (as native.Stack.model says).
        if self._model is None:
            raise StackError("this needs the spec; pass the spec (or fix it) and run again")
        return self._model

    def argv(self, *args: str) -> list[str]:
        return [self.docker, "compose", "-f", str(self.out / c.COMPOSE_FILE), *args]

    def _run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        # Resolved first: a missing Docker is named with how to get it, before anything runs.
        argv = [str(tools.system_tool(self.docker)), *self.argv(*args)[1:]]
        proc = subprocess.run(argv, cwd=self.out, capture_output=capture, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            detail = f":\n{(proc.stderr or '').strip()}" if capture else ""
            raise StackError(f"`{' '.join(argv)}` failed with status {proc.returncode}{detail}")
        return proc

    def health_urls(self) -> dict[str, str]:
        # Under `topology: ha` every replica is its own compose service, named as the native stack names it.
        urls = {name: comp.health_url(self.model) for name, comp in stack_components(self.model).items()
                if comp.binary != PYTHON}
        urls["grafana"] = http_url(self.model.stack.bind, self.model.stack.ports["grafana"], "/api/health")
        return urls

    def up(self, progress: Progress = quiet) -> list[ComponentStatus]:
        if not (self.out / c.COMPOSE_FILE).is_file():
            raise StackError(f"{self.out / c.COMPOSE_FILE} does not exist; run `obs generate` first")
        for warning in secrets.materialise(self.model, self.out):
            progress(f"warning: {warning}")
        secrets.grafana_admin_password(self.out)
        # The compose Alertmanager runs the local overlay too: it reads these instead of secrets.
        from obs.generate.configs import alertmanager
        from obs.model import network
        for path, value in alertmanager.stand_ins(self.model, network.compose(self.model)).items():
            secrets.write_private(self.out / path, value)
        self.state.write_runtime("compose")
        progress(f"running {' '.join(self.argv('up', '-d'))}")
        self._run("up", "-d")
        deadline = time.monotonic() + self.timeout
        for name, url in self.health_urls().items():
            if health.wait(url, deadline) != "healthy":
                raise StackError(f"{name} did not become healthy at {url} within {self.timeout:.0f}s; "
                                 f"see `{' '.join(self.argv('logs', name))}`")
            progress(f"{name}: healthy")
        return self.status()

    def down(self, purge: bool = False, progress: Progress = quiet) -> list[str]:
        self._run("down", *(["--volumes"] if purge else []))
        if purge:
            shutil.rmtree(self.state.root, ignore_errors=True)
        return list(SERVICES)

    def status(self) -> list[ComponentStatus]:
        out = []
        for name, url in self.health_urls().items():
            ok = health.answers(url)
            out.append(ComponentStatus(name, ok, None, public_url(self.model, name), url,
                                       "healthy" if ok else "stopped",
                                       "" if ok else f"{url} does not answer; see `docker compose logs {name}`"))
        return out

    def logs_argv(self, service: str, lines: int, follow: bool) -> list[str]:
        return self.argv("logs", "--no-log-prefix", "-n", str(lines), *(["-f"] if follow else []), service)
