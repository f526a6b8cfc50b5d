"""Tests of obs.lint: the pitfalls `obs lint` reports."""
