"""Importing vulnerability intelligence: the only code that writes vulnerabilities, evidence and scores.

``import_feed(source, paths)`` reads each file with the source's adapter and applies it in one
transaction per file: a bad file changes nothing (files before it stay imported, and running the import
again finishes the job). Within a file, records are handled in batches:

- a source record whose content (digest) is unchanged is skipped: re-importing writes nothing;
- a new or changed record is stored as it came (provenance), linked to the vulnerabilities it speaks
  about (its CVE ids, else its own id), and each of those vulnerabilities is merged again from all of
  its sources (``ismp.engines.feeds.merge``);
- what changed is recorded as typed change events (new vulnerability, applicability, severity, rejected,
  added to KEV, exploit published, EPSS jump) for matching and notifications to react to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ismp import __version__
from ismp.apps.audit import services as audit
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor
from ismp.apps.bulk import db_datetime, db_json, insert_rows, update_rows
from ismp.apps.vulns.choices import ChangeKind, EvidenceSource
from ismp.apps.vulns.models import (
    MERGED_FIELDS,
    AffectedProductIndex,
    ChangeEvent,
    EpssScore,
    ExploitEvidence,
    FeedState,
    SourceRecord,
    Vulnerability,
)
from ismp.apps.vulns.parsing import Encoded, Item, encode, parsed_files
from ismp.apps.vulns.signals import MATCHING_KINDS, applicability_changed, vulnerabilities_changed
from ismp.engines.cpe import CpeSyntaxError, parse_cpe, plain
from ismp.engines.feeds.base import EpssScore as EpssRecord
from ismp.engines.feeds.base import ExploitRecord, UpdateContext, VulnRecord, all_criteria
from ismp.engines.feeds.merge import MergedVulnerability, merge, vulnerability_ids
from ismp.engines.feeds.registry import online_registry, registry
from ismp.errors import FeedUnavailable, Forbidden, InputError, IsmpError

BATCH = 2000
EPSS_JUMP = 0.1  # an absolute rise of the EPSS probability that is worth telling people about
EVIDENCE_KIND = {"kev": ChangeKind.ADDED_TO_KEV}

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(VulnRecord)
Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass
class FeedReport:
    source: str
    files: list[str] = field(default_factory=list)
    records_read: int = 0
    records_new: int = 0
    records_changed: int = 0
    records_unchanged: int = 0
    vulnerabilities_new: int = 0
    vulnerabilities_updated: int = 0
    evidence_new: int = 0
    evidence_enriched: int = 0
    epss_new: int = 0
    epss_changed: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_feed(source: str, paths: Sequence[Path], progress: Progress = _silent) -> FeedReport:
    """Import ``paths`` with the adapter registered as ``source``; see the module docstring."""
    registry.get(source)  # an unknown source is named before anything is recorded
    for path in paths:
        if not path.exists():
            raise InputError("no such file or directory", file=str(path))
    report = FeedReport(source=source)
    _touch_state(source, attempt=True)
    newest: dt.datetime | None = None
    try:
        for path, batches in parsed_files(source, paths):
            progress(f"{source}: {path.name}")
            with transaction.atomic():
                for batch in batches:
                    _store_batch(batch, report)
                    modified = [i.modified for i in batch if isinstance(i, Encoded) and i.modified]
                    newest = max([*modified, newest] if newest else modified, default=None)
                    progress(f"{source}: {path.name}, {report.records_read:,} records")
            report.files.append(path.name)
    except IsmpError as exc:
        _touch_state(source, error=str(exc))
        raise
    _start_online_updates(source, newest)
    _touch_state(source, report=report)
    return report


def _start_online_updates(source: str, newest: dt.datetime | None) -> None:
    """After the first offline load of a source that can update itself online, online updates continue
    from the newest record imported (not from the online default of a few months back)."""
    if newest is None or source not in online_registry.names():
        return
    watermark = online_registry.get(source).resume_from(newest)
    if watermark:
        FeedState.objects.filter(source=source, watermark="").update(watermark=watermark)


def _store_batch(batch: Sequence[Item], report: FeedReport) -> None:
    report.records_read += len(batch)
    events = report.events
    vulns = [r for r in batch if isinstance(r, Encoded)]
    exploits = [r for r in batch if isinstance(r, ExploitRecord)]
    scores = [r for r in batch if isinstance(r, EpssRecord)]
    if vulns:
        _store_vuln_records(vulns, report)
    if exploits:
        _store_evidence(exploits, report)
    if scores:
        _store_epss(scores, report)
    if report.events > events:
        transaction.on_commit(lambda: vulnerabilities_changed.send(sender=None))


def update_feed(
    source: str,
    *,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress = _silent,
) -> FeedReport:
    """Fetch what changed at ``source`` since its watermark and store it, batch by batch: each batch is
    one transaction that also moves the watermark, so an interrupted update resumes where it stopped."""
    feed = online_registry.get(source)
    config = settings.ISMP
    report = FeedReport(source=source)
    state = _touch_state(source, attempt=True)
    context = UpdateContext(
        watermark=state.watermark,
        now=now or timezone.now(),
        base_url=config.feed_urls.get(source, feed.default_url),
        api_key=config.nvd_api_key if source == "nvd" else "",
        sleep=sleep,
    )
    http = client or httpx.Client(
        timeout=config.http_timeout, follow_redirects=True, headers={"User-Agent": f"ISMP/{__version__}"}
    )
    try:
        for batch in feed.updates(http, context):
            with transaction.atomic():
                _store_batch([encode(r) for r in batch.records], report)
                FeedState.objects.filter(source=source).update(watermark=batch.watermark)
            progress(f"{source}: {report.records_read:,} records (up to {batch.watermark})")
    except IsmpError as exc:
        _touch_state(source, error=str(exc))
        raise
    except httpx.HTTPError as exc:
        error = FeedUnavailable(f"{source}: {context.base_url}: {exc}", hint="check the network or the feed's URL")
        _touch_state(source, error=str(error))
        raise error from exc
    finally:
        if client is None:
            http.close()
    _touch_state(source, report=report)
    return report


# ------------------------------------------------------------------------------------- vulnerabilities


def _latest(records: Iterable[Encoded]) -> dict[tuple[str, str], Encoded]:
    """One record per (source, id): a file may hold duplicates; the latest modification wins."""
    latest: dict[tuple[str, str], Encoded] = {}
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    for record in records:
        key = (record.source, record.id)
        kept = latest.get(key)
        if kept is None or (record.modified or epoch) >= (kept.modified or epoch):
            latest[key] = record
    return latest


def _store_vuln_records(records: list[Encoded], report: FeedReport) -> None:
    latest = _latest(records)
    encoded = {key: item.data for key, item in latest.items()}
    digests = {key: hashlib.blake2b(data, digest_size=16).hexdigest() for key, data in encoded.items()}
    existing: dict[tuple[str, str], tuple[int, str]] = {}
    for source in {s for s, _ in latest}:
        ids = [i for s, i in latest if s == source]
        for pk, source_id, digest in SourceRecord.objects.filter(source=source, source_id__in=ids).values_list(
            "pk", "source_id", "digest"
        ):
            existing[(source, source_id)] = (pk, digest)
    new = [k for k in latest if k not in existing]
    changed = [k for k in latest if k in existing and existing[k][1] != digests[k]]
    report.records_unchanged += len(latest) - len(new) - len(changed)
    report.records_new += len(new)
    report.records_changed += len(changed)
    if not new and not changed:
        return
    old_records = _old_records([existing[k][0] for k in changed])
    now = timezone.now()
    stamp = db_datetime(now)
    insert_rows(
        SourceRecord,
        ("source", "source_id", "modified", "digest", "data", "imported_at"),
        ((s, i, _db_time(latest[(s, i)].modified), digests[(s, i)], encoded[(s, i)].decode(), stamp) for s, i in new),
    )
    update_rows(
        SourceRecord,
        "id",
        ("modified", "digest", "data", "imported_at"),
        ((_db_time(latest[k].modified), digests[k], encoded[k].decode(), stamp, existing[k][0]) for k in changed),
    )
    pks = {key: pk for key, (pk, _) in existing.items()}
    for source in {s for s, _ in new}:
        ids = [i for s, i in new if s == source]
        for pk, source_id in SourceRecord.objects.filter(source=source, source_id__in=ids).values_list(
            "pk", "source_id"
        ):
            pks[(source, source_id)] = pk
    touched = {key: _decoder.decode(encoded[key]) for key in (*new, *changed)}
    _link_and_merge(touched, {k: pks[k] for k in touched}, old_records, report, now)


def _db_time(value: dt.datetime | None) -> Any:
    return db_datetime(value) if value is not None else None


def _old_records(pks: list[int]) -> dict[int, VulnRecord]:
    return {pk: _decoder.decode(data) for pk, data in SourceRecord.objects.filter(pk__in=pks).values_list("pk", "data")}


def _link_and_merge(
    touched: dict[tuple[str, str], VulnRecord],
    pks: dict[tuple[str, str], int],
    old_records: dict[int, VulnRecord],
    report: FeedReport,
    now: dt.datetime,
) -> None:
    through = SourceRecord.vulnerabilities.through
    wanted: dict[int, tuple[str, ...]] = {pks[k]: vulnerability_ids(r) for k, r in touched.items()}
    all_ids = sorted({v for ids in wanted.values() for v in ids})
    vuln_pks = dict(Vulnerability.objects.filter(vuln_id__in=all_ids).values_list("vuln_id", "pk"))
    # records already linked to these vulnerabilities (from other sources, or other ids of this one)
    others: dict[str, list[int]] = defaultdict(list)
    for vuln_id, record_pk in through.objects.filter(vulnerability_id__in=list(vuln_pks.values())).values_list(
        "vulnerability__vuln_id", "sourcerecord_id"
    ):
        if record_pk not in wanted:
            others[vuln_id].append(record_pk)
    other_pks = sorted({pk for pks_ in others.values() for pk in pks_})
    other_records = _old_records(other_pks) if other_pks else {}
    by_vuln: dict[str, list[VulnRecord]] = defaultdict(list)
    for key, record in touched.items():
        for vuln_id in wanted[pks[key]]:
            by_vuln[vuln_id].append(record)
    for vuln_id, record_pks in others.items():
        by_vuln[vuln_id].extend(other_records[pk] for pk in record_pks)
    merged = {vuln_id: merge(vuln_id, records) for vuln_id, records in by_vuln.items()}
    before = _summaries([vuln_pks[v] for v in merged if v in vuln_pks])
    _write_vulnerabilities(merged, vuln_pks, now, report)
    through.objects.filter(sourcerecord_id__in=list(wanted)).delete()
    insert_rows(
        through,
        ("sourcerecord_id", "vulnerability_id"),
        ((record_pk, vuln_pks[v]) for record_pk, ids in wanted.items() for v in ids),
    )
    _index_products(touched, pks, wanted, vuln_pks)
    events = _vuln_events(touched, pks, old_records, merged, before, vuln_pks, now)
    report.events += insert_rows(ChangeEvent, ("at", "vuln_id", "kind", "source", "details"), events)
    if any(kind in MATCHING_KINDS for _, _, kind, _, _ in events):
        transaction.on_commit(lambda: applicability_changed.send(sender=None))
    ssvc = [
        ExploitRecord(
            source=EvidenceSource.SSVC,
            cve=m.vuln_id,
            reference="CISA-ADP SSVC",
            name=f"exploitation: {m.ssvc_exploitation}",
            details={"exploitation": m.ssvc_exploitation, "automatable": m.ssvc_automatable},
        )
        for m in merged.values()
        if m.ssvc_exploitation in ("poc", "active")
    ]
    if ssvc:
        _store_evidence(ssvc, report)


_SUMMARY_COLUMNS = (*MERGED_FIELDS, "updated_at")


def _row(m: MergedVulnerability, now: dt.datetime) -> tuple[Any, ...]:
    cvss = m.cvss
    return (
        db_json(list(m.aliases)),
        m.title,
        m.title_ja,
        m.description,
        m.description_ja,
        _db_time(m.published),
        _db_time(m.modified),
        m.rejected,
        cvss.version if cvss else "",
        cvss.base_score if cvss else None,
        cvss.vector if cvss else "",
        cvss.source if cvss else "",
        m.attack_vector,
        m.risk_level,
        m.severity_basis[:200],
        db_json(list(m.cwes)),
        m.ssvc_exploitation,
        m.ssvc_automatable,
        m.ssvc_technical_impact,
        db_json(list(m.sources)),
        db_datetime(now),
    )


def _write_vulnerabilities(
    merged: dict[str, MergedVulnerability], vuln_pks: dict[str, int], now: dt.datetime, report: FeedReport
) -> None:
    new_ids = [v for v in merged if v not in vuln_pks]
    insert_rows(Vulnerability, ("vuln_id", *_SUMMARY_COLUMNS), ((v, *_row(merged[v], now)) for v in new_ids))
    update_rows(
        Vulnerability, "id", _SUMMARY_COLUMNS, ((*_row(merged[v], now), vuln_pks[v]) for v in merged if v in vuln_pks)
    )
    report.vulnerabilities_new += len(new_ids)
    report.vulnerabilities_updated += len(merged) - len(new_ids)
    if new_ids:
        vuln_pks.update(Vulnerability.objects.filter(vuln_id__in=new_ids).values_list("vuln_id", "pk"))


def _summaries(pks: list[int]) -> dict[int, tuple[float | None, int, bool]]:
    return {
        pk: (score, level, rejected)
        for pk, score, level, rejected in Vulnerability.objects.filter(pk__in=pks).values_list(
            "pk", "cvss_score", "risk_level", "rejected"
        )
    }


def products(record: VulnRecord) -> set[tuple[str, str]]:
    """(vendor, product) pairs a record's applicability names: CPE criteria and affected products."""
    found: set[tuple[str, str]] = set()
    cpes = [m.criteria for m in all_criteria(record.configurations)]
    cpes += [cpe for a in record.affected for cpe in a.cpes]
    for text in cpes:
        try:
            name = parse_cpe(text)
        except CpeSyntaxError:
            continue
        found.add((plain(name.vendor)[:200], plain(name.product)[:200]))
    for affected in record.affected:
        if affected.product or affected.package_name:
            found.add((affected.vendor.lower()[:200], (affected.product or affected.package_name).lower()[:200]))
    return found


