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

``match_vulnerabilities`` is the incremental run after a feed update: only the components that the
changed vulnerabilities' criteria hold for (found through the holdings, every system's components kept as
shared records), the systems holding them, and only those vulnerabilities' findings.

The index of decoded configurations lives as long as the process (the task runner's worker keeps it
warm); every run checks each vulnerability's source records (id and digest) and re-reads only those that
changed, so it is never stale, whatever process changed the database.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
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
from ismp.engines.matching.holdings import Holdings, Row
from ismp.engines.matching.index import CriteriaIndex

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
    return _run(ids, None, progress, every=system_ids is None)


def match_vulnerabilities(vuln_ids: Iterable[int], progress: Callable[[str], None] = _silent) -> MatchReport:
    """Match these vulnerabilities only, against every system, and bring their findings in line (a
    vulnerability that no longer names a system's product closes its findings).

    Only the components these vulnerabilities can concern are looked at: the records filed under a product
    they name (or under a name their affected[] statements use; every record if a criterion names any
    product), of those the ones satisfying one of their criteria (the index says), and the systems holding
    those. The result is what ``match_systems`` gives for these vulnerabilities: a vulnerability's
    criteria can only be satisfied by components of the products they name."""
    wanted = set(vuln_ids)
    if not wanted:
        return MatchReport()
    table = load_alias_table()
    run = _Run(wanted, MatchReport(), table, lru_cache(maxsize=None)(table.canonical))
    with _LOCK:
        started = time.perf_counter()
        facts = _facts(run.canonical, table)
        holdings = _holdings(run)
        _refresh(wanted)
        labels: set[Hashable] = set()
        for chunk in _chunks(sorted(wanted)):
            labels.update(
                AffectedProductIndex.objects.filter(vulnerability_id__in=chunk).values_list("vendor", "product")
            )
        stated = {v: facts.names_of[v] for v in wanted if v in facts.names_of}
        stated_names: set[Hashable] = {name for names in stated.values() for name in names}
        labels |= stated_names
        if facts.wildcard & wanted:
            records: Iterable[ComponentRecord] = holdings.records()
        else:
            records = holdings.labelled(labels)
        systems: dict[int, list[ComponentRecord]] = defaultdict(list)
        for record in records:
            if _INDEX.concerns(record, wanted) or not stated_names.isdisjoint(holdings.labels(record)):
                for system_id in holdings.holders(record):
                    systems[system_id].append(record)
        run.report.systems, run.report.candidates = len(systems), len(wanted)
        read = time.perf_counter()
        run.report.seconds_reading += read - started
        found: dict[tuple[int, int, str], Match] = {}
        cleared: dict[tuple[int, int, str], str] = {}
        for system_id, by_vuln in _INDEX.match_many(systems, wanted):
            key_of = partial(_key_of, holdings, system_id)
            held = systems[system_id]
            _match_system(system_id, held, by_vuln, stated, run, found, cleared, key_of, holdings.labels)
        for where in cleared.keys() & found.keys():  # a distribution's fixed version beats the upstream range
            del found[where]
        matched = time.perf_counter()
        run.report.seconds_matching += matched - read
        with transaction.atomic():
            current = _current("vulnerability_id", sorted(wanted))
            _apply(current, found, cleared, _Stored(holdings), run.report)
        run.report.seconds_writing += time.perf_counter() - matched
    progress(f"{len(wanted):,} vulnerabilities against {run.report.systems:,} systems")
    return run.report


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
    holdings: Holdings | None = None  # kept in line with the systems read, when kept
    facts: _Facts = field(default_factory=lambda: _Facts(stamp=()))


def _run(ids: list[int], only: set[int] | None, progress: Callable[[str], None], every: bool) -> MatchReport:
    """Match the systems ``ids`` chunk by chunk (``every``: they are all the systems there are)."""
    table = load_alias_table()
    run = _Run(only, MatchReport(systems=len(ids)), table, lru_cache(maxsize=None)(table.canonical))
    with _LOCK:
        facts = run.facts = _facts(run.canonical, table)
        run.wildcard_vulns = facts.wildcard if only is None else facts.wildcard & only
        run.named_by, run.names_of = facts.named_by, facts.names_of
        # every system's components are read anyway: the holdings come for free (see _holdings)
        if every:
            stamp = _inventory_stamp()
            run.holdings = _new_holdings(run)
        elif _HOLDINGS is not None and table is _HOLDINGS_ALIASES:
            run.holdings = _HOLDINGS
        for start in range(0, len(ids), CHUNK):
            with transaction.atomic():
                _match_chunk(ids[start : start + CHUNK], run)
            progress(f"{min(start + CHUNK, len(ids)):,} of {len(ids):,} systems")
        if every and run.holdings is not None:
            _keep_holdings(run.holdings, table, stamp[2])
            # The index and the holdings are now millions of long-lived objects: out of the cyclic
            # collector's sight, or its next full collection pauses an incremental run for seconds. What the
            # previous full match froze is unfrozen first, so its index, now dropped, is collected.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        elif run.holdings is not None and ids:  # they know these systems' last change now
            changed = _last_change(ids)
            if changed is not None and (_HOLDINGS_CHANGED is None or changed > _HOLDINGS_CHANGED):
                _keep_holdings(run.holdings, table, changed)
    return run.report


