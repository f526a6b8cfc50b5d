"""The one JSON dumper: stable key order as given, two-space indent, UTF-8, final newline.

Byte for byte what `json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)` writes, but
walked here: with an indent the standard library falls back to its pure-Python generator encoder,
which was most of the cost of a thousand dashboards. Strings still go through the C escaper.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring

_INF = float("inf")


def _float(value: float) -> str:
    if value != value or value == _INF or value == -_INF:
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key(key: object) -> str:
    """Keys as json.dumps coerces them (its order of checks, so bool beats int)."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _scalar(value: object) -> str | None:
    """A leaf's text in json's order of checks, or None for a container."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, tuple, dict)):
        return None
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _leaf(value: object) -> str | None:
    """The text of an exact-type leaf, the common case done inline; None for anything else."""
    if type(value) is str:
        return encode_basestring(value)
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return _float(value)
    return None


def _emit(value: object, newline: str, out: list[str]) -> None:
    """Appends `value`; `newline` is the line break plus the indent of the line it starts on."""
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        sep = "{" + inner
        for k, v in value.items():
            text = _leaf(v)
            head = sep + (encode_basestring(k) if type(k) is str else _key(k)) + ": "
            if text is None:
                out.append(head)
                _emit(v, inner, out)
            else:
                out.append(head + text)
            sep = "," + inner
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        sep = "[" + inner
        for v in value:
            text = _leaf(v)
            if text is None:
                out.append(sep)
                _emit(v, inner, out)
            else:
                out.append(sep + text)
            sep = "," + inner
        out.append(newline + "]")
    else:
        text = _leaf(value) or _scalar(value)
        assert text is not None   # _scalar gives None only for the containers handled above
        out.append(text)


def dump(data: object) -> str:
    out: list[str] = []
    try:
        _emit(data, "\n", out)
    except RecursionError:   # a circular structure: let the standard library say so in its words
        json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
        raise
    return "".join(out) + "\n"