def _index_products(
    touched: dict[tuple[str, str], VulnRecord],
    pks: dict[tuple[str, str], int],
    wanted: dict[int, tuple[str, ...]],
    vuln_pks: dict[str, int],
) -> None:
    rows: set[tuple[int, str, str, str]] = set()
    for key, record in touched.items():
        for vuln_id in wanted[pks[key]]:
            for vendor, product in products(record):
                rows.add((vuln_pks[vuln_id], record.source, vendor, product))
    sources = {s for s, _ in touched}
    AffectedProductIndex.objects.filter(
        vulnerability_id__in=[vuln_pks[v] for ids in wanted.values() for v in ids], source__in=sources
    ).delete()
    insert_rows(AffectedProductIndex, ("vulnerability_id", "source", "vendor", "product"), sorted(rows))


def _applicability(record: VulnRecord) -> bytes:
    return _encoder.encode((record.configurations, record.affected))


def _vuln_events(
    touched: dict[tuple[str, str], VulnRecord],
    pks: dict[tuple[str, str], int],
    old_records: dict[int, VulnRecord],
    merged: dict[str, MergedVulnerability],
    before: dict[int, tuple[float | None, int, bool]],
    vuln_pks: dict[str, int],
    now: dt.datetime,
) -> list[tuple[Any, ...]]:
    at = db_datetime(now)
    events: list[tuple[Any, ...]] = []

    def add(vuln_id: str, kind: str, source: str, details: dict[str, Any]) -> None:
        events.append((at, vuln_id, kind, source, db_json(details)))

    sources: dict[str, set[str]] = defaultdict(set)
    for record in touched.values():
        for vuln_id in vulnerability_ids(record):
            sources[vuln_id].add(record.source)
    for vuln_id, m in merged.items():
        old = before.get(vuln_pks[vuln_id])
        source = ",".join(sorted(sources[vuln_id]))
        if old is None:
            add(vuln_id, ChangeKind.NEW_VULNERABILITY, source, {"risk_level": m.risk_level})
            continue
        score = m.cvss.base_score if m.cvss else None
        if (score, m.risk_level) != old[:2]:
            add(
                vuln_id,
                ChangeKind.SEVERITY_CHANGED,
                source,
                {
                    "cvss_before": old[0],
                    "cvss_after": score,
                    "risk_level_before": old[1],
                    "risk_level_after": m.risk_level,
                },
            )
        if m.rejected and not old[2]:
            add(vuln_id, ChangeKind.REJECTED, source, {})
    for key, record in touched.items():
        old_record = old_records.get(pks[key])
        applicability = _applicability(record)
        if (old_record is None and (record.configurations or record.affected)) or (
            old_record is not None and _applicability(old_record) != applicability
        ):
            for vuln_id in vulnerability_ids(record):
                add(vuln_id, ChangeKind.APPLICABILITY_CHANGED, record.source, {"record": record.id})
    return events


