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
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from packageurl import PackageURL

from ismp.apps.bulk import db_datetime, insert_rows, update_rows, with_defaults
from ismp.apps.findings.choices import FindingState
from ismp.apps.findings.models import Finding, MatchState
from ismp.apps.findings.signals import findings_changed
from ismp.apps.inventory.models import Component, System
from ismp.apps.vulns.aliases import load_alias_table
from ismp.apps.vulns.models import AffectedProductIndex, ChangeEvent, SourceRecord, Vulnerability
from ismp.apps.vulns.signals import MATCHING_KINDS
from ismp.engines.cpe import plain
from ismp.engines.feeds.base import AffectedProduct, Configuration
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import CONFIDENCE_RANK, Match, component_name
from ismp.engines.matching.affected import Canonical, evaluate_affected
from ismp.engines.matching.aliases import AliasTable, normalise
from ismp.engines.matching.index import CriteriaIndex, is_pattern

CHUNK = 250  # systems per transaction (bounds the memory a full match needs)
_IN = 500  # values per IN (…) list


class _Applicability(msgspec.Struct):
    """The part of a stored VulnRecord that matching reads; everything else is skipped while decoding."""

    source: str = ""
    id: str = ""
    configurations: tuple[Configuration, ...] = ()
    affected: tuple[AffectedProduct, ...] = ()


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
    # where the time went, in seconds: reading systems and criteria, matching, writing findings
    seconds_reading: float = 0.0
    seconds_matching: float = 0.0
    seconds_writing: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


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
    if any(is_pattern(v) or is_pattern(p) for v, p in names):
        ids.update(System.objects.values_list("pk", flat=True))
    for chunk in _chunks(sorted(names)):
        ids.update(
            Component.objects.filter(
                vendor__in={vendor for vendor, _ in chunk}, product__in={product for _, product in chunk}
            ).values_list("system_id", flat=True)
        )
    return _run(sorted(ids), wanted, progress)


FULL_MATCH_ABOVE = 20_000  # changed vulnerabilities beyond which one full match is cheaper


def match_pending_changes(progress: Callable[[str], None] = _silent) -> MatchReport:
    """Match the vulnerabilities of every change event since the last run (``MatchState``), then move the
    mark. Interrupted, the next run matches the same events again: matching is idempotent."""
    state = MatchState.objects.first() or MatchState.objects.create()
    last = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    names = set(
        ChangeEvent.objects.filter(pk__gt=state.last_event, pk__lte=last, kind__in=MATCHING_KINDS).values_list(
            "vuln_id", flat=True
        )
    )
    if len(names) > FULL_MATCH_ABOVE:
        report = match_systems(progress=progress)
    else:
        pks: set[int] = set()
        for chunk in _chunks(sorted(names)):
            pks.update(Vulnerability.objects.filter(vuln_id__in=chunk).values_list("pk", flat=True))
        report = match_vulnerabilities(pks, progress)
    MatchState.objects.filter(pk=state.pk).update(last_event=last, matched_at=timezone.now())
    return report


# ------------------------------------------------------------------------------------------ the run


@dataclass
class _Run:
    only: set[int] | None  # the vulnerabilities to match (None: all)
    report: MatchReport
    aliases: AliasTable
    canonical: Canonical  # the aliases' comparison key, cached for the run
    product_vulns: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # (vendor, product) → vulns
    wildcard_vulns: set[int] = field(default_factory=set)
    checked: set[int] = field(default_factory=set)  # vulnerabilities whose index entry is current
    # affected[] statements (CVE JSON 5, OSV, Debian, JVN): name key → vulnerabilities, and each one's keys
    named_by: dict[str, set[int]] = field(default_factory=dict)
    names_of: dict[int, set[str]] = field(default_factory=dict)


