"""Matching systems against vulnerabilities: the only code that writes findings from matches.

``match_systems`` evaluates each system's whole component set against the applicability of every
vulnerability that names one of its products (``AffectedProductIndex``), with the pure engine
``ismp.engines.matching`` (its :class:`CriteriaIndex` judges each distinct component once for all the
systems that have it), and brings the findings in line, one transaction per chunk of systems:

- a new match opens a finding with its evidence and confidence (low confidence: the CSIRT's
  "needs confirmation" queue);
- a match seen again whose evidence changed is updated; one that did not change writes nothing
  (``last_seen`` is when the finding last changed or came back); a closed finding whose match came back
  is reopened;
- an open finding whose match is gone is closed with the reason (component removed or upgraded, or the
  applicability no longer covers it);
- a "not affected" decision is kept as long as the component is the same: a component's identity
  includes its version, so an upgrade or downgrade makes a new finding to decide on.

``match_vulnerabilities`` is the incremental run after a feed update: only the systems holding a product
that the changed vulnerabilities name, and only those vulnerabilities' findings.

The index of decoded configurations lives as long as the process (the task runner's worker keeps it
warm); every run checks each vulnerability's source records (id and digest) and re-reads only those that
changed, so it is never stale, whatever process changed the database.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ismp.apps.bulk import db_datetime, insert_rows, update_rows, with_defaults
from ismp.apps.findings.choices import FindingState
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import Component, System
from ismp.apps.vulns.models import AffectedProductIndex, SourceRecord
from ismp.engines.cpe import plain
from ismp.engines.feeds.base import Configuration
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import CONFIDENCE_RANK, Match, component_name
from ismp.engines.matching.index import CriteriaIndex

CHUNK = 1000  # systems per transaction
_IN = 500  # values per IN (…) list


class _Applicability(msgspec.Struct):
    """The part of a stored VulnRecord that matching reads; everything else is skipped while decoding."""

    configurations: tuple[Configuration, ...] = ()


_decoder = msgspec.json.Decoder(_Applicability)


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
    """Match the given systems (all when None) against every vulnerability and bring their findings in line."""
    systems = System.objects.order_by("pk")
    if system_ids is not None:
        systems = systems.filter(pk__in=list(system_ids))
    ids = list(systems.values_list("pk", flat=True))
    return _run(ids, None, progress)


def match_vulnerabilities(vuln_ids: Iterable[int], progress: Callable[[str], None] = _silent) -> MatchReport:
    """Match every system that holds a product these vulnerabilities name against them only, and bring
    those findings in line (a vulnerability that no longer names a system's product closes its findings)."""
    wanted = set(vuln_ids)
    if not wanted:
        return MatchReport()
    names: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted(wanted)):
        names.update(AffectedProductIndex.objects.filter(vulnerability_id__in=chunk).values_list("vendor", "product"))
    ids: set[int] = set(
        Finding.objects.filter(vulnerability_id__in=wanted, state=FindingState.OPEN).values_list("system_id", flat=True)
    )
    if any(_is_pattern(v) or _is_pattern(p) for v, p in names):
        ids.update(System.objects.values_list("pk", flat=True))
    for chunk in _chunks(sorted(names)):
        ids.update(
            Component.objects.filter(
                vendor__in={vendor for vendor, _ in chunk}, product__in={product for _, product in chunk}
            ).values_list("system_id", flat=True)
        )
    return _run(sorted(ids), wanted, progress)


# ------------------------------------------------------------------------------------------ the run


@dataclass
class _Run:
    only: set[int] | None  # the vulnerabilities to match (None: all)
    report: MatchReport
    product_vulns: dict[str, set[tuple[str, int]]] = field(default_factory=dict)  # product → (vendor, vuln)
    wildcard_vulns: set[int] = field(default_factory=set)
    checked: set[int] = field(default_factory=set)  # vulnerabilities whose index entry is current


