"""Generated dashboards: valid PromQL, current panel types, every service, stable UIDs, golden files,
user dashboards, and the query list the verifier runs on a live stack."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import promql_parser
import pytest
from ruamel.yaml import YAML

from obs.generate.common import Inputs
from obs.generate.configs import grafana_provisioning
from obs.generate.dashboards import render as dashboards
from obs.generate.dashboards.model import substitute
from obs.generate.dashboards.queries import dashboard_specs, panel_queries
from obs.generate.pipeline import rules as pipeline_rules
from obs.generate.slo import rules as slo_rules
from obs.model import conventions as c
from obs.project import load_model, load_text
from tests.support.paths import REPO, TESTS

GOLDEN = TESTS / "golden" / "dashboards"
CURRENT_PANEL_TYPES = {"row", "timeseries", "stat", "table", "text", "gauge", "bargauge", "nodeGraph"}
MAY_BE_EMPTY = {"In-flight requests", "Probe success by kind", "Hop latency against its floor",
                "Since the last verify run", "Burn-rate alerts pending or firing"}
# The repo's postgres declares no SLO: the SLO table of the service page is empty for it alone.
MAY_BE_EMPTY_TEMPLATED = MAY_BE_EMPTY | {"SLOs of $service"}
LAYOUTS = ("templated", "per_service")
PER_SERVICE = "\ndashboards:\n  layout: per_service\n"


@pytest.fixture(scope="module")
def model():
    return load_model(REPO / c.SPEC_FILE)


@pytest.fixture(scope="module")
def files(model):
    return dashboards.generate(model, Inputs())


@pytest.fixture(scope="module")
def per_service_model():
    """The repo's spec with the per-service layout it had before the templated one became the default."""
    text = (REPO / c.SPEC_FILE).read_text(encoding="utf-8")
    assert "\ndashboards:\n  layout: templated\n" in text
    return load_text(text.replace("\ndashboards:\n  layout: templated\n", PER_SERVICE), c.SPEC_FILE)


@pytest.fixture(scope="module")
def per_service_files(per_service_model):
    return dashboards.generate(per_service_model, Inputs())


@pytest.fixture(scope="module", params=LAYOUTS)
def both(request, model, files, per_service_model, per_service_files):
    """(model, files) in each layout: what every dashboard must be, whichever the spec picks."""
    return (model, files) if request.param == "templated" else (per_service_model, per_service_files)


def parsed(files):
    return {path: json.loads(text) for path, text in files.items()}


def panels(dashboard):
    return [p for p in dashboard["panels"]]


def targets(files):
    """Every Prometheus target (a node graph panel asks the Jaeger datasource, with no PromQL)."""
    for d in parsed(files).values():
        for p in panels(d):
            for t in p.get("targets", []):
                if "expr" in t:
                    yield d["uid"], p, t


def spec(tmp_path: Path, services: str, project: str = "demo") -> Path:
    path = tmp_path / c.SPEC_FILE
    path.write_text(f"version: obs/v1\nproject: {project}\nservices:\n{services}", encoding="utf-8")
    return path


def test_every_panel_query_parses_as_promql_with_every_value_of_its_variables(both):
    model, files = both
    queries = panel_queries(model)
    assert len(queries) > 100
    for q in queries:
        promql_parser.parse(q.promql())   # raises on a syntax error
        # `$1` is label_replace's own reference to its regex group, not a Grafana variable.
        assert "$" not in q.promql().replace('"$1"', ""), (q.where, q.panel_title)


def test_the_verifier_list_holds_exactly_the_queries_in_the_dashboards(both):
    model, files = both
    in_json = sorted((uid, p["title"], t["refId"], t["expr"], t["instant"]) for uid, p, t in targets(files))
    listed = sorted({(q.dashboard_uid, q.panel_title, q.ref_id, q.expr, q.instant) for q in panel_queries(model)})
    assert listed == in_json


def test_the_verifier_gets_prometheus_runnable_queries_with_grafanas_rate_interval(model):
    q = next(q for q in panel_queries(model) if "$__rate_interval" in q.expr)
    # The production export and scrape interval is 15 s: a rate window of four of them holds several samples.
    assert q.min_interval == "15s" and q.rate_interval == "1m"
    assert "[1m]" in q.promql() and "$" not in q.promql().replace('"$1"', "")   # label_replace's own $1 stays
    assert substitute("rate(x[$__rate_interval]) + y[$__interval]", "15s") == "rate(x[1m]) + y[15s]"