def _run(ids: list[int], only: set[int] | None, progress: Callable[[str], None]) -> MatchReport:
    table = load_alias_table()
    run = _Run(only, MatchReport(systems=len(ids)), table, lru_cache(maxsize=None)(table.canonical))
    with _LOCK:
        facts = _facts(run.canonical, table)
        run.wildcard_vulns = facts.wildcard if only is None else facts.wildcard & only
        run.named_by, run.names_of = facts.named_by, facts.names_of
        for start in range(0, len(ids), CHUNK):
            with transaction.atomic():
                _match_chunk(ids[start : start + CHUNK], run)
            progress(f"{min(start + CHUNK, len(ids)):,} of {len(ids):,} systems")
    return run.report


def _match_chunk(ids: list[int], run: _Run) -> None:
    started = time.perf_counter()
    components, component_pks, keys = _components(ids, run.aliases)
    products = {_product(record) for records in components.values() for record in records}
    _learn_products(products - run.product_vulns.keys(), run)
    names = {record: _names(record, run.canonical) for records in components.values() for record in records}
    stated: dict[int, set[int]] = {}  # per system, the vulnerabilities whose affected[] names its software
    if run.named_by:
        for system_id, records in components.items():
            named = {v for r in records for name in names[r] for v in run.named_by.get(name, ())}
            stated[system_id] = named if run.only is None else named & run.only
    # the chunk's candidates: every vulnerability that names one of its products (or any product)
    candidates = set(run.wildcard_vulns).union(*(run.product_vulns[p] for p in products), *stated.values())
    run.report.candidates += len(candidates)
    _refresh(candidates - run.checked)
    read = time.perf_counter()
    run.report.seconds_reading += read - started
    run.checked |= candidates
    found: dict[tuple[int, int, str], Match] = {}
    cleared: dict[tuple[int, int, str], str] = {}

    def keep(where: tuple[int, int, str], match: Match) -> None:
        """The most confident match; among equals the first criterion in text order, so that a re-match
        keeps the same evidence whatever order the matches came in."""
        kept = found.get(where)
        if kept is None or _better(match, kept):
            found[where] = match

    for system_id, records in components.items():
        # only the candidates: checked against this database (the index may hold what another one said)
        for vuln_id, matches in _INDEX.match(records, candidates).items():
            for match in matches:
                keep((system_id, vuln_id, keys[match.component]), match)
        for vuln_id in stated.get(system_id, ()):
            concerned = [r for r in records if names[r] & run.names_of.get(vuln_id, set())]
            for source, advisory, affected in _STATEMENTS.get(vuln_id, ()):
                result = evaluate_affected(
                    affected, concerned, source=source, advisory=advisory, canonical=run.canonical
                )
                for match in result.matches:
                    keep((system_id, vuln_id, keys[match.component]), match)
                for record in concerned:
                    if record.key in result.cleared:
                        cleared[(system_id, vuln_id, keys[record])] = result.cleared[record.key]
    for where in cleared.keys() & found.keys():  # a distribution's fixed version beats the upstream range
        del found[where]
    matched = time.perf_counter()
    run.report.seconds_matching += matched - read
    _apply(ids, run.only, found, cleared, component_pks, run.report)
    run.report.seconds_writing += time.perf_counter() - matched


def _better(match: Match, kept: Match) -> bool:
    mine, theirs = CONFIDENCE_RANK[match.confidence], CONFIDENCE_RANK[kept.confidence]
    if mine != theirs:
        return mine > theirs
    return (match.criterion, match.evidence) < (kept.criterion, kept.evidence)


def _names(record: ComponentRecord, canonical: Canonical) -> frozenset[str]:
    """Keys under which affected[] statements may name this component: its product (alias-resolved and
    as written) and its package name. Generous on purpose: ``evaluate_affected`` decides."""
    pairs = [_product(record), (record.vendor, record.product)]
    if record.purl:
        try:
            package = PackageURL.from_string(record.purl)
        except ValueError:
            package = None
        if package is not None:
            pairs += [(package.namespace or "", package.name), ("", str(package.qualifiers.get("upstream", "")))]
    return frozenset(key for vendor, product in pairs if product for key in _keys(vendor, product, canonical))


def _keys(vendor: str, product: str, canonical: Canonical) -> tuple[str, ...]:
    return tuple(k for k in (canonical(vendor, product)[1], normalise(product)) if k)


