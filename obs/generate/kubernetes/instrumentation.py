"""The OpenTelemetry Operator's Instrumentation, one per service that sends OTLP: the same SDK settings as
deploy/instrumentation/<service>.env, injected into the service's pods by annotation

    instrumentation.opentelemetry.io/inject-nodejs: "<namespace>/<service>"    (or inject-python)

The exporter endpoint is the collector's Service in the collector's namespace, so the pods may live anywhere.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from obs.generate.configs import instrumentation
from obs.generate.configs.otelcol import secret_path
from obs.generate.kubernetes.objects import OTEL_ALPHA, obj, secret_key
from obs.model import conventions as c
from obs.model.domain import Model, Service

# Settings the Instrumentation has fields for; the rest of the SDK's environment goes in `env`.
TOKEN_ENV = "OBS_OTLP_TOKEN"
_FIELDS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_PROPAGATORS", "OTEL_TRACES_SAMPLER", "OTEL_EXPORTER_OTLP_CERTIFICATE")


def instrumentation_object(model: Model, service: Service) -> dict[str, Any]:
    s = instrumentation.settings(model, service, "kubernetes", environment=model.kubernetes.namespace)
    exporter: dict[str, Any] = {"endpoint": s.env["OTEL_EXPORTER_OTLP_ENDPOINT"]}
    tls = model.stack.receivers_tls
    if tls is not None:
        # The operator mounts this Secret into the service's pod: it must exist in the service's namespace.
        exporter["tls"] = {"secretName": model.kubernetes.collector_secret, "ca_file": c.kube_secret_key(tls.cert_file)}
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in s.env.items() if k not in _FIELDS]
    bearer = model.stack.receivers_bearer
    if bearer is not None:
        # Kubernetes expands $(VAR) from the variables before it: the token goes from the Secret to the header
        # without ever being written here.
        key = c.kube_secret_key(secret_path(bearer))
        env += [{"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": secret_key(model.kubernetes.collector_secret, key)}},
                {"name": "OTEL_EXPORTER_OTLP_HEADERS", "value": f"Authorization=Bearer%20$({TOKEN_ENV})"}]
    spec = {"exporter": exporter,
            "propagators": s.env["OTEL_PROPAGATORS"].split(","),
            "sampler": {"type": s.env["OTEL_TRACES_SAMPLER"]},
            "env": env}
    return obj(OTEL_ALPHA, "Instrumentation", service.name, spec)


def notes(model: Model, service: str) -> list[str]:
    """What the team must do beyond applying the objects, written atop the service's Instrumentation."""
    k, st = model.kubernetes, model.stack
    out = [f"inject it with the pod annotation instrumentation.opentelemetry.io/inject-nodejs (or inject-python): "
           f'"{k.namespace}/{k.name_prefix}{service}"']
    if st.receivers_tls is not None or st.receivers_bearer is not None:
        out.append(f"the operator mounts (or reads) the Secret {k.collector_secret} in the service's namespace: "
                   "create it there too")
    if st.receivers_tls is not None and st.receivers_tls.client_ca_file:
        out.append("the collector requires client certificates: add the pods' certificate and key to that Secret and "
                   "name their keys in exporter.tls.cert_file and key_file")
    return out


def _noted(model: Model, service: Service) -> tuple[dict[str, Any], list[str]]:
    return instrumentation_object(model, service), notes(model, service.name)


def service_objects(model: Model, service: Service) -> dict[str, Callable[[], tuple[dict[str, Any], list[str]]]]:
    """path -> (object, notes), built when called, if the service sends OTLP."""
    if not service.otlp:
        return {}
    return {c.kube_file("instrumentation", service.name): partial(_noted, model, service)}