def test_no_panel_uses_the_angular_graph_type(both):
    types = {p["type"] for d in parsed(both[1]).values() for p in panels(d)}
    assert types <= CURRENT_PANEL_TYPES
    assert "graph" not in types


def test_in_the_per_service_layout_every_service_in_the_spec_appears_in_the_dashboards(per_service_model, per_service_files):
    model, files = per_service_model, per_service_files
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    overview = json.dumps(by_uid[c.overview_dashboard_uid(model.project)])
    for s in model.services:
        assert c.service_dashboard_uid(model.project, s.name) in by_uid, s.name
        assert f'service_name=\\"{s.name}\\"' in overview, s.name
        for slo in s.slos:
            assert c.slo_dashboard_uid(model.project, s.name, slo.name) in by_uid, (s.name, slo.name)
    assert len(files) == 2 + len(model.services) + len(model.slos)


def test_in_the_per_service_layout_http_services_read_the_semconv_histogram_and_others_spanmetrics(per_service_model, per_service_files):
    model, files = per_service_model, per_service_files
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    for s in model.services:
        exprs = " ".join(t["expr"] for p in panels(by_uid[c.service_dashboard_uid(model.project, s.name)])
                         for t in p.get("targets", []) if "expr" in t)
        wanted, unwanted = ((c.HTTP_DURATION, c.SPANMETRICS_CALLS) if s.http
                            else (c.SPANMETRICS_CALLS, c.HTTP_DURATION))
        assert wanted in exprs and unwanted not in exprs, s.name


def test_in_the_per_service_layout_every_service_dashboard_links_to_the_services_traces(per_service_model, per_service_files):
    model, files = per_service_model, per_service_files
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    port = model.stack.ports["jaeger_query"]
    for s in model.services:
        d = by_uid[c.service_dashboard_uid(model.project, s.name)]
        text = json.dumps(d)
        assert f"http://127.0.0.1:{port}/search?service={s.name}" in text
        assert c.DATASOURCE_JAEGER_UID in next(p for p in panels(d) if p["type"] == "text")["options"]["content"]


