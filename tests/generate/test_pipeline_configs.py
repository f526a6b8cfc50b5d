"""Pipeline configs from the spec: what each generated file says, read back as YAML (no tools needed).

The real components check these same files in test_offline_validation.py.
"""
from __future__ import annotations

import re

import pytest

from obs.generate import render
from obs.generate.configs import alertmanager, builder_manifest, otelcol, prometheus
from obs.model import conventions as c
from obs.model import network
from obs.model.timing import PROFILES
from tests.support.pipeline_specs import SECURE_RECEIVERS, load, model, rendered

PROFILE_NAMES = tuple(PROFILES)
VARIANTS = [("production", "push", ""), ("fast", "pull", ""), ("fast", "push", SECURE_RECEIVERS),
            ("production", "pull", "  persistent_queue: false")]


def files(profile="production", metrics="push", extra="") -> dict[str, str]:
    return rendered(profile, metrics, stack_extra=extra)


def doc(path: str, **kw) -> dict:
    return load(files(**kw)[path])


@pytest.mark.parametrize("profile,metrics,extra", VARIANTS)
def test_generation_is_deterministic_byte_for_byte(profile, metrics, extra):
    assert render(model(profile, metrics, stack_extra=extra)) == files(profile, metrics, extra)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_collector_limits_memory_on_every_pipeline_and_batches_only_in_its_exporters_queues(profile):
    cfg = doc(c.OTELCOL_CONFIG, profile=profile)
    t = PROFILES[profile]
    for pipeline in cfg["service"]["pipelines"].values():
        assert pipeline["processors"] == ["memory_limiter"]
    assert list(cfg["processors"]) == ["memory_limiter"]
    assert cfg["processors"]["memory_limiter"]["limit_mib"] == t.memory_limit_mib
    queues = [e["sending_queue"] for e in cfg["exporters"].values() if "sending_queue" in e]
    assert queues and all(q["batch"] == {"flush_timeout": str(t.batch_timeout)} and q["sizer"] == "items"
                          for q in queues)


@pytest.mark.parametrize("profile,metrics,extra", VARIANTS)
def test_every_pushing_exporter_retries_and_queues_with_the_profiles_timing(profile, metrics, extra):
    m = model(profile, metrics, stack_extra=extra)
    t = m.stack.timing
    cfg = load(render(m)[c.OTELCOL_CONFIG])
    pushing = {k: v for k, v in cfg["exporters"].items() if k != otelcol.PULL_EXPORTER}
    assert pushing, "traces always leave by push"
    for name, exp in pushing.items():
        assert exp["retry_on_failure"] == {"enabled": True, "initial_interval": str(t.retry_initial),
                                           "max_elapsed_time": str(t.retry_max_elapsed)}, name
        assert exp["sending_queue"]["queue_size"] == t.queue_size, name
        assert (exp["sending_queue"].get("storage") == otelcol.STORAGE) == m.stack.persistent_queue, name
    assert (otelcol.STORAGE in cfg["extensions"]) == m.stack.persistent_queue


def test_push_mode_sends_metrics_to_the_prometheus_3_otlp_receiver():
    cfg = doc(c.OTELCOL_CONFIG, metrics="push")
    # otlp_http appends /v1/metrics to the endpoint: the receiver's path is /api/v1/otlp/v1/metrics.
    assert cfg["exporters"][otelcol.TO_PROMETHEUS]["endpoint"] == "http://127.0.0.1:9090/api/v1/otlp"
    assert cfg["service"]["pipelines"]["metrics"]["exporters"] == [otelcol.TO_PROMETHEUS]
    assert otelcol.PULL_EXPORTER not in cfg["exporters"]
    assert "--web.enable-otlp-receiver" in prometheus.required_flags(model(metrics="push"))


def test_pull_mode_exposes_the_collectors_prometheus_exporter_and_prometheus_scrapes_it():
    cfg = doc(c.OTELCOL_CONFIG, metrics="pull")
    assert cfg["exporters"][otelcol.PULL_EXPORTER]["endpoint"] == "127.0.0.1:8889"
    assert cfg["service"]["pipelines"]["metrics"]["exporters"] == [otelcol.PULL_EXPORTER]
    jobs = {j["job_name"]: j for j in doc(c.PROMETHEUS_CONFIG, metrics="pull")["scrape_configs"]}
    assert jobs[c.JOB_OTELCOL_EXPORTER]["static_configs"][0]["targets"] == ["127.0.0.1:8889"]
    assert jobs[c.JOB_OTELCOL_EXPORTER]["honor_labels"] is True
    assert c.JOB_OTELCOL_EXPORTER not in {j["job_name"] for j in doc(c.PROMETHEUS_CONFIG)["scrape_configs"]}


