"""`trimdock fix`: rewrite a Dockerfile from the fixes attached to its findings, in rounds
until stable (as ruff's `--fix`), and prove the gain by building the old and the new file."""
