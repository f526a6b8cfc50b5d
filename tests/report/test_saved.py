"""Saved verify and drill results: what is saved loads back; a damaged, linked or misplaced file is bad input
that names the file and what is wrong; `obs report` with no stack shows what is saved, or exits 3."""
from __future__ import annotations

import json
import os

import pytest

from obs.cli import main
from obs.errors import InputError
from obs.model import conventions as c
from obs.report import saved
from obs.report.saved import Kind
from tests.support import report_data as rd
from tests.support.stack_spec import write_spec
from tests.support.verify_spec import free_ports


@pytest.fixture
def out(tmp_path):
    """A spec on free ports, so no stack answers."""
    write_spec(tmp_path, free_ports())
    return tmp_path


def test_a_saved_result_loads_back_as_it_was(out):
    for result in (rd.saved_verify(), rd.saved_drill()):
        path = saved.save(out, result, "local")
        assert path == out / c.result_file(result.kind, "local")
        assert saved.load(out, result.kind, "local") == result
    assert sorted(os.listdir(out / c.STATE_RESULTS / "local")) == ["drill.json", "verify.json"]  # no temp file left
    assert (out / c.STATE_DIR / ".gitignore").read_text().endswith("*\n")


def test_nothing_saved_is_none_not_an_error(out):
    assert saved.load(out, Kind.VERIFY, "local") is None


def test_a_bare_format_json_document_is_taken_by_from(tmp_path):
    doc = rd.verify_report().as_dict()
    (tmp_path / "v.json").write_text(json.dumps(doc))
    (tmp_path / "d.json").write_text(json.dumps(rd.saved_drill().result.model_dump(mode="json")))
    assert saved.load_file(tmp_path / "v.json").result == saved.wrap(Kind.VERIFY, doc, None).result
    assert saved.load_file(tmp_path / "d.json").kind == Kind.DRILL


def _verify_doc() -> dict:
    return json.loads(rd.saved_verify().model_dump_json())


def _with(change) -> bytes:
    doc = _verify_doc()
    change(doc)
    return json.dumps(doc).encode()


DAMAGED = [
    ("not JSON", b"{\"kind\": \"verify\",", "is not valid JSON"),
    ("a list", b"[]", "a JSON object was expected"),
    ("neither kind", b"{\"hello\": 1}", "neither a verify nor a drill result"),
    ("a string for a number", _with(lambda d: d["result"]["results"][0].update(seconds="1.5")),
     "result.results.0.seconds"),
    ("NaN", _with(lambda d: d["result"].update(seconds=float("nan"))), "result.seconds"),
    ("a negative time", _with(lambda d: d["result"]["results"][0]["hops"][0].update(seconds=-1)),
     "result.results.0.hops.0.seconds"),
    ("an unknown hop", _with(lambda d: d["result"]["results"][0]["hops"][0].update(id="teleport")),
     "result.results.0.hops.0.id"),
    ("an unknown key", _with(lambda d: d["result"].update(extra=1)), "result.extra"),
    ("ok while a check failed", _with(lambda d: d["result"]["results"][0].update(ok=False)),
     "says ok is True, but its failed checks are: trace"),
    ("a bad digest", _with(lambda d: d.update(spec_sha256="abc")), "spec_sha256"),
]


@pytest.mark.parametrize("case, raw, says", DAMAGED, ids=[d[0] for d in DAMAGED])
def test_a_damaged_saved_result_is_bad_input_naming_the_file_and_the_field(out, case, raw, says):
    path = out / c.result_file(Kind.VERIFY, "local")
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    with pytest.raises(InputError) as e:
        saved.load(out, Kind.VERIFY, "local")
    assert str(path) in str(e.value) and says in str(e.value), str(e.value)


