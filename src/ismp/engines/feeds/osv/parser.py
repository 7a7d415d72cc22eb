"""OSV schema 1.x records (PyPA, GitHub, Go, Debian, Ubuntu, Alpine, Red Hat, AlmaLinux, Rocky …)
→ ``VulnRecord(source="osv")``.

``affected[]`` becomes one ``AffectedProduct`` per entry (package name, ecosystem as OSV spells it,
release suffix included — ``Debian:12``, ``Ubuntu:22.04:LTS``, ``Alpine:v3.18``,
``Red Hat:enterprise_linux:9::appstream`` — and purl). Its ``versions[]`` become one
``AffectedVersion`` each (an exact version); its SEMVER/ECOSYSTEM/GIT ranges become one
``AffectedVersion(version=introduced, less_than=fixed | less_than_or_equal=last_affected,
version_type="semver" | "ecosystem" | "git")`` per introduced/fixed pair, and an ``introduced`` with no
end becomes ``less_than="*"`` (CVE JSON 5's "and every later version").

CVSS vectors are kept as published; OSV gives no score, so ``base_score`` is 0.0 (nothing is computed
here). A database's own severity word (GitHub's ``database_specific.severity``, the ``Ubuntu`` severity
type) goes to ``severity``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.files import (
    LIMITS,
    Document,
    Fields,
    Limits,
    Where,
    decode_json,
    decode_yaml,
    documents,
)

SOURCE = "osv"
SUPPORTED_MAJOR_VERSION = 1

# The ecosystems of the OSV schema (validation/schema.json, "ecosystemName"); a record may name one with
# a ":"-separated release suffix. Others are read too (OSV adds ecosystems often) and kept verbatim.
KNOWN_ECOSYSTEMS = frozenset(
    {
        "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers",
        "Bioconductor", "Bitnami", "Chainguard", "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian",
        "Docker Hardened Images", "Echo", "FreeBSD", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia",
        "Kubernetes", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE",
        "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems",
        "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi", "GIT",
    }
)  # fmt: skip
_RECORD_FILE = re.compile(r"\.(json|ya?ml)$", re.IGNORECASE)
_YAML_FILE = re.compile(r"\.ya?ml$", re.IGNORECASE)
_OSV_FIELDS = ("modified", "published", "affected", "aliases", "upstream", "summary", "details", "withdrawn")
_CVSS_VERSION = re.compile(r"^CVSS:(\d\.\d)/")
_SEVERITY_TYPES = {"CVSS_V2": "2.0", "CVSS_V3": "3.1", "CVSS_V4": "4.0"}
_RANGE_TYPES = ("SEMVER", "ECOSYSTEM", "GIT")


def is_osv_file(name: str) -> bool:
    """An OSV record file in a directory or zip: ``*.json``, ``*.yaml``, ``*.yml``."""
    return _RECORD_FILE.search(name) is not None


def split_ecosystem(name: str) -> tuple[str, str]:
    """("Debian", "12") for "Debian:12", ("Red Hat", "enterprise_linux:9::appstream") for
    "Red Hat:enterprise_linux:9::appstream", ("PyPI", "") for "PyPI"."""
    base, _, release = name.partition(":")
    return base, release


class OsvAdapter:
    """Reads an OSV ``.json``/``.yaml`` file, a directory of them, a ``.jsonl``/``.jsonl.gz``, or an
    ecosystem dump (``all.zip``). One record is in memory at a time."""

    name = SOURCE

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits

    def read(self, path: Path) -> Iterator[VulnRecord]:
        for document in documents(path, member=is_osv_file, what="OSV records", limits=self.limits):
            yield record_from_osv(_decode(document), document.where)


def _decode(document: Document) -> object:
    if document.where.line is None and _YAML_FILE.search(document.where.file):
        return decode_yaml(document)
    return decode_json(document)


def record_from_osv(value: object, where: Where) -> VulnRecord:
    """One OSV record (already decoded) → VulnRecord; InputError names ``where`` and the field."""
    root = Fields.root(value, where, "an OSV record")
    if "dataType" in root.data or "cveMetadata" in root.data:
        raise where.error("is a CVE JSON 5 record, not an OSV record; read it with the cve5 feed")
    if not isinstance(root.data.get("id"), str) or not any(key in root.data for key in _OSV_FIELDS):
        raise where.error('is not an OSV record: it needs an "id" and OSV fields such as "modified", "affected"')
    _check_schema_version(root)
    record_id = root.required_text("id").strip()
    severity = ""
    cvss: list[CvssMetric] = []
    for scored in (root, *root.objects("affected")):
        for metric, word in _severities(scored):
            if metric is not None and metric not in cvss:
                cvss.append(metric)
            severity = severity or word
    database = root.obj("database_specific")
    if not severity and isinstance(database.data.get("severity"), str):
        severity = database.text("severity").strip().upper()
    summary = root.text("summary").strip()
    details = root.text("details").strip()
    return VulnRecord(
        source=SOURCE,
        id=record_id,
        aliases=_aliases(root, record_id),
        published=root.timestamp("published"),
        modified=root.timestamp("modified"),
        rejected=root.has("withdrawn"),
        titles={"en": summary} if summary else {},
        descriptions={"en": details} if details else {},
        cvss=tuple(cvss),
        severity=severity,
        cwes=_cwes(database),
        references=tuple(
            Reference(
                url=reference.required_text("url"), tags=(reference.text("type"),) if reference.has("type") else ()
            )
            for reference in root.objects("references")
        ),
        affected=tuple(_affected(affected) for affected in root.objects("affected")),
    )


def _check_schema_version(root: Fields) -> None:
    version = root.text("schema_version")
    if version and version.split(".")[0] != str(SUPPORTED_MAJOR_VERSION):
        raise root.error(
            "schema_version", f'OSV schema version "{version[:20]}" is not supported; this adapter reads OSV 1.x'
        )


def _aliases(root: Fields, record_id: str) -> tuple[str, ...]:
    """``aliases`` then ``upstream`` (distributions put the CVEs an advisory fixes there), CVE ids
    first, each once, the record's own id left out."""
    found = [alias.strip() for alias in (*root.texts("aliases"), *root.texts("upstream")) if alias.strip()]
    unique = [alias for alias in dict.fromkeys(found) if alias != record_id]
    return tuple(sorted(unique, key=lambda alias: not alias.startswith("CVE-")))  # stable: order kept


