"""The user's PromQL, made safe to embed: comments removed, and its result type known.

obs splices SLI queries into larger expressions (`sum by (...) (<query>)`, one line of a
dashboard target, a rule test). A `# comment` there would hide everything after it on the
line, so comments are removed here, once, with a lexer that knows PromQL's three string
quotes (a `#` inside "a#b" is not a comment). The result must be an instant vector: the
generated rules aggregate it and compare it with other vectors.
"""
from __future__ import annotations

import promql_parser
from promql_parser import (
    AggregateExpr,
    BinaryExpr,
    Call,
    Expr,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    VectorSelector,
)

_QUOTES = "\"'`"


def strip_comments(query: str) -> str:
    """The query without its `#` comments; each comment's newline stays, so lines keep their meaning.

    Whole comment lines before the expression stay: they end before any code, so they hide nothing
    wherever the query is spliced, and they carry a reason into the generated rule (the OpenSLO
    importer explains its good/total conversion that way)."""
    lines = query.strip().splitlines()
    if "#" not in query:   # most queries: nothing to strip, only line breaks to make plain
        return "\n".join(lines).strip()
    lead = 0
    while lead < len(lines) and lines[lead].lstrip().startswith("#"):
        lead += 1
    body = _without_comments("\n".join(lines[lead:]))
    return "\n".join([*(line.strip() for line in lines[:lead]), body]) if lead and body else body


def _without_comments(query: str) -> str:
    out, i, n = [], 0, len(query)
    while i < n:
        ch = query[i]
        if ch in _QUOTES:
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if ch != "`" and query[j] == "\\" else 1
            out.append(query[i:j + 1])
            i = j + 1
        elif ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end
        else:
            out.append(ch)
            i += 1
    return "".join(out).strip()


def value_type(expr: Expr) -> str:
    """scalar | string | vector | matrix, as Prometheus's type checker would say of the parsed expression."""
    if isinstance(expr, NumberLiteral):
        return "scalar"
    if isinstance(expr, StringLiteral):
        return "string"
    if isinstance(expr, (MatrixSelector, SubqueryExpr)):
        return "matrix"
    if isinstance(expr, (ParenExpr, UnaryExpr)):
        return value_type(expr.expr)
    if isinstance(expr, Call):
        return str(expr.func.return_type).rsplit(".", 1)[-1].lower()
    if isinstance(expr, BinaryExpr):
        both = {value_type(expr.lhs), value_type(expr.rhs)}
        return "scalar" if both == {"scalar"} else "vector"
    return "vector"   # VectorSelector, AggregateExpr


def parse(query: str) -> Expr:
    return promql_parser.parse(query)


_KEEP_ALL = {"topk", "bottomk", "limitk", "limit_ratio"}


def keeps(expr: Expr, label: str) -> bool:
    """Whether the query's result can still carry `label` (a group_by label): an aggregation without it
    in `by (...)`, or a constant, drops it. Approximate only where PromQL is: binary results take the
    labels of their vector side (of the `many` side with group_left/right)."""
    if isinstance(expr, (ParenExpr, UnaryExpr)):
        return keeps(expr.expr, label)
    if isinstance(expr, AggregateExpr):
        if str(expr.op) in _KEEP_ALL:
            return keeps(expr.expr, label)
        m = expr.modifier
        if m is None:
            return False
        listed = label in list(m.labels)
        return listed if str(m.type).endswith("By") else not listed and keeps(expr.expr, label)
    if isinstance(expr, BinaryExpr):
        sides = [expr.lhs, expr.rhs]
        vectors = [s for s in sides if value_type(s) != "scalar"]
        if len(vectors) == 1:
            return keeps(vectors[0], label)
        card = str(expr.modifier.card) if expr.modifier is not None else ""
        return keeps(expr.rhs if card.endswith("OneToMany") else expr.lhs, label)
    if isinstance(expr, Call):
        name = expr.func.name
        if name in ("label_replace", "label_join"):
            return True
        args = [a for a in expr.args if value_type(a) in ("vector", "matrix")]
        return bool(args) and name not in ("vector", "absent", "absent_over_time") and keeps(args[0], label)
    if isinstance(expr, (VectorSelector, MatrixSelector)):
        return True
    if isinstance(expr, SubqueryExpr):
        return keeps(expr.expr, label)
    return False
