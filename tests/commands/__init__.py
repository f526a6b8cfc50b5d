"""Tests of obs.commands: the CLI around generation and `obs test`."""
