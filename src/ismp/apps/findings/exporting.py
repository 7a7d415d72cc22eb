"""Exporting the findings a user may see (JSON, CSV, XLSX) and one system's VEX (CycloneDX, OpenVEX).

Exports are streamed: rows come from the database in chunks and are written as they come, so a million
findings need no more memory than a thousand. CSV and XLSX cells go through the ledger's formula
neutralisation (a leading ``'`` before ``= + - @``, tab or CR), as the inventory export does.

The columns are :data:`EXPORT_COLUMNS`, in one place: with the vulnerability's urgency (対応緊急度) and the
state and deadlines of the system's work item for it (登録期限, 完了期限) when there is one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.utils import timezone

from ismp.apps import tables
from ismp.apps.findings.choices import Confidence, FindingState
from ismp.apps.findings.queries import finding_list, findings_for
from ismp.apps.inventory.models import System
from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.vex import Status, VexStatement, write_cyclonedx_vex, write_openvex
from ismp.errors import InputError

EXPORT_FORMATS = tables.FORMATS
VEX_FORMATS = {"cyclonedx": ".vex.cdx.json", "openvex": ".openvex.json"}
CONTENT_TYPES = {
    **tables.CONTENT_TYPES,
    "cyclonedx": "application/vnd.cyclonedx+json",
    "openvex": "application/json",
}
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "system",
    "organisation",
    "vulnerability",
    "title",
    "risk_level",
    "cvss_score",
    "component",
    "cpe",
    "purl",
    "product",
    "version",
    "criterion",
    "confidence",
    "confirmed",
    "state",
    "urgency",
    "work_item",
    "work_item_state",
    "answer_due",
    "due",
    "justification",
    "decision_note",
    "decided_by",
    "decided_at",
    "closed_reason",
    "first_seen",
    "last_seen",
)
SHEET_NAME = "findings"
_CHUNK = 2000
_FIELDS = (
    "pk",
    "system__name",
    "system__organisation__code",
    "vulnerability__vuln_id",
    "vulnerability__title",
    "vulnerability__risk_level",
    "vulnerability__cvss_score",
    "vulnerability__urgency__value",
    "component_key",
    "component__key",
    "component__cpe",
    "component__purl",
    "component__product",
    "component__version",
    "criterion",
    "confidence",
    "confirmed_at",
    "state",
    "justification",
    "decision_note",
    "decided_by__username",
    "decided_at",
    "closed_reason",
    "first_seen",
    "last_seen",
    "item_pk",
    "item_state",
    "item_answer_due",
    "item_due",
)


def export_rows(user: Any, filters: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """The visible findings as plain rows keyed by EXPORT_COLUMNS (values typed: numbers, datetimes)."""
    from ismp.apps.workflow.models import WorkItem

    item = WorkItem.objects.filter(
        system_id=OuterRef("system_id"), vulnerability_id=OuterRef("vulnerability_id"), kind="security_info"
    )
    qs = (
        finding_list(user, filters=filters, order="system")
        .annotate(
            item_pk=Subquery(item.values("pk")[:1]),
            item_state=Subquery(item.values("state")[:1]),
            item_answer_due=Subquery(item.values("answer_due")[:1]),
            item_due=Subquery(item.values("due")[:1]),
        )
        .values_list(*_FIELDS)
    )
    for values in qs.iterator(chunk_size=_CHUNK):
        row = dict(zip(_FIELDS, values, strict=True))
        component = _component(row)
        yield {
            "id": row["pk"],
            "system": row["system__name"],
            "organisation": row["system__organisation__code"],
            "vulnerability": row["vulnerability__vuln_id"],
            "title": row["vulnerability__title"],
            "risk_level": row["vulnerability__risk_level"],
            "cvss_score": row["vulnerability__cvss_score"],
            "component": row["component_key"],
            "cpe": component.cpe,
            "purl": component.purl,
            "product": component.product,
            "version": component.version,
            "criterion": row["criterion"],
            "confidence": row["confidence"],
            "confirmed": row["confidence"] != Confidence.LOW or row["confirmed_at"] is not None,
            "state": row["state"],
            "urgency": row["vulnerability__urgency__value"] or "",
            "work_item": row["item_pk"],
            "work_item_state": row["item_state"] or "",
            "answer_due": row["item_answer_due"],
            "due": row["item_due"],
            "justification": row["justification"],
            "decision_note": row["decision_note"],
            "decided_by": row["decided_by__username"] or "",
            "decided_at": row["decided_at"],
            "closed_reason": row["closed_reason"],
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
        }


def _component(row: dict[str, Any]) -> ComponentRecord:
    """The matched component: the inventory's row while it still has the matched key, else read from the
    key (the component was removed or changed version since)."""
    if row["component__key"] == row["component_key"]:
        return ComponentRecord(
            0,
            row["component__cpe"],
            row["component__purl"],
            product=row["component__product"],
            version=row["component__version"],
        )
    return component_from_key(row["component_key"])


def component_from_key(key: str) -> ComponentRecord:
    """A component from its key (a CPE, a purl, or part:vendor:product:version)."""
    try:
        if key.startswith("cpe:"):
            return make_component(line=None, file="", cpe=key)
        if key.startswith("pkg:"):
            return make_component(line=None, file="", purl=key)
    except InputError:
        return ComponentRecord(0, product=key)
    part, vendor, product, version = (key.split(":", 3) + ["", "", ""])[:4]
    return ComponentRecord(0, part=part, vendor=vendor, product=product, version=version)


def write_export(user: Any, fmt: str, stream: IO[bytes], filters: dict[str, str] | None = None) -> None:
    """Write the findings visible to ``user`` in ``fmt`` to a binary stream (the CLI's way)."""
    tables.write_table(export_rows(user, filters), EXPORT_COLUMNS, SHEET_NAME, fmt, stream)


def export_download(user: Any, fmt: str, filters: dict[str, str] | None = None) -> HttpResponse:
    """The export as a streamed download (XLSX spooled first)."""
    return tables.download(lambda: export_rows(user, filters), EXPORT_COLUMNS, SHEET_NAME, fmt)


# ------------------------------------------------------------------------------------------------- VEX

_STATUS: dict[str, Status] = {
    FindingState.OPEN: "affected",
    FindingState.NOT_AFFECTED: "not_affected",
    FindingState.CLOSED: "fixed",
}


def vex_statements(user: Any, system: System, components: dict[str, ComponentRecord]) -> list[VexStatement]:
    """The statements for one system's VEX, from the findings ``user`` may see. A finding whose component
    the system no longer has (removed, or another version now) is left out: the document speaks of the
    system as it is, with the same components as its SBOM."""
    statements = []
    rows = findings_for(user).filter(system=system, component_key__in=list(components)).select_related("vulnerability")
    for finding in rows.order_by("pk").iterator(chunk_size=_CHUNK):
        status = "under_investigation" if finding.needs_confirmation else _STATUS[finding.state]
        if finding.state == FindingState.OPEN and finding.needs_confirmation:
            detail = finding.reason or "a low-confidence match awaiting the CSIRT's confirmation"
        elif finding.state == FindingState.NOT_AFFECTED:
            detail = finding.decision_note
        elif finding.state == FindingState.CLOSED:
            detail = finding.closed_reason
        else:
            detail = finding.evidence
        statements.append(
            VexStatement(
                vulnerability=finding.vulnerability.vuln_id,
                component_key=finding.component_key,
                status=status,
                first_issued=finding.first_seen,
                last_updated=max(t for t in (finding.last_seen, finding.decided_at, finding.confirmed_at) if t),
                justification=finding.justification if finding.state == FindingState.NOT_AFFECTED else "",
                detail=detail,
                aliases=tuple(a for a in finding.vulnerability.aliases if a != finding.vulnerability.vuln_id),
            )
        )
    return statements


def export_system_vex(user: Any, system: System, fmt: str) -> bytes:
    """One system's VEX, CycloneDX 1.6 or OpenVEX 0.2.0. The caller checks that the user may see the
    system; the statements are the findings the user may see."""
    if fmt not in VEX_FORMATS:
        raise InputError(f"unknown VEX format {fmt!r}; expected {' or '.join(VEX_FORMATS)}", field="format")
    records = [
        ComponentRecord(0, c.cpe, c.purl, c.part, c.vendor, c.product, c.version)
        for c in system.components.order_by("pk")
    ]
    components = {record.key: record for record in records}
    statements = vex_statements(user, system, components)
    now = timezone.now()
    if fmt == "cyclonedx":
        return write_cyclonedx_vex(system.name, records, statements, timestamp=now)
    author = system.organisation.name if system.organisation_id else "ISMP"
    return write_openvex(system.name, records, statements, timestamp=now, author=f"ISMP ({author})")


def vex_download(user: Any, system: System, fmt: str) -> HttpResponse:
    data = export_system_vex(user, system, fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in system.name)
    response["Content-Disposition"] = f'attachment; filename="{safe}{VEX_FORMATS[fmt]}"'
    return response
