"""The spec loader reads through libyaml's C parser when it can, and it must read exactly what the pure parser
reads: the same nodes, tags, values, styles and positions, so every located message stays where it was."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from obs.errors import SpecError
from obs.spec import loader
from tests.support.paths import REPO

SCALARS = ["yes", "no", "on", "off", "y", "n", "True", "NULL", "~", "null", "010", "0o10", "0x1F", "1_000", "1:30",
           ".inf", "-.5", "+1", "1e3", "2001-12-14", "'quoted'", '"double \\u00e9"', "|\n  a\n  b\n", ">-\n  a\n  b",
           "&anchor x", "*anchor", "!!str 5", "[1, {a: b}]", "{x: [y, z]}", "500ms", "a:b"]


def signature(node: Node | None, out: list[object]) -> list[object]:
    """Everything the walker reads of a node: its class, tag, style, start and scalar value, depth first."""
    if node is None:
        return out
    out.append((type(node).__name__, str(node.tag), getattr(node, "style", None) or "",
                node.start_mark.line, node.start_mark.column))
    if isinstance(node, ScalarNode):
        out.append(node.value)
    elif isinstance(node, SequenceNode):
        for child in node.value:
            signature(child, out)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            signature(key, out)
            signature(value, out)
    return out


def pure(text: str) -> list[object]:
    out: list[object] = []
    for root in YAML(typ="safe", pure=True).compose_all(io.StringIO(text)):
        signature(root, out)
    return out


def fast(text: str) -> list[object]:
    roots = loader.fast_compose(text)
    assert roots is not None, "the C parser declined a spec the pure parser reads"
    out: list[object] = []
    for root in roots:
        signature(root, out)
    return out


def repo_yaml() -> list[str]:
    paths = [*REPO.glob("obs.yaml"), *REPO.glob("examples/**/*.yaml"), *REPO.glob("tests/fixtures/**/*.yaml"),
             *REPO.glob("tests/fixtures/**/*.yml"), *REPO.glob("obs/spec/*.yaml")]
    return sorted(str(p.relative_to(REPO)) for p in paths)


def test_the_c_parser_is_installed_with_obs():
    # It is a dependency in pyproject.toml: a machine without it reads every spec 4x slower, silently.
    assert loader._HAS_C_PARSER


@pytest.mark.parametrize("path", repo_yaml())
def test_every_yaml_file_in_the_repository_composes_alike_in_c_and_in_python(path):
    text = (REPO / path).read_text(encoding="utf-8")
    assert fast(text) == pure(text)


@pytest.mark.parametrize("scalar", SCALARS)
def test_each_tricky_scalar_resolves_to_the_same_tag_in_c_and_in_python(scalar):
    nested = scalar.replace("\n", "\n  ")
    text = f"a: &anchor 1\nb: {scalar}\nc:\n  - {nested}\n"
    # A reused anchor is refused by the C composer and only warned of by the pure one: the pure path decides.
    roots = loader.fast_compose(text)
    expected_declined = scalar.startswith("&")
    assert (roots is None) == expected_declined
    if roots is not None:
        assert fast(text) == pure(text)


@pytest.mark.parametrize("directive", ["%YAML 1.1\n---\n", "%YAML 1.2\n---\n", ""])
def test_a_version_directive_is_left_to_the_pure_parser_which_honours_it(directive, monkeypatch):
    # ruamel's C path resolves `yes` under `%YAML 1.1` as a string: any directive goes to the pure parser.
    text = directive + "a: yes\nb: on\nc: 010\nd: [yes, no, 1_000]\ne: yes\n"
    assert (loader.fast_compose(text) is None) == bool(directive)
    if not directive:
        assert fast(text) == pure(text)
    read = loader.read_yaml(text, "obs.yaml").data
    assert read["a"] == (True if "1.1" in directive else "yes")
    monkeypatch.setattr(loader, "_HAS_C_PARSER", False)
    assert loader.read_yaml(text, "obs.yaml").data == read


def documents(leaves: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)),
        max_leaves=20)


def dumped(data: object, style: str) -> str:
    out = io.StringIO()
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = style == "flow"
    y.dump({"root": data}, out)
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(documents(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))),
       st.sampled_from(["block", "flow"]))
def test_random_documents_compose_alike_in_c_and_in_python(data, style):
    text = dumped(data, style)
    # Where the C parser declines (a plain `:0` in flow style, say), the pure one reads the spec: only what C
    # returns must be the same.
    if loader.fast_compose(text) is not None:
        assert fast(text) == pure(text)


@pytest.mark.parametrize("text", ["a: [b\nc: d\n", "a: b\n\tc: d\n", "a: 'open\n", "a: b\n---\nc: d\n", "a: \x07\n"])
def test_yaml_the_c_parser_refuses_is_left_to_the_pure_parser_for_its_message(text):
    assert loader.fast_compose(text) is None or len(loader.fast_compose(text) or []) > 1


def test_nesting_past_the_limit_never_reaches_the_c_composer():
    # Followed down the C stack, 100,000 levels crash the interpreter (SIGSEGV); the event scan stops it first.
    deep = "version: obs/v1\nservices: " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert loader.fast_compose(deep) is None
    code = ("import sys; from obs.spec.loader import read_yaml; from obs.errors import SpecError\n"
            "try:\n    read_yaml(sys.stdin.read(), 'obs.yaml')\nexcept SpecError as e:\n    print(e.problems[0].message)")
    done = subprocess.run([sys.executable, "-c", code], input=deep, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "nests deeper than" in done.stdout


@pytest.mark.parametrize("path", ["obs.yaml", *[p for p in repo_yaml() if p.startswith("tests/fixtures/")
                                                 and not p.startswith("tests/fixtures/sloth/")]])
def test_a_spec_reads_to_the_same_data_and_positions_with_and_without_the_c_parser(path, monkeypatch):
    text = (REPO / path).read_text(encoding="utf-8")
    try:
        with_c = loader.read_yaml(text, path)
    except SpecError as e:
        with_c = e
    monkeypatch.setattr(loader, "_HAS_C_PARSER", False)
    try:
        without = loader.read_yaml(text, path)
    except SpecError as e:
        without = e
    if isinstance(without, SpecError):
        assert isinstance(with_c, SpecError) and with_c.problems == without.problems
    else:
        assert not isinstance(with_c, SpecError)
        assert (with_c.data, with_c.positions, with_c.problems) == (without.data, without.positions, without.problems)


def by_nodes(text: str, monkeypatch) -> object:
    """What the node walker reads: the event pass turned off."""
    with monkeypatch.context() as m:
        m.setattr(loader, "_read_events", lambda text: None)
        try:
            doc = loader.read_yaml(text, "obs.yaml")
        except SpecError as e:
            return e.problems
    return doc.data, doc.positions, doc.problems, doc.dropped


def by_events(text: str) -> object:
    doc = loader._read_events(text)
    assert doc is not None, "the event pass declined"
    return doc.data, doc.positions, doc.problems, doc.dropped


@pytest.mark.parametrize("path", ["obs.yaml", *[p for p in repo_yaml() if p.startswith(("examples/", "tests/fixtures/"))
                                                 and not p.startswith("tests/fixtures/sloth/")]])
def test_a_spec_the_event_pass_reads_reads_as_the_node_walker_reads_it(path, monkeypatch):
    text = (REPO / path).read_text(encoding="utf-8")
    if loader._read_events(text) is not None:
        assert by_events(text) == by_nodes(text, monkeypatch)


def test_the_repositorys_own_spec_and_the_examples_take_the_event_pass():
    # The pass is what makes a large spec fast to read: declining the common spec would be silent and slow.
    for path in ["obs.yaml", *[p for p in repo_yaml() if p.startswith("examples/") and p.endswith("obs.yaml")]]:
        assert loader._read_events((REPO / path).read_text(encoding="utf-8")) is not None, path


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",                      # an anchor and an alias
    "a: !!str 5\n",                          # a tag
    "base: {x: 1}\na:\n  <<: {y: 2}\n",      # a merge key
    "a: 1\na: 2\n",                          # a duplicate key
    "1: a\n",                                # a key that is not text
    "? [a]\n: b\n",                          # a collection as a key
    "a: b\n---\nc: d\n",                     # a second document
    "- a\n",                                 # not a mapping
    "",                                      # empty
    "a: " + "[" * 70 + "]" * 70 + "\n",      # past MAX_DEPTH
    "a: [b\n",                               # invalid YAML
])
def test_what_the_event_pass_leaves_to_the_node_walker(text):
    assert loader._read_events(text) is None


@pytest.mark.parametrize("number", ["1", "-0", "0x1F", "1_000", "1e3", ".inf", "-.5", "true", "False", "1" * 5000])
def test_numbers_read_by_the_event_pass_are_the_walkers_own(number, monkeypatch):
    text = f"a: {number}\nb: [{number}, x]\nc:\n  d: {number}\n"
    assert by_events(text) == by_nodes(text, monkeypatch)


@settings(max_examples=400, deadline=None)
@given(documents(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                           st.text(max_size=12))),
       st.sampled_from(["block", "flow"]))
def test_random_documents_read_alike_by_events_and_by_nodes(data, style):
    text = dumped(data, style)
    if loader._read_events(text) is not None:
        with pytest.MonkeyPatch.context() as m:
            assert by_events(text) == by_nodes(text, m)
