"""Feed adapter ``metasploit``: Metasploit modules that name a CVE (see README.md)."""

from __future__ import annotations

from ismp.engines.feeds.metasploit.parser import MetasploitAdapter, full_name, read_metasploit
from ismp.engines.feeds.registry import registry

__all__ = ["MetasploitAdapter", "full_name", "read_metasploit"]

registry.register("metasploit")(MetasploitAdapter())
