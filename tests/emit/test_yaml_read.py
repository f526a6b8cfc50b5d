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
