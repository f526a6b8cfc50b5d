"""The YAML dumper as it was before its fast paths: the reference its output is checked against, byte for byte."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import cast

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
        return _text(value)
    raise TypeError(f"cannot dump {type(value).__name__} as YAML")


@lru_cache(maxsize=1 << 16)
def _text(value: str) -> str:
    """A string scalar; cached because label names and values recur thousands of times at scale."""
    if _DURATION.fullmatch(value) or (
            _PLAIN.fullmatch(value) and not _RESERVED.fullmatch(value) and not _NUMBERISH.match(value)):
        return value
    return quoted(value)


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"YAML keys must be strings, got {key!r}")
    return _key_text(key)


@lru_cache(maxsize=1 << 12)
def _key_text(key: str) -> str:
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


_LEAF, _MAP, _SEQ = 0, 1, 2


def _shape(value: object) -> int:
    """Mapping, sequence or leaf; exact builtin types first, since the ABC checks dominated at scale."""
    kind = type(value)
    if kind is dict:
        return _MAP
    if kind is list or kind is tuple:
        return _SEQ
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return _LEAF
    if isinstance(value, Mapping):
        return _MAP
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _SEQ
    return _LEAF


def _emit(value: object, indent: str, out: list[str]) -> None:
    """Appends lines for a block value whose parent line is already written."""
    shape = _shape(value)
    # _shape has told mappings and sequences apart by exact type first; the casts keep that fast path.
    if shape == _MAP:
        for k, v in cast("Mapping[object, object]", value).items():
            _pair(_key(k), v, indent, out)
    elif shape == _SEQ:
        inner = indent + "  "
        for item in cast("Sequence[object]", value):
            item_shape = _shape(item)
            if item_shape == _MAP and item:
                lines: list[str] = []
                _emit(item, inner, lines)
                out.append(indent + "- " + lines[0][len(inner):])
                out.extend(lines[1:])
            elif item_shape == _SEQ and item:
                out.append(indent + "-")
                _emit(item, inner, out)
            else:
                out.append(indent + "- " + _inline(item, inner))
    else:
        raise TypeError("top-level YAML must be a mapping or a sequence")


def _inline(value: object, indent: str) -> str:
    if type(value) is str:
        return _literal(value, indent) if _literal_ok(value) else _text(value)
    shape = _shape(value)
    if shape == _MAP:
        return "{}"
    if shape == _SEQ:
        return "[]"
    if isinstance(value, str) and _literal_ok(value):
        return _literal(value, indent)
    return scalar(value)


def _pair(key: str, value: object, indent: str, out: list[str]) -> None:
    shape = _shape(value)
    if shape == _MAP and value:
        out.append(f"{indent}{key}:")
        _emit(value, indent + "  ", out)
    elif shape == _SEQ and value:
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
