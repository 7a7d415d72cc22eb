"""NVD: JSON 1.1 yearly/modified/recent feeds and API 2.0 CVE pages → VulnRecord (see README.md)."""

from __future__ import annotations

from ismp.engines.feeds.files import Limits
from ismp.engines.feeds.nvd.parser import ApiPage, NvdAdapter, parse_api_page
from ismp.engines.feeds.registry import registry

__all__ = ["ApiPage", "Limits", "NvdAdapter", "parse_api_page"]

registry.register("nvd")(NvdAdapter())