@dataclass
class _Facts:
    """What the product index says that every run needs, kept while the index and the aliases stay the
    same: the vulnerabilities whose criteria name any product (patterns), and the affected[] statements'
    name keys (any source but NVD)."""

    stamp: tuple[Any, ...]
    wildcard: set[int] = field(default_factory=set)
    named_by: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    names_of: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


_FACTS = _Facts(stamp=())


def _facts(canonical: Canonical, table: object) -> _Facts:
    global _FACTS
    # a change of a record replaces its index rows: the last id moves
    stamp = (AffectedProductIndex.objects.aggregate(last=Max("pk"))["last"], id(table))
    if _FACTS.stamp == stamp:
        return _FACTS
    facts = _Facts(stamp)
    patterns = Q(vendor__contains="*") | Q(vendor__contains="?") | Q(product__contains="*") | Q(product__contains="?")
    facts.wildcard = set(AffectedProductIndex.objects.filter(patterns).values_list("vulnerability_id", flat=True))
    rows = AffectedProductIndex.objects.exclude(source="nvd").values_list("vulnerability_id", "vendor", "product")
    for vuln_id, vendor, product in rows.iterator(5000):
        for key in _keys(vendor, product, canonical):
            facts.named_by[key].add(vuln_id)
            facts.names_of[vuln_id].add(key)
    _FACTS = facts
    return facts


def _product(record: ComponentRecord) -> tuple[str, str]:
    """(vendor, product) as the product index spells them: from the CPE name, else the given names."""
    name = component_name(record)
    if name is None:
        return record.vendor.lower(), record.product.lower()
    return plain(name.vendor).lower(), plain(name.product).lower()


def _components(
    ids: list[int], aliases: AliasTable
) -> tuple[dict[int, list[ComponentRecord]], dict[tuple[int, str], int], dict[ComponentRecord, str]]:
    """The systems' components as the engine's records (one record per distinct identity, shared by the
    systems that have it), each component's primary key by (system, key), and each record's stored key.

    A component registered by name only (no CPE) whose vendor and product are a known alias is matched
    under NVD's names (the stored component keeps its own)."""
    components: dict[int, list[ComponentRecord]] = defaultdict(list)
    component_pks: dict[tuple[int, str], int] = {}
    records: dict[tuple[str, ...], ComponentRecord] = {}
    keys: dict[ComponentRecord, str] = {}
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
                known = None if cpe or not product else aliases.lookup(vendor, product)
                if known is not None:
                    vendor, product = known
                record = records[identity] = ComponentRecord(0, cpe, purl, part, vendor, product, version)
                keys[record] = key
            components[system_id].append(record)
            component_pks[(system_id, key)] = pk
    return components, component_pks, keys


def _learn_products(products: set[tuple[str, str]], run: _Run) -> None:
    """Which vulnerabilities name each (vendor, product)."""
    for pair in products:
        run.product_vulns[pair] = set()
    rows = AffectedProductIndex.objects.all()
    if run.only is not None:
        rows = rows.filter(vulnerability_id__in=run.only)
    for chunk in _chunks(sorted({name for _, name in products})):
        for vuln_id, vendor, name in rows.filter(product__in=chunk).values_list(
            "vulnerability_id", "vendor", "product"
        ):
            if (vendor, name) in run.product_vulns:
                run.product_vulns[(vendor, name)].add(vuln_id)


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN):
        yield values[start : start + _IN]


# ------------------------------------------------------------------------------- the shared index

_INDEX = CriteriaIndex()
_SIGNATURES: dict[int, frozenset[tuple[int, str]]] = {}  # vulnerability → its source records (id, digest)
# vulnerability → each source record's affected[] statements: (source, record id, statements)
_STATEMENTS: dict[int, list[tuple[str, str, tuple[AffectedProduct, ...]]]] = {}
_STAMP: tuple[Any, ...] = ()  # the source records' last id and last import time at the last refresh
_VERIFIED: set[int] = set()  # vulnerabilities whose entry was checked against the records since then
_LOCK = threading.Lock()  # one run at a time per process uses the index


