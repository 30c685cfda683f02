"""Images in registries (`docker://`): the Registry HTTP API v2, without pulling into an engine."""
