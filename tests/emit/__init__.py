"""Tests of obs.emit: the one YAML dumper, all-or-nothing writes, and touching only what obs wrote."""
