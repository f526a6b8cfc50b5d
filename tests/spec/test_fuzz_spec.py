"""Property-based fuzzing of the spec loader and validator: whatever the input, obs answers
with located problems (a SpecError), never another exception, and always finishes.

Two sources of input, half the examples each: structured specs (valid-ish, then mutated:
wrong types, missing and extra keys, unicode, huge numbers, deep nesting) dumped to YAML
or JSON, and raw text mutations of real specs (flipped characters, truncation, inserted
tags, anchors, aliases and alias bombs). OBS_FUZZ_EXAMPLES sets the total (CI: 10,000).
"""
from __future__ import annotations

import copy
import io
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from obs.commands.init import starter
from obs.emit import yaml_dump
from obs.errors import Problem, SpecError
from obs.project import load_text
from obs.spec.loader import MAX_BYTES
from tests.support.paths import REPO

EXAMPLES = int(os.environ.get("OBS_FUZZ_EXAMPLES", "10000"))
MAX_TEXT = 64 * 1024     # mutated specs are bounded; the loader's own 1 MiB bound is tested in test_bad_specs
REPO_SPEC = (REPO / "obs.yaml").read_text(encoding="utf-8")


def fuzz_settings(n: int):
    return settings(max_examples=n, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


# ---- the property ------------------------------------------------------------------------------

def assert_located(problems: list[Problem], text: str) -> None:
    assert problems, "a SpecError must carry at least one problem"
    last_line = text.count("\n") + 2
    for p in problems:
        assert isinstance(p.line, int) and isinstance(p.column, int), p
        assert 1 <= p.line <= last_line and p.column >= 1, p
        assert p.message, p


def loads_or_reports_located_problems(text: str) -> None:
    """The path the CLI takes: parse (loader), schema (validation), semantic checks (model.build) on the
    whole spec or on the parts that passed the schema. Nothing but SpecError may escape."""
    try:
        load_text(text, "obs.yaml")
    except SpecError as e:
        assert_located(e.problems, text)
        assert e.render()


# ---- structured specs, then mutated -------------------------------------------------------------

names = st.one_of(st.sampled_from(["api", "db", "a-b", "x" * 63, "x" * 64, "API", "", "1", "café", "obs-verify"]),
                  st.text(max_size=12))
durations = st.one_of(st.sampled_from(["30d", "28d", "5m", "1h30m", "0s", "500ms", "1y", "10y", "11y", "1.5h", "",
                                       "9" * 60 + "d", "1h 30m"]),
                      st.from_regex(r"\A[0-9]{1,6}(ms|s|m|h|d|w|y)\Z"))
numbers = st.one_of(st.sampled_from([99.9, 100, 0, -1, 80, 95, 99.99999999, 1e-300, 1e308]),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2 ** 70), 2 ** 70))
queries = st.sampled_from([
    "sum(rate(x_total{a=\"b\"}[{{window}}]))", "sum(rate(x_total[{{ .window }}]))", "rate(x[5m])",
    "sum(rate(x[{{window}}])", "", "{{window}}", "1 - avg_over_time(up[{{window}}])"]) | st.text(max_size=40)
labels = st.one_of(st.sampled_from(["http_route", "le", "tier-1", "9x", "", "ok"]), st.text(max_size=8))
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30), durations, names),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def secret_refs():
    return st.one_of(st.fixed_dictionaries({"env": st.sampled_from(["PD_KEY", "1X", "A-B", ""]) | st.text(max_size=6)}),
                     st.fixed_dictionaries({"file": st.text(max_size=12)}),
                     st.fixed_dictionaries({"file": st.just("/s"), "env": st.just("E")}),
                     st.text(max_size=12))


def slis():
    return st.one_of(
        st.just({"availability": {}}),
        st.fixed_dictionaries({"latency": st.fixed_dictionaries({"threshold": durations})}),
        st.fixed_dictionaries({"events": st.fixed_dictionaries({"error_query": queries, "total_query": queries})}),
        st.fixed_dictionaries({"raw": st.fixed_dictionaries({"error_ratio_query": queries})}),
        st.just({"availability": {}, "latency": {"threshold": "500ms"}}), st.just({}))


def tiers():
    return st.fixed_dictionaries({"severity": st.sampled_from(["page", "ticket", "warn"]), "long": durations,
                                  "short": durations, "burn_rate": numbers}, optional={"for": durations})


