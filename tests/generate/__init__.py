"""Tests of obs.generate: what each generator writes, read back or checked by the real tools it is written for."""
