"""The one YAML dumper: deterministic block YAML from dicts, lists and scalars.

Hand-written rather than a library's emitter so output is byte-stable across
library versions, fast at a thousand services, and quotes exactly what needs it:
any string a YAML 1.1 or 1.2 reader could take for something else is quoted.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
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
    if "\n" not in text.rstrip("\n") or text.startswith((" ", "\n")) or "\t" in text:
        return False
    # Every line printable and without trailing whitespace. A printable line's only whitespace is the space, so
    # that is: no space before a line break or at the end, and the text printable once its breaks are taken out.
    return " \n" not in text and not text.endswith(" ") and text.replace("\n", "").isprintable()


def _literal(text: str, indent: str) -> str:
    chomp = "|" if text.endswith("\n") and not text.endswith("\n\n") else ("|-" if not text.endswith("\n") else "|+")
    body = text[:-1] if text.endswith("\n") else text
    if "\n\n" in body or body.endswith("\n"):   # empty lines carry no indent
        return chomp + "".join("\n" + (indent + line if line else "") for line in body.split("\n"))
    return chomp + "\n" + indent + body.replace("\n", "\n" + indent)


class Shared(list[object]):
    """A list that several documents embed: the rule files and both rulers' files hold each SLO's rules under
    `groups[].rules`, and its PrometheusRule two levels deeper. Its block text is made once and reused; at another
    depth it is that text indented anew (reindented()), unless a line of it is empty. One may be made of others
    (joined()): its block is theirs one after the other, so that documents sharing only some of the parts (a
    PrometheusRule's alerts carry one more label) share those. It must not change once dumped."""

    __slots__ = ("_blocks", "_parts")

    def __init__(self, items: Iterable[object] = ()):
        super().__init__(items)
        self._blocks: dict[str, str] = {}
        self._parts: tuple[Shared, ...] = ()

    @classmethod
    def joined(cls, parts: Sequence[Shared]) -> Shared:
        """The parts' items in one list, whose block is made of the parts' blocks."""
        out = cls(item for part in parts for item in part)
        out._parts = tuple(parts)
        return out

    @classmethod
    def written(cls, text: str, indent: str) -> Shared:
        """A list whose block at `indent` is `text`, whatever its items: a mark that a file's frame holds where
        each SLO's part goes (obs.generate.units)."""
        out = cls(("",))
        out._blocks[indent] = text
        return out

    @property
    def parts(self) -> tuple[Shared, ...]:
        return self._parts or (self,)

    def block(self, indent: str) -> str:
        if self._parts:   # not kept: the parts keep theirs, and joining them costs next to nothing
            return "\n".join(part.block(indent) for part in self._parts if part)
        text = self._blocks.get(indent)
        if text is None:
            for made_at, made in self._blocks.items():
                text = reindented(made, made_at, indent)
                if text is not None:
                    break
            else:
                lines: list[str] = []
                _emit_seq(self, indent, lines)
                text = "\n".join(lines)
            self._blocks[indent] = text
        return text


def reindented(text: str, old: str, new: str) -> str | None:
    """Block text written at indent `old` as the dumper writes it at `new`: every line of it starts with `old`,
    except an empty line (in a `|` block), which carries no indent at either depth; so None where there is one."""
    if "\n\n" in text or text.endswith("\n") or not text.startswith(old):
        return None
    return new + text[len(old):].replace("\n" + old, "\n" + new)


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
    kind = type(value)
    if kind is dict:
        _emit_map(cast("dict[object, object]", value), indent, out)
        return
    if kind is list or kind is tuple:
        _emit_seq(cast("Sequence[object]", value), indent, out)
        return
    shape = _shape(value)
    # _shape has told mappings and sequences apart by exact type first; the casts keep that fast path.
    if shape == _MAP:
        _emit_map(cast("Mapping[object, object]", value), indent, out)
    elif shape == _SEQ:
        _emit_seq(cast("Sequence[object]", value), indent, out)
    else:
        raise TypeError("top-level YAML must be a mapping or a sequence")


def _emit_map(value: Mapping[object, object], indent: str, out: list[str]) -> None:
    # The common shapes (exact str keys, str values on one line, dicts, lists) are written here without a call
    # per node: at a thousand services the dumper walks millions of nodes. Anything else goes through _pair.
    inner = indent + "  "
    for k, v in value.items():
        key = _key_text(k) if type(k) is str else _key(k)
        kind = type(v)
        if kind is str:
            text = cast(str, v)
            if "\n" not in text:
                out.append(f"{indent}{key}: {_text(text)}")
            else:
                out.append(f"{indent}{key}: {_literal(text, inner) if _literal_ok(text) else _text(text)}")
        elif kind is dict and v:
            out.append(f"{indent}{key}:")
            _emit_map(cast("dict[object, object]", v), inner, out)
        elif (kind is list or kind is tuple) and v:
            out.append(f"{indent}{key}:")
            _emit_seq(cast("Sequence[object]", v), indent, out)
        elif kind is int or kind is bool or kind is float or v is None:
            out.append(f"{indent}{key}: {scalar(v)}")
        elif kind is Shared and v:
            out.append(f"{indent}{key}:")
            out.append(cast(Shared, v).block(indent))   # several lines in one string: dump() joins them alike
        else:
            _pair(key, v, indent, out)


def _emit_seq(value: Sequence[object], indent: str, out: list[str]) -> None:
    inner = indent + "  "
    cut = len(inner)
    for item in value:
        kind = type(item)
        if kind is str:
            out.append(indent + "- " + _inline(item, inner))
            continue
        item_shape = _MAP if kind is dict else _shape(item)
        if item_shape == _MAP and item:
            # The mapping's first line goes on the dash's line: written at `inner`, then re-indented.
            first = len(out)
            _emit_map(cast("Mapping[object, object]", item), inner, out)
            out[first] = indent + "- " + out[first][cut:]
        elif item_shape == _SEQ and item:
            out.append(indent + "-")
            _emit_seq(cast("Sequence[object]", item), inner, out)
        else:
            out.append(indent + "- " + _inline(item, inner))


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


def comment(text: str) -> list[str]:
    """`text` as YAML comment lines: `# ` before each, `#` alone for an empty one."""
    return ["# " + line if line else "#" for line in text.split("\n")]


def dump(data: object, header: str | None = None) -> str:
    """Block YAML for `data`, with `header` as a leading comment where given."""
    out: list[str] = []
    if header:
        out.extend(comment(header))
    if isinstance(data, (Mapping, Sequence)) and not isinstance(data, str) and not data:
        out.append(_inline(data, ""))   # an empty document is `{}` or `[]`, not nothing (which reads as null)
    else:
        _emit(data, "", out)
    return "\n".join(out) + "\n"
