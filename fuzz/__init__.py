"""Coverage-guided fuzzing of trimdock's parsers (issue 8). See docs/fuzzing.md."""
