"""Tests of obs.verify: probes, diagnosis, coverage and drills, without a stack and against the real one."""
