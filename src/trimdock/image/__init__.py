"""Image references, sources (archive, OCI layout, engine) and the one `Image` model."""
