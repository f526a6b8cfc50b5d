"""Whole-pipeline tests spanning packages: specs through generation into the real tools, generated configs on a real stack."""
