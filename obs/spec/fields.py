"""Field types of the obs.yaml schema: each validator says what is wrong and what would be right."""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr

DURATION_RE = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
MAX_DURATION_MS = 10 * _UNIT_MS["y"]
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HOST_PORT_RE = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$")


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
                         "not starting with a digit")
    return value


def _host_port(value: str) -> str:
    match = HOST_PORT_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise ValueError(f"must be host:port with a port from 1 to 65535, e.g. localhost:9100 (got {shown(value)})")
    return value


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


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"must be a port from 1 to 65535 (got {value})")
    return value


Duration = Annotated[StrictStr, BeforeValidator(_duration_text), AfterValidator(_duration), Field(json_schema_extra={"pattern": DURATION_RE.pattern})]
Name = Annotated[StrictStr, AfterValidator(_name), Field(json_schema_extra={"pattern": NAME_RE.pattern})]
LabelName = Annotated[StrictStr, AfterValidator(_label_name), Field(json_schema_extra={"pattern": LABEL_RE.pattern})]
HostPort = Annotated[StrictStr, AfterValidator(_host_port)]
Address = Annotated[StrictStr, AfterValidator(_address)]
HttpUrl = Annotated[StrictStr, AfterValidator(_http_url)]
Port = Annotated[StrictInt, AfterValidator(_port), Field(json_schema_extra={"minimum": 1, "maximum": 65535})]
