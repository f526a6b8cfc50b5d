"""Component configs: the collector and its builder manifest, Jaeger, Prometheus, Alertmanager (production and
the local overlay), Grafana provisioning, per-service instrumentation settings, docker-compose.yml."""
