"""Feed adapters by name. Each adapter module registers an instance::

    @registry.register("kev")
    class KevAdapter: ...   # or registry.register("kev")(KevAdapter())

Third parties add sources through the ``ismp.feeds`` entry-point group.
"""

from __future__ import annotations

from ismp.engines.feeds.base import FeedAdapter
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
