"""Field types of the obs.yaml schema: each validator says what is wrong and what would be right."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr

DURATION_RE = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
MAX_DURATION_MS = 10 * _UNIT_MS["y"]
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Kubernetes label keys (an optional DNS-subdomain prefix and a name) and values, as the API server checks them.
KUBE_LABEL_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
KUBE_LABEL_KEY_RE = re.compile(rf"^(?:[a-z0-9](?:[-a-z0-9.]{{0,251}}[a-z0-9])?/)?{KUBE_LABEL_NAME}$")
KUBE_LABEL_VALUE_RE = re.compile(rf"^(?:{KUBE_LABEL_NAME})?$")
# kustomize's namePrefix: what comes before a DNS-label name, so the result is one too.
KUBE_PREFIX_RE = re.compile(r"^(?:[a-z0-9][a-z0-9-]{0,30})?$")
HOST_PORT_RE = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$")
# An exact release: 3.16.0 or v3.16.0. Tags such as `latest`, ranges and paths pin nothing.
VERSION_RE = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# Query parameters that carry credentials in webhook URLs (Slack-, Teams- and Discord-style hooks, signed URLs).
_SECRET_QUERY = re.compile(r"(?i)(?:^|[?&;])([a-z0-9_.-]*(?:token|key|secret|pass(?:word)?|auth|sig(?:nature)?|"
                           r"credential|code)[a-z0-9_.-]*)=")
_SECRET_HOSTS = ("hooks.slack.com", "discord.com", "discordapp.com", "webhook.office.com", "outlook.office.com")


def shown(value: Any) -> str:
    """A value as quoted in a message, cut short so a megabyte string cannot flood the terminal."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _duration_text(value: Any) -> Any:
    """`window: 30` is a duration missing its unit, not a string missing its quotes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"must be a duration with a unit, such as 30d or 500ms (got {shown(value)})")
    return value


def _duration(value: str) -> str:
    if not DURATION_RE.fullmatch(value):
        raise ValueError(f"must be a duration such as 500ms, 5m, 1h30m or 30d (got {shown(value)})")
    if len(value) > 40 or sum(int(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(value)) > MAX_DURATION_MS:
        raise ValueError(f"must be at most 10y (got {shown(value)})")
    return value


def _name(value: str) -> str:
    if not NAME_RE.fullmatch(value):
        raise ValueError(
            "must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit "
            f"(got {shown(value)})"
        )
    return value


def _label_name(value: str) -> str:
    if not LABEL_RE.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a valid Prometheus label name; use letters, digits and _, "
                         "not starting with a digit" + (f", e.g. {shown(re.sub('[^a-zA-Z0-9_]', '_', value))}"
                                                        if re.fullmatch(r"[a-zA-Z][\w.\-/ ]*", value) else ""))
    if value.startswith("__"):
        raise ValueError(f"{shown(value)} starts with '__', which Prometheus reserves for its own labels; "
                         f"use {shown(value.strip('_') or 'label')}")
    return value


def _host_port(example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        match = HOST_PORT_RE.fullmatch(value)
        if not match or not 1 <= int(match.group(1)) <= 65535:
            raise ValueError(f"must be host:port with a port from 1 to 65535, e.g. {example} (got {shown(value)})")
        return value
    return check


def _address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (got {shown(value)})") \
            from None
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(?:/\S*)?", value):
        raise ValueError(f"must be an http:// or https:// URL (got {shown(value)})")
    return value


def _public_url(value: str) -> str:
    """A URL written into a generated config must hold no credential: those configs are committed."""
    authority = value.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    host = authority.rsplit("@", 1)[-1].rsplit(":", 1)[0].lower()
    query = _SECRET_QUERY.search(value.split("?", 1)[1]) if "?" in value else None
    why = ("has credentials before the host (user:password@)" if "@" in authority else
           f"has a credential in its query (`{query.group(1)}=`)" if query else
           f"is a {host} webhook, whose path is its secret" if host.endswith(_SECRET_HOSTS) else None)
    if why:
        raise ValueError(f"{why}, and would be written inline into alertmanager.yml; move the URL into a file or "
                         "an environment variable and use `url_secret: {file: /path/to/url}` or "
                         "`url_secret: {env: VAR_NAME}` instead of `url:`")
    return value


def _secret_path(value: str) -> str:
    """Paths are mounted by compose as `src:dst:ro` and written into YAML configs line by line."""
    if not value.strip():
        raise ValueError("must be a path to a file, e.g. /run/secrets/slack-url (got an empty string)")
    if ":" in value:
        raise ValueError(f"must not contain ':', which splits a compose volume `source:target:ro`; rename or "
                         f"link the file to a path without it (got {shown(value)})")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"must not contain control characters such as a newline; give the file's plain path "
                         f"(got {shown(value)})")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what} (got {shown(value)})")
        return value
    return check


def _version(value: str) -> str:
    if not VERSION_RE.fullmatch(value):
        raise ValueError(f"must be an exact release such as 3.16.0, not a tag, range or path (got {shown(value)}); "
                         "leave it out to use the version obs pins")
    return value


def _positive(value: str) -> str:
    if not any(int(n) for n, _ in _DURATION_PART.findall(value)):
        raise ValueError(f"must be longer than 0s (got {shown(value)}); leave it out to use the profile's default")
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"must be a port from 1 to 65535 (got {value})")
    return value


Duration = Annotated[StrictStr, BeforeValidator(_duration_text), AfterValidator(_duration),
                     Field(json_schema_extra={"pattern": DURATION_RE.pattern})]
Name = Annotated[StrictStr, AfterValidator(_name), Field(json_schema_extra={"pattern": NAME_RE.pattern})]
LabelName = Annotated[StrictStr, AfterValidator(_label_name), Field(json_schema_extra={"pattern": LABEL_RE.pattern})]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
HostPort = Annotated[StrictStr, AfterValidator(_host_port("localhost:9100"))]
# Alertmanager needs the port of the SMTP server: it has no default.
SmtpHost = Annotated[StrictStr, AfterValidator(_host_port("smtp.example.com:587"))]
PublicUrl = Annotated[StrictStr, AfterValidator(_http_url), AfterValidator(_public_url)]
SecretPath = Annotated[StrictStr, AfterValidator(_secret_path)]
Version = Annotated[StrictStr, AfterValidator(_version), Field(json_schema_extra={"pattern": VERSION_RE.pattern})]
Address = Annotated[StrictStr, AfterValidator(_address)]
HttpUrl = Annotated[StrictStr, AfterValidator(_http_url)]
Port = Annotated[StrictInt, AfterValidator(_port), Field(json_schema_extra={"minimum": 1, "maximum": 65535})]
KubeLabelKey = Annotated[StrictStr, AfterValidator(_matching(
    KUBE_LABEL_KEY_RE, "a Kubernetes label key: a name of up to 63 letters, digits, '-', '_' or '.', optionally "
    "after a DNS prefix and '/', e.g. app.kubernetes.io/part-of"))]
KubeLabelValue = Annotated[StrictStr, AfterValidator(_matching(
    KUBE_LABEL_VALUE_RE, "a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending "
    "with a letter or digit, e.g. \"1\""))]
KubePrefix = Annotated[StrictStr, AfterValidator(_matching(
    KUBE_PREFIX_RE, "a name prefix of up to 31 lowercase letters, digits and '-', starting with a letter or digit, "
    "e.g. team-a-"))]