def slos():
    alerting = st.fixed_dictionaries({}, optional={
        "page": st.booleans(), "ticket": st.booleans(), "runbook_url": st.text(max_size=20),
        "labels": st.dictionaries(labels, st.text(max_size=6), max_size=3), "min_events": numbers,
        "tiers": st.lists(tiers(), max_size=4)})
    return st.fixed_dictionaries({"name": names, "objective": numbers, "sli": slis()}, optional={
        "window": durations, "alerting": alerting, "group_by": st.lists(labels, max_size=3),
        "description": st.text(max_size=20)})


def services():
    scrape = st.fixed_dictionaries({"targets": st.lists(st.sampled_from(["db:9187", "db", "[::1]:9", "h:99999"])
                                                        | st.text(max_size=10), max_size=3)},
                                   optional={"path": st.text(max_size=8), "interval": durations})
    return st.fixed_dictionaries({"name": names}, optional={
        "http": st.booleans(), "team": st.text(max_size=8), "description": st.text(max_size=30),
        "latency_buckets": st.lists(numbers, max_size=5),
        "telemetry": st.fixed_dictionaries({}, optional={"otlp": st.booleans(), "scrape": st.lists(scrape, max_size=2)}),
        "slos": st.lists(slos(), max_size=3)})


def receivers():
    kinds = st.one_of(
        st.fixed_dictionaries({"pagerduty": st.fixed_dictionaries({"routing_key": secret_refs()})}),
        st.fixed_dictionaries({"slack": st.fixed_dictionaries({"api_url": secret_refs(), "channel": st.text(max_size=8)})}),
        st.fixed_dictionaries({"webhook": st.fixed_dictionaries({}, optional={"url": st.sampled_from(
            ["http://h/x", "ftp://h"]) | st.text(max_size=10), "url_secret": secret_refs()})}),
        st.fixed_dictionaries({"email": st.fixed_dictionaries({"to": st.text(max_size=8), "from": st.text(max_size=8),
                                                               "smarthost": st.text(max_size=8)},
                                                              optional={"auth_password": secret_refs()})}))
    return st.builds(lambda name, kind: {"name": name, **kind}, names, kinds)


def specs():
    ports = st.dictionaries(st.sampled_from(["grafana", "prometheus", "otlp_grpc", "alertmanager", "nope"]),
                            st.integers(-5, 70000) | st.sampled_from([9090, 3000, 4318]), max_size=4)
    stack = st.fixed_dictionaries({}, optional={
        "profile": st.sampled_from(["production", "fast", "slow"]), "metrics": st.sampled_from(["push", "pull", "x"]),
        "bind": st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "localhost", ""]), "ports": ports,
        "persistent_queue": st.booleans(), "verify_budget": durations})
    route = st.fixed_dictionaries({"receiver": names}, optional={"match": st.fixed_dictionaries({}, optional={
        "severity": st.sampled_from(["page", "ticket", "critical"]), "service": names, "team": st.text(max_size=6)}),
        "group_wait": durations})
    alerting = st.fixed_dictionaries({}, optional={"receivers": st.lists(receivers(), max_size=3),
                                                   "routes": st.lists(route, max_size=3), "default_receiver": names})
    return st.fixed_dictionaries({"version": st.sampled_from(["obs/v1", "obs/v1", "obs/v2", 1]), "project": names,
                                  "services": st.lists(services(), max_size=4)},
                                 optional={"stack": stack, "alerting": alerting})


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _nested(depth: int) -> object:
    value: object = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


SPECS = specs()   # built once: strategies are costly to build and cheap to draw from


@st.composite
def mutated_specs(draw) -> object:
    """A spec with up to four random edits: a subtree replaced by junk, a key dropped or added, deep nesting."""
    data = copy.deepcopy(draw(SPECS))   # st.just() hands out the same object every time: never edit it
    for _ in range(draw(st.integers(0, 4))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "drop", "add", "nest", "wrap"]))
        if not path:
            data = draw(junk) if op == "replace" else data
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        if op == "replace":
            parent[key] = draw(junk)
        elif op == "drop":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(junk)
        elif op == "nest":
            parent[key] = _nested(draw(st.integers(1, 100)))
        elif op == "wrap":
            parent[key] = [parent[key]]
    return data