def _match_chunk(ids: list[int], run: _Run) -> None:
    started = time.perf_counter()
    rows = _components(ids, run.aliases)
    if run.holdings is not None:
        for system_id in ids:
            run.holdings.replace(system_id, rows.get(system_id, ()))
    components = {system_id: [record for _, _, record in held] for system_id, held in rows.items()}
    component_pks = {(system_id, key): pk for system_id, held in rows.items() for pk, key, _ in held}
    products = {_product(record) for records in components.values() for record in records}
    _learn_products(products - run.product_vulns.keys(), run)
    names: dict[ComponentRecord, frozenset[str]] = {}
    stated: dict[int, set[int]] = {}  # per system, the vulnerabilities whose affected[] names its software
    if run.named_by:
        names = {record: _names(record, run.canonical) for records in components.values() for record in records}
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
    for system_id, records in components.items():
        keys = {record: key for _, key, record in rows[system_id]}
        statements = {v: run.names_of.get(v, set()) for v in stated.get(system_id, ())}
        # only the candidates: checked against this database (the index may hold what another one said)
        named_as = names.__getitem__
        by_vuln = _INDEX.match(records, candidates)
        _match_system(system_id, records, by_vuln, statements, run, found, cleared, keys.__getitem__, named_as)
    for where in cleared.keys() & found.keys():  # a distribution's fixed version beats the upstream range
        del found[where]
    matched = time.perf_counter()
    run.report.seconds_matching += matched - read
    current = _current("system_id", ids)
    if run.only is not None:
        current = {where: had for where, had in current.items() if where[1] in run.only}
    _apply(current, found, cleared, component_pks, run.report)
    run.report.seconds_writing += time.perf_counter() - matched


def _match_system(
    system_id: int,
    records: list[ComponentRecord],
    by_vuln: dict[int, list[Match]],
    statements: Mapping[int, set[str]],
    run: _Run,
    found: dict[tuple[int, int, str], Match],
    cleared: dict[tuple[int, int, str], str],
    key_of: Callable[[ComponentRecord], str],
    names_of: Callable[[ComponentRecord], Collection[Hashable]],
) -> None:
    """One system's matches kept in ``found``: the index's (``by_vuln``, NVD criteria) and those of the
    affected[] statements of ``statements`` (vulnerability → its name keys); what a distribution's fixed
    version clears goes to ``cleared`` and beats any upstream range."""

    def keep(where: tuple[int, int, str], match: Match) -> None:
        """The most confident match; among equals the first criterion in text order, so that a re-match
        keeps the same evidence whatever order the matches came in."""
        kept = found.get(where)
        if kept is None or _better(match, kept):
            found[where] = match

    for vuln_id, matches in by_vuln.items():
        for match in matches:
            keep((system_id, vuln_id, key_of(match.component)), match)
    for vuln_id, names in statements.items():
        concerned = [r for r in records if not names.isdisjoint(names_of(r))]
        if not concerned:
            continue
        for source, advisory, affected in _STATEMENTS.get(vuln_id, ()):
            result = evaluate_affected(affected, concerned, source=source, advisory=advisory, canonical=run.canonical)
            for match in result.matches:
                keep((system_id, vuln_id, key_of(match.component)), match)
            for record in concerned:
                if record.key in result.cleared:
                    cleared[(system_id, vuln_id, key_of(record))] = result.cleared[record.key]


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
    same: the vulnerabilities whose criteria name any product (patterns), the affected[] statements'
    name keys (any source but NVD), and the vulnerabilities naming each product asked for so far."""

    stamp: tuple[Any, ...]
    wildcard: set[int] = field(default_factory=set)
    named_by: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    names_of: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    products: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # learnt as runs need them


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


def _components(ids: list[int] | None, aliases: AliasTable) -> dict[int, list[Row]]:
    """The systems' components (every system's when ``ids`` is None), each as (primary key, stored key,
    the engine's record); one record per distinct identity, shared by the systems that have it.

    A component registered by name only (no CPE) whose vendor and product are a known alias is matched
    under NVD's names (the stored component keeps its own)."""
    rows: dict[int, list[Row]] = defaultdict(list)
    records: dict[tuple[str, ...], ComponentRecord] = {}
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c) for c in ("id", "system_id", "key", "cpe", "purl", "part", "vendor", "product", "version")
    )
    where = "" if ids is None else f"WHERE system_id IN ({', '.join(['%s'] * len(ids))})"
    sql = f"SELECT {columns} FROM {quote(Component._meta.db_table)} {where}"  # noqa: S608 — names from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, ids or [])
        for pk, system_id, key, cpe, purl, part, vendor, product, version in cursor.fetchall():
            identity = (cpe, purl, part, vendor, product, version)
            record = records.get(identity)
            if record is None:
                known = None if cpe or not product else aliases.lookup(vendor, product)
                if known is not None:
                    vendor, product = known
                record = records[identity] = ComponentRecord(0, cpe, purl, part, vendor, product, version)
            rows[system_id].append((pk, key, record))
    return rows