def test_traces_reach_jaeger_and_the_spanmetrics_connector_feeds_the_metrics_pipeline():
    cfg = doc(c.OTELCOL_CONFIG)
    pipes = cfg["service"]["pipelines"]
    assert pipes["traces"]["exporters"] == [otelcol.TO_JAEGER, otelcol.SPANMETRICS]
    assert otelcol.SPANMETRICS in pipes["metrics"]["receivers"]
    assert cfg["exporters"][otelcol.TO_JAEGER]["endpoint"] == "127.0.0.1:14317"
    sm = cfg["connectors"][otelcol.SPANMETRICS]
    # namespace + unit s: Prometheus stores traces_span_metrics_calls_total and ..._duration_seconds.
    assert (sm["namespace"], sm["histogram"]["unit"]) == (c.SPANMETRICS_NAMESPACE, "s")
    assert c.SPANMETRICS_CALLS.startswith(sm["namespace"].replace(".", "_"))
    assert {"name": "http.response.status_code"} in sm["dimensions"]


def test_spanmetrics_buckets_hold_every_latency_threshold_and_every_declared_boundary():
    buckets = doc(c.OTELCOL_CONFIG)["connectors"][otelcol.SPANMETRICS]["histogram"]["explicit"]["buckets"]
    assert "200ms" in buckets and "500ms" in buckets and "5ms" in buckets and "10000ms" in buckets
    assert len(buckets) == len(set(buckets))


@pytest.mark.parametrize("profile,metrics,extra", VARIANTS)
def test_the_builder_manifest_lists_exactly_the_components_the_config_uses(profile, metrics, extra):
    out = files(profile, metrics, extra)
    cfg, manifest = load(out[c.OTELCOL_CONFIG]), load(out[c.OTELCOL_MANIFEST])
    for section, types in builder_manifest.used_components(cfg).items():
        listed = sorted(e["gomod"] for e in manifest.get(section, []))
        assert listed == sorted(builder_manifest.MODULES[(section, t)] for t in types), section
    providers = [e["gomod"].split()[0].rsplit("/", 1)[1] for e in manifest["providers"]]
    assert providers == ["envprovider", "fileprovider", "yamlprovider"]


def test_tls_and_a_bearer_token_protect_both_otlp_receivers_and_bring_their_extension():
    m = model(stack_extra=SECURE_RECEIVERS)
    out = render(m)
    cfg = load(out[c.OTELCOL_CONFIG])
    for proto in cfg["receivers"]["otlp"]["protocols"].values():
        assert proto["endpoint"].startswith("0.0.0.0:")
        assert proto["tls"] == {"cert_file": "certs/otlp.crt", "key_file": "certs/otlp.key"}
        assert proto["auth"] == {"authenticator": otelcol.BEARER}
    assert cfg["extensions"][otelcol.BEARER] == {"filename": ".obs/secrets/OTLP_TOKEN"}
    assert "bearertokenauthextension" in out[c.OTELCOL_MANIFEST]


LISTEN_KEYS = ("endpoint", "host")


