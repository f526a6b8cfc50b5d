"""patches/prometheus.yaml: what obs's rules need of the team's Prometheus (a Prometheus Operator `Prometheus`,
e.g. kube-prometheus's), as a patch the team applies to it rather than an object obs would own:

    patches:
    - path: <this repo>/deploy/kubernetes/patches/prometheus.yaml
      target: {kind: Prometheus, name: <your Prometheus>}

The settings are the local stack's (obs/generate/configs/prometheus.py): the same intervals, OTLP ingestion and
translation, out-of-order window, external label, feature flags and arguments, and a ruleSelector that picks the
PrometheusRules by their labels. Not a resource of kustomization.yaml: obs never creates or replaces a Prometheus.
"""
from __future__ import annotations

from typing import Any

from obs import versions
from obs.generate.configs import prometheus
from obs.generate.kubernetes.objects import MONITORING, obj
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.kinds import MetricsPath

PATCH = c.kube_file("patches", "prometheus")
# Any name: a patch with a target applies to the target's object whatever name it carries.
NAME = "obs-settings"


def _feature_and_args(model: Model) -> tuple[list[str], list[dict[str, str]]]:
    features, args = [], []
    for flag in prometheus.required_flags(model):
        name, _, value = flag.removeprefix("--").partition("=")
        if name == "enable-feature":
            features.append(value)
        elif name != "web.enable-otlp-receiver":      # a field of its own: enableOTLPReceiver
            args.append({"name": name, "value": value})
    return features, args


def settings(model: Model) -> dict[str, Any]:
    t, k = model.stack.timing, model.kubernetes
    features, args = _feature_and_args(model)
    spec: dict[str, Any] = {
        "scrapeInterval": str(t.scrape_interval),
        "evaluationInterval": str(t.evaluation_interval),
        "externalLabels": {c.LABEL_PROJECT: model.project},
        "enableOTLPReceiver": model.stack.metrics == MetricsPath.PUSH,
        "otlp": {"promoteResourceAttributes": list(prometheus.PROMOTED),
                 "translationStrategy": prometheus.TRANSLATION},
        "tsdb": {"outOfOrderTimeWindow": prometheus.OUT_OF_ORDER_WINDOW},
    }
    if features:
        spec["enableFeatures"] = features
    if args:
        spec["additionalArgs"] = args
    if model.stack.ha:
        # The operator names each replica in this external label and drops it from alerts, as the local pair does.
        spec.update(replicas=model.stack.prometheis, replicaExternalLabelName=c.REPLICA_LABEL,
                    # A Thanos sidecar in each replica, which thanos.py's Query reads: the pair as one.
                    thanos={"image": versions.IMAGES["thanos"].ref})
    if k.rule_labels:
        spec["ruleSelector"] = {"matchLabels": dict(k.rule_labels)}
    return obj(MONITORING, "Prometheus", NAME, spec)


def objects(model: Model) -> dict[str, dict[str, Any]]:
    return {PATCH: settings(model)}
