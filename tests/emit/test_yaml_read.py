"""Reading back what obs or a component wrote."""
from __future__ import annotations

import pytest

from obs.emit import yaml_read


def test_load_all_reads_every_document_and_leaves_out_empty_ones():
    text = "# a header\n---\na: 1\n---\n---\nb: [2]\n"
    assert yaml_read.load_all(text) == [{"a": 1}, {"b": [2]}]


@pytest.mark.parametrize("read", [yaml_read.load, lambda t: yaml_read.load_all(t)[0]], ids=["load", "load_all"])
def test_a_plain_equals_sign_is_the_string_go_yaml_reads(read):
    # kustomize writes AlertmanagerConfig matchers so; a YAML 1.1 loader would fail on its "value" tag.
    assert read("matchers:\n- matchType: =\n  name: severity\n") == {"matchers": [{"matchType": "=", "name": "severity"}]}


def test_a_stream_that_does_not_parse_is_one_artifact_error():
    with pytest.raises(yaml_read.ArtifactError):
        yaml_read.load_all("a: 1\n---\nb: [\n")


def pure_read(text: str, monkeypatch, read=yaml_read.load_all):
    """What `read` makes of `text` with libyaml's parser out of the way."""
    with monkeypatch.context() as patched:
        patched.setattr(yaml_read, "fast_compose", lambda text: None)
        return read(text)


def test_every_generated_artifact_reads_alike_through_libyaml_and_the_pure_parser(monkeypatch):
    from obs.generate import render
    from obs.project import load_model
    from tests.support.paths import REPO

    files = render(load_model(REPO / "obs.yaml"))
    texts = [text for path, text in files.items() if path.endswith((".yml", ".yaml"))]
    assert len(texts) > 30
    assert [yaml_read.load_all(t) for t in texts] == [pure_read(t, monkeypatch) for t in texts]


@pytest.mark.parametrize("text", [
    "a: yes\nb: on\nc: 0o17\nd: 017\ne: 1_000\nf: 2020-01-01\ng: 1:20\nh: .inf\ni: ~\nj: 0x1F\n",
    "a: \"x\x85y\u2028z\"\n",         # NEL and LS, which libyaml folds as line breaks
    "%YAML 1.1\n---\na: yes\n",       # a directive libyaml does not pass on to the resolver
    "a: &x {b: 1}\nc: *x\n? [k]\n: v\n",
], ids=["scalars", "line separators", "a directive", "anchors and complex keys"])
def test_what_libyaml_may_read_otherwise_reads_as_the_pure_parser_reads_it(text, monkeypatch):
    assert yaml_read.load_all(text) == pure_read(text, monkeypatch)


@pytest.mark.parametrize("text", ["x: " + "[" * 20000 + "]" * 20000 + "\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n"],
                         ids=["nested past any recursion", "a duplicate key", "two documents"])
def test_an_artifact_that_cannot_be_read_as_one_document_is_one_artifact_error(text):
    with pytest.raises(yaml_read.ArtifactError):
        yaml_read.load(text)