def _listeners(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in LISTEN_KEYS and isinstance(v, str) and path.split(".")[0] in ("receivers", "extensions", "service"):
                yield f"{path}.{k}", v
            yield from _listeners(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _listeners(v, f"{path}[{i}]")


@pytest.mark.parametrize("path", [c.OTELCOL_CONFIG, c.JAEGER_CONFIG])
def test_every_native_listener_binds_the_spec_address(path):
    found = dict(_listeners(load(render(model(bind="10.1.2.3"))[path])))
    assert found
    for where, value in found.items():
        assert value.startswith("10.1.2.3") or where.startswith("receivers.otlp"), (where, value)


def test_jaeger_never_takes_the_collectors_otlp_ports():
    cfg = doc(c.JAEGER_CONFIG)
    ports = {v.rsplit(":", 1)[1] for _, v in _listeners(cfg) if ":" in v}
    ports.add(str(cfg["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["port"]))
    assert ports == {"16686", "16685", "14133", "14317", "14269"}


def test_prometheus_scrapes_the_stack_the_verifier_and_every_service_target():
    cfg = doc(c.PROMETHEUS_CONFIG)
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert {c.JOB_PROMETHEUS, c.JOB_OTELCOL, c.JOB_JAEGER, c.JOB_ALERTMANAGER, c.VERIFY_JOB} <= set(jobs)
    assert jobs[c.JOB_OTELCOL]["static_configs"][0]["targets"] == ["127.0.0.1:8888"]
    first, second = jobs["search"], jobs["search-1"]
    assert first["static_configs"][0] == {"targets": ["localhost:9187"],
                                          "labels": {"job": "search", c.SERVICE_NAME_LABEL: "search"}}
    assert second["metrics_path"] == "/stats"
    assert (second["scrape_interval"], second["scrape_timeout"]) == ("30s", "10s")
    assert second["static_configs"][0]["labels"]["job"] == "search"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_prometheus_takes_its_intervals_and_resend_delay_from_the_profile(profile):
    m = model(profile)
    t = m.stack.timing
    g = load(render(m)[c.PROMETHEUS_CONFIG])["global"]
    assert (g["scrape_interval"], g["evaluation_interval"]) == (str(t.scrape_interval), str(t.evaluation_interval))
    assert g["scrape_timeout"] == str(min(t.scrape_interval, prometheus.MAX_SCRAPE_TIMEOUT))
    assert f"--rules.alert.resend-delay={t.resend_delay}" in prometheus.required_flags(m)


def test_prometheus_promotes_service_name_and_keeps_semconv_names_with_unit_suffixes():
    cfg = doc(c.PROMETHEUS_CONFIG)
    assert "service.name" in cfg["otlp"]["promote_resource_attributes"]
    # service.name -> service_name; http.server.request.duration (unit s) -> ..._seconds.
    assert c.SERVICE_NAME_LABEL == "service.name".replace(".", "_")
    assert cfg["otlp"]["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
    assert c.HTTP_DURATION == "http_server_request_duration_seconds"


def test_rule_files_point_at_the_alerts_directory_relative_to_the_config():
    assert doc(c.PROMETHEUS_CONFIG)["rule_files"] == ["../../alerts/*.rules.yml"]
    assert load(files()[c.COMPOSE_PROMETHEUS_CONFIG])["rule_files"] == ["../../alerts/*.rules.yml"]
    assert re.fullmatch(r"alerts/[a-z0-9-]+\.rules\.yml", c.rules_file("api-gateway"))


def test_the_local_overlay_routes_probes_first_and_never_waits_for_a_group_interval():
    route = doc(c.ALERTMANAGER_LOCAL_CONFIG)["route"]
    probe = route["routes"][0]
    assert probe["receiver"] == c.PROBE_RECEIVER
    assert probe["matchers"] == [f'{c.PROBE_LABEL}="true"']
    # A unique probe id per group: a probe starts its own group and waits group_wait (0s), never group_interval.
    assert (probe["group_by"], probe["group_wait"], probe["continue"]) == ([c.PROBE_ID_LABEL], "0s", False)
    receivers = {r["name"]: r for r in doc(c.ALERTMANAGER_LOCAL_CONFIG)["receivers"]}
    assert receivers[c.PROBE_RECEIVER]["webhook_configs"][0]["url"] == f"http://127.0.0.1:9097{c.VERIFY_SINK_PATH}"


def test_production_routes_probes_to_nobody_and_has_no_local_url():
    cfg = doc(c.ALERTMANAGER_CONFIG)
    assert cfg["route"]["routes"][0] == {"receiver": c.NULL_RECEIVER, "matchers": [f'{c.PROBE_LABEL}="true"'],
                                         "continue": False}
    assert c.PROBE_RECEIVER not in {r["name"] for r in cfg["receivers"]}
    text = files()[c.ALERTMANAGER_CONFIG]
    # The spec's own webhook at 127.0.0.1:5001 is the only loopback URL: nothing of obs's.
    assert re.findall(r"https?://127\.0\.0\.1:\d+", text) == ["http://127.0.0.1:5001"]


def test_the_local_overlay_sends_every_vendor_integration_to_the_contract_receivers_without_reading_a_secret():
    receivers = {r["name"]: r for r in doc(c.ALERTMANAGER_LOCAL_CONFIG)["receivers"]}
    pd = receivers["pagerduty"]["pagerduty_configs"][0]
    assert pd["url"] == "http://127.0.0.1:9096/pagerduty/pagerduty/v2/enqueue"
    # A stand-in key `obs up` writes: the real key never reaches a local receiver.
    assert pd["routing_key_file"] == c.local_stand_in_file("pagerduty", "pagerduty") and "routing_key" not in pd
    assert receivers["slack"]["slack_configs"][0]["api_url_file"] == c.local_stand_in_file("slack", "slack")
    assert receivers["hook-secret"]["webhook_configs"][0]["url_file"] == c.local_stand_in_file("webhook", "hook-secret")
    m = model()
    stand_ins = alertmanager.stand_ins(m, network.native(m))
    assert stand_ins[c.local_stand_in_file("slack", "slack")] == "http://127.0.0.1:9096/slack/slack"
    assert stand_ins[c.local_stand_in_file("webhook", c.HEARTBEAT_RECEIVER)] == "http://127.0.0.1:9096/heartbeat"
    assert len(stand_ins[c.local_stand_in_file("pagerduty", "pagerduty")]) == 32


def test_the_heartbeat_url_is_read_from_its_secret_file_and_without_one_the_watchdog_goes_nowhere():
    receivers = {r["name"]: r for r in doc(c.ALERTMANAGER_CONFIG)["receivers"]}
    assert receivers[c.HEARTBEAT_RECEIVER]["webhook_configs"] == [{"url_file": c.secret_file("HEARTBEAT_URL"),
                                                                    "send_resolved": True}]
    import dataclasses
    bare = render(dataclasses.replace(model(), heartbeat=None))
    routes = load(bare[c.ALERTMANAGER_CONFIG])["route"]["routes"]
    assert routes[1]["receiver"] == c.NULL_RECEIVER


def test_pagerduty_gets_a_severity_its_api_accepts_and_the_alertname_as_class():
    pd = {r["name"]: r for r in doc(c.ALERTMANAGER_CONFIG)["receivers"]}["pagerduty"]["pagerduty_configs"][0]
    # Alertmanager's default would send the label (page/ticket), which PagerDuty answers with 400.
    assert "critical" in pd["severity"] and "warning" in pd["severity"]
    assert pd["class"] == "{{ .CommonLabels.alertname }}"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_route_tree_follows_the_spec_and_groups_by_service_and_slo(profile):
    t = PROFILES[profile]
    route = doc(c.ALERTMANAGER_CONFIG, profile=profile)["route"]
    assert route["receiver"] == "hook"
    # component and job too: a dead collector and a dead Jaeger are two incidents, and so are two silent
    # deployments; joining a group that already notified would wait group_interval, not group_wait.
    assert route["group_by"] == ["alertname", c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_COMPONENT, "job"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        str(t.group_wait), str(t.group_interval), str(t.repeat_interval))
    spec_routes = [(r["receiver"], r["matchers"], r.get("group_wait")) for r in route["routes"]
                   if not any(m.startswith(("alertname=", c.PROBE_LABEL)) for m in r["matchers"])]
    assert spec_routes == [("pagerduty", ['severity="page"'], None), ("mail", ['service="cache"'], "1m"),
                           ("slack", ['severity="ticket"'], None)]
    # The Watchdog goes to the spec's dead man's switch every heartbeat interval.
    assert route["routes"][1] == {"receiver": c.HEARTBEAT_RECEIVER, "matchers": [f'alertname="{c.WATCHDOG_ALERT}"'],
                                  "group_wait": "0s", "group_interval": str(t.heartbeat_interval),
                                  "repeat_interval": str(t.heartbeat_interval), "continue": False}


def test_a_failing_integration_is_reported_through_a_receiver_of_another_kind():
    routes = doc(c.ALERTMANAGER_CONFIG)["route"]["routes"]
    failing = {r["matchers"][1]: r["receiver"] for r in routes
               if r["matchers"][0] == f'alertname="{c.NOTIFICATIONS_FAILING_ALERT}"'}
    assert failing['integration="pagerduty"'] != "pagerduty"
    assert all(kind.split('"')[1] not in receiver for kind, receiver in failing.items())
    # ...and before the spec's routes, which would send a page back to the failing integration.
    first_spec = next(i for i, r in enumerate(routes) if r["matchers"] == ['severity="page"'])
    assert all(i < first_spec for i, r in enumerate(routes) if r["matchers"][0].startswith('alertname="Obs'))


def test_a_page_inhibits_the_ticket_and_each_tier_inhibits_every_slower_one():
    rules = doc(c.ALERTMANAGER_CONFIG)["inhibit_rules"]
    assert rules[0] == {"source_matchers": ['severity="page"'], "target_matchers": ['severity="ticket"'],
                        "equal": [c.LABEL_SERVICE, c.LABEL_SLO]}
    tier_rules = [r for r in rules[1:] if r["source_matchers"][0].startswith(c.LABEL_TIER)]
    tiers = [(r["source_matchers"][0], r["target_matchers"][0]) for r in tier_rules]
    # The fast-page tier (5m, for SLOs whose 1h tier pages a full outage too slowly), the workbook tiers
    # 1h, 6h, 1d, 3d, and the cache SLO's own 2d tier, ordered by duration.
    assert tiers == [(f'{c.LABEL_TIER}="5m"', f'{c.LABEL_TIER}=~"1h|6h|1d|2d|3d"'),
                     (f'{c.LABEL_TIER}="1h"', f'{c.LABEL_TIER}=~"6h|1d|2d|3d"'),
                     (f'{c.LABEL_TIER}="6h"', f'{c.LABEL_TIER}=~"1d|2d|3d"'),
                     (f'{c.LABEL_TIER}="1d"', f'{c.LABEL_TIER}=~"2d|3d"'),
                     (f'{c.LABEL_TIER}="2d"', f'{c.LABEL_TIER}=~"3d"')]
    assert all(r["equal"] == [c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_SEVERITY] for r in tier_rules)


def test_a_dead_collector_is_the_one_page_while_the_services_it_silenced_stay_quiet():
    rules = doc(c.ALERTMANAGER_CONFIG)["inhibit_rules"]
    collector = next(r for r in rules if 'job="otelcol"' in r["source_matchers"])
    assert f'alertname="{c.COMPONENT_DOWN_ALERT}"' in collector["source_matchers"]
    held = collector["target_matchers"][0]
    for symptom in (c.SERVICE_SILENT_ALERT, c.SERVICE_TRAFFIC_STOPPED_ALERT, c.SLO_NO_DATA_ALERT):
        assert symptom in held
    assert c.COMPONENT_DOWN_ALERT not in held
    silent = [r for r in rules if r["source_matchers"] == [f'alertname="{c.SERVICE_SILENT_ALERT}"']]
    # Per job: a drill's retired canary (or another deployment) going silent holds no other job's page back.
    assert {(r["target_matchers"][0], tuple(r["equal"])) for r in silent} == {
        (f'alertname="{c.SERVICE_TRAFFIC_STOPPED_ALERT}"', ("job",)),
        (f'alertname="{c.SLO_NO_DATA_ALERT}"', (c.LABEL_SERVICE,))}


def test_every_receiver_secret_is_a_file_reference():
    receivers = {r["name"]: r for r in doc(c.ALERTMANAGER_CONFIG)["receivers"]}
    assert receivers["pagerduty"]["pagerduty_configs"][0]["routing_key_file"] == ".obs/secrets/PAGERDUTY_ROUTING_KEY"
    assert receivers["slack"]["slack_configs"][0] == {"api_url_file": "/run/secrets/slack-url", "channel": "#alerts",
                                                      "send_resolved": True}
    assert receivers["hook"]["webhook_configs"][0]["url"] == "http://127.0.0.1:5001/hook"
    assert receivers["hook-secret"]["webhook_configs"][0]["url_file"] == ".obs/secrets/HOOK_URL"
    assert receivers["mail"]["email_configs"][0]["auth_password_file"] == ".obs/secrets/SMTP_PASSWORD"
    text = files()[c.ALERTMANAGER_CONFIG]
    assert not re.search(r"^\s*(routing_key|api_url|auth_password|service_key):", text, re.M)


def test_compose_publishes_every_port_on_the_spec_address_only():
    compose = doc(c.COMPOSE_FILE)
    published = [p for s in compose["services"].values() for p in s.get("ports", [])]
    assert len(published) == 10   # jaeger 3, alertmanager 1, prometheus 1, otelcol 4, grafana 1
    for p in published:
        host, port, inner = p.split(":")
        assert host == "127.0.0.1" and port == inner, p


@pytest.mark.parametrize("component", ["otelcol", "jaeger", "prometheus", "alertmanager", "grafana"])
def test_compose_pins_every_image_from_the_version_table(component):
    from obs import versions
    assert doc(c.COMPOSE_FILE)["services"][component]["image"] == versions.IMAGES[component].ref


def test_compose_grafana_has_no_default_credentials_and_no_anonymous_access():
    compose = doc(c.COMPOSE_FILE)
    env = compose["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana-admin-password"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env
    assert compose["secrets"]["grafana-admin-password"] == {"file": f"./{c.GRAFANA_ADMIN_PASSWORD_FILE}"}


def test_compose_mounts_env_secrets_where_alertmanager_and_the_collector_read_them():
    compose = doc(c.COMPOSE_FILE, extra=SECURE_RECEIVERS)
    am, oc = compose["services"]["alertmanager"], compose["services"]["otelcol"]
    assert {"source": "PAGERDUTY_ROUTING_KEY", "target": "/obs/.obs/secrets/PAGERDUTY_ROUTING_KEY"} in am["secrets"]
    assert "/run/secrets/slack-url:/run/secrets/slack-url:ro" in am["volumes"]
    assert {"source": "OTLP_TOKEN", "target": "/obs/.obs/secrets/OTLP_TOKEN"} in oc["secrets"]
    assert "./certs/otlp.crt:/obs/certs/otlp.crt:ro" in oc["volumes"]
    assert compose["secrets"]["OTLP_TOKEN"] == {"file": "./.obs/secrets/OTLP_TOKEN"}
    assert am["working_dir"] == oc["working_dir"] == c.COMPOSE_WORKDIR


def test_compose_waits_for_healthy_backends_before_starting_what_sends_to_them():
    svcs = doc(c.COMPOSE_FILE)["services"]
    assert svcs["prometheus"]["depends_on"] == {"alertmanager": {"condition": "service_healthy"}}
    assert set(svcs["otelcol"]["depends_on"]) == {"jaeger", "prometheus"}
    for name in ("jaeger", "prometheus", "alertmanager", "grafana"):
        assert svcs[name]["healthcheck"]["test"][:2] == ["CMD", "wget"], name


def test_compose_configs_listen_inside_the_container_and_reach_peers_by_service_name():
    out = files()
    cfg = load(out[c.COMPOSE_OTELCOL_CONFIG])
    assert cfg["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert cfg["exporters"][otelcol.TO_JAEGER]["endpoint"] == "jaeger:14317"
    prom = load(out[c.COMPOSE_PROMETHEUS_CONFIG])
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    search = next(j for j in prom["scrape_configs"] if j["job_name"] == "search")
    assert search["static_configs"][0]["targets"] == ["host.docker.internal:9187"]
    am = load(out[c.COMPOSE_ALERTMANAGER_CONFIG])
    assert am["receivers"][0]["webhook_configs"][0]["url"] == "http://host.docker.internal:9097/alerts"


def test_grafana_datasources_have_stable_uids_and_link_traces_to_span_metrics():
    ds = {d["uid"]: d for d in doc(c.GRAFANA_DATASOURCES)["datasources"]}
    assert set(ds) == {c.DATASOURCE_PROMETHEUS_UID, c.DATASOURCE_JAEGER_UID, c.DATASOURCE_ALERTMANAGER_UID}
    links = ds[c.DATASOURCE_JAEGER_UID]["jsonData"]["tracesToMetrics"]
    assert links["datasourceUid"] == c.DATASOURCE_PROMETHEUS_UID
    # `$$` is Grafana's escape for a literal `$` in provisioning files.
    for q in links["queries"]:
        assert "{$$__tags" in q["query"] and re.search(f"{c.SPANMETRICS_CALLS}|{c.SPANMETRICS_DURATION}", q["query"])
    provider = doc(c.GRAFANA_DASHBOARD_PROVIDERS)["providers"][0]
    assert provider["options"]["path"] == f"{c.COMPOSE_WORKDIR}/{c.DASHBOARDS_DIR}"
    assert "./dashboards:/obs/dashboards:ro" in doc(c.COMPOSE_FILE)["services"]["grafana"]["volumes"]
