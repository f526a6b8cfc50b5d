"""Issue 12, parts 2 and 4: every spec `obs validate` accepts generates artifacts the real tools accept.

Each class of the adversarial pass is either rejected, located at file:line:col with its fix and
with every other problem of the spec in the same run, or generated into a tree that promtool
(check rules, check config, test rules on every generated suite), amtool check-config and otelcol
validate accept. The helper that runs the tools is shown to fail on broken artifacts.
"""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from obs.cli import main
from obs.project import load_text
from tests.support import real_tools as tools


def y(text: str) -> str:
    return dedent(text).lstrip("\n")


def validate(tmp_path: Path, monkeypatch, capsys, text: str) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "obs.yaml").write_text(text, encoding="utf-8")
    code = main(["validate", "obs.yaml"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return code, err.splitlines()


# One spec with an example of every class that cannot mean anything sensible: all reported in one run.
EVERY_CLASS = y(r"""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 99
            sli:
              events:
                error_query: "scalar(sum(rate(x_total{code=\"5\"}[{{window}}])))"
                total_query: x_total[{{window}}]
            group_by: [slo, le, http_route]
            alerting:
              labels: {alertname: x, severity: low, team: t, http_route: r}
              annotations: {summary: "{{ .Foo }}", runbook_url: "{{ $value }}"}
      - name: obs-pipeline
        team: t
        slos:
          - name: c
            objective: 99
            sli: {raw: {error_ratio_query: "vector(0) # {{window}}"}}
      - name: a-b
        http: true
        slos:
          - {name: c, objective: 99, sli: {availability: {}}}
      - name: a
        http: true
        slos:
          - {name: b-c, objective: 99, sli: {availability: {}}}
    stack:
      versions: {prometheus: 3.15.0, alertmanager: v0.35.0, grafana: "12.x", otelcol: "~0.165"}
    alerting:
      receivers:
        - name: hook
          webhook: {url: "https://hooks.example.com/alert?token=abc"}
        - name: slack
          slack: {api_url: {file: "C:/secrets/slack"}, channel: "#a"}
        - name: mail
          email: {to: a@example.com, from: b@example.com, smarthost: smtp.example.com}
      routes:
        - {receiver: hook, repeat_interval: 0m}
""")


def test_every_class_of_unsound_spec_is_rejected_in_one_run_each_problem_located_with_its_fix(
        tmp_path, monkeypatch, capsys):
    code, lines = validate(tmp_path, monkeypatch, capsys, EVERY_CLASS)
    assert code == 2
    assert lines == [
        'obs.yaml:11:13: services[0].slos[0].sli.events.error_query: must return an instant vector, but returns a scalar; wrap it in vector(...), or drop scalar(...)',
        'obs.yaml:12:13: services[0].slos[0].sli.events.total_query: must return an instant vector, but returns a matrix; apply a function such as rate(...) to the range',
        "obs.yaml:13:20: services[0].slos[0].group_by[0]: 'slo' is a label obs's rules set or sum away themselves; group by a label of your own data instead",
        "obs.yaml:13:25: services[0].slos[0].group_by[1]: 'le' is a label obs's rules set or sum away themselves; group by a label of your own data instead",
        "obs.yaml:15:20: services[0].slos[0].alerting.labels.alertname: 'alertname' is set by obs or Prometheus on every alert; use another label name",
        "obs.yaml:15:34: services[0].slos[0].alerting.labels.severity: 'severity' is set by obs or Prometheus on every alert; use another label name",
        "obs.yaml:15:58: services[0].slos[0].alerting.labels.http_route: 'http_route' is in group_by, so each alert carries its group's value; a fixed value would merge the groups' alerts; use another label name",
        'obs.yaml:16:25: services[0].slos[0].alerting.annotations.summary: the template \'{{ .Foo }}\' is outside what obs can check: use {{ $value }}, {{ $labels.NAME }} or printf, optionally piped to humanize, humanizePercentage, humanizeDuration, toUpper, ...; write {{ "{{" }} for literal braces',
        "obs.yaml:17:5: services[1].name: 'obs-pipeline' is reserved: obs writes its pipeline-health rules to alerts/obs-pipeline.rules.yml; choose another service name",
        'obs.yaml:22:21: services[1].slos[0].sli.raw.error_ratio_query: must contain the {{window}} placeholder inside a range, e.g. rate(x_total[{{window}}])',
        "obs.yaml:30:10: services[3].slos[0].name: SLO 'b-c' of service 'a' and SLO 'c' of service 'a-b' (services[2].slos[0].name) would both be named 'a-b-c' in generated files (deploy/slo/a-b-c.yaml) and rule groups; rename one of them",
        'obs.yaml:32:14: stack.versions.prometheus: obs builds prometheus 3.16.0 from source and checks the configs it generates against that release only, so it cannot run 3.15.0; remove this line or set it to 3.16.0',
        "obs.yaml:32:57: stack.versions.grafana: must be an exact release such as 3.16.0, not a tag, range or path (got '12.x'); leave it out to use the version obs pins",
        "obs.yaml:32:74: stack.versions.otelcol: must be an exact release such as 3.16.0, not a tag, range or path (got '~0.165'); leave it out to use the version obs pins",
        'obs.yaml:36:17: alerting.receivers[0].webhook.url: has a credential in its query (`token=`), and would be written inline into alertmanager.yml; move the URL into a file or an environment variable and use `url_secret: {file: /path/to/url}` or `url_secret: {env: VAR_NAME}` instead of `url:`',
        "obs.yaml:38:25: alerting.receivers[1].slack.api_url.file: must not contain ':', which splits a compose volume `source:target:ro`; rename or link the file to a path without it (got 'C:/secrets/slack')",
        "obs.yaml:40:55: alerting.receivers[2].email.smarthost: must be host:port with a port from 1 to 65535, e.g. smtp.example.com:587 (got 'smtp.example.com')",
        "obs.yaml:42:24: alerting.routes[0].repeat_interval: must be longer than 0s (got '0m'); leave it out to use the profile's default",
    ]


HEAD = "version: obs/v1\nproject: shop\n"
ONE_SLO = HEAD + y("""
services:
  - name: api
    http: true
    slos:
      - name: up
        objective: 99
        sli: {availability: {}}
        alerting: {%s}
""")
HOOK = HEAD + "services: [{name: api}]\nalerting:\n  receivers:\n    - name: hook\n      webhook: {url: %s}\n"
STACK = HEAD + "services: [{name: api}]\nstack:\n  %s\n"
REJECTED = [
    ("a webhook URL with a password", HOOK % "'https://user:pass@hooks.example.com/a'",
     "obs.yaml:7:17: alerting.receivers[0].webhook.url: has credentials before the host (user:password@), and would "
     "be written inline into alertmanager.yml; move the URL into a file or an environment variable and use "
     "`url_secret: {file: /path/to/url}` or `url_secret: {env: VAR_NAME}` instead of `url:`"),
    ("a Slack webhook given as a plain webhook URL", HOOK % "https://hooks.slack.com/services/T0/B0/XYZ",
     "obs.yaml:7:17: alerting.receivers[0].webhook.url: is a hooks.slack.com webhook, whose path is its secret, and "
     "would be written inline into alertmanager.yml; move the URL into a file or an environment variable and use "
     "`url_secret: {file: /path/to/url}` or `url_secret: {env: VAR_NAME}` instead of `url:`"),
    ("versions set to latest", STACK % "versions: {prometheus: latest}",
     "obs.yaml:5:14: stack.versions.prometheus: must be an exact release such as 3.16.0, not a tag, range or path "
     "(got 'latest'); leave it out to use the version obs pins"),
    ("versions set to a path", STACK % "versions: {jaeger: ../../bin/jaeger}",
     "obs.yaml:5:14: stack.versions.jaeger: must be an exact release such as 3.16.0, not a tag, range or path "
     "(got '../../bin/jaeger'); leave it out to use the version obs pins"),
    ("a version the native build cannot build", STACK % "versions: {alertmanager: 0.28.1}",
     "obs.yaml:5:14: stack.versions.alertmanager: obs builds alertmanager 0.35.0 from source and checks the configs "
     "it generates against that release only, so it cannot run 0.28.1; remove this line or set it to 0.35.0"),
    ("an annotation key that is no label name", ONE_SLO % "annotations: {runbook-link: x}",
     "obs.yaml:10:34: services[0].slos[0].alerting.annotations.runbook-link: 'runbook-link' is not a valid "
     "Prometheus label name; use letters, digits and _, not starting with a digit, e.g. 'runbook_link'"),
    ("a label reserved by Prometheus", ONE_SLO % "labels: {__name__: x}",
     "obs.yaml:10:29: services[0].slos[0].alerting.labels.__name__: '__name__' starts with '__', which Prometheus "
     "reserves for its own labels; use 'name'"),
    ("an events query that sums away a group_by label", HEAD + y(r"""
    services:
      - name: jobs
        slos:
          - name: ok
            objective: 99
            group_by: [region]
            sli:
              events:
                error_query: sum by (region) (rate(jobs_total{outcome="fail"}[{{window}}]))
                total_query: sum(rate(jobs_total[{{window}}]))
    """), "obs.yaml:12:13: services[0].slos[0].sli.events.total_query: aggregates away the group_by label region, so "
          "every group would read the same total; aggregate with `sum by (region) (...)`, or remove group_by"),
    ("two tiers of one severity over the same long window",
     ONE_SLO % "tiers: [{severity: ticket, long: 3d, short: 5m, burn_rate: 1}, "
                "{severity: ticket, long: 3d, short: 1h, burn_rate: 2}]",
     "obs.yaml:10:102: services[0].slos[0].alerting.tiers[1].long: tiers[0] is already a ticket tier over 3d; their "
     "alerts would carry the same labels; merge them or change one's long window"),
    ("one Alertmanager under topology ha", HEAD + "stack: {topology: ha, replicas: {alertmanager: 1}}\n"
     "services: [{name: api}]\n",
     "obs.yaml:3:34: stack.replicas.alertmanager: one replica leaves nothing to fail over to under `topology: ha`; "
     "use 2 or more (the default is 3)"),
    ("replicas without topology ha", HEAD + "stack: {replicas: {prometheus: 2}}\nservices: [{name: api}]\n",
     "obs.yaml:3:9: stack.replicas: replicas take effect only with `topology: ha`; set it, or remove stack.replicas"),
    ("a volatile queue under topology ha", HEAD + "stack: {topology: ha, persistent_queue: false}\n"
     "services: [{name: api}]\n",
     "obs.yaml:3:23: stack.persistent_queue: under `topology: ha` a collector killed with data in memory loses it; "
     "remove `persistent_queue: false`"),
    ("an Alertmanager replica on the gossip port", HEAD + "stack: {topology: ha, ports: {alertmanager_cluster: 9095}}"
     "\nservices: [{name: api}]\n",
     "obs.yaml:3:31: stack.ports.alertmanager_cluster: port 9095 of alertmanager_cluster (replica 0) is already used "
     "by alertmanager (replica 2); give each component its own port (under `topology: ha`, replica i of a component "
     "takes its port + i)"),
    ("a fourth Alertmanager on the contract receivers' port", HEAD + "stack: {topology: ha, replicas: {alertmanager: "
     "4}}\nservices: [{name: api}]\n",
     "obs.yaml:3:34: stack.replicas.alertmanager: alertmanager (replica 3) would listen on 9096, which local_receivers "
     "uses (replica i of a component takes its port + i); give stack.ports.alertmanager room for every replica, or "
     "run fewer"),
    ("one collector gateway under topology ha", HEAD + "stack: {topology: ha, replicas: {gateway: 1}}\n"
     "services: [{name: api}]\n",
     "obs.yaml:3:34: stack.replicas.gateway: one replica leaves nothing to fail over to under `topology: ha`; "
     "use 2 or more (the default is 2)"),
    ("a pull exporter under topology ha", HEAD + "stack: {topology: ha, metrics: pull}\nservices: [{name: api}]\n",
     "obs.yaml:3:23: stack.metrics: under `topology: ha` the collector pushes every point to each Prometheus of the "
     "pair through its gateways; a pull exporter would be scraped per gateway, each holding a share. Use "
     "`metrics: push` (the default)"),
    ("a gateway's health port on the next gateway's metrics port", HEAD + "stack: {topology: ha, ports: "
     "{gateway_health: 8897}}\nservices: [{name: api}]\n",
     "obs.yaml:3:31: stack.ports.gateway_health: gateway_health (replica 1) would listen on 8898, which "
     "gateway_metrics (replica 0) uses (replica i of a component takes its port + i); give "
     "stack.ports.gateway_health room for every replica, or run fewer"),
    ("an empty secret file", HEAD + "services: [{name: api}]\nalerting:\n  receivers:\n    - name: pd\n"
     "      pagerduty: {routing_key: {file: ''}}\n",
     "obs.yaml:7:33: alerting.receivers[0].pagerduty.routing_key.file: must be a path to a file, e.g. "
     "/run/secrets/slack-url (got an empty string)"),
]


@pytest.mark.parametrize("name,text,expected", REJECTED, ids=[r[0] for r in REJECTED])
def test_each_unsound_setting_is_rejected_with_its_location_and_fix(name, text, expected, tmp_path, monkeypatch,
                                                                   capsys):
    code, lines = validate(tmp_path, monkeypatch, capsys, text)
    assert (code, lines) == (2, [expected])


ACCEPTED = {
    "a comment inside an events query, and a # inside a label value": HEAD + y(r"""
    services:
      - name: jobs
        slos:
          - name: success
            objective: 99
            sli:
              events:
                error_query: "sum(rate(jobs_total{outcome=\"fail#1\"}[{{window}}])) # failures only"
                total_query: |
                  # every job
                  sum(rate(jobs_total[{{window}}]))
    """),
    "Go template braces in a team, a label and a route, and templates in annotations": HEAD + y(r"""
    services:
      - name: api
        team: "{{ platform }}"
        http: true
        slos:
          - name: up
            objective: 99.9
            sli: {availability: {}}
            alerting:
              runbook_url: "https://runbooks.example.com/{{ $labels.service }}"
              labels: {owner: "{{ .Labels.x }} }}"}
              annotations:
                summary: "{{ $value | humanizePercentage }} of requests fail {{ \"{{\" }}"
                detail: '{{ printf "%.2f" $value }} on {{ $labels.slo | toUpper }}'
    alerting:
      receivers: [{name: hook, webhook: {url: "http://127.0.0.1:5001/hook"}}]
      routes: [{match: {team: "{{ platform }}"}, receiver: hook}]
    """),
    "very long names and extreme objectives": HEAD.replace("shop", "p" * 63) + y(r"""
    services:
      - name: %(long)s
        http: true
        slos:
          - {name: %(long)s, objective: 99.999, sli: {availability: {}}}
          - name: coin-flip
            objective: 50
            sli: {latency: {threshold: 500ms}}
            alerting:
              tiers:
                - {severity: page, long: 1h, short: 5m, burn_rate: 1.9}
                - {severity: ticket, long: 1d, short: 2h, burn_rate: 1}
          - name: raw-half
            objective: 50
            sli: {raw: {error_ratio_query: "sum(rate(y_total{e=\"1\"}[{{window}}])) / sum(rate(y_total[{{window}}]))"}}
            alerting: {page: false, tiers: [{severity: ticket, long: 1d, short: 2h, burn_rate: 1.5}]}
          - name: events
            objective: 99.999
            sli:
              events:
                error_query: sum(rate(x_total{e="1"}[{{window}}]))
                total_query: sum(rate(x_total[{{window}}]))
    """) % {"long": "a" * 63},
    "two SLOs of one service reading the same series": HEAD + y(r"""
    services:
      - name: api
        http: true
        slos:
          - {name: strict, objective: 99.9, sli: {availability: {}}}
          - {name: loose, objective: 99, sli: {availability: {}}}
    """),
    "receivers and routes at their edges, versions pinned with a v": HEAD + y(r"""
    stack:
      versions: {prometheus: v3.16.0, alertmanager: 0.35.0, grafana: 11.6.1}
    services:
      - name: api
        http: true
        slos: [{name: up, objective: 99, sli: {availability: {}}}]
    alerting:
      receivers:
        - name: mail
          email: {to: a@example.com, from: b@example.com, smarthost: "smtp.example.com:25",
                  auth_username: obs, auth_password: {file: secrets/smtp password}}
        - name: hook
          webhook: {url: "https://hooks.example.com/alert?team=web&page=1"}
      routes:
        - {match: {severity: page}, receiver: mail, group_wait: 0s, repeat_interval: 1s}
    """),
    "topology ha with four Alertmanagers, three Prometheus servers and three gateways": HEAD + y(r"""
    stack:
      topology: ha
      replicas: {alertmanager: 4, prometheus: 3, gateway: 3}
      ports: {alertmanager: 9200}
    services:
      - name: api
        http: true
        slos: [{name: up, objective: 99.9, sli: {availability: {}}}]
    alerting:
      receivers: [{name: hook, webhook: {url: "http://127.0.0.1:5001/hook"}}]
    """),
}


@pytest.fixture(scope="module")
def accepted_trees(tmp_path_factory) -> dict[str, Path]:
    return {name: tools.write_tree(load_text(text, "obs.yaml"), tmp_path_factory.mktemp("accepted"))
            for name, text in ACCEPTED.items()}


@pytest.mark.parametrize("name", list(ACCEPTED))
@pytest.mark.stack
def test_each_accepted_edge_case_generates_artifacts_and_suites_the_real_tools_accept(name, accepted_trees):
    tree = accepted_trees[name]
    assert list((tree / "alerts" / "tests").glob("*.test.yml"))
    assert tools.problems(tree) == []


def test_go_template_text_in_labels_reaches_the_alert_literally(accepted_trees):
    rules = (accepted_trees["Go template braces in a team, a label and a route, and templates in annotations"]
             / "alerts" / "api.rules.yml").read_text()
    assert 'team: "{{ \\"{{\\" }} platform }}"' in rules
    suite = (accepted_trees["Go template braces in a team, a label and a route, and templates in annotations"]
             / "alerts" / "tests" / "api.test.yml").read_text()
    assert 'team=\\"{{ platform }}\\"' in suite   # what Prometheus makes of it, which promtool then confirms


BREAKAGES = [
    ("promtool check rules", "alerts/api.rules.yml", "expr: |-", "expr: |-\n      sum by (", 1),
    ("promtool test rules", "alerts/tests/api.test.yml", "severity: ticket", "severity: page", 1),
    ("promtool check config", "deploy/prometheus/prometheus.yml", "evaluation_interval:", "evaluation_intervals:", 1),
    ("amtool check-config", "deploy/alertmanager/alertmanager.yml", "smarthost: smtp.example.com:25",
     "smarthost: smtp.example.com", 1),
    ("otelcol validate", "deploy/otelcol/config.yaml", "receivers:", "receivers:\n  nonsense: {}", 1),
]


@pytest.mark.parametrize("what,rel,old,new,count", BREAKAGES, ids=[b[0] for b in BREAKAGES])
@pytest.mark.stack
def test_the_tool_runner_reports_a_broken_artifact(what, rel, old, new, count, accepted_trees, tmp_path):
    import shutil
    tree = shutil.copytree(accepted_trees["receivers and routes at their edges, versions pinned with a v"],
                           tmp_path / "tree")
    path = tree / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))
    found = tools.problems(tree)
    assert any(f.startswith(what) for f in found), found   # a broken rule file fails every tool that reads it
