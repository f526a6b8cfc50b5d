"""Where Alertmanager sends an alert: its route-tree walk, read off an alertmanager.yml.

Same semantics as Alertmanager: a route matches when all its matchers do; children
are tried in order and the first match wins unless it says `continue: true`; a
route no child claims is the match itself; settings are inherited down the tree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*$')
INHERITED = ("receiver", "group_by", "group_wait", "group_interval", "repeat_interval")
DEFAULTS = {"group_by": [], "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


@dataclass(frozen=True)
class Match:
    where: str                      # e.g. route.routes[0]
    settings: dict[str, Any]        # receiver, group_by, group_wait, ... after inheritance


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def matcher_ok(matcher: str, labels: dict[str, str]) -> bool:
    m = _MATCHER.match(matcher)
    if m is None:
        raise ValueError(f"not an Alertmanager matcher: {matcher!r}")
    name, op, quoted, bare = m.groups()
    value = _unquote(quoted) if quoted is not None else bare
    have = labels.get(name, "")
    if op in ("=", "!="):
        return (have == value) == (op == "=")
    return (re.fullmatch(value, have) is not None) == (op == "=~")


def route_ok(route: dict[str, Any], labels: dict[str, str]) -> bool:
    matchers = list(route.get("matchers") or [])
    matchers += [f'{k}="{v}"' for k, v in (route.get("match") or {}).items()]
    ok = all(matcher_ok(m, labels) for m in matchers)
    return ok and all(re.fullmatch(v, labels.get(k, "")) for k, v in (route.get("match_re") or {}).items())


def routes_for(root: dict[str, Any], labels: dict[str, str]) -> list[Match]:
    """Every route that takes the alert (several only with `continue: true`)."""
    base = {**DEFAULTS, **{k: root[k] for k in INHERITED if k in root}}
    return _walk(root, labels, base, "route", is_root=True)


def _walk(route: dict[str, Any], labels: dict[str, str], inherited: dict[str, Any], where: str,
          is_root: bool = False) -> list[Match]:
    if not is_root and not route_ok(route, labels):
        return []
    settings = {**inherited, **{k: route[k] for k in INHERITED if k in route}}
    found: list[Match] = []
    for i, child in enumerate(route.get("routes") or []):
        matched = _walk(child, labels, settings, f"{where}.routes[{i}]")
        found += matched
        if matched and not child.get("continue", False):
            break
    return found or [Match(where, settings)]
