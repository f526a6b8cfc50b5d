"""The last verify and drill results, saved as JSON under the state directory for `obs report`.

A saved file sits in the user's tree (`.obs/results/<env>/<kind>.json`), so reading it is reading untrusted
input: never through a symbolic link, at most MAX_BYTES, validated field by field against the documents
`obs verify --format json` and `obs drill --format json` print, and consistent with itself (a result that
says `ok` while one of its checks failed is damaged, not a pass). Anything wrong is bad input (exit 2) that
names the file and the field. `--from FILE` takes the same saved file, or what `--format json` printed.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from obs.emit import safepath
from obs.errors import InputError
from obs.model import conventions as c
from obs.model.detection import Incident
from obs.model.floors import HopId
from obs.verify.result import Status

MAX_BYTES = 8 << 20
FORMAT = 1
# Bounds that keep a hand-edited or corrupted file from making a page no browser can open.
Text = Annotated[str, Field(max_length=20_000)]
Seconds = Annotated[float, Field(ge=0, le=1e7)]
UnixTime = Annotated[float, Field(ge=0, le=1e11)]
SHOWN_ERRORS = 5


class Kind(StrEnum):
    VERIFY = "verify"
    DRILL = "drill"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class FindingDoc(_Strict):
    hop: Text
    status: Status
    why: Text
    fix: Text = ""
    case: Text = ""


class HopDoc(_Strict):
    id: HopId
    title: Text
    seconds: Seconds | None
    floor_seconds: Seconds


class ProbeDoc(_Strict):
    name: Text
    ok: bool
    skipped: bool
    summary: Text
    seconds: Seconds
    floor_seconds: Seconds
    probe_id: Text | None
    hops: Annotated[list[HopDoc], Field(max_length=64)]
    findings: Annotated[list[FindingDoc], Field(max_length=20_000)]


class VerifyDoc(_Strict):
    """What `obs verify --format json` prints (obs.verify.result.Report.as_dict)."""

    project: Text
    env: Text
    profile: Text
    ok: bool
    seconds: Seconds
    floor_seconds: Seconds
    budget_seconds: Seconds
    warnings: Annotated[list[Text], Field(max_length=200)]
    results: Annotated[list[ProbeDoc], Field(max_length=200)]

    @model_validator(mode="after")
    def _consistent(self) -> VerifyDoc:
        failed = [r.name for r in self.results if not (r.ok or r.skipped)]
        if self.ok == bool(failed):
            raise ValueError(f"says ok is {self.ok}, but its failed checks are: {', '.join(failed) or 'none'}")
        return self


class IncidentDoc(_Strict):
    incident: Incident
    paged_after_s: Seconds | None
    pages: Annotated[int, Field(ge=0, le=1_000_000)]
    receiver: Text | None
    resolved_after_s: Seconds | None
    bound_s: Seconds
    resolve_bound_s: Seconds
    rule: Text
    paged_once: bool
    within_bound: bool
    ok: bool
    findings: Annotated[list[FindingDoc], Field(max_length=20_000)]
    notes: Annotated[list[Text], Field(max_length=200)]

    @model_validator(mode="after")
    def _consistent(self) -> IncidentDoc:
        if self.ok != (self.paged_once and self.within_bound):
            raise ValueError(f"{self.incident.value}: says ok is {self.ok}, but paged_once is {self.paged_once} "
                             f"and within_bound is {self.within_bound}")
        return self


class DrillDoc(_Strict):
    """What `obs drill --format json` prints."""

    incidents: Annotated[list[IncidentDoc], Field(max_length=100)]
    target_s: Seconds

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.incidents)


class SavedVerify(_Strict):
    kind: Kind = Kind.VERIFY
    format: int
    saved_at: UnixTime
    spec_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None
    result: VerifyDoc


class SavedDrill(_Strict):
    kind: Kind = Kind.DRILL
    format: int
    saved_at: UnixTime
    spec_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None
    result: DrillDoc


Saved = SavedVerify | SavedDrill


def spec_digest(spec: Path) -> str | None:
    """The spec file's SHA-256, or None when it cannot be read (the report still shows what it has)."""
    try:
        return hashlib.sha256(spec.read_bytes()).hexdigest()
    except OSError:
        return None


