"""obs verify: probes that prove traces, metrics and alerts arrive, timed per hop and diagnosed when lost."""

PROBES = ("trace", "metric", "scrape", "alert")
CHECKS = PROBES + ("coverage",)