def _run(ids: list[int], only: set[int] | None, progress: Callable[[str], None]) -> MatchReport:
    run = _Run(only, MatchReport(systems=len(ids)))
    with _LOCK:
        run.wildcard_vulns = _wildcard_vulns(only)
        for start in range(0, len(ids), CHUNK):
            with transaction.atomic():
                _match_chunk(ids[start : start + CHUNK], run)
            progress(f"{min(start + CHUNK, len(ids)):,} of {len(ids):,} systems")
    return run.report


def _match_chunk(ids: list[int], run: _Run) -> None:
    components, component_pks = _components(ids)
    products = {record: _product(record) for records in components.values() for record in records}
    _learn_products({product for _, product in products.values()} - run.product_vulns.keys(), run)
    candidates: dict[int, set[int]] = {}
    for system_id, records in components.items():
        vulns = set(run.wildcard_vulns)
        for record in records:
            vendor, product = products[record]
            vulns.update(vuln for named, vuln in run.product_vulns.get(product, ()) if named == vendor)
        candidates[system_id] = vulns
        run.report.candidates += len(vulns)
    _refresh({v for vulns in candidates.values() for v in vulns} - run.checked)
    run.checked.update(v for vulns in candidates.values() for v in vulns)
    found: dict[tuple[int, int, str], Match] = {}
    for system_id, records in components.items():
        wanted = candidates[system_id]
        for vuln_id, matches in _INDEX.match(records).items():
            if vuln_id not in wanted:
                continue
            for match in matches:
                where = (system_id, vuln_id, match.component.key)
                kept = found.get(where)
                if kept is None or CONFIDENCE_RANK[match.confidence] > CONFIDENCE_RANK[kept.confidence]:
                    found[where] = match
    _apply(ids, run.only, found, component_pks, run.report)


def _product(record: ComponentRecord) -> tuple[str, str]:
    """(vendor, product) as the product index spells them: from the CPE name, else the given names."""
    name = component_name(record)
    if name is None:
        return record.vendor.lower(), record.product.lower()
    return plain(name.vendor).lower(), plain(name.product).lower()


def _components(ids: list[int]) -> tuple[dict[int, list[ComponentRecord]], dict[tuple[int, str], int]]:
    """The systems' components as the engine's records (one record per distinct identity, shared by the
    systems that have it) and each component's primary key by (system, key)."""
    components: dict[int, list[ComponentRecord]] = defaultdict(list)
    component_pks: dict[tuple[int, str], int] = {}
    records: dict[tuple[str, ...], ComponentRecord] = {}
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c) for c in ("id", "system_id", "key", "cpe", "purl", "part", "vendor", "product", "version")
    )
    sql = (
        f"SELECT {columns} FROM {quote(Component._meta.db_table)} "  # noqa: S608 — names from the model
        f"WHERE system_id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for pk, system_id, key, cpe, purl, part, vendor, product, version in cursor.fetchall():
            identity = (cpe, purl, part, vendor, product, version)
            record = records.get(identity)
            if record is None:
                record = records[identity] = ComponentRecord(0, *identity)
            components[system_id].append(record)
            component_pks[(system_id, key)] = pk
    return components, component_pks


def _learn_products(products: set[str], run: _Run) -> None:
    """Which vulnerabilities name each product (any vendor); the chunk's systems pick theirs by vendor."""
    for product in products:
        run.product_vulns[product] = set()
    rows = AffectedProductIndex.objects.all()
    if run.only is not None:
        rows = rows.filter(vulnerability_id__in=run.only)
    for chunk in _chunks(sorted(products)):
        for vuln_id, vendor, product in rows.filter(product__in=chunk).values_list(
            "vulnerability_id", "vendor", "product"
        ):
            run.product_vulns[product].add((vendor, vuln_id))


def _wildcard_vulns(only: set[int] | None) -> set[int]:
    """Vulnerabilities with a criterion whose vendor or product is ANY or a pattern: every system's candidate."""
    rows = AffectedProductIndex.objects.filter(
        Q(vendor__contains="*") | Q(vendor__contains="?") | Q(product__contains="*") | Q(product__contains="?")
    )
    found = set(rows.values_list("vulnerability_id", flat=True))
    return found if only is None else found & only


def _is_pattern(value: str) -> bool:
    return "*" in value or "?" in value


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN):
        yield values[start : start + _IN]


