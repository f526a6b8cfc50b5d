"""The one JSON dumper: stable key order as given, two-space indent, UTF-8, final newline."""
from __future__ import annotations

import json


def dump(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