def _learn_products(products: set[tuple[str, str]], run: _Run) -> None:
    """Which vulnerabilities name each (vendor, product): read once while the product index stays the same
    (``_Facts``), so that matching one system does not read every vulnerability of its products again."""
    known = run.facts.products
    missing = products - known.keys()
    for pair in missing:
        known[pair] = set()
    for chunk in _chunks(sorted({name for _, name in missing})):
        for vuln_id, vendor, name in AffectedProductIndex.objects.filter(product__in=chunk).values_list(
            "vulnerability_id", "vendor", "product"
        ):
            if (vendor, name) in missing:
                known[(vendor, name)].add(vuln_id)
    for pair in products:
        run.product_vulns[pair] = known[pair] if run.only is None else known[pair] & run.only


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN):
        yield values[start : start + _IN]


# --------------------------------------------------------------------------------- the holdings

_HOLDINGS: Holdings | None = None  # every system's components, for incremental runs (see _holdings)
_HOLDINGS_ALIASES: AliasTable | None = None  # the alias table their records and labels were made with
_HOLDINGS_CHANGED: Any = None  # the last change of a system they know of (System.updated_at)


def _holdings(run: _Run) -> Holdings:
    """The holdings, current. A full match leaves them behind and a match of some systems replaces those
    systems' components in them; every change of a system's software through the inventory services
    triggers a match of that system (``components_changed``) and moves its ``updated_at``. Before each use
    the component rows' count and last id and the systems' last change are compared with what the holdings
    know: on any difference (rows written around the services, another process's change not matched yet)
    they are read anew."""
    rows, last, changed = _inventory_stamp()
    held = _HOLDINGS
    if (
        held is None
        or run.aliases is not _HOLDINGS_ALIASES
        or (held.rows, held.last, _HOLDINGS_CHANGED) != (rows, last or 0, changed)
    ):
        held = _new_holdings(run)
        for system_id, components in _components(None, run.aliases).items():
            held.replace(system_id, components)
        _keep_holdings(held, run.aliases, changed)
    return held


def _inventory_stamp() -> tuple[int, int | None, Any]:
    """The component rows' count and last id, and the last change of a system (one round trip)."""
    quote = connection.ops.quote_name
    components, systems = quote(Component._meta.db_table), quote(System._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {components}), (SELECT MAX(id) FROM {components}), "  # noqa: S608
            f"(SELECT MAX(updated_at) FROM {systems})"
        )
        rows, last, changed = cursor.fetchone()
    return rows, last, changed


def _last_change(ids: list[int]) -> Any:
    """The last change of these systems, as ``_inventory_stamp`` reads it."""
    quote = connection.ops.quote_name
    changed = None
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT MAX(updated_at) FROM {quote(System._meta.db_table)} WHERE id IN ({marks})",  # noqa: S608
                chunk,
            )
            (value,) = cursor.fetchone()
            if value is not None and (changed is None or value > changed):
                changed = value
    return changed


def _new_holdings(run: _Run) -> Holdings:
    return Holdings(partial(_labels, canonical=run.canonical))


def _keep_holdings(held: Holdings, aliases: AliasTable, changed: Any) -> None:
    global _HOLDINGS, _HOLDINGS_ALIASES, _HOLDINGS_CHANGED
    _HOLDINGS, _HOLDINGS_ALIASES, _HOLDINGS_CHANGED = held, aliases, changed