# ------------------------------------------------------------------------------- the shared index

_INDEX = CriteriaIndex()
_SIGNATURES: dict[int, frozenset[tuple[int, str]]] = {}  # vulnerability → its source records (id, digest)
_LOCK = threading.Lock()  # one run at a time per process uses the index


def _refresh(vuln_ids: set[int]) -> None:
    """Bring the index's entries for these vulnerabilities in line with their stored source records."""
    through = SourceRecord.vulnerabilities.through
    current: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for chunk in _chunks(sorted(vuln_ids)):
        for vuln_id, record_id, digest in through.objects.filter(vulnerability_id__in=chunk).values_list(
            "vulnerability_id", "sourcerecord_id", "sourcerecord__digest"
        ):
            current[vuln_id].add((record_id, digest))
    stale = [v for v in vuln_ids if _SIGNATURES.get(v) != frozenset(current.get(v, ()))]
    configurations: dict[int, list[Configuration]] = defaultdict(list)
    for chunk in _chunks(sorted(stale)):
        for vuln_id, data in through.objects.filter(vulnerability_id__in=chunk).values_list(
            "vulnerability_id", "sourcerecord__data"
        ):
            configurations[vuln_id].extend(_decoder.decode(data).configurations)
    for vuln_id in stale:
        _INDEX.put(vuln_id, configurations.get(vuln_id, []))
        _SIGNATURES[vuln_id] = frozenset(current.get(vuln_id, ()))


# ------------------------------------------------------------------------------------ the findings

_COLUMNS = ("component_id", "criterion", "confidence", "reason", "evidence")


def _apply(
    ids: list[int],
    only: set[int] | None,
    found: dict[tuple[int, int, str], Match],
    component_pks: dict[tuple[int, str], int],
    report: MatchReport,
) -> None:
    now = db_datetime(timezone.now())
    existing = Finding.objects.filter(system_id__in=ids)
    if only is not None:
        existing = existing.filter(vulnerability_id__in=only)
    current = {
        (system_id, vuln_id, key): (pk, state, values)
        for pk, system_id, vuln_id, key, state, *values in existing.values_list(
            "pk", "system_id", "vulnerability_id", "component_key", "state", *_COLUMNS
        )
    }
    create: list[tuple[Any, ...]] = []
    update: list[tuple[Any, ...]] = []
    close: list[tuple[Any, ...]] = []
    for where, match in found.items():
        system_id, vuln_id, component_key = where
        values = [
            component_pks.get((system_id, component_key)),
            match.criterion[:600],
            match.confidence,
            match.reason,
            match.evidence,
        ]
        had = current.get(where)
        if had is None:
            create.append((system_id, vuln_id, component_key, *values, FindingState.OPEN, "", now, now))
            report.findings_new += 1
            report.needs_confirmation += match.confidence == "low"
            continue
        pk, state, old = had
        if state == FindingState.CLOSED:
            update.append((*values, FindingState.OPEN, "", now, pk))
            report.findings_reopened += 1
        elif list(old) != values:
            update.append((*values, state, "", now, pk))
            report.findings_updated += 1
        else:
            report.findings_unchanged += 1
    present = {(system_id, key) for system_id, key in component_pks}
    for where, (pk, state, _) in current.items():
        if where in found or state != FindingState.OPEN:
            continue
        reason = (
            "no longer matched: the applicability no longer covers this component"
            if (where[0], where[2]) in present
            else "the component was removed or its version changed"
        )
        close.append((FindingState.CLOSED, reason, now, pk))
        report.findings_closed += 1
    columns = ("system_id", "vulnerability_id", "component_key", *_COLUMNS, "state", "closed_reason")
    insert_rows(Finding, *with_defaults(Finding, columns + ("first_seen", "last_seen"), create))
    update_rows(Finding, "id", (*_COLUMNS, "state", "closed_reason", "last_seen"), update)
    update_rows(Finding, "id", ("state", "closed_reason", "last_seen"), close)
