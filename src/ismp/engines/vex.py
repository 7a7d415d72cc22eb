"""VEX documents for one system: CycloneDX 1.6 (a BOM with its vulnerabilities) and OpenVEX 0.2.0.

The caller hands in the system's components (:class:`~ismp.engines.inventory.records.ComponentRecord`) and
one :class:`VexStatement` per vulnerability × component. Statuses are OpenVEX's words and justifications
OpenVEX's (and CSAF's); the CycloneDX writer maps them:

=====================  =================  ==================================================
OpenVEX status         CycloneDX state    ISMP finding
=====================  =================  ==================================================
affected               exploitable        open
under_investigation    in_triage          open low-confidence match not confirmed by the CSIRT
not_affected           not_affected       marked not affected, with justification and note
fixed                  resolved           closed while the component is still there
=====================  =================  ==================================================

=================================================  ===============================
OpenVEX justification                              CycloneDX justification
=================================================  ===============================
component_not_present                              code_not_present
vulnerable_code_not_present                        code_not_present
vulnerable_code_not_in_execute_path                code_not_reachable
vulnerable_code_cannot_be_controlled_by_adversary  requires_environment
inline_mitigations_already_exist                   protected_by_mitigating_control
=================================================  ===============================

CycloneDX loses the difference between the first two; the OpenVEX word is kept in the vulnerability's
``properties`` (``ismp:justification``). The CycloneDX document is the system's SBOM as
:func:`~ismp.engines.inventory.sbom_writer.write_cyclonedx_json` writes it (same components, same
``bom-ref``: the component's key) with ``vulnerabilities`` added, so every ``affects[].ref`` resolves inside
the document and names the same component as the SBOM. OpenVEX names a product by its purl, else its
CPE, else ``urn:ismp:component:<key>``.

Both writers are deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.inventory.sbom_writer import write_cyclonedx_json

Status = Literal["affected", "not_affected", "fixed", "under_investigation"]
STATUSES: tuple[Status, ...] = ("affected", "not_affected", "fixed", "under_investigation")
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
CYCLONEDX_STATE: dict[str, str] = {
    "affected": "exploitable",
    "under_investigation": "in_triage",
    "not_affected": "not_affected",
    "fixed": "resolved",
}
CYCLONEDX_JUSTIFICATION: dict[str, str] = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
AFFECTED_ACTION = (
    "Update the component to a version that is not affected, or mitigate; the countermeasure is tracked in ISMP."
)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ismp.invalid/vex")


@dataclass(frozen=True, slots=True)
class VexStatement:
    """What is known about one vulnerability in one component of the system."""

    vulnerability: str  # CVE-…, or another source's id
    component_key: str  # ComponentRecord.key of one of the system's components
    status: Status
    first_issued: datetime
    last_updated: datetime
    justification: str = ""  # one of JUSTIFICATIONS, for not_affected
    detail: str = ""  # the note, the evidence, why it is in triage, or why it was closed
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"VEX status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if self.status == "not_affected" and self.justification not in JUSTIFICATIONS:
            raise ValueError(f"a not_affected statement needs a justification, not {self.justification!r}")


def write_cyclonedx_vex(
    name: str,
    components: Iterable[ComponentRecord],
    statements: Iterable[VexStatement],
    *,
    timestamp: datetime,
) -> bytes:
    """The system's CycloneDX 1.6 SBOM with one ``vulnerabilities`` entry per statement."""
    records = list(components)
    ordered = _ordered(statements, records)
    bom = json.loads(write_cyclonedx_json(name, records, timestamp=timestamp))
    vulnerabilities = [_cyclonedx_vulnerability(number, s) for number, s in enumerate(ordered, start=1)]
    bom["serialNumber"] = f"urn:uuid:{uuid.uuid5(_NAMESPACE, bom['serialNumber'] + _digest(vulnerabilities))}"
    bom["vulnerabilities"] = vulnerabilities
    return _dump(bom)


