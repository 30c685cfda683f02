"""Results worth keeping between runs (per-layer analyses, by DiffID), in the user's cache."""
