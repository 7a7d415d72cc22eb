"""JVN iPedia (JVNDB) through the MyJVN API: getVulnDetailInfo and getVulnOverviewList responses, XML
("hnd") and JSON ("oka"), and the JVNDB data feeds. Registered as the feed "jvn"; see README.md."""

from ismp.engines.feeds.jvn.common import JvnApiError, JvnStatus
from ismp.engines.feeds.jvn.parser import JvnAdapter, JvnResponse, parse_response, read_records
from ismp.engines.feeds.registry import registry

__all__ = ["JvnAdapter", "JvnApiError", "JvnResponse", "JvnStatus", "parse_response", "read_records"]

registry.register("jvn")(JvnAdapter())
