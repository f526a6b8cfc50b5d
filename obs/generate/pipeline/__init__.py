"""The pipeline's own health rules: components down, services silent, data refused or dropped (alerts/)."""