@pytest.mark.parametrize("services", [
    "  - name: a-service-with-a-really-quite-long-name-indeed\n    slos:\n"
    "      - name: an-slo-with-a-long-name-too\n        objective: 99\n"
    "        sli: {events: {error_query: 'sum(rate(e[{{window}}]))', total_query: 'sum(rate(t[{{window}}]))'}}\n"
    "      - name: an-slo-with-a-long-name-two\n        objective: 99\n"
    "        sli: {events: {error_query: 'sum(rate(e[{{window}}]))', total_query: 'sum(rate(t[{{window}}]))'}}\n",
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_dashboard_uids_are_unique_stable_and_fit_grafanas_40_characters(tmp_path, services, layout, model, files,
                                                                       per_service_model, per_service_files):
    model, files = (model, files) if layout == "templated" else (per_service_model, per_service_files)
    long_model = load_model(spec(tmp_path, services + f"dashboards: {{layout: {layout}}}\n",
                                 project="a-project-with-a-long-name"))
    for m, generated in ((model, files), (long_model, dashboards.generate(long_model, Inputs()))):
        uids = [d["uid"] for d in parsed(generated).values()]
        assert len(set(uids)) == len(uids)
        assert all(len(u) <= 40 for u in uids), uids
        assert [d["uid"] for d in parsed(dashboards.generate(m, Inputs())).values()] == uids
        assert all(path == c.dashboard_file(d["uid"]) for path, d in parsed(generated).items())
    assert c.slo_dashboard_uid("ai-tools", "api-gateway", "availability") == "ai-tools-slo-api-gateway-availability"


def test_generation_is_byte_for_byte_deterministic_across_processes(files):
    here = hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest()
    script = ("import hashlib; from pathlib import Path; from obs.project import load_model, load_text; "
              "from obs.generate.dashboards import render as dashboards; from obs.generate.common import Inputs; "
              f"f = dashboards.generate(load_model(Path({str(REPO / c.SPEC_FILE)!r})), Inputs()); "
              "print(hashlib.sha256(''.join(f[k] for k in sorted(f)).encode()).hexdigest())")
    for seed in ("0", "1"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == here


def test_dashboards_match_the_golden_files(files):
    """Refresh with OBS_UPDATE_GOLDEN=1 after an intended change, and review the diff."""
    if os.environ.get("OBS_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("*.json"):
            old.unlink()
        for path, text in files.items():
            (GOLDEN / Path(path).name).write_text(text, encoding="utf-8")
    golden = {f"{c.DASHBOARDS_DIR}/{p.name}": p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.json")}
    assert sorted(golden) == sorted(files)
    for path, text in files.items():
        assert text == golden[path], f"{path} drifted from its golden file; OBS_UPDATE_GOLDEN=1 refreshes it"


def test_every_dashboard_says_it_is_generated_and_must_not_be_edited(files):
    for d in parsed(files).values():
        assert d["description"].startswith("generated by obs from obs.yaml; do not edit"), d["uid"]


def test_exactly_the_panels_that_may_be_empty_are_marked_and_say_why(both):
    model, files = both
    empty = {q.panel_title for q in panel_queries(model) if q.may_be_empty}
    assert empty == (MAY_BE_EMPTY_TEMPLATED if model.dashboard_layout == "templated" else MAY_BE_EMPTY)
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    for q in panel_queries(model):
        panel = next(p for p in panels(by_uid[q.dashboard_uid]) if p["title"] == q.panel_title)
        if q.may_be_empty:
            assert q.why_empty and q.why_empty in panel["description"]
            assert panel["fieldConfig"]["defaults"]["noValue"] not in ("", None, "no data")
        else:
            assert not q.why_empty
    for d in dashboard_specs(model):   # the reader is told a panel may be empty exactly when it is marked so
        for p in d.panels:
            marked = bool(p.why_empty or p.why_empty_for or any(q.why_empty for q in p.queries))
            shown = next(x for x in panels(by_uid[d.uid]) if x["title"] == p.title).get("description") or ""
            assert ("May show no data" in shown) == marked, (d.uid, p.title)


def test_in_the_per_service_layout_a_scraped_only_service_is_shown_with_every_panel_saying_why_it_may_be_empty(tmp_path):
    m = load_model(spec(tmp_path, "  - name: legacy\n    http: true\n    telemetry:\n      otlp: false\n"
                                  "      scrape: [{targets: ['127.0.0.1:9100']}]\n" + PER_SERVICE))
    uid = c.service_dashboard_uid("demo", "legacy")
    queries = [q for q in panel_queries(m) if q.dashboard_uid == uid]
    assert queries and all(q.may_be_empty for q in queries)
    assert all("scraped, not sent over OTLP" in q.why_empty for q in queries if q.panel_title != "In-flight requests")
    d = json.loads(dashboards.generate(m, Inputs())[c.dashboard_file(uid)])
    for p in panels(d):
        if p.get("targets"):
            assert p["fieldConfig"]["defaults"]["noValue"] not in ("", "no data"), p["title"]


def test_in_the_per_service_layout_each_burn_rate_tier_draws_its_threshold(per_service_model, per_service_files):
    model, files = per_service_model, per_service_files
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    for slo in model.slos:
        d = by_uid[c.slo_dashboard_uid(model.project, slo.service, slo.name)]
        for tier in slo.tiers:
            panel = next(p for p in panels(d) if p["title"].startswith(f"{tier.severity} tier {tier.long} / "))
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            assert float(tier.burn_rate) in [s["value"] for s in steps]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line"
            exprs = [t["expr"] for t in panel["targets"]]
            assert [c.slo_error_ratio(str(tier.long)) in exprs[0], c.slo_error_ratio(str(tier.short)) in exprs[1]] \
                == [True, True]


def test_every_rule_and_alert_a_dashboard_reads_is_generated_by_the_rule_engine(both):
    model = both[0]
    records, alerts = set(), set()
    for module in (slo_rules, pipeline_rules):
        for path, text in module.generate(model, Inputs()).items():
            if not path.endswith(".rules.yml"):
                continue
            for group in YAML(typ="safe", pure=True).load(text)["groups"]:
                for rule in group["rules"]:
                    labels = rule.get("labels", {})
                    key = (labels.get(c.LABEL_SERVICE), labels.get(c.LABEL_SLO))
                    (records if "record" in rule else alerts).add((rule.get("record") or rule["alert"],) + key)
    names = {r[0] for r in records}
    for q in panel_queries(model):
        for name, selector in re.findall(r"(obs:[a-z_:0-9]+)(\{[^}]*\})?", q.promql()):
            # A name followed by a regex (`__name__=~"obs:slo_error_ratio:rate.+"`) reads every rule it begins.
            assert name in names or (selector == "" and any(n.startswith(name) for n in names)), \
                (q.dashboard_uid, q.panel_title, name)
            found = dict(re.findall(r'(\w+)="([^"]*)"', selector))
            if c.LABEL_SLO in found:
                assert (name, found[c.LABEL_SERVICE], found[c.LABEL_SLO]) in records, (q.panel_title, name, found)
        for selector in re.findall(r"ALERTS(\{[^}]*\})", q.promql()):
            found = dict(re.findall(r'(\w+)="([^"]*)"', selector))
            wanted = (found["alertname"], found.get(c.LABEL_SERVICE), found.get(c.LABEL_SLO))
            matching = {a for a in alerts if a[0] == wanted[0] and (wanted[2] is None or a == wanted)}
            assert matching, (q.dashboard_uid, q.panel_title, wanted)


def test_panels_query_the_provisioned_prometheus_datasource(both):
    model, files = both
    provisioned = json.dumps(YAML(typ="safe", pure=True).load(grafana_provisioning.generate(model, Inputs())[c.GRAFANA_DATASOURCES]))
    assert c.DATASOURCE_PROMETHEUS_UID in provisioned
    for d in parsed(files).values():
        variable = d["templating"]["list"][0]
        assert (variable["name"], variable["type"], variable["current"]["value"]) == \
            (c.DASHBOARD_DATASOURCE_VARIABLE, "datasource", c.DATASOURCE_PROMETHEUS_UID)
        for p in panels(d):
            for t in p.get("targets", []):
                expected = ({"type": "jaeger", "uid": c.DATASOURCE_JAEGER_UID} if p["type"] == "nodeGraph" else
                            {"type": "prometheus", "uid": "${datasource}"})
                assert t["datasource"] == expected


def test_grafanalib_is_imported_by_the_dashboards_module_only():
    importers = sorted(str(p.relative_to(REPO)) for p in (REPO / "obs").rglob("*.py")
                       if re.search(r"^\s*(from|import) grafanalib", p.read_text(encoding="utf-8"), re.M))
    assert importers == ["obs/generate/dashboards/render.py"]
    probe = ("import sys; from obs.generate.dashboards.queries import dashboard_specs, panel_queries; "
             "print('grafanalib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"   # the verifier lists every query without grafanalib


def fleet(n: int, layout: str = "templated") -> str:
    """A spec of n services, alternately HTTP and trace-only, each with an SLO, in teams of ten."""
    services = "".join(
        f"  - name: svc-{i}\n    team: team-{i // 10}\n" + ("    http: true\n" if i % 2 else "")
        + "    slos:\n      - name: ok\n        objective: 99\n"
          "        sli: {events: {error_query: 'sum(rate(e[{{window}}]))', total_query: 'sum(rate(t[{{window}}]))'}}\n"
        for i in range(n))
    return f"version: obs/v1\nproject: fleet\nservices:\n{services}dashboards: {{layout: {layout}}}\n"


def test_the_templated_layout_writes_the_same_four_dashboards_whatever_the_number_of_services():
    few, many = (dashboards.generate(load_text(fleet(n), c.SPEC_FILE), Inputs()) for n in (3, 60))
    assert sorted(few) == sorted(many) == sorted(c.dashboard_file(u) for u in (
        "fleet-overview", "fleet-pipeline", c.service_template_dashboard_uid("fleet"),
        c.slo_template_dashboard_uid("fleet")))
    assert few == many   # no service's name is written into a dashboard: the variables pick them
    per_service = dashboards.generate(load_text(fleet(60, "per_service"), c.SPEC_FILE), Inputs())
    assert len(per_service) == 2 + 60 + 60


def variables(d: dict) -> dict[str, dict]:
    return {v["name"]: v for v in d["templating"]["list"] if v["type"] == "query"}


def test_the_variables_list_label_values_of_obs_recording_rules_each_narrowed_by_the_one_before(model, files):
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    overview = variables(by_uid[c.overview_dashboard_uid(model.project)])
    service = variables(by_uid[c.service_template_dashboard_uid(model.project)])
    slo = variables(by_uid[c.slo_template_dashboard_uid(model.project)])
    assert {n: v["query"] for n, v in overview.items()} == {"team": f"label_values({c.SERVICE_INFO}, team)"}
    assert {n: v["query"] for n, v in service.items()} == {
        "team": f"label_values({c.SERVICE_INFO}, team)",
        "service": f'label_values({c.SERVICE_INFO}{{team=~"$team"}}, service)'}
    assert {n: v["query"] for n, v in slo.items()} == {
        "service": f"label_values({c.SLO_OBJECTIVE}, service)",
        "slo": f'label_values({c.SLO_OBJECTIVE}{{service="$service"}}, slo)'}
    # "All" teams is the regex every value (and no team at all) matches; a service or an SLO is one value.
    assert (service["team"]["includeAll"], service["team"]["allValue"]) == (True, ".*")
    assert not service["service"]["includeAll"] and not slo["slo"]["includeAll"]
    assert all(v["datasource"]["uid"] == "${datasource}" for v in [*service.values(), *slo.values()])


def test_every_query_of_the_service_and_slo_pages_selects_the_chosen_service_and_slo(model, files):
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    for uid, wanted in ((c.service_template_dashboard_uid(model.project), ('service_name="$service"',
                                                                            'service="$service"')),
                        (c.slo_template_dashboard_uid(model.project), ('service="$service",slo="$slo"',))):
        exprs = [t["expr"] for p in panels(by_uid[uid]) for t in p.get("targets", []) if "expr" in t]
        assert exprs
        for expr in exprs:
            assert any(w in expr for w in wanted), (uid, expr)
            assert all(s.name not in expr for s in model.services), (uid, expr)


def test_the_verifier_runs_the_service_page_once_per_service_and_the_slo_page_once_per_slo(model):
    runs: dict[str, set] = {}
    for q in panel_queries(model):
        runs.setdefault(q.dashboard_uid, set()).add(q.variables)
    services = {v for b in runs[c.service_template_dashboard_uid(model.project)] for k, v in b if k == "service"}
    assert services == {s.name for s in model.services}
    assert runs[c.slo_template_dashboard_uid(model.project)] == {
        (("service", slo.service), ("slo", slo.name)) for slo in model.slos}
    assert runs[c.overview_dashboard_uid(model.project)] == {(("team", t),) for t in ("agents", "platform", ".*")}
    q = next(q for q in panel_queries(model) if q.variables == (("team", "agents"), ("service", "agent-runner")))
    assert 'service_name="agent-runner"' in q.promql() and "$" not in q.promql()
    assert q.where == f"{c.service_template_dashboard_uid(model.project)}?var-team=agents&var-service=agent-runner"


def test_the_overview_and_service_page_link_to_the_page_of_the_row_clicked_with_its_variables_set(model, files):
    by_uid = {d["uid"]: d for d in parsed(files).values()}
    overview = by_uid[c.overview_dashboard_uid(model.project)]
    links = {p["title"]: [link["url"] for link in p["fieldConfig"]["defaults"].get("links", [])]
             for p in panels(overview) if "fieldConfig" in p}
    service, slo = c.service_template_dashboard_uid(model.project), c.slo_template_dashboard_uid(model.project)
    assert links["Services"] == [f"/d/{service}?var-service=${{__data.fields.service}}"]
    assert links["SLO status"] == [f"/d/{slo}?var-service=${{__data.fields.service}}&var-slo=${{__data.fields.slo}}"]
    table = next(p for p in panels(by_uid[service]) if p["title"] == "SLOs of $service")
    assert [link["url"] for link in table["fieldConfig"]["defaults"]["links"]] == [
        f"/d/{slo}?var-service=${{service}}&var-slo=${{__data.fields.slo}}"]
    text = json.dumps(by_uid[service])
    assert f"http://127.0.0.1:{model.stack.ports['jaeger_query']}/search?service=${{service}}" in text


def test_in_the_templated_layout_a_scraped_only_services_red_panels_may_be_empty_for_it_alone(tmp_path):
    m = load_model(spec(tmp_path, "  - name: legacy\n    http: true\n    telemetry:\n      otlp: false\n"
                                  "      scrape: [{targets: ['127.0.0.1:9100']}]\n  - name: shop\n    http: true\n"))
    uid = c.service_template_dashboard_uid("demo")
    queries = [q for q in panel_queries(m) if q.dashboard_uid == uid and q.panel_title == "Error ratio"]
    assert {dict(q.variables)["service"]: q.may_be_empty for q in queries} == {"legacy": True, "shop": False}
    assert all("scraped" in q.why_empty for q in queries if q.may_be_empty)


def test_the_spec_rejects_an_unknown_dashboard_layout_where_it_is_written(tmp_path, capsys):
    from obs.cli import main
    path = spec(tmp_path, "  - name: shop\n")
    path.write_text(path.read_text(encoding="utf-8") + "dashboards:\n  layout: per_team\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "obs.yaml:6:" in err and "dashboards.layout" in err and "per_service" in err
