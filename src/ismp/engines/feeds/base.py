"""The records every feed adapter yields, and the adapter protocol.

Adapters are pure: bytes or files in, plain frozen records out, streaming (an iterator), no database.
The vulns service persists and merges what they yield. One adapter per source, registered by name in
``registry.py``. Errors a person will read are ``InputError(file=…, line=record number, field=…)``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

# ------------------------------------------------------------------------------------------ severity


@dataclass(frozen=True, slots=True)
class CvssMetric:
    """One CVSS score as a source gives it."""

    version: str  # "2.0", "3.0", "3.1", "4.0"
    vector: str  # the vector string as published (e.g. "CVSS:3.1/AV:N/AC:L/…" or "AV:N/AC:L/Au:N/…")
    base_score: float
    severity: str = ""  # "LOW" … "CRITICAL" as published, upper case; "" when not given
    source: str = ""  # who scored it, e.g. "nvd@nist.gov", "134c704f-…" (CISA-ADP), "jvndb"
    primary: bool = True  # NVD's "Primary" vs "Secondary"


# -------------------------------------------------------------------------------------- applicability


@dataclass(frozen=True, slots=True)
class CpeMatch:
    """One NVD cpeMatch / cpe_match entry: a CPE 2.3 criterion with an optional version range."""

    criteria: str  # CPE 2.3 formatted string
    vulnerable: bool = True
    version_start_including: str = ""
    version_start_excluding: str = ""
    version_end_including: str = ""
    version_end_excluding: str = ""


@dataclass(frozen=True, slots=True)
class ConfigNode:
    """A node of an NVD configuration: its matches and child nodes joined by ``operator`` (AND/OR),
    the whole negated when ``negate``."""

    operator: str = "OR"
    negate: bool = False
    matches: tuple[CpeMatch, ...] = ()
    children: tuple[ConfigNode, ...] = ()


@dataclass(frozen=True, slots=True)
class Configuration:
    """One NVD configuration (API 2.0 ``configurations[]``; 1.1 has one implicit OR over its nodes)."""

    operator: str = "OR"
    negate: bool = False
    nodes: tuple[ConfigNode, ...] = ()


def all_criteria(configurations: Iterable[Configuration]) -> Iterator[CpeMatch]:
    """Every criterion of the configurations, nodes and child nodes alike (vulnerable or platform)."""
    stack = [node for configuration in configurations for node in configuration.nodes]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        yield from node.matches


@dataclass(frozen=True, slots=True)
class AffectedVersion:
    """One CVE JSON 5 ``affected[].versions[]`` entry (or an OSV range event pair)."""

    version: str
    status: str = "affected"  # affected / unaffected / unknown
    version_type: str = ""  # semver, custom, git, rpm, maven, python, ecosystem …
    less_than: str = ""
    less_than_or_equal: str = ""


@dataclass(frozen=True, slots=True)
class AffectedProduct:
    """A product a CNA (CVE JSON 5), OSV or a distribution says is affected, with its versions."""

    vendor: str = ""
    product: str = ""
    package_name: str = ""  # OSV/purl package name, or a source package for distributions
    ecosystem: str = ""  # PyPI, npm, Maven, Debian:12 …
    purl: str = ""
    cpes: tuple[str, ...] = ()
    default_status: str = ""  # CVE JSON 5 defaultStatus
    versions: tuple[AffectedVersion, ...] = ()
    fixed_version: str = ""  # distributions: the version that fixes it (backports)


# ------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VulnRecord:
    """What one source says about one vulnerability."""

    source: str  # the adapter's registered name, e.g. "nvd", "cve5", "jvn", "osv"
    id: str  # the source's own id: CVE-…, JVNDB-…, PYSEC-…, DSA-…
    aliases: tuple[str, ...] = ()  # other ids of the same vulnerability (CVE ids first)
    published: dt.datetime | None = None
    modified: dt.datetime | None = None
    rejected: bool = False
    titles: dict[str, str] = field(default_factory=dict)  # language → title ("en", "ja")
    descriptions: dict[str, str] = field(default_factory=dict)  # language → text
    cvss: tuple[CvssMetric, ...] = ()
    severity: str = ""  # a source's own word when it has no CVSS (e.g. JVN "高", Debian urgency)
    cwes: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    configurations: tuple[Configuration, ...] = ()
    affected: tuple[AffectedProduct, ...] = ()
    # CISA ADP / Vulnrichment SSVC
    ssvc_exploitation: str = ""  # none / poc / active
    ssvc_automatable: str = ""  # yes / no
    ssvc_technical_impact: str = ""  # partial / total


@dataclass(frozen=True, slots=True)
class ExploitRecord:
    """Evidence that an attack tool or active exploitation exists (or a score of its likelihood)."""

    source: str  # "kev", "exploitdb", "metasploit"
    cve: str
    reference: str  # KEV catalog version, EDB-ID, module path
    name: str = ""
    date: dt.date | None = None  # KEV dateAdded, exploit publication, module disclosure
    due: dt.date | None = None  # KEV dueDate
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve: str
    score: float
    percentile: float
    date: dt.date | None = None


FeedRecord = VulnRecord | ExploitRecord | EpssScore


class FeedAdapter(Protocol):
    """Reads one source's files. ``read`` streams records and raises InputError on bad input."""

    name: str

    def read(self, path: Path) -> Iterator[FeedRecord]: ...


@dataclass(frozen=True, slots=True)
class UpdateBatch:
    """Records fetched online, and the watermark to resume from once they are stored."""

    records: tuple[FeedRecord, ...]
    watermark: str


@dataclass(frozen=True, slots=True)
class UpdateContext:
    """What an online update needs besides its HTTP client: where it stopped last time, the time now
    (UTC), the source's base URL and credentials, and how to wait (tests pass a fake clock)."""

    watermark: str
    now: dt.datetime
    base_url: str
    api_key: str = ""
    sleep: Callable[[float], None] = time.sleep
    max_retries: int = 5


class OnlineFeed(Protocol):
    """A source that can update itself over HTTP. ``updates`` yields batches in order; the caller stores
    each batch and its watermark before asking for the next, so an interrupted update resumes there."""

    name: str
    default_url: str

    def updates(self, client: httpx.Client, context: UpdateContext) -> Iterator[UpdateBatch]: ...

    def resume_from(self, newest: dt.datetime) -> str | None:
        """The watermark from which online updates continue after an offline import whose newest record was
        modified at ``newest``; None when files cannot tell (the watermark is then a download's version)."""
        ...
