"""Matching systems against vulnerabilities: the only code that writes findings.

``match_systems`` evaluates each system's whole component set against the applicability of every
vulnerability that names one of its products (``AffectedProductIndex``), with the pure engine
``ismp.engines.matching``, and brings the findings in line, one transaction per chunk of systems:

- a new match opens a finding with its evidence and confidence (low confidence: the CSIRT's
  "needs confirmation" queue);
- a match seen again refreshes ``last_seen`` (and its evidence when that changed); a closed finding
  whose match came back is reopened;
- an open finding whose match is gone is closed with the reason (component removed or upgraded, or the
  applicability no longer covers it);
- a "not affected" decision is kept as long as the component is the same: a component's identity
  includes its version, so an upgrade or downgrade makes a new finding to decide on.

Still to come (issue 4): CVE JSON 5 / OSV / Debian ranges, vendor aliases, incremental matching from
change events, VEX, exports and the 1-million-component benchmark.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from django.db import transaction
from django.utils import timezone

from ismp.apps.findings.choices import FindingState
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import Component, System
from ismp.apps.vulns.models import AffectedProductIndex, SourceRecord
from ismp.engines.feeds.base import Configuration, VulnRecord
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import CONFIDENCE_RANK, Match, evaluate

CHUNK = 200
_decoder = msgspec.json.Decoder(VulnRecord)


@dataclass
class MatchReport:
    systems: int = 0
    candidates: int = 0
    findings_new: int = 0
    findings_updated: int = 0
    findings_unchanged: int = 0
    findings_reopened: int = 0
    findings_closed: int = 0
    needs_confirmation: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _silent(_: str) -> None:
    return None


def match_systems(system_ids: Sequence[int] | None = None, progress: Callable[[str], None] = _silent) -> MatchReport:
    """Match the given systems (all when None) and bring their findings in line."""
    systems = System.objects.order_by("pk")
    if system_ids is not None:
        systems = systems.filter(pk__in=list(system_ids))
    ids = list(systems.values_list("pk", flat=True))
    report = MatchReport(systems=len(ids))
    configurations: dict[int, tuple[Configuration, ...]] = {}
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            _match_chunk(ids[start : start + CHUNK], configurations, report)
        progress(f"{min(start + CHUNK, len(ids)):,} of {len(ids):,} systems")
    return report


def _match_chunk(ids: list[int], cache: dict[int, tuple[Configuration, ...]], report: MatchReport) -> None:
    components: dict[int, list[ComponentRecord]] = defaultdict(list)
    component_pks: dict[tuple[int, str], int] = {}
    for pk, system_id, key, cpe, purl, part, vendor, product, version in Component.objects.filter(
        system_id__in=ids
    ).values_list("pk", "system_id", "key", "cpe", "purl", "part", "vendor", "product", "version"):
        components[system_id].append(ComponentRecord(0, cpe, purl, part, vendor, product, version))
        component_pks[(system_id, key)] = pk
    candidates = _candidates(components)
    report.candidates += sum(len(v) for v in candidates.values())
    _load_configurations({v for vulns in candidates.values() for v in vulns} - cache.keys(), cache)
    found: dict[tuple[int, int, str], Match] = {}
    for system_id, vuln_ids in candidates.items():
        for vuln_id in vuln_ids:
            for match in evaluate(cache.get(vuln_id, ()), components[system_id]):
                where = (system_id, vuln_id, match.component.key)
                kept = found.get(where)
                if kept is None or CONFIDENCE_RANK[match.confidence] > CONFIDENCE_RANK[kept.confidence]:
                    found[where] = match
    _apply(ids, found, component_pks, report)


def _candidates(components: dict[int, list[ComponentRecord]]) -> dict[int, set[int]]:
    """Per system, the vulnerabilities whose applicability names one of its vendor:product pairs."""
    products: dict[tuple[str, str], set[int]] = defaultdict(set)
    for system_id, records in components.items():
        for record in records:
            if record.product:
                products[(record.vendor.lower(), record.product.lower())].add(system_id)
    candidates: dict[int, set[int]] = defaultdict(set)
    names = sorted({product for _, product in products})
    for start in range(0, len(names), 500):
        for vuln_id, vendor, product in AffectedProductIndex.objects.filter(
            product__in=names[start : start + 500]
        ).values_list("vulnerability_id", "vendor", "product"):
            for system_id in products.get((vendor, product), ()):
                candidates[system_id].add(vuln_id)
    return candidates


def _load_configurations(vuln_ids: set[int], cache: dict[int, tuple[Configuration, ...]]) -> None:
    through = SourceRecord.vulnerabilities.through
    wanted = sorted(vuln_ids)
    for start in range(0, len(wanted), 500):
        rows = through.objects.filter(vulnerability_id__in=wanted[start : start + 500]).values_list(
            "vulnerability_id", "sourcerecord__data"
        )
        for vuln_id, data in rows:
            configurations = _decoder.decode(data).configurations
            if configurations:
                cache[vuln_id] = cache.get(vuln_id, ()) + configurations


def _apply(
    ids: list[int],
    found: dict[tuple[int, int, str], Match],
    component_pks: dict[tuple[int, str], int],
    report: MatchReport,
) -> None:
    now = timezone.now()
    existing = {
        (f.system_id, f.vulnerability_id, f.component_key): f for f in Finding.objects.filter(system_id__in=ids)
    }
    create, update = [], []
    for key, match in found.items():
        system_id, vuln_id, component_key = key
        values = {
            "component_id": component_pks.get((system_id, component_key)),
            "criterion": match.criterion[:600],
            "confidence": match.confidence,
            "reason": match.reason,
            "evidence": match.evidence,
        }
        finding = existing.get(key)
        if finding is None:
            create.append(
                Finding(
                    system_id=system_id,
                    vulnerability_id=vuln_id,
                    component_key=component_key,
                    first_seen=now,
                    last_seen=now,
                    **values,
                )
            )
            report.findings_new += 1
            report.needs_confirmation += match.confidence == "low"
            continue
        changed = any(getattr(finding, name) != value for name, value in values.items())
        if finding.state == FindingState.CLOSED:
            finding.state, finding.closed_reason = FindingState.OPEN, ""
            report.findings_reopened += 1
        elif changed:
            report.findings_updated += 1
        else:
            report.findings_unchanged += 1
        for name, value in values.items():
            setattr(finding, name, value)
        finding.last_seen = now
        update.append(finding)
    present = {(system_id, key) for system_id, key in component_pks}
    for key, finding in existing.items():
        if key in found or finding.state != FindingState.OPEN:
            continue
        finding.state = FindingState.CLOSED
        finding.closed_reason = (
            "no longer matched: the applicability no longer covers this component"
            if (finding.system_id, finding.component_key) in present
            else "the component was removed or its version changed"
        )
        update.append(finding)
        report.findings_closed += 1
    Finding.objects.bulk_create(create, batch_size=1000)
    fields = ["component_id", "criterion", "confidence", "reason", "evidence", "state", "closed_reason", "last_seen"]
    Finding.objects.bulk_update(update, fields, batch_size=1000)