# ---------------------------------------------------------------------------------------- evidence


def _store_evidence(records: list[ExploitRecord], report: FeedReport) -> None:
    """New evidence is added; evidence already known is enriched (a later, fuller source fills in names,
    dates and details), never duplicated."""
    unique = {(r.cve, r.source, r.reference[:300]): r for r in records}
    cves = sorted({cve for cve, _, _ in unique})
    known = {
        (vuln_id, source, reference): (pk, name, date, due, details)
        for pk, vuln_id, source, reference, name, date, due, details in ExploitEvidence.objects.filter(
            vuln_id__in=cves
        ).values_list("pk", "vuln_id", "source", "reference", "name", "date", "due", "details")
    }
    new = [(key, r) for key, r in unique.items() if key not in known]
    enriched = []
    for key, r in unique.items():
        if key in known:
            pk, name, date, due, details = known[key]
            merged = (r.name or name, r.date or date, r.due or due, details | r.details)
            if merged != (name, date, due, details):
                enriched.append((merged[0], merged[1], merged[2], db_json(merged[3]), pk))
    stamp = db_datetime(timezone.now())
    insert_rows(
        ExploitEvidence,
        ("vuln_id", "source", "reference", "name", "date", "due", "details", "first_seen"),
        ((cve, source, ref, r.name, r.date, r.due, db_json(r.details), stamp) for (cve, source, ref), r in new),
    )
    update_rows(ExploitEvidence, "id", ("name", "date", "due", "details"), enriched)
    report.evidence_new += len(new)
    report.evidence_enriched += len(enriched)
    # a CVE gets one event per kind of evidence it did not have before
    had = {(cve, source) for cve, source, _ in known}
    firsts = {(r.cve, r.source): r for _, r in new if (r.cve, r.source) not in had}
    report.events += insert_rows(
        ChangeEvent,
        ("at", "vuln_id", "kind", "source", "details"),
        (
            (
                stamp,
                cve,
                EVIDENCE_KIND.get(source, ChangeKind.EXPLOIT_PUBLISHED),
                source,
                db_json({"reference": r.reference, "date": r.date.isoformat() if r.date else None}),
            )
            for (cve, source), r in firsts.items()
        ),
    )


