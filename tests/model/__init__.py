"""Tests of obs.model: the domain model built from a valid spec."""
