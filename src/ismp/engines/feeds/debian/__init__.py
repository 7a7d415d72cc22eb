"""The Debian security tracker (DSA/DLA lists, the tracker's JSON export): feed "debian"."""

from __future__ import annotations

from ismp.engines.feeds.debian.parser import (
    RELEASE_VERSIONS,
    DebianAdapter,
    ecosystem_of,
    read_advisory_list,
    read_tracker_json,
)
from ismp.engines.feeds.registry import registry

adapter = registry.register("debian")(DebianAdapter())

__all__ = ["RELEASE_VERSIONS", "DebianAdapter", "adapter", "ecosystem_of", "read_advisory_list", "read_tracker_json"]
