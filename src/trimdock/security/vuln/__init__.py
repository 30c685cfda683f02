"""Known vulnerabilities from OSV data: the local database, version schemes, matching, severity."""