def _store_epss(scores: list[EpssRecord], report: FeedReport) -> None:
    latest = {s.cve: s for s in scores}
    current = {
        vuln_id: (pk, score, date)
        for pk, vuln_id, score, date in EpssScore.objects.filter(vuln_id__in=list(latest)).values_list(
            "pk", "vuln_id", "score", "date"
        )
    }
    new = [s for cve, s in latest.items() if cve not in current]
    changed = [
        s for cve, s in latest.items() if cve in current and (current[cve][1], current[cve][2]) != (s.score, s.date)
    ]
    insert_rows(
        EpssScore, ("vuln_id", "score", "percentile", "date"), ((s.cve, s.score, s.percentile, s.date) for s in new)
    )
    update_rows(
        EpssScore,
        "id",
        ("score", "percentile", "date", "previous_score"),
        ((s.score, s.percentile, s.date, current[s.cve][1], current[s.cve][0]) for s in changed),
    )
    report.epss_new += len(new)
    report.epss_changed += len(changed)
    stamp = db_datetime(timezone.now())
    report.events += insert_rows(
        ChangeEvent,
        ("at", "vuln_id", "kind", "source", "details"),
        (
            (
                stamp,
                s.cve,
                ChangeKind.EPSS_JUMP,
                "epss",
                db_json({"before": current[s.cve][1], "after": s.score, "percentile": s.percentile}),
            )
            for s in changed
            if s.score - current[s.cve][1] >= EPSS_JUMP
        ),
    )