def dumped(data: object, style: str) -> str:
    if style == "obs":
        try:
            return yaml_dump.dump(data)
        except (TypeError, ValueError):   # NaN, infinities or a scalar root: not for the config dumper
            style = "ruamel"
    if style == "ruamel":
        out = io.StringIO()
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.dump(data, out)
        return out.getvalue()
    return json.dumps(data, ensure_ascii=style == "json-ascii")


# ---- raw text mutations -----------------------------------------------------------------------

SNIPPETS = ["!!python/object:os.system ", "!!python/object/apply:os.system [ls] ", "!custom ", "!!binary ",
            "!!set ", "!!omap ", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!int ''\n",
            "&a ", "*a ", "*undefined ", "<<: *a\n", "<<: [*a, *a]\n",
            "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "? ", "|\n", ">-\n", "\t", "{", "}", "[", "]",
            ",", ": ", "- ", "'", '"', "#", "\n", "9" * 5000, "1e400", "-.inf", ".nan", "0x" + "f" * 80, "1_000",
            "2024-01-01", "~", "null", "yes", "&a [*a]", "\ufeff", "\x00", "\u2028", "\x85", "\ud800", "é" * 50,
            "x" * 70_000, "{{window}}", "[" * 200, "- " * 100]
CHARS = st.sampled_from(list(":-[]{}&*!|>#\"'\t\n ,?%@`\\") + ["\x00", "\x85", "\ufeff", "é", "\u2028"]) | st.characters()


@st.composite
def raw_texts(draw) -> str:
    seed = st.sampled_from([REPO_SPEC, starter()])
    text = draw(st.one_of(seed, *[st.builds(dumped, SPECS, st.just("obs"))] * 3))
    for _ in range(draw(st.integers(1, 6))):
        n = len(text)
        i = draw(st.integers(0, n))
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate", "swap-lines", "indent"]))
        if op == "flip" and n:
            i = min(i, n - 1)
            text = text[:i] + draw(CHARS) + text[i + 1:]
        elif op == "truncate":
            text = text[:i]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(SNIPPETS)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 200)):]
        elif op == "duplicate":
            text = text[:i] + text[i:i + draw(st.integers(1, 400))] * draw(st.integers(2, 20)) + text[i:]
        elif op in ("swap-lines", "indent"):
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "swap-lines":
                lines[a], lines[b] = lines[b], lines[a]
            else:
                lines[a] = " " * draw(st.integers(1, 9)) + lines[a]
            text = "\n".join(lines)
    return text[:MAX_TEXT]


@st.composite
def alias_bombs(draw) -> str:
    """Anchors that multiply: each level refers to the previous one `width` times, as lists or as merges."""
    levels, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    merge = draw(st.booleans())
    lines = ["version: obs/v1", "project: bomb", "l0: &l0 {k: v}" if merge else "l0: &l0 [x, y]"]
    for n in range(1, levels + 1):
        refs = ", ".join([f"*l{n - 1}"] * width)
        lines.append(f"l{n}: &l{n} {{<<: [{refs}], k{n}: v}}" if merge else f"l{n}: &l{n} [{refs}]")
    lines.append(f"services: [{{name: api, description: *l{levels}}}]")
    return "\n".join(lines) + "\n"


# ---- the tests --------------------------------------------------------------------------------

def run_counted(strategy, n: int) -> int:
    seen = []

    @fuzz_settings(n)
    @given(strategy)
    def prop(text: str) -> None:
        seen.append(len(text))
        assert len(text) <= MAX_BYTES + MAX_TEXT
        loads_or_reports_located_problems(text)

    prop()
    return len(seen)


def test_mutated_structured_specs_only_ever_raise_located_spec_errors():
    n = EXAMPLES // 2
    styles = st.sampled_from(["obs", "ruamel", "json", "json-ascii"])
    assert run_counted(st.builds(dumped, mutated_specs(), styles), n) >= n


def test_mutated_spec_text_and_alias_bombs_only_ever_raise_located_spec_errors():
    n = EXAMPLES - EXAMPLES // 2
    assert run_counted(st.one_of(raw_texts(), raw_texts(), raw_texts(), alias_bombs()), n) >= n
