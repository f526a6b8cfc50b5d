"""SLO rules, their alerts and promtool scenarios, and the OpenSLO export (alerts/, deploy/slo/)."""
