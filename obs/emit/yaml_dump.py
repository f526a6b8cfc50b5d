"""The one YAML dumper: deterministic block YAML from dicts, lists and scalars.

Hand-written rather than a library's emitter so output is byte-stable across
library versions, fast at a thousand services, and quotes exactly what needs it:
any string a YAML 1.1 or 1.2 reader could take for something else is quoted.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9_./$@+:-]*(?<!:)$")
_DURATION = re.compile(r"^(?:\d+(?:ms|[smhdw]))+$")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$")
_NUMBERISH = re.compile(r"^[-+.]?(?:\d|\.inf|\.nan)", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("NaN and infinities have no place in generated configs")
        return repr(value)
    if isinstance(value, str):
        if _DURATION.match(value) or (
                _PLAIN.match(value) and not _RESERVED.match(value) and not _NUMBERISH.match(value)):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot dump {type(value).__name__} as YAML")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"YAML keys must be strings, got {key!r}")
    if _KEY.match(key) and not _RESERVED.match(key):
        return key
    return json.dumps(key, ensure_ascii=False)


def _literal_ok(text: str) -> bool:
    """Multi-line strings read best as `|` blocks, when the block keeps them exact."""
    if "\n" not in text.rstrip("\n") or text.startswith((" ", "\n")):
        return False
    lines = text.split("\n")
    return all(line == line.rstrip() and line.isprintable() for line in lines) and "\t" not in text


def _literal(text: str, indent: str) -> str:
    chomp = "|" if text.endswith("\n") and not text.endswith("\n\n") else ("|-" if not text.endswith("\n") else "|+")
    body = text[:-1] if text.endswith("\n") else text
    return chomp + "".join("\n" + (indent + line if line else "") for line in body.split("\n"))


def _emit(value: object, indent: str, out: list[str]) -> None:
    """Appends lines for a block value whose parent line is already written."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            _pair(_key(k), v, indent, out)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            if isinstance(item, Mapping) and item:
                lines: list[str] = []
                _emit(item, indent + "  ", lines)
                out.append(indent + "- " + lines[0][len(indent) + 2:])
                out.extend(lines[1:])
            elif isinstance(item, Sequence) and not isinstance(item, str) and item:
                out.append(indent + "-")
                _emit(item, indent + "  ", out)
            else:
                out.append(indent + "- " + _inline(item, indent + "  "))
    else:
        raise TypeError("top-level YAML must be a mapping or a sequence")


def _inline(value: object, indent: str) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[]"
    if isinstance(value, str) and _literal_ok(value):
        return _literal(value, indent)
    return scalar(value)


def _pair(key: str, value: object, indent: str, out: list[str]) -> None:
    if isinstance(value, Mapping) and value:
        out.append(f"{indent}{key}:")
        _emit(value, indent + "  ", out)
    elif isinstance(value, Sequence) and not isinstance(value, str) and value:
        out.append(f"{indent}{key}:")
        _emit(value, indent, out)
    else:
        out.append(f"{indent}{key}: {_inline(value, indent + '  ')}")


def dump(data: object, header: str | None = None) -> str:
    """Block YAML for `data`, with `header` as a leading comment where given."""
    out: list[str] = []
    if header:
        out.extend("# " + line if line else "#" for line in header.split("\n"))
    _emit(data, "", out)
    return "\n".join(out) + "\n"