def _labels(record: ComponentRecord, canonical: Canonical) -> frozenset[Hashable]:
    """Where the holdings file a record: its product as the product index spells it, and the names
    affected[] statements may use for it."""
    return frozenset((_product(record), *_names(record, canonical)))


def _key_of(holdings: Holdings, system_id: int, record: ComponentRecord) -> str:
    return holdings.holders(record)[system_id]


class _Stored(Mapping[tuple[int, str], int]):
    """The holdings as ``_apply`` reads components: (system, stored key) → primary key."""

    def __init__(self, holdings: Holdings) -> None:
        self._holdings = holdings

    def __getitem__(self, where: tuple[int, str]) -> int:
        pk = self._holdings.pk(*where)
        if pk is None:
            raise KeyError(where)
        return pk

    def get(self, where: tuple[int, str], default: Any = None) -> Any:
        pk = self._holdings.pk(*where)
        return default if pk is None else pk

    def __contains__(self, where: object) -> bool:
        return isinstance(where, tuple) and self._holdings.pk(*where) is not None

    def __iter__(self) -> Iterator[tuple[int, str]]:  # not needed by _apply: every system's every component
        raise NotImplementedError

    def __len__(self) -> int:
        return self._holdings.rows


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
    global _INDEX, _STAMP, _FACTS, _HOLDINGS
    with _LOCK:
        _INDEX = CriteriaIndex()
        _HOLDINGS = None
        _FACTS = _Facts(stamp=())
        _SIGNATURES.clear()
        _STATEMENTS.clear()
        _VERIFIED.clear()
        _STAMP = ()


def _refresh(vuln_ids: set[int]) -> None:
    """Bring the index's entries for these vulnerabilities in line with their stored source records.

    An entry is checked by its records' ids and digests once; it stays verified while none of its source
    records is added or changed. The stamp (the records' last id and last import time; feeds never delete a
    record) says whether any was: then only the vulnerabilities of the records added or imported since the
    last stamp are checked again, not the whole index."""
    global _STAMP
    stamp = tuple(SourceRecord.objects.aggregate(last=Max("pk"), at=Max("imported_at")).values())  # both indexed
    through = SourceRecord.vulnerabilities.through
    if stamp != _STAMP:
        if _STAMP and _STAMP[1] is not None:  # only the vulnerabilities of records added or imported since
            last, at = _STAMP
            since = set(SourceRecord.objects.filter(imported_at__gte=at).values_list("pk", flat=True))
            since.update(SourceRecord.objects.filter(pk__gt=last).values_list("pk", flat=True))
            for chunk in _chunks(sorted(since)):
                rows = through.objects.filter(sourcerecord_id__in=chunk)
                _VERIFIED.difference_update(rows.values_list("vulnerability_id", flat=True))
        else:
            _VERIFIED.clear()
        _STAMP = stamp
    unverified = [v for v in vuln_ids if v not in _VERIFIED]
    current = _signatures(unverified)
    stale = [v for v in unverified if _SIGNATURES.get(v) != frozenset(current.get(v, ()))]
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


_Current = dict[tuple[int, int, str], tuple[int, str, list[Any]]]  # (system, vuln, key) → (pk, state, values)


def _current(column: str, values: list[int]) -> _Current:
    """The findings a run may change (those whose ``column``, system_id or vulnerability_id, is one of the
    values), as ``_apply`` compares them; read without the ORM, as a feed delta reads tens of thousands."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("id", "system_id", "vulnerability_id", "component_key", "state", *_COLUMNS))
    current: _Current = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            cursor.execute(
                f"SELECT {columns} FROM {quote(Finding._meta.db_table)} "  # noqa: S608 — names from the model
                f"WHERE {quote(column)} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for pk, system_id, vuln_id, key, state, *stored in cursor.fetchall():
                current[(system_id, vuln_id, key)] = (pk, state, stored)
    return current


def _apply(
    current: _Current,
    found: dict[tuple[int, int, str], Match],
    cleared: dict[tuple[int, int, str], str],
    component_pks: Mapping[tuple[int, str], int],
    report: MatchReport,
) -> None:
    """Bring the ``current`` findings in line with what was ``found``: open, update, reopen, close."""
    now = db_datetime(timezone.now())
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
    for where, (pk, state, _) in current.items():
        if where in found or state != FindingState.OPEN:
            continue
        if where in cleared:
            reason = f"not affected: {cleared[where]}"
        elif (where[0], where[2]) in component_pks:
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
