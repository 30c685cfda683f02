"""Compose files: loaded with positions, validated against the Compose schema, linted (TD7xx)."""