def reset_index() -> None:
    """Forget every decoded criterion, as a new process starts (benchmarks measure a cold start with it)."""
    global _INDEX, _STAMP, _FACTS
    with _LOCK:
        _INDEX = CriteriaIndex()
        _FACTS = _Facts(stamp=())
        _SIGNATURES.clear()
        _STATEMENTS.clear()
        _VERIFIED.clear()
        _STAMP = ()


def _refresh(vuln_ids: set[int]) -> None:
    """Bring the index's entries for these vulnerabilities in line with their stored source records.

    An entry is checked by its records' ids and digests once; it stays verified while no source record is
    added or changed (the stamp: their last id and last import time; feeds never delete a record)."""
    global _STAMP
    stamp = tuple(SourceRecord.objects.aggregate(last=Max("pk"), at=Max("imported_at")).values())  # both indexed
    if stamp != _STAMP:
        _VERIFIED.clear()
        _STAMP = stamp
    unverified = [v for v in vuln_ids if v not in _VERIFIED]
    current = _signatures(unverified)
    stale = [v for v in unverified if _SIGNATURES.get(v) != frozenset(current.get(v, ()))]
    through = SourceRecord.vulnerabilities.through
    configurations: dict[int, list[Configuration]] = defaultdict(list)
    statements: dict[int, list[tuple[str, str, tuple[AffectedProduct, ...]]]] = defaultdict(list)
    for chunk in _chunks(sorted(stale)):
        for vuln_id, data in through.objects.filter(vulnerability_id__in=chunk).values_list(
            "vulnerability_id", "sourcerecord__data"
        ):
            record = _decoder.decode(data)
            configurations[vuln_id].extend(record.configurations)
            if record.affected:
                statements[vuln_id].append((record.source, record.id, record.affected))
    for vuln_id in stale:
        _INDEX.put(vuln_id, configurations.get(vuln_id, []))
        _STATEMENTS.pop(vuln_id, None)
        if vuln_id in statements:
            _STATEMENTS[vuln_id] = statements[vuln_id]
        _SIGNATURES[vuln_id] = frozenset(current.get(vuln_id, ()))
    _VERIFIED.update(unverified)


def _signatures(vuln_ids: Iterable[int]) -> dict[int, set[tuple[int, str]]]:
    through = SourceRecord.vulnerabilities.through
    current: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for chunk in _chunks(sorted(vuln_ids)):
        for vuln_id, record_id, digest in through.objects.filter(vulnerability_id__in=chunk).values_list(
            "vulnerability_id", "sourcerecord_id", "sourcerecord__digest"
        ):
            current[vuln_id].add((record_id, digest))
    return current


# ------------------------------------------------------------------------------------ the findings

_COLUMNS = ("component_id", "criterion", "confidence", "reason", "evidence")


def _apply(
    ids: list[int],
    only: set[int] | None,
    found: dict[tuple[int, int, str], Match],
    cleared: dict[tuple[int, int, str], str],
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
    changed: set[tuple[int, int]] = set()  # (system, vulnerability) pairs whose findings opened or closed
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
            changed.add((system_id, vuln_id))
            report.findings_new += 1
            report.needs_confirmation += match.confidence == "low"
            continue
        pk, state, old = had
        if state == FindingState.CLOSED:
            update.append((*values, FindingState.OPEN, "", now, pk))
            changed.add((system_id, vuln_id))
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
        if where in cleared:
            reason = f"not affected: {cleared[where]}"
        elif (where[0], where[2]) in present:
            reason = "no longer matched: the applicability no longer covers this component"
        else:
            reason = "the component was removed or its version changed"
        close.append((FindingState.CLOSED, reason, now, pk))
        changed.add((where[0], where[1]))
        report.findings_closed += 1
    columns = ("system_id", "vulnerability_id", "component_key", *_COLUMNS, "state", "closed_reason")
    insert_rows(Finding, *with_defaults(Finding, columns + ("first_seen", "last_seen"), create))
    update_rows(Finding, "id", (*_COLUMNS, "state", "closed_reason", "last_seen"), update)
    update_rows(Finding, "id", ("state", "closed_reason", "last_seen"), close)
    if changed:
        findings_changed.send(sender=Finding, pairs=changed)
