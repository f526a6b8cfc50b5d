"""Go templates in alert text: what a spec may put in annotations, and how literal text is kept literal.

Prometheus expands every alert label and annotation as a Go template. Labels the spec gives
(team, alerting.labels) are data, so obs escapes them (`literal`). Annotations are where
templates belong (`{{ $value | humanizePercentage }}`), but a template Prometheus cannot
parse makes `promtool check rules` fail, and obs cannot run Go's parser at validate time.
So annotations may use the subset below, which covers what alert text needs: the value,
a label, an external URL, printf, the humanize and case functions, and "quoted" literals
(write `{{ "{{" }}` for literal braces).
"""
from __future__ import annotations

import re

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STRING = r'"[^"\\\n]*"'
_OPERAND = rf"(?:\$value|\$labels\.{_NAME}|\.Value|\.Labels\.{_NAME}|\$externalURL|\.ExternalURL|{_STRING})"
FUNCTIONS = ("humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
             "title", "toUpper", "toLower", "stripPort", "stripDomain")
_FUNC = "(?:" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + ")"
_PIPELINE = rf"(?:printf +{_STRING} +{_OPERAND}|{_OPERAND})(?: *\| *{_FUNC})*"
ACTION = re.compile(rf"\{{\{{(?:- | *){_PIPELINE}(?: -| *)\}}\}}")


def is_template(text: str) -> bool:
    return "{{" in text


def unsupported(text: str) -> str | None:
    """The first `{{ ... }}` outside the supported subset (cut short), or None."""
    rest = ACTION.sub("", text)
    start = rest.find("{{")
    if start < 0:
        return None
    end = rest.find("}}", start)
    shown = rest[start:end + 2] if 0 <= end < start + 40 else rest[start:start + 20] + "..."
    return shown


def literal(text: str) -> str:
    """Text that Prometheus's template expansion gives back unchanged."""
    return text.replace("{{", '{{ "{{" }}')
