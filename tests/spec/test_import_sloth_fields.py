"""No Sloth key is dropped unseen: every key of every example is carried into the obs.yaml or named in a
note at its line; keys obs cannot carry (plugins) and keys Sloth does not have are refused, located."""
from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.errors import Problem
from obs.spec.importers.common import Context, obs_name, parse_documents, window_query
from obs.spec.loader import locate
from tests.support.paths import FIXTURES

SLOTH = FIXTURES / "sloth"
FULL = SLOTH / "full.yml"
EXAMPLES = sorted(p.name for p in SLOTH.glob("*.yml"))
_SLO = re.compile(r"slos\[(\d+)\]")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def leaves(data, path=""):
    """(path, value) of every scalar, and of every empty mapping or list, in the document."""
    if isinstance(data, dict) and data:
        for k, v in data.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list) and data:
        for i, v in enumerate(data):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, data


def _slos(spec: dict, path: str) -> list[dict]:
    """The output SLOs a Sloth path speaks of: its own (by position) or, above the SLOs, all of them."""
    found = _SLO.search(path)
    slos = [slo for svc in spec["services"] for slo in svc["slos"]]
    return [slos[int(found.group(1))]] if found and len(spec["services"]) == 1 else slos


def reflected(spec: dict, path: str, value) -> bool:
    """Whether the obs.yaml carries this Sloth value where obs keeps it."""
    key = path.rsplit(".", 1)[-1]
    slos = _slos(spec, path)
    alerting = [slo.get("alerting", {}) for slo in slos]
    if key in ("version", "apiVersion", "kind"):
        return True                                # read to recognise the format
    if path.endswith("service"):
        return obs_name(value) in {s["name"] for s in spec["services"]}
    if re.search(r"labels\.[^.]+$", path):
        return any(a.get("labels", {}).get(key) == value for a in alerting)
    if re.search(r"annotations\.[^.]+$", path):
        return any(a.get("annotations", {}).get(key) == value or a.get(f"{key}") == value for a in alerting)
    if key == "name" and ".alerting." not in path:
        return any(slo["name"] == obs_name(value) for slo in slos)
    if key in ("objective", "description"):
        return any(slo.get(key) == (value.strip() if isinstance(value, str) else value) for slo in slos)
    if key in ("error_query", "total_query", "error_ratio_query", "errorQuery", "totalQuery", "errorRatioQuery"):
        return any(window_query(value.strip()) in kind.values() for slo in slos for kind in slo["sli"].values())
    if key == "disable":
        severity = "page" if re.search(r"page_?[aA]lert", path) else "ticket"
        return any(a.get(severity, True) is (not value) for a in alerting)
    return False


def unaccounted(text: str, out: str) -> list[str]:
    """Every key of the Sloth file neither carried into the obs.yaml nor named in a note at its line (or its
    parent's: a note on `metadata` covers its keys)."""
    spec = YAML(typ="safe", pure=True).load(out)
    notes = "\n".join(line for line in out.splitlines() if line.startswith("# - "))
    missing = []
    for doc in parse_documents(text, "sloth.yml"):
        for path, value in leaves(doc.data):
            lines, p = set(), path
            while p:
                lines.add(locate(Problem(p, ""), doc.positions).line)
                p = p[:max(p.rfind("."), p.rfind("["), 0)]
            if not any(f"# - line {n}:" in notes for n in lines) and not reflected(spec, path, value):
                missing.append(f"{path}={value!r}")
    return missing


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_key_of_every_sloth_example_is_carried_over_or_noted_at_its_line(capsys, example):
    text = (SLOTH / example).read_text()
    code, out, err = run(capsys, "import", "sloth", str(SLOTH / example))
    assert code == 0, err
    assert unaccounted(text, out) == []


def test_the_audit_catches_a_key_dropped_without_a_note(capsys, monkeypatch):
    monkeypatch.setattr(Context, "note_at", lambda self, doc, path, message: None)
    code, out, _ = run(capsys, "import", "sloth", str(FULL))
    assert code == 0
    missing = unaccounted(FULL.read_text(), out)
    assert "slos[0].alerting.name='ChargeAvailability'" in missing
    assert "slos[0].alerting.page_alert.annotations.playbook='https://runbooks.example.com/payments/charges#page'" \
        in missing


def test_the_full_example_keeps_what_both_tiers_share_and_the_runbook(capsys):
    code, out, _ = run(capsys, "import", "sloth", str(FULL))
    alerting = YAML(typ="safe", pure=True).load(out)["services"][0]["slos"][0]["alerting"]
    assert alerting["labels"] == {"owner": "payments-team", "category": "availability", "domain": "billing",
                                  "escalate": "yes"}
    assert alerting["runbook_url"] == "https://runbooks.example.com/payments/charges"
    assert alerting["annotations"] == {"summary": "Charges are failing",
                                       "dashboard": "https://grafana.example.com/d/charges"}


# (what, the edit to full.yml, line:col reported, what the message says)
REFUSED = [
    ("a misspelt field", lambda t: t.replace("objective: 99.5", "objetive: 99.5"), "13:5", "slos[0].objetive: is not a Sloth field"),
    ("a misspelt tier", lambda t: t.replace("ticket_alert:\n        disable: false",
                                            "ticket_alerts:\n        disable: false"), "38:7", "ticket_alerts: is not a Sloth field"),
    ("the Kubernetes spelling in a prometheus/v1 file", lambda t: t.replace("error_query:", "errorQuery:"), "21:9",
     "this form spells it `error_query`"),
    ("a service-level plugin chain", lambda t: t.replace("  chain: []\nslos:", "  chain:\n    - id: x\nslos:"), "9:3",
     "Sloth SLO plugins cannot be imported"),
    ("an SLO plugin chain", lambda t: t.replace("      chain: []", "      chain: [{id: x}]"), "16:7",
     "Sloth SLO plugins cannot be imported"),
    ("an SLI plugin", lambda t: t.replace("      raw:\n        error_ratio_query: avg_over_time(refund_error:ratio"
                                          "[{{.window}}])", "      plugin:\n        id: sloth-common/availability"),
     "49:7", "Sloth SLI plugins cannot be imported"),
    ("a disable that is not a boolean", lambda t: t.replace("disable: true", 'disable: "yes"'), "54:9",
     "must be true or false"),
    ("a description that is not a string", lambda t: t.replace('description: "Charges succeed."', "description: [a]"),
     "12:5", "must be a string"),
]


@pytest.mark.parametrize("what, edit, where, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_obs_cannot_carry_is_refused_at_its_location(capsys, tmp_path, what, edit, where, message):
    path = tmp_path / "slos.yml"
    path.write_text(edit(FULL.read_text()))
    code, out, err = run(capsys, "import", "sloth", str(path))
    assert code == 2 and out == "", what
    assert f"{path}:{where}:" in err and message in err and "Traceback" not in err, err


def test_a_misspelt_key_in_a_kubernetes_resource_is_refused_with_its_spelling(capsys, tmp_path):
    text = (SLOTH / "k8s-getting-started.yml").read_text().replace("errorQuery:", "error_query:")
    path = tmp_path / "k8s.yml"
    path.write_text(text)
    code, _, err = run(capsys, "import", "sloth", str(path))
    assert code == 2 and f"{path}:17:11:" in err and "this form spells it `errorQuery`" in err
