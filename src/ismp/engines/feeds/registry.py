"""Feed adapters by name. Each adapter module registers an instance::

    @registry.register("kev")
    class KevAdapter: ...   # or registry.register("kev")(KevAdapter())

Third parties add sources through the ``ismp.feeds`` entry-point group.
"""

from __future__ import annotations

from ismp.engines.feeds.base import FeedAdapter, OnlineFeed
from ismp.engines.registry import Registry

BUILTIN_MODULES = (
    "ismp.engines.feeds.nvd",
    "ismp.engines.feeds.kev",
    "ismp.engines.feeds.epss",
    "ismp.engines.feeds.exploitdb",
    "ismp.engines.feeds.metasploit",
    "ismp.engines.feeds.cve5",
    "ismp.engines.feeds.osv",
    "ismp.engines.feeds.debian",
    "ismp.engines.feeds.jvn",
)

registry: Registry[FeedAdapter] = Registry("feed", "ismp.feeds", BUILTIN_MODULES)

ONLINE_MODULES = (
    "ismp.engines.feeds.nvd.online",
    "ismp.engines.feeds.kev.online",
    "ismp.engines.feeds.epss.online",
    "ismp.engines.feeds.jvn.online",
)

# sources that can update themselves over HTTP (``ismp feeds update``), registered the same way
online_registry: Registry[OnlineFeed] = Registry("online feed", "ismp.online_feeds", ONLINE_MODULES)
