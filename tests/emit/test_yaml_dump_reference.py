"""The dumper's fast paths write byte for byte what the plain walker they replaced wrote (tests/emit/
yaml_dump_reference.py): on any nested data, on every tricky string at every depth, and on every file the
repo's spec and a hundred-service spec generate."""
from __future__ import annotations

import sys
from itertools import takewhile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from obs.emit import yaml_dump, yaml_read
from obs.generate import render
from obs.project import load_model
from tests.emit import yaml_dump_reference as reference
from tests.emit.test_yaml_dump import TRICKY, documents
from tests.support.paths import REPO


@settings(max_examples=1000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(documents)
def test_any_nested_data_dumps_as_the_reference_dumps_it(data):
    assert yaml_dump.dump(data, header="h\n\nx") == reference.dump(data, header="h\n\nx")


@pytest.mark.parametrize("value", TRICKY + ["a\n\nb", "a\nb\n\n", "a\nb ", "a \n", "x\n\n\ny\n", "é\nü", "a\u00a0\nb"])
def test_every_tricky_string_at_every_depth_dumps_as_the_reference_dumps_it(value):
    data = {"v": value, value: [value, {"k": value, "l": [[value], {value: {value: value}}]}], "e": [{}, [], ""]}
    assert yaml_dump.dump(data) == reference.dump(data)
    assert yaml_dump.dump([data, [data]]) == reference.dump([data, [data]])


def _scale_spec(tmp_path: Path) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate_at_scale import spec
    finally:
        sys.path.remove(str(REPO / "bench"))
    path = tmp_path / "obs.yaml"
    path.write_text(spec(100))
    return path


@pytest.mark.parametrize("which", ["repo", "scale"])
def test_every_generated_file_dumps_as_the_reference_dumps_it(which, tmp_path):
    # Read back and dumped again by the reference, each YAML file is what was written: whether made whole, stamped,
    # or composed of its service's frame and its SLOs' parts (obs.generate.units), each dumped on its own.
    model = load_model(REPO / "obs.yaml" if which == "repo" else _scale_spec(tmp_path))
    tree = render(model)
    differ = []
    for path in (p for p in tree if p.endswith((".yml", ".yaml"))):
        text = tree[path]
        head = list(takewhile(lambda line: line.startswith("#"), text.split("\n")))
        header = "\n".join(line[2:] for line in head) or None
        if reference.dump(yaml_read.load(text), header=header) != text:
            differ.append(path)
    assert differ == []


@given(documents)
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_a_shared_list_dumps_as_a_plain_list_at_every_depth_it_is_reused(data):
    items = data if isinstance(data, list) else [data]
    shared = yaml_dump.Shared(items)
    for _ in range(2):   # the second time from its kept text
        for doc in ({"rules": shared}, {"a": {"b": shared}, "c": [{"d": shared}]}, [shared, {"e": shared}]):
            plain = {"rules": items} if "rules" in doc else None
            assert yaml_dump.dump(doc) == reference.dump(doc)
            if plain is not None:
                assert yaml_dump.dump(doc) == yaml_dump.dump(plain)


@given(documents, documents)
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_a_shared_list_joined_from_parts_dumps_as_the_plain_list_of_their_items_deepest_first(first, second):
    # The PrometheusRule shares the rule files' parts two levels deeper, and is sometimes dumped before them: each
    # part's text is made at one depth and indented anew at the others, shallower or deeper.
    parts = [yaml_dump.Shared(x if isinstance(x, list) else [x]) for x in (first, second)]
    joined = yaml_dump.Shared.joined(parts)
    assert list(joined) == [*parts[0], *parts[1]]
    for doc in ({"a": {"b": {"c": joined}}}, {"rules": parts[0]}, [{"d": [joined]}], {"rules": joined},
                {"e": yaml_dump.Shared.joined([parts[1], parts[0]])}):
        assert yaml_dump.dump(doc) == reference.dump(doc)


def test_text_with_an_empty_line_is_not_indented_anew():
    # An empty line of a `|` block carries no indent at any depth: shifting every line would put spaces on it.
    assert yaml_dump.reindented("- a\n- b: 1", "", "    ") == "    - a\n    - b: 1"
    assert yaml_dump.reindented("    - a\n      b: 1", "    ", "  ") == "  - a\n    b: 1"
    assert yaml_dump.reindented("- |-\n  a\n\n  b", "", "  ") is None
    assert yaml_dump.reindented("- |+\n  a\n", "", "  ") is None
