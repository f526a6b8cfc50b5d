"""Grafana dashboards as code: what each panel shows and queries is plain data (model.py, one module per
family); render.py, the one module that imports grafanalib, turns it into dashboard JSON."""
