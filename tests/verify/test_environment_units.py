"""A deployed environment, without a stack: session settings read from secrets, drift found by pure comparison."""
from __future__ import annotations

import base64
from pathlib import Path
from textwrap import dedent

import pytest

from obs.errors import Problem
from obs.generate import render
from obs.model import conventions as c
from obs.model.domain import Secret
from obs.model.environments import ClientTLS, Credentials, Endpoint, EndpointKind, Header
from obs.project import load_model
from obs.verify import connection, diagnose, drift
from obs.verify.otlp import Attempt
from obs.verify.result import Status
from tests.support.paths import FIXTURES, REPO


def endpoint(**kw) -> Endpoint:
    base = dict(kind=EndpointKind.PROMETHEUS, url="https://prom.example.com", tls=None, auth=None, headers=(),
                timeout_s=10.0, spec_path="environments.staging.prometheus",
                tls_path="environments.staging.prometheus.tls", auth_path="environments.staging.prometheus.auth")
    return Endpoint(**{**base, **kw})


def test_basic_auth_and_a_tenant_header_become_request_headers(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("s3cret\n")
    monkeypatch.setenv("OBS_TEST_TENANT_KEY", "k-123")
    ep = endpoint(auth=Credentials(username="obs", password=Secret(file="pw")),
                  headers=(Header("X-Scope-OrgID", value="team-a"), Header("X-Api-Key", secret=Secret(env="OBS_TEST_TENANT_KEY"))))
    problems: list[Problem] = []
    s = connection.settings(ep, tmp_path, problems)
    assert problems == []
    assert s.headers == {"Authorization": "Basic " + base64.b64encode(b"obs:s3cret").decode(),
                         "X-Scope-OrgID": "team-a", "X-Api-Key": "k-123"}
    # Settings never show what they carry.
    assert "s3cret" not in repr(s) and "k-123" not in repr(s)


def test_every_unreadable_secret_and_file_is_reported_at_its_place_in_the_spec(tmp_path, monkeypatch):
    monkeypatch.delenv("OBS_TEST_UNSET_TOKEN", raising=False)
    (tmp_path / "not-a-ca.pem").write_text("hello\n")
    ep = endpoint(tls=ClientTLS(ca_file="not-a-ca.pem", cert_file="client.pem", key_file="client.key"),
                  auth=Credentials(bearer_token=Secret(env="OBS_TEST_UNSET_TOKEN")),
                  headers=(Header("X-Api-Key", secret=Secret(file="missing-key")),))
    problems: list[Problem] = []
    connection.settings(ep, tmp_path, problems)
    paths = [p.path for p in problems]
    assert paths == ["environments.staging.prometheus.tls.ca_file", "environments.staging.prometheus.tls.cert_file",
                     "environments.staging.prometheus.tls.key_file", "environments.staging.prometheus.auth.bearer_token",
                     "environments.staging.prometheus.headers.X-Api-Key"]
    assert "holds no usable CA certificate" in problems[0].message
    assert "OBS_TEST_UNSET_TOKEN is not set" in problems[3].message


def test_skipping_certificate_checks_is_explicit_and_remembered():
    s = connection.settings(endpoint(tls=ClientTLS(insecure_skip_verify=True)), Path("."), [])
    assert s.verify is False and s.insecure


@pytest.mark.parametrize("given, used", [("certs/ca.pem", "certs/ca.pem"), (False, False),
                                         (True, "/etc/machine-bundle.pem")])
def test_the_endpoints_ca_wins_over_the_machines_ca_bundle_variables(monkeypatch, given, used):
    # requests would put REQUESTS_CA_BUNDLE in place of a session's own `verify`; only "the system's CAs" may be it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/machine-bundle.pem")
    session = connection.Settings(verify=given).session()
    merged = session.merge_environment_settings("https://prom.example.com", {}, None, None, None)
    assert merged["verify"] == used


@pytest.mark.parametrize("attempt", [Attempt(401, "missing or empty authorization header"),
                                     Attempt(None, "connection refused")])
def test_a_deployed_collector_that_refuses_the_probe_points_at_the_environment_not_the_local_stack(attempt):
    ev = diagnose.Evidence("traces", "https://otel.example.com", "https://jaeger.example.com", exported=False,
                           attempt=attempt, otlp_setting="environments.staging.otlp_http")
    [finding] = diagnose.trace(ev)
    assert "environments.staging.otlp_http" in finding.fix
    assert "stack.receivers" not in finding.fix and "obs up" not in finding.fix


@pytest.mark.parametrize(("status", "words"), [(401, "wants credentials"), (403, "tenant header"), (200, None)])
def test_a_refused_request_says_which_setting_to_check(status, words):
    said = connection.describe_status(status)
    assert (said is None) if words is None else (words in said)


# -- drift ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def repo_generated() -> drift.Generated:
    return drift.generated(render(load_model(REPO / "obs.yaml")))


def _loaded_like(gen: drift.Generated) -> list[dict]:
    """What /api/v1/rules would list for the generated files: the same groups, rule names and queries."""
    groups = []
    for path, text in gen.rule_files.items():
        for g in drift._groups(text):
            rules = [{"name": r.get("alert") or r.get("record"), "query": r["expr"], "labels": r.get("labels") or {},
                      "duration": drift._seconds(r.get("for", 0)), "type": "alerting" if "alert" in r else "recording"}
                     for r in g["rules"]]
            groups.append({"name": g["name"], "file": f"/etc/prometheus/{Path(path).name}", "rules": rules})
    return groups


def test_rules_as_generated_are_no_drift(repo_generated):
    assert drift.rules(repo_generated, _loaded_like(repo_generated), canonical=lambda e: e) == []


def test_a_changed_expression_names_the_file_the_group_and_the_rule(repo_generated):
    loaded = _loaded_like(repo_generated)
    rule = loaded[0]["rules"][0]
    rule["query"] = rule["query"] + " * 2"
    found = drift.rules(repo_generated, loaded, canonical=lambda e: " ".join(e.split()))
    assert len(found) == 1 and found[0].status == Status.FAIL
    assert f"rule {rule['name']} in group {loaded[0]['name']} differs: expression" in found[0].why
    assert found[0].fix.startswith("deploy alerts/") and found[0].fix.endswith(".rules.yml")


def test_an_expression_printed_differently_by_prometheus_is_not_drift(repo_generated):
    loaded = _loaded_like(repo_generated)
    rule = loaded[0]["rules"][0]
    rule["query"] = "(" + rule["query"] + ")"
    # Prometheus's canonical form of both is the same: the comparison asks it, not the text.
    assert drift.rules(repo_generated, loaded, canonical=lambda e: e.strip("()")) == []


def test_a_rule_loaded_as_generated_but_failing_to_evaluate_is_reported_with_its_error(repo_generated):
    loaded = _loaded_like(repo_generated)
    rule = loaded[0]["rules"][0]
    rule.update(health="err", lastError="found duplicate series for the match group")
    [found] = drift.rules(repo_generated, loaded, canonical=lambda e: e)
    assert found.status == Status.FAIL
    assert f"rule {rule['name']} in group {loaded[0]['name']} is loaded but fails to evaluate: found duplicate" \
        in found.why


def test_a_missing_group_a_missing_rule_and_a_stale_obs_group_are_each_reported(repo_generated):
    loaded = _loaded_like(repo_generated)
    gone = loaded.pop(0)
    loaded[0]["rules"].pop()
    loaded.append({"name": "obs-slo-retired-service-availability-long", "file": "/x/retired.rules.yml", "rules": []})
    loaded.append({"name": "another-teams-group", "file": "/x/theirs.yml", "rules": []})
    found = drift.rules(repo_generated, loaded, canonical=lambda e: e)
    whys = [f.why for f in found]
    assert any(f"rule group {gone['name']}" in w and "is not loaded" in w for w in whys)
    assert any("holds other rules than the repository generates (missing" in w for w in whys)
    stale = [f for f in found if "retired" in f.why]
    assert len(stale) == 1 and stale[0].status == Status.WARN
    assert not any("another-teams-group" in w for w in whys)


AM_LOADED = dedent("""
    global:
      resolve_timeout: 5m
      http_config: {follow_redirects: true}
    route:
      receiver: slack-prod-alerts
      group_by: [alertname]
      group_wait: 30s
      repeat_interval: 4h
      routes:
      - receiver: obs-null
        matchers: ['obs_probe="true"']
    receivers:
    - name: slack-prod-alerts
      slack_configs:
      - api_url: <secret>
        send_resolved: true
    """)
AM_GENERATED = dedent("""
    route:
      receiver: slack-prod-alerts
      group_by: [alertname]
      group_wait: 30s
      repeat_interval: 240m
      routes:
      - receiver: obs-null
        matchers: [obs_probe=true]
    receivers:
    - name: slack-prod-alerts
      slack_configs:
      - api_url: https://hooks.example.com/x
    """)


def test_alertmanager_defaults_hidden_secrets_and_spellings_are_not_drift():
    gen = drift.Generated({}, AM_GENERATED, "")
    assert drift.alertmanager(gen, {"config": {"original": AM_LOADED}}) == []


def test_a_different_receiver_in_alertmanager_is_drift_at_its_path():
    gen = drift.Generated({}, AM_GENERATED.replace("receiver: obs-null", "receiver: pagerduty"), "")
    found = drift.alertmanager(gen, {"config": {"original": AM_LOADED}})
    assert len(found) == 1 and "route.routes[0].receiver" in found[0].why
    assert found[0].fix == f"deploy {c.ALERTMANAGER_CONFIG}"


def test_a_generated_scrape_job_missing_from_the_running_config_is_drift(repo_generated):
    running = drift._doc(repo_generated.prometheus)
    jobs = running["scrape_configs"]
    dropped = jobs.pop()["job_name"]
    import json
    found = drift.scrape_jobs(repo_generated, json.dumps(running))
    assert [f.why.split(" (")[0] for f in found] == [f"scrape job {dropped}"]
    assert drift.scrape_jobs(repo_generated, repo_generated.prometheus) == []


# -- drift where the operators run deploy/kubernetes ---------------------------------------------------------

@pytest.fixture(scope="module")
def operated_model():
    return load_model(FIXTURES / "kubernetes" / "obs.yaml")


@pytest.fixture(scope="module")
def operated(operated_model) -> drift.Generated:
    return drift.generated(render(operated_model), operated_model.kubernetes)


def _rendered_by_the_operator(gen: drift.Generated) -> str:
    """Alertmanager's config as the Prometheus Operator renders an AlertmanagerConfig: namespaced receivers under
    a route for the namespace."""
    op = gen.operated
    receivers = "\n".join(f"- name: {r}" for r in op.receivers)
    return dedent(f"""
        route:
          receiver: "null"
          routes:
          - receiver: {op.root}
            matchers: ['namespace="{op.namespace}"']
            continue: true
        receivers:
        - name: "null"
        """) + receivers + "\n"


def test_the_operators_names_for_the_alertmanagerconfig_and_monitors_are_no_drift(operated):
    assert operated.operated.receivers[0] == "shop-observability/team-a-shop/obs-null"
    assert drift.alertmanager(operated, {"config": {"original": _rendered_by_the_operator(operated)}}) == []
    running = {"scrape_configs": [{"job_name": job} for job, _ in operated.operated.jobs]}
    import json
    assert drift.scrape_jobs(operated, json.dumps(running)) == []
    jobs = [job for job, _ in operated.operated.jobs]
    assert "serviceMonitor/shop-observability/team-a-shop-jaeger/0" in jobs
    assert "podMonitor/shop-observability/team-a-shop-otelcol-exporter/0" in jobs
    assert "scrapeConfig/shop-observability/team-a-shop-stock" in jobs


def test_an_alertmanagerconfig_the_alertmanager_never_selected_is_drift_that_says_which_selector(operated):
    found = drift.alertmanager(operated, {"config": {"original": "route: {receiver: x}\nreceivers: [{name: x}]\n"}})
    assert len(found) == 1 and "has no receiver shop-observability/team-a-shop/" in found[0].why
    assert "alertmanagerConfigSelector" in found[0].fix


def test_receivers_without_a_route_to_them_are_drift(operated):
    rendered = _rendered_by_the_operator(operated).replace(operated.operated.root, "elsewhere", 1)
    [found] = drift.alertmanager(operated, {"config": {"original": rendered}})
    assert "nothing routes to them" in found.why


def test_a_monitor_prometheus_never_selected_is_drift_naming_its_job_and_file(operated):
    import json
    jobs = list(operated.operated.jobs)
    gone, path = jobs.pop()
    running = {"scrape_configs": [{"job_name": job} for job, _ in jobs]}
    [found] = drift.scrape_jobs(operated, json.dumps(running))
    assert f"scrape job {gone} ({path})" in found.why and "monitor selectors" in found.fix


def test_the_prometheusrules_groups_with_their_namespace_label_are_the_rules_compared(operated):
    assert all(p.startswith(c.KUBERNETES_DIR + "/rules/") for p in operated.rule_files)
    loaded = _loaded_like(operated)
    assert drift.rules(operated, loaded, canonical=lambda e: e) == []
    # Deployed from alerts/*.rules.yml instead: the alerts lack the namespace the AlertmanagerConfig routes on.
    for g in loaded:
        for r in g["rules"]:
            r["labels"].pop("namespace", None)
    found = drift.rules(operated, loaded, canonical=lambda e: e)
    assert found and all("differs: labels" in f.why for f in found)


def test_verify_reads_an_operator_prefixed_receiver_as_the_specs_receiver(operated_model):
    from obs.verify import deployed
    alert = {"receivers": [{"name": "shop-observability/team-a-shop/obs-null"}, {"name": "other/x/obs-null"}]}
    assert deployed._receivers(alert, operated_model) == ["obs-null", "other/x/obs-null"]


# -- the drill's view of a deployed Alertmanager -------------------------------------------------------------

class FakeAlertmanager:
    """Answers /api/v2/alerts from a list the test changes; nothing else of the API is used by AlertmanagerPages."""

    def __init__(self):
        self.listed: list[dict] = []

    def alerts(self, **matchers):
        return list(self.listed)


def am_alert(fp: str, silenced_by=(), inhibited_by=(), receivers=("pagerduty",), **labels) -> dict:
    return {"fingerprint": fp, "labels": {"severity": "page", **labels},
            "receivers": [{"name": r} for r in receivers],
            "status": {"state": "suppressed" if silenced_by or inhibited_by else "active",
                       "silencedBy": list(silenced_by), "inhibitedBy": list(inhibited_by)}}


def test_an_alert_routed_by_alertmanager_is_a_page_when_it_appears_and_resolved_when_it_goes():
    from obs.verify.pages import AlertmanagerPages, notice
    am = FakeAlertmanager()
    am.listed = [am_alert("old", alertname="Old")]
    pages = AlertmanagerPages(am)
    pages.skip()                       # what was there before the drill does not count
    am.listed.append(am_alert("a1", alertname="ObsServiceSilent", service="api", job="obs-drill-1/api"))
    [trigger] = [notice(e) for e in pages.events()]
    assert (trigger.action, trigger.alertname, trigger.receiver, trigger.page) == ("trigger", "ObsServiceSilent",
                                                                                   "pagerduty", True)
    assert trigger.about("ObsServiceSilent", service="api")
    am.listed = am.listed[:1]
    [resolve] = [notice(e) for e in pages.events()]
    assert (resolve.action, resolve.key) == ("resolve", "a1")


def test_only_the_drills_own_silence_lets_a_held_alert_count_as_its_page():
    from obs.verify.pages import AlertmanagerPages
    am = FakeAlertmanager()
    pages = AlertmanagerPages(am)
    pages.ours.add("drill-silence")
    am.listed = [am_alert("mine", silenced_by=["drill-silence"], alertname="A"),
                 am_alert("retired-canary", silenced_by=["another-silence"], alertname="B"),
                 am_alert("symptom", inhibited_by=["cause"], alertname="C"),
                 am_alert("nowhere", receivers=(), alertname="D")]
    assert [e["body"]["fingerprint"] for e in pages.events()] == ["mine"]


def run_cli(*args: str) -> tuple[int, str]:
    import io
    from contextlib import redirect_stderr

    from obs.cli import main
    err = io.StringIO()
    with redirect_stderr(err):
        rc = main(list(args))
    return rc, err.getvalue()


ENV_SPEC = dedent("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
    environments:
      staging:
        otlp_http: https://otel.staging.invalid
        prometheus: https://prom.staging.invalid
        alertmanager: https://am.staging.invalid
        jaeger: https://jaeger.staging.invalid
    """).lstrip()

CLI_REFUSALS = [
    ("an environment the spec does not declare", ["verify", "--env", "prod"], "no environment named 'prod'; declared: staging"),
    ("a deployed-only check without --env", ["verify", "--only", "drift"], "--only drift checks a deployed environment"),
    ("synthetic traffic against a deployed stack", ["verify", "--env", "staging", "--traffic"], "--traffic is for the local stack"),
    ("killing a deployed component", ["drill", "--env", "staging", "--incident", "collector,errors"],
     "collector would kill a deployed component"),
    ("every kind, some of which would kill", ["drill", "--env", "staging", "--incident", "all"],
     "collector, trace-backend, metrics-backend, alertmanager, notification would kill"),
]


@pytest.mark.parametrize(("case", "args", "says"), CLI_REFUSALS, ids=[c[0] for c in CLI_REFUSALS])
def test_bad_environment_options_exit_2_before_anything_is_sent(case, args, says, tmp_path):
    path = tmp_path / "obs.yaml"
    path.write_text(ENV_SPEC)
    rc, err = run_cli(*args, str(path))
    assert rc == 2, err
    assert says in " ".join(err.split())


def test_an_environment_whose_secret_cannot_be_read_is_refused_where_the_spec_names_it(tmp_path):
    path = tmp_path / "obs.yaml"
    path.write_text(ENV_SPEC + "    auth: {bearer_token: {file: missing-token}}\n")
    rc, err = run_cli("verify", "--env", "staging", str(path))
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1    # once, where it is written, though every endpoint sends the token
    assert lines[0] == (f"{path}:12:12: environments.staging.auth.bearer_token: cannot read the secret file "
                        f"{tmp_path}/missing-token: No such file or directory")
