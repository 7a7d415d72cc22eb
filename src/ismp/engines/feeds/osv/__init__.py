"""OSV schema 1.x records (files, directories, JSON Lines, ecosystem ``all.zip`` dumps): feed "osv"."""

from __future__ import annotations

from ismp.engines.feeds.osv.parser import KNOWN_ECOSYSTEMS, OsvAdapter, is_osv_file, record_from_osv, split_ecosystem
from ismp.engines.feeds.registry import registry

adapter = registry.register("osv")(OsvAdapter())

__all__ = ["KNOWN_ECOSYSTEMS", "OsvAdapter", "adapter", "is_osv_file", "record_from_osv", "split_ecosystem"]
