"""Fix providers, one module per family, keyed by rule id (see `base.PROVIDERS`)."""

from __future__ import annotations

from trimdock.fix.providers import extract, layers, packages, runtime, stages
from trimdock.fix.providers.base import PROVIDERS, Provider, Target

_FAMILIES = (extract, layers, packages, runtime, stages)

__all__ = ["PROVIDERS", "Provider", "Target"]