def record_analyst_evidence(
    actor: Actor, vuln_id: str, *, reference: str, note: str, date: dt.date | None = None
) -> ExploitEvidence:
    """The CSIRT's own evidence that an attack tool exists or the vulnerability is exploited (a PoC seen,
    an incident, a vendor statement): stored beside the feeds' evidence, audited, and announced."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT records exploit evidence")
    vuln_id = vuln_id.strip().upper()
    if not vuln_id.startswith(("CVE-", "JVNDB-")) and not Vulnerability.objects.filter(vuln_id=vuln_id).exists():
        raise InputError(f"{vuln_id!r} is not a CVE or JVNDB id", field="vuln_id")
    if not reference.strip():
        raise InputError("say where the evidence is (a URL, a ticket, a report)", field="reference")
    with transaction.atomic():
        evidence, created = ExploitEvidence.objects.update_or_create(
            vuln_id=vuln_id,
            source=EvidenceSource.ANALYST,
            reference=reference.strip()[:300],
            defaults={"name": note.strip(), "date": date, "details": {"by": actor.name}},
        )
        audit.record(
            actor, AuditAction.CREATE if created else AuditAction.UPDATE, evidence, None, audit.snapshot(evidence)
        )
        if created:
            ChangeEvent.objects.create(
                vuln_id=vuln_id,
                kind=ChangeKind.EXPLOIT_PUBLISHED,
                source=EvidenceSource.ANALYST,
                details={"reference": evidence.reference, "by": actor.name},
            )
            transaction.on_commit(lambda: vulnerabilities_changed.send(sender=None))
    return evidence


# ------------------------------------------------------------------------------------------- state


def _touch_state(source: str, *, attempt: bool = False, error: str = "", report: FeedReport | None = None) -> FeedState:
    """Record the feed's health outside the import's transaction (an error must survive its rollback)."""
    now = timezone.now()
    state, _ = FeedState.objects.get_or_create(source=source)
    if attempt:
        state.last_attempt = now
    if error:
        state.last_error = error[:4000]
    if report is not None:
        state.last_success = now
        state.last_error = ""
        state.last_report = report.as_dict()
        state.records = _record_count(source)
    state.save()
    return state


def _record_count(source: str) -> int:
    if source in ("kev", "exploitdb", "metasploit"):
        return ExploitEvidence.objects.filter(source=source).count()
    if source == "epss":
        return EpssScore.objects.count()
    return SourceRecord.objects.filter(source=source).count()