def _problems(e: ValidationError) -> str:
    errors = e.errors(include_url=False)
    shown = []
    for err in errors[:SHOWN_ERRORS]:
        where = ".".join(str(p) for p in err["loc"])
        shown.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
    return "; ".join(shown) + more


def parse(raw: bytes, shown: str) -> Saved:
    """A saved result, or a bare `--format json` document of verify or drill; InputError naming `shown`."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{shown}: is not valid JSON ({e}); {_remedy(shown)}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{shown}: is not a verify or drill result (a JSON object was expected); {_remedy(shown)}")
    kind = doc.get("kind")
    try:
        if kind == Kind.VERIFY:
            return SavedVerify.model_validate_json(raw)
        if kind == Kind.DRILL:
            return SavedDrill.model_validate_json(raw)
        if kind is None and "results" in doc:
            return SavedVerify(format=FORMAT, saved_at=_mtime(shown), spec_sha256=None,
                               result=VerifyDoc.model_validate_json(raw))
        if kind is None and "incidents" in doc:
            return SavedDrill(format=FORMAT, saved_at=_mtime(shown), spec_sha256=None,
                              result=DrillDoc.model_validate_json(raw))
    except ValidationError as e:
        raise InputError(f"{shown}: {_problems(e)}; {_remedy(shown)}") from None
    raise InputError(f"{shown}: is neither a verify nor a drill result (no `kind`, `results` or `incidents`); "
                     f"{_remedy(shown)}")


def _mtime(shown: str) -> float:
    try:
        return os.stat(shown).st_mtime
    except OSError:
        return time.time()


def _remedy(shown: str) -> str:
    if f"/{c.STATE_RESULTS}/" in f"/{shown}":
        return "delete it, or run `obs verify` / `obs drill` again to replace it"
    return "pass a file `obs verify --format json` or `obs drill --format json` wrote"


def load(out: Path, kind: Kind, env: str) -> Saved | None:
    """The last saved result of `kind` for `env`, None when there is none; InputError when it is damaged."""
    rel = c.result_file(kind, env)
    shown = str(out / rel)
    why = safepath.obstacle(out, rel)
    if why is not None:
        raise InputError(f"{shown}: {why}")
    try:
        fd = os.open(out / rel, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError(f"{shown}: cannot be read: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(f"{shown}: is larger than {MAX_BYTES >> 20} MiB; {_remedy(shown)}")
    saved = parse(raw, shown)
    if saved.kind != kind:
        raise InputError(f"{shown}: holds a {saved.kind} result where the {kind} result belongs; {_remedy(shown)}")
    return saved


def load_file(path: Path) -> Saved:
    """A result the user names with --from (followed if it is a link: the user chose it)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise InputError(f"--from {path}: cannot be read: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"--from {path}: is larger than {MAX_BYTES >> 20} MiB")
    return parse(raw, str(path))


def wrap(kind: Kind, result: dict[str, Any], spec_sha256: str | None, now: float | None = None) -> Saved:
    """The saved form of a result a command has just printed; validated like any file, so what is saved loads."""
    fields = {"format": FORMAT, "saved_at": time.time() if now is None else now, "spec_sha256": spec_sha256}
    raw = json.dumps({"kind": kind, **fields, "result": result}).encode()
    return parse(raw, f"the {kind} result")


def save(out: Path, saved: Saved, env: str) -> Path:
    """Write atomically (a new file, fsynced, renamed over the old), never through a link; returns the path."""
    rel = c.result_file(saved.kind, env)
    why = safepath.obstacle(out, rel)
    if why is not None:
        raise InputError(f"{out / rel}: {why}")
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    ignore = out / c.STATE_DIR / ".gitignore"
    if not ignore.exists() and not ignore.is_symlink():
        ignore.write_text("# obs runtime state: pids, logs, data, secrets, results\n*\n")
    write_atomically(target, (saved.model_dump_json(indent=1) + "\n").encode())
    return target


def write_atomically(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        safepath.write_synced(tmp, data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    safepath.fsync_dir(target.parent)
