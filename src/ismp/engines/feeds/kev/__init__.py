"""Feed adapter ``kev``: the CISA Known Exploited Vulnerabilities catalogue (see README.md)."""

from __future__ import annotations

from ismp.engines.feeds.kev.parser import KevAdapter, read_kev
from ismp.engines.feeds.registry import registry

__all__ = ["KevAdapter", "read_kev"]

registry.register("kev")(KevAdapter())
