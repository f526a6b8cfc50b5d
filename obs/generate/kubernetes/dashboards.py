"""One ConfigMap per dashboard, generated or the user's, labelled for Grafana's dashboard sidecar: the very JSON
of dashboards/, so a dashboard looks the same on one host and in the cluster."""
from __future__ import annotations

import re
from typing import Any

from obs.generate.kubernetes.objects import CORE, obj
from obs.model import conventions as c
from obs.model.domain import Model


def configmap_name(file_name: str) -> str:
    """`dashboard-<file stem>`, in the characters (and length) a ConfigMap's name may have."""
    stem = re.sub(r"[^a-z0-9-]+", "-", file_name.removesuffix(".json").lower()).strip("-")
    return f"dashboard-{stem}"[:253].rstrip("-")


def objects(model: Model, files: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for path, text in files.items():
        folder, _, name = path.rpartition("/")
        if folder != c.DASHBOARDS_DIR or not name.endswith(".json"):
            continue
        cm = configmap_name(name)
        out[c.kube_file("dashboards", cm)] = obj(CORE, "ConfigMap", cm, None, model.kubernetes.dashboard_labels,
                                                 data={name: text})
    return out
