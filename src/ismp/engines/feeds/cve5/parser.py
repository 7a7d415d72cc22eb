"""CVE JSON 5.x records (cvelistV5, CISA Vulnrichment) → ``VulnRecord(source="cve5")``.

What is read, from the CNA container and every ADP container (CISA-ADP, the CVE Program's):
ids, dates and state (REJECTED → ``rejected``); the CNA's title and descriptions by language (the
rejection reasons when a rejected record has no description); CVSS 2.0/3.0/3.1/4.0 metrics, each with
``source`` = the provider's shortName and ``primary`` = it comes from the CNA; CWE ids; references
(deduplicated by URL, the CNA's first); ``affected[]`` of the CNA, then of each ADP (CISA-ADP adds the
CPEs there); and the SSVC decision CISA-ADP publishes as an ``other`` metric, lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.files import LIMITS, Fields, Limits, Where, decode_json, documents, language

SOURCE = "cve5"
SUPPORTED_MAJOR_VERSION = 5  # dataVersion 5.0 and 5.1 are read; a later 5.x is read as 5.1
CISA_ADP = "CISA-ADP"

_CVE_FILE = re.compile(r"^CVE-\d{4}-\d{4,}\.json$")
_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CWE = re.compile(r"^CWE-\d+", re.IGNORECASE)
_CVSS = (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0"))
# collectionURL host → OSV ecosystem name, for the package registries CNAs name
_ECOSYSTEMS = {
    "pypi.org": "PyPI",
    "pypi.python.org": "PyPI",
    "registry.npmjs.org": "npm",
    "www.npmjs.com": "npm",
    "npmjs.com": "npm",
    "repo.maven.apache.org": "Maven",
    "repo1.maven.org": "Maven",
    "search.maven.org": "Maven",
    "central.sonatype.com": "Maven",
    "pkg.go.dev": "Go",
    "proxy.golang.org": "Go",
    "crates.io": "crates.io",
    "rubygems.org": "RubyGems",
    "packagist.org": "Packagist",
    "www.nuget.org": "NuGet",
    "nuget.org": "NuGet",
    "hex.pm": "Hex",
    "pub.dev": "Pub",
    "cran.r-project.org": "CRAN",
    "hackage.haskell.org": "Hackage",
}


def is_cve_file(name: str) -> bool:
    """A cvelistV5 record file name, ``CVE-2024-23897.json`` (not ``delta.json`` and the like)."""
    return _CVE_FILE.match(name) is not None


class Cve5Adapter:
    """Reads a ``CVE-*.json`` file, a cvelistV5 tree (``cves/<year>/<nnxxx>/``) or a zip of it, or a
    ``.jsonl``/``.jsonl.gz`` of records. One record is in memory at a time."""

    name = SOURCE

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits

    def read(self, path: Path) -> Iterator[VulnRecord]:
        for document in documents(path, member=is_cve_file, what="CVE JSON 5 records", limits=self.limits):
            yield record_from_json(decode_json(document), document.where)


def record_from_json(value: object, where: Where) -> VulnRecord:
    """One CVE JSON 5 record (already decoded) → VulnRecord; InputError names ``where`` and the field."""
    root = Fields.root(value, where, "a CVE JSON 5 record")
    data_type = root.data.get("dataType")
    if data_type != "CVE_RECORD":
        shown = f'"{data_type}"' if isinstance(data_type, str) else "missing"
        raise root.error("dataType", f'is not a CVE JSON 5 record: "dataType" is {shown}; expected "CVE_RECORD"')
    _check_data_version(root)
    meta = root.obj("cveMetadata")
    cve_id = meta.required_text("cveId").strip()
    if not _CVE_ID.match(cve_id):
        raise meta.error("cveId", f'"{cve_id[:40]}" is not a CVE id (CVE-YYYY-NNNN…)')
    state = meta.required_text("state").upper()
    if state not in ("PUBLISHED", "REJECTED"):
        raise meta.error("state", f'"{state[:20]}" is not a record state; expected PUBLISHED or REJECTED')
    containers = root.obj("containers")
    cna = containers.obj("cna")
    adps = list(containers.objects("adp"))
    every = [cna, *adps]
    descriptions = _by_language(cna, "descriptions") or _by_language(cna, "rejectedReasons")
    title = cna.text("title").strip()
    ssvc = _ssvc(adps, cna)
    return VulnRecord(
        source=SOURCE,
        id=cve_id,
        published=meta.timestamp("datePublished"),
        modified=meta.timestamp("dateUpdated") or meta.timestamp("dateRejected"),
        rejected=state == "REJECTED",
        titles={"en": title} if title else {},
        descriptions=descriptions,
        cvss=tuple(m for container in every for m in _metrics(container, primary=container is cna)),
        cwes=tuple(dict.fromkeys(cwe for container in every for cwe in _cwes(container))),
        references=_references(every),
        affected=tuple(product for container in every for product in _affected(container)),
        ssvc_exploitation=ssvc.get("exploitation", ""),
        ssvc_automatable=ssvc.get("automatable", ""),
        ssvc_technical_impact=ssvc.get("technical impact", ""),
    )


def _check_data_version(root: Fields) -> None:
    value = root.data.get("dataVersion")
    version = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if not version:
        raise root.error("dataVersion", "is missing; a CVE JSON 5 record names its version (5.0, 5.1)")
    if version.split(".")[0] != str(SUPPORTED_MAJOR_VERSION):
        raise root.error(
            "dataVersion",
            f'CVE JSON version "{version[:20]}" is not supported; this adapter reads CVE JSON 5.0 and 5.1',
        )


def _provider(container: Fields) -> str:
    return container.obj("providerMetadata").text("shortName")


def _by_language(container: Fields, key: str) -> dict[str, str]:
    """``[{lang, value}]`` → {language: text}; the first text of each language wins ("en-US" is "en")."""
    found: dict[str, str] = {}
    for entry in container.objects(key):
        text = entry.text("value").strip()
        lang = language(entry.text("lang"))
        if text and lang not in found:
            found[lang] = text
    return found


def _metrics(container: Fields, *, primary: bool) -> Iterator[CvssMetric]:
    source = _provider(container)
    for metric in container.objects("metrics"):
        for key, version in _CVSS:
            if not metric.has(key):
                continue
            cvss = metric.obj(key)
            vector = cvss.text("vectorString")
            score = cvss.number("baseScore")
            if vector or score is not None:
                yield CvssMetric(
                    version=version,
                    vector=vector,
                    base_score=score or 0.0,
                    severity=cvss.text("baseSeverity").upper(),
                    source=source,
                    primary=primary,
                )


def _ssvc(adps: list[Fields], cna: Fields) -> dict[str, str]:
    """The SSVC options ({"exploitation": "active", …}, lower case): CISA-ADP's, else the first found."""
    ordered = sorted(adps, key=lambda adp: _provider(adp) != CISA_ADP) + [cna]
    for container in ordered:
        for metric in container.objects("metrics"):
            other = metric.obj("other")
            if other.text("type").lower() != "ssvc":
                continue
            options: dict[str, str] = {}
            for option in other.obj("content").objects("options"):
                for key, value in option.data.items():
                    if not isinstance(value, str):
                        raise option.error(key, "expected a string (an SSVC option value)")
                    options[key.strip().lower()] = value.strip().lower()
            return options
    return {}


