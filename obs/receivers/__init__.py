"""Local stand-ins for the services Alertmanager notifies: PagerDuty, Slack, a team's webhook.

Each enforces its vendor's documented contract, so a notification the vendor would
refuse is refused locally, in a test or a drill, instead of during a real outage.
The heartbeat watcher is a dead man's switch for the alerting pipeline itself.
"""
