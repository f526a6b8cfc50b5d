"""Tests of obs.stack: building the pinned binaries, finding programs, and running the native stack."""
