"""Reading vulnerability intelligence. Vulnerability data is public knowledge: every role may read it
(what is scoped is which systems it touches, in the findings)."""

from __future__ import annotations

from typing import Any

import msgspec

from ismp.apps.vulns.models import EpssScore, ExploitEvidence, FeedState, SourceRecord, Vulnerability
from ismp.errors import NotFound

SUMMARY_FIELDS = (
    "vuln_id",
    "aliases",
    "title",
    "title_ja",
    "description",
    "description_ja",
    "published",
    "modified",
    "rejected",
    "cvss_version",
    "cvss_score",
    "cvss_vector",
    "cvss_source",
    "attack_vector",
    "risk_level",
    "severity_basis",
    "cwes",
    "ssvc_exploitation",
    "ssvc_automatable",
    "ssvc_technical_impact",
    "sources",
)


def find_vulnerability(identifier: str) -> Vulnerability:
    """By its id, or by another source's id for it (JVNDB-…, PYSEC-…, DSA-…)."""
    key = (
        identifier.strip().upper() if identifier.strip().upper().startswith(("CVE-", "JVNDB-")) else identifier.strip()
    )
    found = Vulnerability.objects.filter(vuln_id=key).first()
    if found is None:
        record = SourceRecord.objects.filter(source_id=key).first()
        found = record.vulnerabilities.first() if record is not None else None
    if found is None:
        raise NotFound(f"no vulnerability {identifier!r}", hint="import the feeds first: ismp feeds import …")
    return found


def vulnerability_detail(identifier: str) -> dict[str, Any]:
    """The merged record, each source's own record (provenance), exploit evidence and EPSS."""
    vuln = find_vulnerability(identifier)
    summary = {f: getattr(vuln, f) for f in SUMMARY_FIELDS}
    sources = [
        {
            "source": r.source,
            "source_id": r.source_id,
            "modified": r.modified,
            "imported_at": r.imported_at,
            "record": msgspec.json.decode(r.data),
        }
        for r in vuln.source_records.order_by("source", "source_id")
    ]
    evidence = [
        {
            "source": e.source,
            "reference": e.reference,
            "name": e.name,
            "date": e.date,
            "due": e.due,
            "details": e.details,
        }
        for e in ExploitEvidence.objects.filter(vuln_id=vuln.vuln_id).order_by("source", "date", "reference")
    ]
    epss = EpssScore.objects.filter(vuln_id=vuln.vuln_id).first()
    return {
        "vulnerability": summary,
        "sources": sources,
        "evidence": evidence,
        "epss": None
        if epss is None
        else {
            "score": epss.score,
            "percentile": epss.percentile,
            "date": epss.date,
            "previous_score": epss.previous_score,
        },
    }


def feed_status() -> list[dict[str, Any]]:
    from ismp.engines.feeds.registry import registry

    states = {s.source: s for s in FeedState.objects.all()}
    rows = []
    for name in registry.names():
        state = states.get(name)
        rows.append(
            {
                "source": name,
                "last_attempt": state.last_attempt if state else None,
                "last_success": state.last_success if state else None,
                "watermark": state.watermark if state else "",
                "records": state.records if state else 0,
                "last_error": state.last_error if state else "",
                "last_report": state.last_report if state else {},
            }
        )
    return rows
