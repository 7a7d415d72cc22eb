"""CVE JSON 5 records (cvelistV5 files, trees and zips; CISA Vulnrichment JSON Lines): feed "cve5"."""

from __future__ import annotations

from ismp.engines.feeds.cve5.parser import Cve5Adapter, ecosystem, is_cve_file, record_from_json
from ismp.engines.feeds.registry import registry

adapter = registry.register("cve5")(Cve5Adapter())

__all__ = ["Cve5Adapter", "adapter", "ecosystem", "is_cve_file", "record_from_json"]