def _cyclonedx_vulnerability(number: int, statement: VexStatement) -> dict[str, object]:
    # "vulnerability-N" has no ":", so it cannot clash with a component key or the root's "system"
    item: dict[str, object] = {"bom-ref": f"vulnerability-{number}", "id": statement.vulnerability}
    if statement.vulnerability.startswith("CVE-"):
        item["source"] = {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{statement.vulnerability}"}
    if statement.aliases:
        item["references"] = [{"id": alias, "source": {"name": alias.split("-", 1)[0]}} for alias in statement.aliases]
    analysis: dict[str, object] = {"state": CYCLONEDX_STATE[statement.status]}
    if statement.status == "not_affected":
        analysis["justification"] = CYCLONEDX_JUSTIFICATION[statement.justification]
    if statement.detail:
        analysis["detail"] = statement.detail
    analysis["firstIssued"] = _utc(statement.first_issued)
    analysis["lastUpdated"] = _utc(statement.last_updated)
    item["analysis"] = analysis
    item["affects"] = [{"ref": statement.component_key}]
    if statement.justification:
        item["properties"] = [{"name": "ismp:justification", "value": statement.justification}]
    return item


def write_openvex(
    name: str,
    components: Iterable[ComponentRecord],
    statements: Iterable[VexStatement],
    *,
    timestamp: datetime,
    author: str = "ISMP",
) -> bytes:
    """An OpenVEX 0.2.0 document for the system ``name``: one statement per vulnerability × component."""
    records = list(components)
    by_key = {record.key: record for record in records}
    body = [_openvex_statement(s, by_key[s.component_key]) for s in _ordered(statements, records)]
    document: dict[str, object] = {
        "@context": OPENVEX_CONTEXT,
        "@id": f"urn:uuid:{uuid.uuid5(_NAMESPACE, name + _utc(timestamp) + _digest(body))}",
        "author": author,
        "timestamp": _utc(timestamp),
        "version": 1,
        "tooling": "ISMP",
        "statements": body,
    }
    return _dump(document)


def product_id(record: ComponentRecord) -> str:
    """The IRI that names a component in OpenVEX: purl, else CPE, else an ISMP URN of its key."""
    return record.purl or record.cpe or f"urn:ismp:component:{record.key}"


def _openvex_statement(statement: VexStatement, record: ComponentRecord) -> dict[str, object]:
    vulnerability: dict[str, object] = {"name": statement.vulnerability}
    if statement.aliases:
        vulnerability["aliases"] = list(statement.aliases)
    product: dict[str, object] = {"@id": product_id(record)}
    identifiers = {k: v for k, v in (("purl", record.purl), ("cpe23", record.cpe)) if v}
    if identifiers:
        product["identifiers"] = identifiers
    item: dict[str, object] = {
        "vulnerability": vulnerability,
        "timestamp": _utc(statement.last_updated),
        "products": [product],
        "status": statement.status,
    }
    if statement.status == "not_affected":
        item["justification"] = statement.justification
        if statement.detail:
            item["impact_statement"] = statement.detail
    elif statement.status == "affected":
        item["action_statement"] = AFFECTED_ACTION
        if statement.detail:
            item["status_notes"] = statement.detail
    elif statement.detail:
        item["status_notes"] = statement.detail
    return item


def _ordered(statements: Iterable[VexStatement], records: list[ComponentRecord]) -> list[VexStatement]:
    keys = {record.key for record in records}
    ordered = sorted(statements, key=lambda s: (s.vulnerability, s.component_key))
    unknown = sorted({s.component_key for s in ordered} - keys)
    if unknown:
        raise ValueError(f"statements name components the system does not have: {', '.join(unknown[:5])}")
    return ordered


def _digest(items: list[dict[str, object]]) -> str:
    return json.dumps(items, sort_keys=True, ensure_ascii=False)


def _utc(timestamp: datetime) -> str:
    if timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(document: dict[str, object]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
