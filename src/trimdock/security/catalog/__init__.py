"""Catalogers: pure parsers from a package database or metadata file's bytes to records."""
