"""Feed adapter ``epss``: FIRST's Exploit Prediction Scoring System scores (see README.md)."""

from __future__ import annotations

from ismp.engines.feeds.epss.parser import EpssAdapter, read_epss
from ismp.engines.feeds.registry import registry

__all__ = ["EpssAdapter", "read_epss"]

registry.register("epss")(EpssAdapter())
