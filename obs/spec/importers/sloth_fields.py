"""Every field a Sloth v0.16 spec may hold, so that no key of the input goes unread.

Sloth itself ignores keys it does not know (its YAML reader is not strict), so a typo such as
`objetive` or `page_alerts` silently changes what it generates. obs refuses such keys at their
location instead: a key the importer does not read is a key whose meaning would be lost.
Fields from `sloth/pkg/prometheus/api/v1` (snake_case) and `sloth/pkg/kubernetes/api/sloth/v1`
(camelCase, the PrometheusServiceLevel resource).
"""
from __future__ import annotations

import re
from typing import Any

from obs.spec.importers.common import Context, Doc, child

ANY = "any"              # a value whose content is not walked here (maps of strings, free config)
_PLUGINS = {"overridePrevious": ANY, "chain": ANY}
_ALERT = {"disable": ANY, "labels": ANY, "annotations": ANY}
SPEC: dict[str, Any] = {
    "version": ANY, "service": ANY, "labels": ANY, "slo_plugins": _PLUGINS,
    "slos": [{
        "name": ANY, "description": ANY, "objective": ANY, "plugins": _PLUGINS, "labels": ANY,
        "sli": {"raw": {"error_ratio_query": ANY}, "events": {"error_query": ANY, "total_query": ANY},
                "plugin": {"id": ANY, "options": ANY}},
        "alerting": {"name": ANY, "labels": ANY, "annotations": ANY, "page_alert": _ALERT, "ticket_alert": _ALERT},
    }],
}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def _camel_tree(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {camel(k): _camel_tree(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_camel_tree(tree[0])]
    return tree


K8S_SPEC = {k: v for k, v in _camel_tree(SPEC).items() if k != "version"}
K8S: dict[str, Any] = {"apiVersion": ANY, "kind": ANY, "metadata": ANY, "spec": K8S_SPEC, "status": ANY}
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def check(doc: Doc, data: Any, schema: Any, path: str, ctx: Context) -> None:
    """Report every key `schema` does not name, with the known keys and the other form's spelling."""
    if schema == ANY:
        return
    if isinstance(schema, list):
        for i, item in enumerate(data if isinstance(data, list) else []):
            check(doc, item, schema[0], child(path, i), ctx)
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if key in schema:
            check(doc, value, schema[key], child(path, str(key)), ctx)
            continue
        other = camel(str(key)) if "_" in str(key) else _SNAKE.sub("_", str(key)).lower()
        hint = (f"; this form spells it `{other}`" if other in schema else "")
        ctx.problem(doc, child(path, str(key)), f"is not a Sloth field{hint}; known here: {', '.join(schema)}. "
                    "obs reads every key of the spec, so a misspelt one cannot change its meaning unseen")
