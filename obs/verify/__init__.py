"""obs verify: probes that prove traces, metrics and alerts arrive, timed per hop and diagnosed when lost."""

PROBES = ("trace", "metric", "scrape", "alert")
CHECKS = PROBES + ("coverage",)
# A deployed environment (`--env NAME`): the alert probe stops at Alertmanager's routing, and three checks join.
DEPLOYED_CHECKS = ("alert", "alertmanager", "watchdog", "drift")
# What `--env NAME` runs by default: the probes that only read and send probe telemetry, then the deployed
# checks. Coverage (every service's data, every panel) and scrape can be asked for with --only.
ENV_CHECKS = ("trace", "metric", *DEPLOYED_CHECKS)
ALL_CHECKS = tuple(dict.fromkeys((*CHECKS, *DEPLOYED_CHECKS)))
