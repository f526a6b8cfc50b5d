"""Putting a report together for the commands: saved or just-made results, the live stack, the page, the file."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from obs.errors import InputError
from obs.model.domain import Model
from obs.model.environments import LOCAL, EndpointKind
from obs.report import gather, html, saved
from obs.report.data import PipelineRow, ReportData, SloStatus
from obs.report.saved import Kind, Saved, SavedDrill, SavedVerify
from obs.stack.components import urls
from obs.verify import clients

DEFAULT_RANGE_S = 6 * 3600.0


@dataclass(frozen=True)
class Sources:
    """Results that take the place of the saved ones: just made by the command, or named with --from."""
    verify: SavedVerify | None = None
    drill: SavedDrill | None = None

    def with_(self, result: Saved) -> Sources:
        if isinstance(result, SavedVerify):
            return Sources(result, self.drill)
        return Sources(self.verify, result)


def clients_for(model: Model, out: Path, env: str) -> gather.Clients:
    if env == LOCAL:
        u = urls(model)
        return gather.Clients(clients.Prometheus(u["prometheus"]), clients.Alertmanager(u["alertmanager"]))
    from obs.verify.endpoints import environment_endpoints  # reads the environment's secrets: only when asked

    environment = model.environment(env)
    if environment is None:
        raise InputError(f"no environment named {env!r} in the spec")
    ep = environment_endpoints(model, environment, out)
    return gather.Clients(clients.Prometheus(ep.prometheus, settings=ep.settings_for(EndpointKind.PROMETHEUS)),
                          clients.Alertmanager(ep.alertmanager, settings=ep.settings_for(EndpointKind.ALERTMANAGER)),
                          env)


def collect(model: Model, spec: Path, out: Path, env: str = LOCAL, range_s: float = DEFAULT_RANGE_S,
            sources: Sources = Sources(), now: float | None = None) -> ReportData:
    """Everything the page shows. Raises InputError (exit 2) for a damaged saved result."""
    made = time.time() if now is None else now
    verify = sources.verify or _saved(out, Kind.VERIFY, env)
    drill = sources.drill or _saved(out, Kind.DRILL, env)
    assert verify is None or isinstance(verify, SavedVerify)
    assert drill is None or isinstance(drill, SavedDrill)
    cl = clients_for(model, out, env)
    stack = gather.stack_state(model, cl)
    notes: list[str] = []
    slos: tuple[SloStatus, ...] = ()
    pipeline: tuple[PipelineRow, ...] = ()
    if stack.reached:
        try:
            slos = tuple(gather.slo_status(model, cl.prometheus, slo, range_s, made) for slo in model.slos)
        except (clients.Unreachable, clients.ApiError) as e:
            notes.append(f"The SLOs could not be read from Prometheus: {e}")
        try:
            pipeline = gather.pipeline(cl.prometheus)
        except (clients.Unreachable, clients.ApiError) as e:
            notes.append(f"The pipeline's counters could not be read from Prometheus: {e}")
    else:
        notes.append(f"The stack was not reached ({stack.why}): this report shows the saved results only.")
    return ReportData(
        project=model.project, spec=spec.name, spec_sha256=saved.spec_digest(spec), made_at=made, range_s=range_s,
        stack=stack, verify=verify, drill=drill, slos=slos, pipeline=pipeline,
        declared_slos=tuple((s.service, s.name) for s in model.slos), notes=tuple(notes))


def _saved(out: Path, kind: Kind, env: str) -> Saved | None:
    return saved.load(out, kind, env)


def nothing_to_show(data: ReportData) -> bool:
    return not data.stack.reached and data.verify is None and data.drill is None


def write(path: Path, data: ReportData) -> int:
    """Render and write atomically; returns the page's size in bytes."""
    page = html.render(data).encode()
    if path.is_dir():
        raise InputError(f"-o {path}: is a directory; name the HTML file to write")
    if not path.parent.is_dir():
        raise InputError(f"-o {path}: the folder {path.parent} does not exist")
    try:
        saved.write_atomically(path, page)
    except OSError as e:
        raise InputError(f"-o {path}: cannot write: {e.strerror or e}") from None
    return len(page)


def finish_run(model: Model, spec: Path, out: Path, env: str, kind: Kind, doc: dict[str, object],
               report: Path | None) -> list[str]:
    """After `obs verify` or `obs drill`: save the result it printed (for `obs report`), and write the page when
    --report asks. Returns what to tell the user. A result that cannot be saved is a warning, never the run's
    failure; a page that cannot be written, or a damaged saved result of the other kind, is bad input."""
    result = saved.wrap(kind, doc, saved.spec_digest(spec))
    told = []
    try:
        saved.save(out, result, env)
    except InputError as e:
        told.append(f"warning: the {kind} result was not saved for `obs report`: {e}")
    except OSError as e:
        told.append(f"warning: the {kind} result was not saved for `obs report`: {e.strerror or e}")
    if report is not None:
        data = collect(model, spec, out, env, sources=Sources().with_(result))
        size = write(report, data)
        told.append(f"wrote {report} ({size / 1024:.0f} KB): {data.verdict()[0].value}")
    return told
