"""Tests of obs.spec: loading and validating obs.yaml, located problems, and the Sloth and OpenSLO importers."""
