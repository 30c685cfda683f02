"""Build context analysis: `.dockerignore` semantics, what each builder sends, what COPY/ADD use."""
