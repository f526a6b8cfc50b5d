"""A table of bad specs, each with the exact problems `obs validate` must print.

Every message says where (obs.yaml:LINE:COL and the path), what is wrong, and how to fix it.
Each spec is run through the real CLI entry point; the exit code is 2 and no traceback leaks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from textwrap import dedent

import pytest

from obs.cli import main
from obs.spec import loader
from tests.support.paths import REPO


def y(text: str) -> str:
    return dedent(text).lstrip("\n")


HEAD = "version: obs/v1\nproject: shop\n"


@dataclass(frozen=True)
class Bad:
    name: str
    text: str | bytes
    expected: list[str]


CASES = [
    Bad('bad_yaml_unclosed_flow', y("""
    version: obs/v1
    project: [shop
    services: []
    """), [
        "obs.yaml:3:9: invalid YAML: expected ',' or ']', but got ':'",
    ]),
    Bad('bad_yaml_tab_indent', "version: obs/v1\nservices:\n\t- name: a\n", [
        'obs.yaml:3:1: invalid YAML: a tab character where YAML needs spaces; indent with spaces, not tabs',
    ]),
    Bad('empty_file', "", [
        'obs.yaml:1:1: the spec is empty; run `obs init` for a starter',
    ]),
    Bad('comment_only', "# nothing here yet\n\n", [
        'obs.yaml:1:1: the spec is empty; run `obs init` for a starter',
    ]),
    Bad('not_utf8', b"version: obs/v1\nproject: caf\xe9\n", [
        'obs.yaml:2:13: is not UTF-8 text (byte 0xE9); save it as UTF-8',
    ]),
    Bad('control_char', "version: obs/v1\nproject: a\x07b\n", [
        'obs.yaml:2:11: invalid YAML: the character U+0007 is not allowed in YAML text; remove it',
    ]),
    Bad('python_tag', y("""
    version: obs/v1
    project: !!python/object/apply:os.system ["rm -rf /"]
    services:
      - name: api
    """), [
        'obs.yaml:2:1: project: YAML tags such as !!python/object/apply:os.system are not allowed; remove the tag and write a plain value',
    ]),
    Bad('custom_tag', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        team: !env TEAM
        description: !!binary aGVsbG8=
    """), [
        'obs.yaml:5:5: services[0].team: YAML tags such as !env are not allowed; remove the tag and write a plain value',
        'obs.yaml:6:5: services[0].description: YAML tags such as !!binary are not allowed; remove the tag and write a plain value',
    ]),
    Bad('duplicate_keys', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        http: false
    project: other
    """), [
        'obs.yaml:6:5: services[0].http: duplicate key `http` (first given at line 5); each key may appear once in a mapping',
        'obs.yaml:7:1: project: duplicate key `project` (first given at line 2); each key may appear once in a mapping',
    ]),
    Bad('multiple_documents', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    ---
    version: obs/v1
    """), [
        'obs.yaml:4:1: the spec must be a single YAML document; remove this `---` and what follows, or split it into several files',
    ]),
    Bad('alias_bomb', y("""
    a: &a [x, x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    """), [
        'obs.yaml:5:1: e: the spec expands to more than 12720 values (each use of an alias counts again); remove the aliases that multiply it',
    ]),
    Bad('self_alias', y("""
    version: obs/v1
    project: shop
    services: &s
      - *s
    """), [
        'obs.yaml:3:1: services: the spec nests deeper than 64 levels (or an alias refers to itself); flatten it',
    ]),
    Bad('huge_float', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 1e400
            sli: {availability: {}}
    """), [
        'obs.yaml:8:9: services[0].slos[0].objective: must be a finite number (got inf)',
    ]),
    Bad('huge_int', HEAD + "stack:\n  ports:\n    grafana: " + "9" * 5000 + "\nservices: [{name: api}]\n", [
        'obs.yaml:5:5: stack.ports.grafana: the number 99999999999999999... is too large to read; write a smaller number',
    ]),
    Bad('huge_port', HEAD + "stack:\n  ports:\n    grafana: 99999999999999999999\n    prometheus: 0\nservices: [{name: api}]\n", [
        'obs.yaml:5:5: stack.ports.grafana: must be a port from 1 to 65535 (got 99999999999999999999)',
        'obs.yaml:6:5: stack.ports.prometheus: must be a port from 1 to 65535 (got 0)',
    ]),
    Bad('huge_string', HEAD + "services:\n  - name: " + "a" * 200_000 + "\n", [
        "obs.yaml:4:5: services[0].name: must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...)",
    ]),
    Bad('deep_nesting', HEAD + "services: " + "[" * 300 + "]" * 300 + "\n", [
        'obs.yaml:3:1: services: the spec nests deeper than 64 levels (or an alias refers to itself); flatten it',
    ]),
    Bad('deep_block_nesting', HEAD + "stack:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)), [
        'obs.yaml:3:1: stack: the spec nests deeper than 64 levels (or an alias refers to itself); flatten it',
    ]),
    Bad('top_level_list', "- version: obs/v1\n- project: shop\n", [
        'obs.yaml:1:1: the spec must be a mapping with `version:`, `project:` and `services:`',
    ]),
    Bad('wrong_types_top', y("""
    version: 1
    project: 42
    stack: fast
    services: {name: api}
    alerting: []
    """), [
        "obs.yaml:1:1: version: must be 'obs/v1' (got 1)",
        'obs.yaml:2:1: project: must be a string; quote it (got 42)',
        "obs.yaml:3:1: stack: must be a mapping (got 'fast')",
        'obs.yaml:4:1: services: must be a list (got a mapping)',
        'obs.yaml:5:1: alerting: must be a mapping (got a list)',
    ]),
    Bad('wrong_types_service', y("""
    version: obs/v1
    project: shop
    services:
      - name: API_Gateway
        team: [platform]
        http: "yes"
        latency_buckets: 0.5
        telemetry: {otlp: 1}
        slos: availability
    """), [
        "obs.yaml:4:5: services[0].name: must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'API_Gateway')",
        'obs.yaml:5:5: services[0].team: must be a string (got a list)',
        "obs.yaml:6:5: services[0].http: must be true or false (got 'yes')",
        'obs.yaml:7:5: services[0].latency_buckets: must be a list (got 0.5)',
        'obs.yaml:8:17: services[0].telemetry.otlp: must be true or false (got 1)',
        "obs.yaml:9:5: services[0].slos: must be a list (got 'availability')",
    ]),
    Bad('wrong_types_slo', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: "99.9"
            window: 30
            sli: availability
            alerting: {page: no, labels: [a]}
    """), [
        "obs.yaml:8:9: services[0].slos[0].objective: must be a number; remove the quotes (got '99.9')",
        'obs.yaml:9:9: services[0].slos[0].window: must be a duration with a unit, such as 30d or 500ms (got 30)',
        "obs.yaml:10:9: services[0].slos[0].sli: must be a mapping (got 'availability')",
        "obs.yaml:11:20: services[0].slos[0].alerting.page: must be true or false (got 'no')",
        'obs.yaml:11:30: services[0].slos[0].alerting.labels: must be a mapping (got a list)',
    ]),
    Bad('unknown_keys_did_you_mean', y("""
    version: obs/v1
    projet: shop
    services:
      - name: api
        htp: true
        slos:
          - name: lat
            objectve: 99
            sli: {latency: {treshold: 500ms}}
    """), [
        'obs.yaml:1:1: project: is required; add `project:`',
        'obs.yaml:2:1: projet: unknown key; did you mean `project`?',
        'obs.yaml:5:5: services[0].htp: unknown key; did you mean `http`?',
        'obs.yaml:7:9: services[0].slos[0].objective: is required; add `objective:`',
        'obs.yaml:8:9: services[0].slos[0].objectve: unknown key; did you mean `objective`?',
        'obs.yaml:9:15: services[0].slos[0].sli.latency.threshold: is required; add `threshold:`',
        'obs.yaml:9:25: services[0].slos[0].sli.latency.treshold: unknown key; did you mean `threshold`?',
    ]),
    Bad('unknown_key_no_close_match', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        colour: blue
    """), [
        'obs.yaml:5:5: services[0].colour: unknown key; known keys here: name, team, owner, description, http, histogram, latency_buckets, calls, telemetry, slos',
    ]),
    Bad('objective_100', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 100
            sli: {availability: {}}
    """), [
        'obs.yaml:8:9: services[0].slos[0].objective: must be above 0 and below 100 (got 100); an objective of 100% leaves no error budget to alert on; use e.g. 99.9',
    ]),
    Bad('objective_0_and_negative', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: zero
            objective: 0
            sli: {availability: {}}
          - name: negative
            objective: -5
            sli: {availability: {}}
          - name: above
            objective: 100.5
            sli: {availability: {}}
    """), [
        'obs.yaml:8:9: services[0].slos[0].objective: must be above 0 and below 100 (got 0); it is the percentage of good events, e.g. 99.9',
        'obs.yaml:11:9: services[0].slos[1].objective: must be above 0 and below 100 (got -5); it is the percentage of good events, e.g. 99.9',
        'obs.yaml:14:9: services[0].slos[2].objective: must be above 0 and below 100 (got 100.5); an objective of 100% leaves no error budget to alert on; use e.g. 99.9',
    ]),
    Bad('window_too_short_and_not_duration', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: short
            objective: 99
            window: 1h
            sli: {availability: {}}
          - name: words
            objective: 99
            window: a month
            sli: {availability: {}}
          - name: long
            objective: 99
            window: 20y
            sli: {availability: {}}
    """), [
        'obs.yaml:9:9: services[0].slos[0].window: must be at least 1d so burn-rate windows fit inside it (got 1h)',
        "obs.yaml:13:9: services[0].slos[1].window: must be a duration such as 500ms, 5m, 1h30m or 30d (got 'a month')",
        "obs.yaml:17:9: services[0].slos[2].window: must be at most 10y (got '20y')",
    ]),
    Bad('latency_threshold_not_a_bucket', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        histogram: classic
        slos:
          - name: fast
            objective: 99
            sli: {latency: {threshold: 300ms}}
    """), [
        "obs.yaml:10:25: services[0].slos[0].sli.latency.threshold: 300ms is not a histogram bucket boundary, so the SLI cannot be computed exactly; use 250ms, add 0.3 to the service's latency_buckets (boundaries: 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10), or send a native histogram (`histogram: native`, which `obs env` sets up), which reads any threshold",
    ]),
    Bad('latency_threshold_of_zero', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: fast
            objective: 99
            sli: {latency: {threshold: 0ms}}
    """), [
        "obs.yaml:9:25: services[0].slos[0].sli.latency.threshold: must be above 0 (got 0ms): every request takes some time, so all would be slow; set the latency at which users notice, e.g. 500ms",
    ]),
    Bad('calls_unknown_or_itself', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        calls: [api, serach]
      - name: search
    """), [
        "obs.yaml:6:13: services[0].calls[0]: a service cannot call itself; list the services 'api' calls",
        "obs.yaml:6:18: services[0].calls[1]: no service named 'serach'; declared: api, search",
    ]),
    Bad('native_histogram_with_pull_or_buckets', y("""
    version: obs/v1
    project: shop
    stack: {metrics: pull}
    services:
      - name: api
        http: true
        histogram: native
        latency_buckets: [0.1, 0.3]
    """), [
        "obs.yaml:7:5: services[0].histogram: native histograms reach Prometheus only through OTLP push; set `stack.metrics: push`, or `histogram: classic` with a bucket at each latency threshold",
        "obs.yaml:8:5: services[0].latency_buckets: buckets describe a classic histogram, but the service sends a native one (any threshold works); drop latency_buckets or set `histogram: classic`",
    ]),
    Bad('latency_threshold_not_a_custom_bucket', y("""
    version: obs/v1
    project: shop
    services:
      - name: search
        http: true
        latency_buckets: [0.1, 0.2, 0.4]
        slos:
          - name: fast
            objective: 99
            sli: {latency: {threshold: 250ms}}
    """), [
        "obs.yaml:10:25: services[0].slos[0].sli.latency.threshold: 250ms is not a histogram bucket boundary, so the SLI cannot be computed exactly; use 200ms, add 0.25 to the service's latency_buckets (boundaries: 0.1, 0.2, 0.4), or send a native histogram (`histogram: native`, which `obs env` sets up), which reads any threshold",
    ]),
    Bad('latency_sli_on_non_http_service', y("""
    version: obs/v1
    project: shop
    services:
      - name: worker
        slos:
          - name: fast
            objective: 99
            sli: {latency: {threshold: 500ms}}
          - name: up
            objective: 99
            sli: {availability: {}}
    """), [
        "obs.yaml:8:15: services[0].slos[0].sli.latency: needs the HTTP histogram; set `http: true` on service 'worker' or use an `events:` SLI",
        "obs.yaml:11:15: services[0].slos[1].sli.availability: needs the HTTP histogram; set `http: true` on service 'worker' or use an `events:` SLI",
    ]),
    Bad('duplicate_service_and_slo_names', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - {name: up, objective: 99, sli: {availability: {}}}
          - {name: up, objective: 99.9, sli: {availability: {}}}
      - name: api
    """), [
        "obs.yaml:8:10: services[0].slos[1].name: SLO 'up' is declared twice in service 'api'; SLO names must be unique within a service",
        "obs.yaml:9:5: services[1].name: service 'api' is declared twice; service names must be unique",
    ]),
    Bad('duplicate_receivers', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    alerting:
      receivers:
        - {name: oncall, webhook: {url: "http://hooks.local/a"}}
        - {name: oncall, webhook: {url: "http://hooks.local/b"}}
    """), [
        "obs.yaml:7:8: alerting.receivers[1].name: receiver 'oncall' is declared twice; receiver names must be unique",
    ]),
    Bad('route_to_unknown_receiver_and_service', y("""
    version: obs/v1
    project: shop
    services: [{name: api}, {name: db}]
    alerting:
      receivers:
        - {name: oncall, webhook: {url: "http://hooks.local/a"}}
      routes:
        - match: {service: apii}
          receiver: oncal
      default_receiver: pager
    """), [
        "obs.yaml:8:15: alerting.routes[0].match.service: no service named 'apii'; declared: api, db",
        "obs.yaml:9:7: alerting.routes[0].receiver: no receiver named 'oncal'; declared: oncall",
        "obs.yaml:10:3: alerting.default_receiver: no receiver named 'pager'; declared: oncall",
    ]),
    Bad('route_without_receivers', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    alerting:
      routes:
        - {match: {severity: page, team: core}, receiver: oncall}
        - {match: {severity: critical}}
    """), [
        "obs.yaml:6:45: alerting.routes[0].receiver: no receiver named 'oncall'; declared: none (add alerting.receivers)",
        'obs.yaml:7:7: alerting.routes[1].receiver: is required; add `receiver:`',
        "obs.yaml:7:16: alerting.routes[1].match.severity: must be 'page' or 'ticket' (got 'critical')",
    ]),
    Bad('inline_secrets', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    alerting:
      receivers:
        - name: pager
          pagerduty: {routing_key: 0123456789abcdef}
        - name: chat
          slack: {api_url: "https://hooks.slack.com/services/T0/B0/XYZ", channel: "#alerts"}
        - name: mail
          email: {to: a@example.com, from: obs@example.com, smarthost: "smtp:587", auth_password: hunter2}
    """), [
        'obs.yaml:7:19: alerting.receivers[0].pagerduty.routing_key: secrets must not be written inline; use `{file: /path/to/secret}` or `{env: VAR_NAME}`',
        'obs.yaml:9:15: alerting.receivers[1].slack.api_url: secrets must not be written inline; use `{file: /path/to/secret}` or `{env: VAR_NAME}`',
        'obs.yaml:11:80: alerting.receivers[2].email.auth_password: secrets must not be written inline; use `{file: /path/to/secret}` or `{env: VAR_NAME}`',
    ]),
    Bad('secret_references_malformed', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    alerting:
      receivers:
        - name: pager
          pagerduty: {routing_key: {env: 1PD-KEY}}
        - name: chat
          slack: {api_url: {file: /run/slack, env: SLACK_URL}, channel: "#alerts"}
        - name: hook
          webhook: {url_secret: {}}
    """), [
        "obs.yaml:7:33: alerting.receivers[0].pagerduty.routing_key.env: must be an environment variable name: letters, digits and _, not starting with a digit (got '1PD-KEY')",
        'obs.yaml:9:15: alerting.receivers[1].slack.api_url: give exactly one of `file:` or `env:`',
        'obs.yaml:11:17: alerting.receivers[2].webhook.url_secret: give exactly one of `file:` or `env:`',
    ]),
    Bad('receiver_kinds', y("""
    version: obs/v1
    project: shop
    services: [{name: api}]
    alerting:
      receivers:
        - name: both
          webhook: {url: "http://hooks.local/a"}
          slack: {api_url: {env: SLACK_URL}, channel: "#a"}
        - name: neither
        - name: obs-verify
          webhook: {url: "ftp://hooks.local"}
    """), [
        'obs.yaml:6:7: alerting.receivers[0]: give exactly one of pagerduty, slack, webhook or email (got slack, webhook)',
        'obs.yaml:9:7: alerting.receivers[1]: give exactly one of pagerduty, slack, webhook or email',
        "obs.yaml:10:7: alerting.receivers[2].name: 'obs-verify' is reserved for obs verify; choose another name",
        "obs.yaml:11:17: alerting.receivers[2].webhook.url: must be an http:// or https:// URL (got 'ftp://hooks.local')",
    ]),
    Bad('ports_out_of_range_and_duplicated', y("""
    version: obs/v1
    project: shop
    stack:
      ports:
        grafana: 70000
        prometheus: 0
        alertmanager: -1
    services: [{name: api}]
    """), [
        'obs.yaml:5:5: stack.ports.grafana: must be a port from 1 to 65535 (got 70000)',
        'obs.yaml:6:5: stack.ports.prometheus: must be a port from 1 to 65535 (got 0)',
        'obs.yaml:7:5: stack.ports.alertmanager: must be a port from 1 to 65535 (got -1)',
    ]),
    Bad('ports_duplicated', y("""
    version: obs/v1
    project: shop
    stack:
      ports:
        alertmanager: 9090
        jaeger_query: 3000
        otlp_grpc: 4318
    services: [{name: api}]
    """), [
        'obs.yaml:5:5: stack.ports.alertmanager: port 9090 is already used by prometheus; give each component its own port',
        'obs.yaml:6:5: stack.ports.jaeger_query: port 3000 is already used by grafana; give each component its own port',
        'obs.yaml:7:5: stack.ports.otlp_grpc: port 4318 is already used by otlp_http; give each component its own port',
    ]),
    Bad('bind_not_an_address', y("""
    version: obs/v1
    project: shop
    stack:
      bind: localhost
      receivers: {bind: "0.0.0.0:4317"}
    services: [{name: api}]
    """), [
        "obs.yaml:4:3: stack.bind: must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (got 'localhost')",
        "obs.yaml:5:15: stack.receivers.bind: must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (got '0.0.0.0:4317')",
    ]),
    Bad('sli_two_kinds_and_none', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: both
            objective: 99
            sli: {availability: {}, latency: {threshold: 500ms}}
          - name: none
            objective: 99
            sli: {}
          - name: missing
            objective: 99
    """), [
        'obs.yaml:9:9: services[0].slos[0].sli: give exactly one of availability, latency, events or raw (got availability, latency)',
        'obs.yaml:12:9: services[0].slos[1].sli: give exactly one of availability, latency, events or raw',
        'obs.yaml:13:9: services[0].slos[2].sli: is required; add `sli:`',
    ]),
    Bad('events_query_without_window', y("""
    version: obs/v1
    project: shop
    services:
      - name: jobs
        slos:
          - name: success
            objective: 99
            sli:
              events:
                error_query: sum(rate(jobs_failed_total[5m]))
                total_query: sum(rate(jobs_total[{{ .window }}]))
          - name: ratio
            objective: 99
            sli:
              raw: {error_ratio_query: "1 - avg(up)"}
    """), [
        'obs.yaml:10:13: services[0].slos[0].sli.events.error_query: must contain the {{window}} placeholder inside a range, e.g. rate(x_total[{{window}}])',
        'obs.yaml:15:17: services[0].slos[1].sli.raw.error_ratio_query: must contain the {{window}} placeholder inside a range, e.g. rate(x_total[{{window}}])',
    ]),
    Bad('invalid_promql', y("""
    version: obs/v1
    project: shop
    services:
      - name: jobs
        slos:
          - name: success
            objective: 99
            sli:
              events:
                error_query: sum(rate(jobs_failed_total[{{window}}])
                total_query: sum by (le rate(jobs_total[{{window}}]))
    """), [
        'obs.yaml:10:13: services[0].slos[0].sli.events.error_query: is not valid PromQL: unclosed left parenthesis',
        'obs.yaml:11:13: services[0].slos[0].sli.events.total_query: is not valid PromQL: invalid promql query',
    ]),
    Bad('tiers_that_can_never_fire', y("""
    version: obs/v1
    project: shop
    services:
      - name: cache
        slos:
          - name: hit-rate
            objective: 80
            sli:
              events:
                error_query: sum(rate(cache_misses_total[{{window}}]))
                total_query: sum(rate(cache_requests_total[{{window}}]))
    """), [
        'obs.yaml:7:9: services[0].slos[0].objective: the page tier 1h/14.4x can never fire at objective 80%: it needs more than 100% errors; set `page: false` or give `tiers:` with burn_rate below 5.00',
        'obs.yaml:7:9: services[0].slos[0].objective: the page tier 6h/6x can never fire at objective 80%: it needs more than 100% errors; set `page: false` or give `tiers:` with burn_rate below 5.00',
    ]),
    Bad('custom_tiers_bad_windows', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 99.9
            window: 7d
            sli: {availability: {}}
            alerting:
              tiers:
                - {severity: page, long: 5m, short: 1h, burn_rate: 14.4}
                - {severity: page, long: 1h, short: 1m, burn_rate: 10}
                - {severity: ticket, long: 14d, short: 1h, burn_rate: 1}
    """), [
        'obs.yaml:13:42: services[0].slos[0].alerting.tiers[0].short: the short window (1h) must not be longer than the long one (5m)',
        'obs.yaml:14:42: services[0].slos[0].alerting.tiers[1].short: must be a multiple of 5m, the base window obs records (got 1m)',
        "obs.yaml:15:34: services[0].slos[0].alerting.tiers[2].long: the ticket tier's long window 14d is longer than the SLO window 7d; shorten the tier or lengthen `window:`",
    ]),
    Bad('custom_tiers_bad_fields', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 99.9
            sli: {availability: {}}
            alerting:
              tiers:
                - {severity: warn, long: 1h, short: 5m, burn_rate: 0, for: soon}
    """), [
        "obs.yaml:12:16: services[0].slos[0].alerting.tiers[0].severity: must be 'page' or 'ticket' (got 'warn')",
        'obs.yaml:12:53: services[0].slos[0].alerting.tiers[0].burn_rate: must be greater than 0 (got 0)',
        "obs.yaml:12:67: services[0].slos[0].alerting.tiers[0].for: must be a duration such as 500ms, 5m, 1h30m or 30d (got 'soon')",
    ]),
    Bad('scrape_targets', y("""
    version: obs/v1
    project: shop
    services:
      - name: db
        telemetry:
          otlp: false
          scrape:
            - targets: ["db.local:9187", "db.local", "http://db:9187", "db:99999"]
            - targets: []
      - name: silent
        telemetry: {otlp: false}
    """), [
        "obs.yaml:8:38: services[0].telemetry.scrape[0].targets[1]: must be host:port with a port from 1 to 65535, e.g. localhost:9100 (got 'db.local')",
        "obs.yaml:8:50: services[0].telemetry.scrape[0].targets[2]: must be host:port with a port from 1 to 65535, e.g. localhost:9100 (got 'http://db:9187')",
        "obs.yaml:8:68: services[0].telemetry.scrape[0].targets[3]: must be host:port with a port from 1 to 65535, e.g. localhost:9100 (got 'db:99999')",
        'obs.yaml:9:11: services[0].telemetry.scrape[1].targets: must not be empty',
        'obs.yaml:11:5: services[1].telemetry: the service sends no telemetry; set `otlp: true` or add `scrape:` targets',
    ]),
    Bad('label_names', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 99
            sli: {availability: {}}
            group_by: [http_route, http.route]
            alerting:
              labels: {tier-1: "yes", ok_label: x, 9lives: y}
    """), [
        "obs.yaml:10:32: services[0].slos[0].group_by[1]: 'http.route' is not a valid Prometheus label name; use letters, digits and _, not starting with a digit, e.g. 'http_route'",
        "obs.yaml:12:20: services[0].slos[0].alerting.labels.tier-1: 'tier-1' is not a valid Prometheus label name; use letters, digits and _, not starting with a digit, e.g. 'tier_1'",
        "obs.yaml:12:48: services[0].slos[0].alerting.labels.9lives: '9lives' is not a valid Prometheus label name; use letters, digits and _, not starting with a digit",
    ]),
    Bad('wrong_version', y("""
    version: obs/v2
    project: Shop
    services: [{name: api}]
    """), [
        "obs.yaml:1:1: version: must be 'obs/v1' (got 'obs/v2')",
        "obs.yaml:2:1: project: must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'Shop')",
    ]),
    Bad('schema_and_semantic_together', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 100
            sli: {availability: {}}
          - name: lat
            objective: 99
            sli: {latency: {threshold: 500 ms}}
      - name: worker
        team: 7
        slos:
          - {name: x, objective: 99, sli: {availability: {}}}
      - name: batch
        slos:
          - {name: y, objective: 99, sli: {latency: {threshold: 1s}}}
    alerting:
      receivers:
        - {name: pager, pagerduty: {routing_key: inline-key}}
      routes:
        - {match: {severity: page}, receiver: pager}
        - {match: {service: worker}, receiver: nobody}
    """), [
        'obs.yaml:8:9: services[0].slos[0].objective: must be above 0 and below 100 (got 100); an objective of 100% leaves no error budget to alert on; use e.g. 99.9',
        "obs.yaml:12:25: services[0].slos[1].sli.latency.threshold: must be a duration such as 500ms, 5m, 1h30m or 30d (got '500 ms')",
        'obs.yaml:14:5: services[1].team: must be a string; quote it (got 7)',
        "obs.yaml:19:40: services[2].slos[0].sli.latency: needs the HTTP histogram; set `http: true` on service 'batch' or use an `events:` SLI",
        'obs.yaml:22:33: alerting.receivers[0].pagerduty.routing_key: secrets must not be written inline; use `{file: /path/to/secret}` or `{env: VAR_NAME}`',
        "obs.yaml:25:34: alerting.routes[1].receiver: no receiver named 'nobody'; declared: pager",
    ]),
    Bad('non_string_keys', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        1: one
        [a, b]: two
        null: three
    """), [
        "obs.yaml:5:5: services[0]: keys must be strings (got '1'; quote it)",
        'obs.yaml:6:5: services[0]: keys must be strings (got a list)',
        "obs.yaml:7:5: services[0]: keys must be strings (got 'null'; quote it)",
    ]),
    Bad('merge_key_not_mapping', y("""
    version: obs/v1
    project: shop
    base: &base [1, 2]
    services:
      - <<: *base
        name: api
    """), [
        'obs.yaml:3:1: base: unknown key; known keys here: version, project, stack, services, alerting, environments, kubernetes, dashboards, rulers',
        'obs.yaml:5:5: `<<` must merge a mapping or a list of mappings',
    ]),
    Bad('buckets_and_telemetry', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        latency_buckets: [0.5, 0.1, 0.1, -1]
      - name: search
        http: true
        latency_buckets: [0.5, 0.1]
    """), [
        'obs.yaml:6:38: services[0].latency_buckets[3]: must be greater than 0 (got -1)',
        'obs.yaml:9:5: services[1].latency_buckets: bucket boundaries must be strictly increasing; sort them and drop duplicates (got 0.5, 0.1)',
    ]),
    Bad('buckets_in_milliseconds_or_past_any_duration', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        latency_buckets: [100, 250, 500, 1e+308]
        slos:
          - {name: fast, objective: 99, sli: {latency: {threshold: 30d}}}
    """), [
        'obs.yaml:6:5: services[0].latency_buckets: bucket boundaries are seconds, and 1e+308 is more than a year; write them in seconds (0.5 for 500 ms)',
        'obs.yaml:8:53: services[0].slos[0].sli.latency.threshold: 30d is not a histogram bucket boundary, so the SLI cannot be computed exactly; use 8m20s, add 2.592e+06 to the service\'s latency_buckets (boundaries: 100, 250, 500), or send a native histogram (`histogram: native`, which `obs env` sets up), which reads any threshold',
    ]),
    Bad('only_a_bucket_past_any_duration', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        latency_buckets: [1e+308]
        slos:
          - {name: fast, objective: 99, sli: {latency: {threshold: 30d}}}
    """), [
        'obs.yaml:6:5: services[0].latency_buckets: bucket boundaries are seconds, and 1e+308 is more than a year; write them in seconds (0.5 for 500 ms)',
    ]),
    Bad('no_services', y("""
    version: obs/v1
    project: shop
    services: []
    """), [
        'obs.yaml:3:1: services: must not be empty',
    ]),
    Bad('custom_tier_can_never_fire', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 90
            window: 2d
            sli: {availability: {}}
            alerting:
              ticket: false
              tiers:
                - {severity: page, long: 1h, short: 5m, burn_rate: 14.4}
                - {severity: ticket, long: 1d, short: 2h, burn_rate: 100}
          - name: short-window
            objective: 99
            window: 2d
            sli: {availability: {}}
    """), [
        'obs.yaml:14:15: services[0].slos[0].alerting.tiers[0]: the page tier 1h/14.4x can never fire at objective 90%: it needs more than 100% errors; lower its burn_rate below 10.00',
        "obs.yaml:18:9: services[0].slos[1].window: the ticket tier's long window 3d is longer than the SLO window 2d; shorten the tier or lengthen `window:`",
    ]),
    Bad('min_events_and_runbook_types', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: true
        slos:
          - name: up
            objective: 99
            sli: {availability: {}}
            alerting: {min_events: -1, runbook_url: 42, annotations: {summary: [x]}}
    """), [
        'obs.yaml:10:20: services[0].slos[0].alerting.min_events: must be greater than or equal to 0 (got -1)',
        'obs.yaml:10:36: services[0].slos[0].alerting.runbook_url: must be a string; quote it (got 42)',
        'obs.yaml:10:67: services[0].slos[0].alerting.annotations.summary: must be a string (got a list)',
    ]),
    Bad('names_with_a_trailing_newline', 'version: obs/v1\nproject: "shop\\n"\nservices: [{name: "api\\n", slos: [{name: up, objective: 99, sli: {availability: {}}, group_by: ["le\\n"]}]}]\n', [
        "obs.yaml:2:1: project: must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'shop\\n')",
        "obs.yaml:3:13: services[0].name: must be 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'api\\n')",
        "obs.yaml:3:97: services[0].slos[0].group_by[0]: 'le\\n' is not a valid Prometheus label name; use letters, digits and _, not starting with a digit",
    ]),
    Bad('standard_tags_with_values_they_cannot_hold', y("""
    version: obs/v1
    project: shop
    services:
      - name: api
        http: !!bool maybe
        slos:
          - {name: up, objective: !!float "", sli: {availability: {}}}
          - {name: lat, objective: !!int 99, window: !!str 30d, sli: {latency: {threshold: !!int 500}}}
    """), [
        "obs.yaml:5:5: services[0].http: 'maybe' is not a valid bool; fix the value or remove the !!bool tag",
        "obs.yaml:7:20: services[0].slos[0].objective: '' is not a valid float; fix the value or remove the !!float tag",
        'obs.yaml:8:77: services[0].slos[1].sli.latency.threshold: must be a duration with a unit, such as 30d or 500ms (got 500)',
    ]),
]


def validate(tmp_path, monkeypatch, capsys, text: str | bytes, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "obs.yaml"
    if isinstance(text, bytes):
        spec.write_bytes(text)
    else:
        spec.write_text(text, encoding="utf-8")
    code = main(["validate", "obs.yaml", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_bad_spec_is_reported_exactly_all_at_once_with_exit_code_2(case, tmp_path, monkeypatch, capsys):
    code, out, err = validate(tmp_path, monkeypatch, capsys, case.text)
    assert code == 2
    assert "Traceback" not in err and "internal error" not in err
    assert err.splitlines() == case.expected
    assert out == ""


def test_the_table_holds_at_least_forty_distinct_bad_specs_and_many_report_several_problems():
    assert len({c.name for c in CASES}) == len(CASES) >= 40
    assert sum(len(c.expected) >= 3 for c in CASES) >= 10


def test_a_spec_with_schema_and_semantic_problems_reports_both_kinds_in_one_run():
    case = next(c for c in CASES if c.name == "schema_and_semantic_together")
    messages = "\n".join(case.expected)
    assert "must be above 0 and below 100" in messages            # semantic, in the service that passed
    assert "must be a string" in messages                          # schema, in another service
    assert "needs the HTTP histogram" in messages                  # semantic, after a broken service
    assert "secrets must not be written inline" in messages        # schema, in a receiver


def test_a_missing_spec_says_how_to_start(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "obs.yaml: no such file; run `obs init` to write a starter obs.yaml, or give the spec's path"]


def test_a_directory_given_as_the_spec_is_reported_as_such(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    assert main(["validate", "specs"]) == 2
    assert capsys.readouterr().err.splitlines() == ["specs: is a directory; give the path of an obs.yaml file"]


def test_a_spec_larger_than_the_most_obs_reads_is_refused_before_parsing(tmp_path, monkeypatch, capsys):
    code, _, err = validate(tmp_path, monkeypatch, capsys, HEAD + "# " + "x" * loader.MAX_BYTES + "\n")
    assert code == 2
    assert err.splitlines() == ["obs.yaml:1:1: the spec is larger than 16 MiB, the most obs reads (some 14,000 "
                                "services written out in full); trim it"]


def test_problems_come_as_json_with_file_line_column_and_path(tmp_path, monkeypatch, capsys):
    case = next(c for c in CASES if c.name == "duplicate_keys")
    code, out, err = validate(tmp_path, monkeypatch, capsys, case.text, "--format", "json")
    assert code == 2
    assert json.loads(out) == {"ok": False, "problems": [
        {"file": "obs.yaml", "line": 6, "column": 5, "path": "services[0].http",
         "message": "duplicate key `http` (first given at line 5); each key may appear once in a mapping"},
        {"file": "obs.yaml", "line": 7, "column": 1, "path": "project",
         "message": "duplicate key `project` (first given at line 2); each key may appear once in a mapping"},
    ]}


def test_the_repo_spec_and_the_starter_validate(capsys):
    from obs.commands.init import starter
    assert main(["validate", str(REPO / "obs.yaml")]) == 0
    capsys.readouterr()
    from obs.project import load_text
    assert load_text(starter(), "obs.yaml").project


def test_an_endless_device_given_as_the_spec_is_refused_after_the_most_obs_reads(capsys):
    assert main(["validate", "/dev/zero"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"/dev/zero:1:1: the spec {loader.TOO_LARGE}; trim it"]
