"""Security analyses of an image: inventory (SBOM), vulnerabilities, attack surface, secrets."""
