"""The finding model shared by every analysis, and the output formats."""