def _cwes(container: Fields) -> Iterator[str]:
    """CWE ids from problemTypes: ``cweId``, else a description that starts with one ("CWE-79 …")."""
    for problem in container.objects("problemTypes"):
        for description in problem.objects("descriptions"):
            match = _CWE.match(description.text("cweId").strip()) or _CWE.match(description.text("description").strip())
            if match:
                yield match.group(0).upper()


def _references(containers: list[Fields]) -> tuple[Reference, ...]:
    found: dict[str, Reference] = {}
    for container in containers:
        for reference in container.objects("references"):
            url = reference.required_text("url")
            if url not in found:
                found[url] = Reference(url=url, tags=tuple(reference.texts("tags")))
    return tuple(found.values())


def _affected(container: Fields) -> Iterator[AffectedProduct]:
    for product in container.objects("affected"):
        default_type = product.text("versionType")  # not in the schema, but some CNAs put it here
        yield AffectedProduct(
            vendor=product.text("vendor"),
            product=product.text("product"),
            package_name=product.text("packageName"),
            ecosystem=ecosystem(product.text("collectionURL")),
            purl=product.text("packageURL"),
            cpes=tuple(product.texts("cpes")),
            default_status=product.text("defaultStatus"),
            versions=tuple(_version(version, default_type) for version in product.objects("versions")),
        )


def _version(version: Fields, default_type: str) -> AffectedVersion:
    return AffectedVersion(
        version=version.required_text("version"),
        status=version.text("status", "affected"),
        version_type=version.text("versionType", default_type),
        less_than=version.text("lessThan"),
        less_than_or_equal=version.text("lessThanOrEqual"),
    )


def ecosystem(collection_url: str) -> str:
    """The OSV ecosystem of a package registry URL ("https://pypi.org" → "PyPI"); another URL is
    kept as it is, so nothing is lost; "" stays ""."""
    if not collection_url:
        return ""
    host = (urlsplit(collection_url.strip()).hostname or "").lower()
    return _ECOSYSTEMS.get(host, collection_url.strip())