def test_a_damaged_saved_result_makes_obs_report_exit_2_with_the_message_and_no_traceback(out, capsys):
    path = out / c.result_file(Kind.DRILL, "local")
    path.parent.mkdir(parents=True)
    path.write_text("{\"kind\": \"drill\", \"format\": 1}")
    assert main(["report", str(out / "obs.yaml"), "-o", str(out / "r.html")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "result: Field required" in err and "Traceback" not in err
    assert not (out / "r.html").exists()


def test_a_result_of_the_other_kind_in_its_place_is_bad_input(out):
    path = out / c.result_file(Kind.VERIFY, "local")
    path.parent.mkdir(parents=True)
    path.write_text(rd.saved_drill().model_dump_json())
    with pytest.raises(InputError, match="holds a drill result where the verify result belongs"):
        saved.load(out, Kind.VERIFY, "local")


@pytest.mark.parametrize("link", ["file", "results folder", "state folder"])
def test_a_symbolic_link_is_never_followed_out_of_the_state_directory(out, tmp_path_factory, link):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "verify.json").write_text(rd.saved_verify().model_dump_json())
    target = out / c.result_file(Kind.VERIFY, "local")
    if link == "file":
        target.parent.mkdir(parents=True)
        target.symlink_to(elsewhere / "verify.json")
    elif link == "results folder":
        (out / c.STATE_RESULTS).mkdir(parents=True)
        (out / c.STATE_RESULTS / "local").symlink_to(elsewhere)
    else:
        (out / c.STATE_DIR).symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"):
        saved.load(out, Kind.VERIFY, "local")
    with pytest.raises(InputError, match="is a symbolic link"):
        saved.save(out, rd.saved_verify(), "local")
    assert (elsewhere / "verify.json").read_text() == rd.saved_verify().model_dump_json()   # nothing written there


def test_a_file_larger_than_the_limit_is_refused_without_reading_it_all(out, monkeypatch):
    monkeypatch.setattr(saved, "MAX_BYTES", 100)
    saved.save(out, rd.saved_verify(), "local")
    with pytest.raises(InputError, match="is larger than"):
        saved.load(out, Kind.VERIFY, "local")


def test_with_no_stack_and_nothing_saved_obs_report_exits_3_and_writes_nothing(out, capsys):
    assert main(["report", str(out / "obs.yaml"), "-o", str(out / "r.html")]) == 3
    err = capsys.readouterr().err
    assert "nothing to show" in err and "obs up" in err and not (out / "r.html").exists()


def test_with_no_stack_obs_report_says_so_and_shows_the_saved_results(out, capsys):
    saved.save(out, rd.saved_verify(), "local")
    saved.save(out, rd.saved_drill(), "local")
    assert main(["report", str(out / "obs.yaml"), "-o", str(out / "r.html")]) == 0
    page = (out / "r.html").read_text()
    assert "not reached" in page and "this report shows the saved results only" in page
    assert "all 4 checks passed" in page and "SLOErrorBudgetBurn" in page and "checkout / availability" in page


def test_from_takes_one_result_of_each_kind(out, tmp_path_factory, capsys):
    files = tmp_path_factory.mktemp("from")
    (files / "a.json").write_text(rd.saved_verify().model_dump_json())
    (files / "b.json").write_text(rd.saved_verify().model_dump_json())
    spec = str(out / "obs.yaml")
    assert main(["report", spec, "--from", str(files / "a.json"), "--from", str(files / "b.json")]) == 2
    assert "a second verify result" in capsys.readouterr().err
    assert main(["report", spec, "--from", str(files / "a.json"), "-o", str(out / "r.html")]) == 0
    assert "all 4 checks passed" in (out / "r.html").read_text()


@pytest.mark.parametrize("argv, says", [
    (["--range", "0s"], "--range 0s: must be above 0"),
    (["--range", "soon"], "not a duration"),
    (["--env", "staging"], "no environment named 'staging'"),
])
def test_bad_options_are_bad_input(out, capsys, argv, says):
    assert main(["report", str(out / "obs.yaml"), *argv]) == 2
    assert says in capsys.readouterr().err


def test_verify_refuses_report_with_watch(out, capsys):
    assert main(["verify", str(out / "obs.yaml"), "--watch", "--report", str(out / "r.html")]) == 2
    assert "--report writes one run's page" in capsys.readouterr().err


@pytest.mark.parametrize("command, shows", [
    (["report"], ["obs report -o report.html", "--from", "--range", "Exit codes"]),
    (["verify"], ["--report report.html", ".obs/results/<env>/verify.json"]),
    (["drill"], ["--report drill.html", ".obs/results/<env>/drill.json"]),
])
def test_help_teaches_the_report_with_examples(capsys, command, shows):
    assert main([*command, "--help"]) == 0
    text = capsys.readouterr().out
    assert all(s in text for s in shows), text
