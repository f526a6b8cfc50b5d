"""OpenTelemetryCollector objects (the OpenTelemetry Operator's v1beta1), their config the single-host collector's.

deployment: one collector (the gateway) that every service sends to.
daemonset:  an agent on every node as well, which the node's services send to (the operator gives a daemonset's
            Service `internalTrafficPolicy: Local`), forwarding to the gateway; the gateway alone computes span
            metrics and exports, so each series has one writer.
The gateway runs one replica: span metrics are cumulative per collector, and two writers of one series would
contradict each other in Prometheus.

Pods listen on their own IP (the downward API's status.podIP), read secret files from the team's Secret mounted
at /etc/obs/secrets, and, with a persistent queue, keep it in an emptyDir that outlives a container restart.
"""
from __future__ import annotations

from typing import Any

from obs import versions
from obs.generate.configs import otelcol
from obs.generate.kubernetes.objects import MONITORING, OTEL, obj, relabel_job
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model
from obs.model.kinds import MetricsPath
from obs.model.kubernetes import CollectorMode

GATEWAY, AGENT = "gateway", "agent"
_SECRETS_VOLUME, _STATE_VOLUME = "obs-secrets", "obs-state"


def roles(model: Model) -> tuple[str, ...]:
    return (GATEWAY, AGENT) if model.kubernetes.collector_mode is CollectorMode.DAEMONSET else (GATEWAY,)


def _pod(model: Model, role: str) -> dict[str, Any]:
    st, k = model.stack, model.kubernetes
    env: list[dict[str, Any]] = [{"name": c.KUBE_POD_IP_ENV, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if st.receivers_tls is not None or st.receivers_bearer is not None:
        volumes.append({"name": _SECRETS_VOLUME, "secret": {"secretName": k.collector_secret}})
        mounts.append({"name": _SECRETS_VOLUME, "mountPath": c.KUBE_SECRETS_MOUNT, "readOnly": True})
    if st.persistent_queue and role == GATEWAY:
        env.append({"name": c.STATE_DIR_ENV, "value": c.KUBE_STATE_MOUNT})
        volumes.append({"name": _STATE_VOLUME, "emptyDir": {}})
        mounts.append({"name": _STATE_VOLUME, "mountPath": c.KUBE_STATE_MOUNT})
    pod: dict[str, Any] = {"env": env}
    if volumes:
        pod.update(volumes=volumes, volumeMounts=mounts)
    return pod


def _collector(model: Model, role: str) -> dict[str, Any]:
    k, net = model.kubernetes, network.kubernetes(model)
    if role == GATEWAY:
        config = otelcol.config(model, net)
        spec: dict[str, Any] = {"mode": "deployment", "replicas": 1}
    else:
        gateway = f"{k.name_prefix}{c.kube_collector_name(model.project, GATEWAY)}-collector"
        config = otelcol.agent_config(model, net, network.host_port(gateway, model.stack.ports["otlp_grpc"]))
        spec = {"mode": "daemonset"}
    spec.update(image=k.collector_image or versions.IMAGES["otelcol"].ref, **_pod(model, role), config=config)
    return obj(OTEL, "OpenTelemetryCollector", c.kube_collector_name(model.project, role), spec,
               ((c.KUBE_COLLECTOR_ROLE_LABEL, role),))


def _pod_monitor(model: Model, name: str, roles_: tuple[str, ...], port: int, job: str,
                 **endpoint: Any) -> dict[str, Any]:
    selector = {"matchLabels": dict([c.KUBE_COLLECTOR_COMPONENT]),
                "matchExpressions": [{"key": c.KUBE_COLLECTOR_ROLE_LABEL, "operator": "In", "values": list(roles_)}]}
    ep = {"portNumber": port, "interval": str(model.stack.timing.scrape_interval), **endpoint,
          "relabelings": relabel_job(job)}
    return obj(MONITORING, "PodMonitor", f"{model.project}-{name}", {"selector": selector, "podMetricsEndpoints": [ep]},
               model.kubernetes.monitor_labels)


def objects(model: Model) -> dict[str, dict[str, Any]]:
    p = model.stack.ports
    out = {c.kube_file("collector", role): _collector(model, role) for role in roles(model)}
    out[c.kube_file("monitors", "otelcol")] = _pod_monitor(model, "otelcol", roles(model), p["collector_metrics"],
                                                           c.JOB_OTELCOL)
    if model.stack.metrics == MetricsPath.PULL:
        # The exporter's series carry each service's own job and instance: honoured, as the local scrape job does.
        out[c.kube_file("monitors", "otelcol-exporter")] = _pod_monitor(
            model, "otelcol-exporter", (GATEWAY,), p["collector_prometheus"], c.JOB_OTELCOL_EXPORTER, honorLabels=True)
    return out