def _severities(scored: Fields) -> Iterator[tuple[CvssMetric | None, str]]:
    for entry in scored.objects("severity"):
        kind = entry.required_text("type")
        score = entry.required_text("score").strip()
        if kind in _SEVERITY_TYPES:
            match = _CVSS_VERSION.match(score)
            version = match.group(1) if match else _SEVERITY_TYPES[kind]
            yield CvssMetric(version=version, vector=score, base_score=0.0, primary=False), ""
        elif kind == "Ubuntu":
            yield None, score.upper()


def _cwes(database: Fields) -> tuple[str, ...]:
    """GitHub's ``database_specific.cwe_ids`` (other databases put none there)."""
    value = database.data.get("cwe_ids")
    return tuple(database.texts("cwe_ids")) if isinstance(value, list) else ()


def _affected(affected: Fields) -> AffectedProduct:
    package = affected.obj("package")
    versions = [AffectedVersion(version=version) for version in affected.texts("versions")]
    for range_ in affected.objects("ranges"):
        versions.extend(_range(range_))
    return AffectedProduct(
        package_name=package.text("name"),
        ecosystem=package.text("ecosystem"),
        purl=package.text("purl"),
        versions=tuple(versions),
    )


def _range(range_: Fields) -> Iterator[AffectedVersion]:
    """Introduced/fixed (or last_affected) pairs of one range, in order. GIT ranges may name several
    fixes for one introduction (one per branch): each pair is an entry. ``limit`` events are ignored."""
    kind = range_.required_text("type").upper()
    if kind not in _RANGE_TYPES:
        raise range_.error("type", f'"{kind[:20]}" is not an OSV range type; expected SEMVER, ECOSYSTEM or GIT')
    version_type = kind.lower()
    introduced = ""
    open_ended = False
    for event in range_.objects("events"):
        if event.has("introduced"):
            if open_ended:
                yield AffectedVersion(version=introduced, version_type=version_type, less_than="*")
            introduced = event.text("introduced")
            open_ended = True
        elif event.has("fixed"):
            yield AffectedVersion(version=introduced or "0", version_type=version_type, less_than=event.text("fixed"))
            open_ended = False
        elif event.has("last_affected"):
            yield AffectedVersion(
                version=introduced or "0", version_type=version_type, less_than_or_equal=event.text("last_affected")
            )
            open_ended = False
        elif not event.has("limit"):
            raise event.where.error("expected one of introduced, fixed, last_affected, limit", event.path)
    if open_ended:
        yield AffectedVersion(version=introduced, version_type=version_type, less_than="*")
