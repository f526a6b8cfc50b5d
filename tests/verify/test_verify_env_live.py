"""obs verify --env against a deployed stack that is secured the way deployments are, made of the real binaries.

One environment for the module (tests/support/secured.py): the collector's OTLP receivers behind TLS and a
bearer token, Jaeger's query API behind TLS, Prometheus and Alertmanager behind TLS and basic auth, every
certificate signed by a CA the test makes. Each wrong setting a user can make (the CA, an expired
certificate, a token or password left out or wrong, a secret file that is not there) is tried by a copy of
the spec or a second instance beside the environment, so the environment itself stays as it was; the drift
test changes one rule file on the running Prometheus and puts it back.
"""
from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.model import conventions as c
from obs.verify import ENV_CHECKS
from tests.support import secured
from tests.support.secured import ENV, USER

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    deployment = secured.environment(tmp_path_factory.mktemp("secured"))
    try:
        deployment.start()
        with pytest.MonkeyPatch.context() as mp:
            # The machine's CA bundle variables name a CA that signed nothing here: the environment's tls.ca_file
            # is what verify must trust.
            for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
                mp.setenv(name, str(deployment.certs.other_ca))
            yield deployment
    finally:
        deployment.stop()
        deployment.heartbeat.stop()


def verify(spec: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["verify", str(spec), "--env", ENV, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def failing(doc: dict) -> dict[str, list[dict]]:
    return {r["name"]: r["findings"] for r in doc["results"] if not r["ok"]}


def test_with_the_right_ca_and_credentials_every_check_passes_and_no_secret_is_shown(env, capsys, tmp_path):
    junit = tmp_path / "verify.xml"
    code, out, err = verify(env.spec, capsys, "--format", "json", "--junit", str(junit))
    assert out, f"exit {code}, no report: {err}"
    doc = json.loads(out)
    assert json.dumps(failing(doc)) == "{}" and code == 0, err
    assert doc["env"] == ENV and [r["name"] for r in doc["results"]] == list(ENV_CHECKS)
    cases = ET.fromstring(junit.read_text()).findall(".//testcase")
    assert [case.get("name") for case in cases] == list(ENV_CHECKS)
    assert all(case.find("failure") is None for case in cases)
    header = base64.b64encode(f"{USER}:{env.secrets.password}".encode()).decode()
    for secret in (env.secrets.password, env.secrets.token, header):
        for where, text in (("stdout (the JSON)", out), ("stderr", err), ("the JUnit file", junit.read_text())):
            assert secret not in text, f"a secret is shown in {where}"


def test_a_ca_that_did_not_sign_the_certificates_is_refused_at_each_address(env, capsys, tmp_path):
    spec = secured.variant(env.spec, tmp_path, {f"ca_file: {env.certs.ca}": f"ca_file: {env.certs.other_ca}"})
    code, _, err = verify(spec, capsys, "--format", "json")
    assert code == 3
    for name, key in (("Jaeger", "jaeger_query"), ("Prometheus", "prometheus"), ("Alertmanager", "alertmanager")):
        assert (f"{name} does not answer at {env.url(key)}: TLS: the server's certificate is not signed by a "
                "trusted CA") in err


def test_an_expired_server_certificate_is_named_as_expired(env, capsys, tmp_path):
    port = env.spare_port()
    expired = env.start_alertmanager("alertmanager-expired", port, expired=True)
    try:
        am = f"url: {env.url('alertmanager')}\n"
        spec = secured.variant(env.spec, tmp_path, {am: f"url: {env.url('alertmanager', port)}\n"})
        code, _, err = verify(spec, capsys, "--format", "json")
    finally:
        expired.stop()
    assert code == 3
    assert f"Alertmanager does not answer at {env.url('alertmanager', port)}: TLS: the server's certificate has " \
           "expired" in err
    assert "Prometheus does not answer" not in err and "Jaeger does not answer" not in err


def test_without_its_bearer_token_the_collector_answers_401_and_the_probes_say_so(env, capsys, tmp_path):
    token = f"      auth: {{bearer_token: {{file: {env.secrets.token_file}}}}}\n"
    spec = secured.variant(env.spec, tmp_path, {token: ""})
    code, out, err = verify(spec, capsys, "--format", "json", "--only", "trace", "--only", "metric")
    assert out, f"exit {code}, no report: {err}"
    doc = json.loads(out)
    assert code == 1, err
    failed = failing(doc)
    assert set(failed) == {"trace", "metric"}
    for name, findings in failed.items():
        assert [f["hop"] for f in findings] == ["collector"], (name, findings)
        assert "HTTP 401" in findings[0]["why"], (name, findings)
        # The credential to fix is the environment's, not the local stack's.
        assert f"environments.{ENV}.otlp_http" in findings[0]["fix"], (name, findings)


def test_a_wrong_password_is_refused_with_http_401_at_prometheus_and_alertmanager(env, capsys, tmp_path):
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password\n")
    spec = secured.variant(env.spec, tmp_path / "spec",
                           {f"password: {{file: {env.secrets.password_file}}}": f"password: {{file: {wrong}}}"})
    code, _, err = verify(spec, capsys, "--format", "json")
    assert code == 3
    for name, key in (("Prometheus", "prometheus"), ("Alertmanager", "alertmanager")):
        assert f"{name} does not answer at {env.url(key)}: HTTP 401" in err
    assert "Jaeger does not answer" not in err and "not-the-password" not in err


def test_a_missing_secret_file_is_bad_input_located_in_the_spec(env, capsys, tmp_path):
    missing = tmp_path / "no-such-password"
    spec = secured.variant(env.spec, tmp_path / "spec",
                           {f"password: {{file: {env.secrets.password_file}}}": f"password: {{file: {missing}}}"})
    code, out, err = verify(spec, capsys, "--format", "json")
    assert code == 2 and out == ""
    located = re.findall(r"obs\.yaml:(\d+):(\d+): environments\.secured\.(\w+)\.auth\.basic\.password: cannot read "
                         r"the secret file (\S+?): ", err)
    lines = spec.read_text().splitlines()
    assert [(kind, path) for _, _, kind, path in located] == [("prometheus", str(missing)),
                                                              ("alertmanager", str(missing))]
    for line, column, _, _ in located:
        assert str(missing) in lines[int(line) - 1][int(column) - 1:]


def _unique_alert(doc: dict) -> dict:
    rules = [r for g in doc["groups"] for r in g["rules"]]
    names = [r.get("alert") for r in rules]
    return next(r for r in rules if "alert" in r and names.count(r["alert"]) == 1)


def test_a_rule_changed_on_the_server_is_drift_naming_its_file_and_rule(env, capsys):
    rel = c.rules_file("checkout")
    copied = env.rules_dir / Path(rel).name
    original = copied.read_text()
    yaml = YAML(typ="safe")
    # Block style: in ruamel's default flow style a dashboard link's `?var-service=...&var-slo=...` is not YAML
    # that Prometheus reads back.
    yaml.default_flow_style = False
    doc = yaml.load(original)
    rule = _unique_alert(doc)
    name = rule["alert"]
    rule["expr"] = f"({rule['expr']}) * 2"
    with copied.open("w") as f:
        yaml.dump(doc, f)
    try:
        env.reload_prometheus()
        env.until_rule(name, lambda query: query.rstrip().endswith("* 2"))
        code, out, err = verify(env.spec, capsys, "--format", "json", "--only", "drift")
        assert out, f"exit {code}, no report: {err}"
        doc = json.loads(out)
        assert code == 1, err
        findings = [f for f in failing(doc)["drift"] if f["status"] == "fail"]
        assert len(findings) == 1, findings
        assert f"{rel}: rule {name} in group " in findings[0]["why"] and "expression" in findings[0]["why"]
        assert findings[0]["fix"] == f"deploy {rel}"
    finally:
        copied.write_text(original)
        env.reload_prometheus()
        env.until_rule(name, lambda query: not query.rstrip().endswith("* 2"))


def test_a_crash_drill_in_the_environment_is_timed_at_its_alertmanager_and_pages_nobody(env, capsys):
    code = main(["drill", str(env.spec), "--env", ENV, "--incident", "crash", "--format", "json"])
    out, err = capsys.readouterr()
    assert out, f"exit {code}, no report: {err}"
    [result] = json.loads(out)["incidents"]
    assert code == 0 and result["ok"], json.dumps(result)
    assert result["pages"] == 1 and result["receiver"] == "oncall"
    assert result["paged_after_s"] <= result["bound_s"]
    assert any('alertname="ObsServiceSilent", job="obs-drill-' in note for note in result["notes"]), result["notes"]
    # The silence that kept the page from people is expired once the drill ends; it was the only one it made.
    own = [s for s in env.get(env.url("alertmanager") + "/api/v2/silences").json()
           if s["comment"].startswith("obs drill: this drill's own page")]
    assert len(own) == 1 and own[0]["status"]["state"] == "expired", own
    assert {m["name"]: m["value"] for m in own[0]["matchers"]}["alertname"] == c.SERVICE_SILENT_ALERT
