"""trimdock: make container images smaller, faster to build and harder to attack."""

__version__ = "0.1.0"
