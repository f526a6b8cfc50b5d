"""Secrets given as `{env: NAME}` become files under <out>/.obs/secrets, mode 0600.

Generated configs reference those files (conventions.secret_file), never the values,
and compose mounts the same directory. Grafana's admin password is generated once
per output directory; there is no default credential.
"""
from __future__ import annotations

import os
import secrets as token
from collections.abc import Mapping
from pathlib import Path

from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.kinds import ReceiverKind


def env_secrets(model: Model) -> dict[str, str]:
    """Environment variable -> what reads it, for every `{env: ...}` secret in the model."""
    found: dict[str, str] = {}
    for r in model.receivers:
        if r.secret is not None and r.secret.env:
            found.setdefault(r.secret.env, f"receiver {r.name!r}")
    if model.heartbeat is not None and model.heartbeat.env:
        found.setdefault(model.heartbeat.env, "the heartbeat (dead man's switch) URL")
    bearer = model.stack.receivers_bearer
    if bearer is not None and bearer.env:
        found.setdefault(bearer.env, "the collector's OTLP bearer token")
    return found


def local_needs(model: Model) -> set[str]:
    """The env secrets the local stack itself reads: the local Alertmanager overlay sends PagerDuty, Slack
    and webhook notifications to obs's contract receivers, so only SMTP passwords and the OTLP token remain."""
    found = {r.secret.env for r in model.receivers
             if r.kind == ReceiverKind.EMAIL and r.secret is not None and r.secret.env}
    bearer = model.stack.receivers_bearer
    return found | ({bearer.env} if bearer is not None and bearer.env else set())


def write_private(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)  # in case the temp file pre-existed with wider permissions
    os.replace(tmp, path)


def materialise(model: Model, out: Path, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Write every env secret that is set; return a warning for each that is not.

    An unset variable leaves any earlier file in place, so a later shell without the
    variable does not break a receiver that worked.
    """
    warnings = []
    for env, user in sorted(env_secrets(model).items()):
        path = out / c.secret_file(env)
        value = environ.get(env)
        if value:
            if not path.exists() or path.read_text() != value:
                write_private(path, value)
        elif not path.exists() and env in local_needs(model):
            warnings.append(f"{env} is not set, so {user} has no secret and cannot authenticate; "
                            f"export {env} and run `obs up` again")
    return warnings


def grafana_admin_password(out: Path) -> Path:
    """The compose Grafana's admin password file, created on first use and then kept."""
    path = out / c.GRAFANA_ADMIN_PASSWORD_FILE
    if not path.exists():
        write_private(path, token.token_urlsafe(24))
    return path
