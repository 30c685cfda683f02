"""Reclaimable content: visible files of the final filesystem that a better build would not ship."""
