"""Tests of obs.receivers: the local PagerDuty and Slack contract receivers and the dead man's switch."""
