"""The user's PromQL, made safe to embed: comments removed, and its result type known.

obs splices SLI queries into larger expressions (`sum by (...) (<query>)`, one line of a
dashboard target, a rule test). A `# comment` there would hide everything after it on the
line, so comments are removed here, once, with a lexer that knows PromQL's three string
quotes (a `#` inside "a#b" is not a comment). The result must be an instant vector: the
generated rules aggregate it and compare it with other vectors.
"""
from __future__ import annotations

import promql_parser

_QUOTES = "\"'`"


def strip_comments(query: str) -> str:
    """The query without its `#` comments; each comment's newline stays, so lines keep their meaning."""
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


def value_type(expr) -> str:
    """scalar | string | vector | matrix, as Prometheus's type checker would say of the parsed expression."""
    kind = type(expr).__name__
    if kind == "NumberLiteral":
        return "scalar"
    if kind == "StringLiteral":
        return "string"
    if kind in ("MatrixSelector", "SubqueryExpr"):
        return "matrix"
    if kind in ("ParenExpr", "UnaryExpr", "StepInvariantExpr"):
        return value_type(expr.expr)
    if kind == "Call":
        return str(expr.func.return_type).rsplit(".", 1)[-1].lower()
    if kind == "BinaryExpr":
        both = {value_type(expr.lhs), value_type(expr.rhs)}
        return "scalar" if both == {"scalar"} else "vector"
    return "vector"   # VectorSelector, AggregateExpr


def parse(query: str):
    return promql_parser.parse(query)
