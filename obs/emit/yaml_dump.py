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
# Characters YAML readers refuse raw (outside YAML's printable set) or fold as line breaks inside
# quotes (NEL, LS, PS); JSON leaves them raw, so they are escaped on top of JSON's escaping.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def quoted(text: str) -> str:
    """A double-quoted YAML scalar: JSON's escapes are YAML's, plus \\uXXXX for what JSON leaves raw."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


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
        if _DURATION.fullmatch(value) or (
                _PLAIN.fullmatch(value) and not _RESERVED.fullmatch(value) and not _NUMBERISH.match(value)):
            return value
        return quoted(value)
    raise TypeError(f"cannot dump {type(value).__name__} as YAML")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"YAML keys must be strings, got {key!r}")
    if _KEY.fullmatch(key) and not _RESERVED.fullmatch(key):
        return key
    return quoted(key)


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
    if isinstance(data, (Mapping, Sequence)) and not isinstance(data, str) and not data:
        out.append(_inline(data, ""))   # an empty document is `{}` or `[]`, not nothing (which reads as null)
    else:
        _emit(data, "", out)
    return "\n".join(out) + "\n"
