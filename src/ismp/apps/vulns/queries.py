"""Reading vulnerability intelligence. Vulnerability data is public knowledge: every role may read it
(what is scoped is which systems it touches, in the findings)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
from django.db.models import Exists, F, FloatField, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

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
from ismp.errors import NotFound

SUMMARY_FIELDS = ("vuln_id", *MERGED_FIELDS)


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


# ------------------------------------------------------------------------------------------ searching

VULN_ORDERS: dict[str, tuple[str, ...]] = {
    "published": ("published", "vuln_id"),
    "risk_level": ("risk_level", "cvss_score", "vuln_id"),
    "cvss": ("cvss_score", "vuln_id"),
    "epss": ("epss_score", "vuln_id"),
    "id": ("vuln_id",),
}
DEFAULT_ORDER = "-published"
_ID_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*-(?=[\w.:-]*\d)[\w.:-]+$")  # CVE-…, JVNDB-…, PYSEC-…, DSA-…


def vulnerabilities_for(user: Any) -> QuerySet[Vulnerability]:
    """Vulnerability intelligence is public knowledge: every signed-in, active user reads all of it."""
    if not (user and user.is_authenticated and user.is_active):
        return Vulnerability.objects.none()
    return Vulnerability.objects.all()


def _evidence(source: str = "") -> QuerySet[ExploitEvidence]:
    """The evidence rows of the outer query's vulnerability (of one source, or of any)."""
    rows = ExploitEvidence.objects.filter(vuln_id=OuterRef("vuln_id"))
    return rows.filter(source=source) if source else rows


def vulnerability_list(
    user: Any,
    *,
    search: str = "",
    product: str = "",
    cwe: str = "",
    kev: bool | None = None,
    exploit: bool | None = None,
    epss_min: float | None = None,
    risk_level: int | None = None,
    attack_vector: str = "",
    published_from: dt.date | None = None,
    published_to: dt.date | None = None,
    order: str = DEFAULT_ORDER,
) -> QuerySet[Vulnerability]:
    """The vulnerability search of the web page and the API, in one query for the page: KEV, exploits and
    EPSS are correlated subqueries on ``vuln_id``, so only the rows on the page are looked up.

    ``search`` words must all match; a word shaped like an id (CVE-…, JVNDB-…, PYSEC-…, DSA-…) matches the
    vulnerability's id, its aliases and its source records' ids, any other word the English or Japanese
    title or description. ``product`` is a product or vendor name, or ``vendor:product``."""
    epss = EpssScore.objects.filter(vuln_id=OuterRef("vuln_id"))
    qs = vulnerabilities_for(user).annotate(
        in_kev=Exists(_evidence("kev")),
        kev_added=Subquery(_evidence("kev").order_by("date").values("date")[:1]),
        kev_due=Subquery(_evidence("kev").order_by("date").values("due")[:1]),
        has_exploitdb=Exists(_evidence("exploitdb")),
        has_metasploit=Exists(_evidence("metasploit")),
        epss_score=Subquery(epss.values("score")[:1], output_field=FloatField()),
        epss_percentile=Subquery(epss.values("percentile")[:1], output_field=FloatField()),
    )
    for word in search.split():
        qs = qs.filter(_id_match(word) if _ID_LIKE.match(word) else _text_match(word))
    if product.strip():
        qs = qs.filter(pk__in=_product_match(product.strip().lower()).values("vulnerability_id"))
    if cwe.strip():
        qs = qs.filter(cwes__icontains=f'"{normalise_cwe(cwe)}"')  # the JSON text holds each CWE in quotes
    if kev is not None:
        qs = qs.filter(Exists(_evidence("kev")) if kev else ~Exists(_evidence("kev")))
    if exploit is not None:
        qs = qs.filter(Exists(_evidence()) if exploit else ~Exists(_evidence()))
    if epss_min is not None:
        qs = qs.filter(vuln_id__in=EpssScore.objects.filter(score__gte=epss_min).values("vuln_id"))
    if risk_level is not None:
        qs = qs.filter(risk_level=risk_level)
    if attack_vector:
        qs = qs.filter(attack_vector=attack_vector)
    if published_from is not None:
        qs = qs.filter(published__gte=_start_of(published_from))
    if published_to is not None:
        qs = qs.filter(published__lt=_start_of(published_to + dt.timedelta(days=1)))
    return qs.order_by(*_vuln_ordering(order))


def normalise_cwe(text: str) -> str:
    """CWE-79 from "79", "cwe-79" or "CWE-79"; other words (NVD-CWE-Other) are matched as given."""
    text = text.strip().upper()
    return f"CWE-{text}" if text.isdigit() else text


def _id_match(word: str) -> Q:
    records = SourceRecord.vulnerabilities.through.objects.filter(sourcerecord__source_id__istartswith=word)
    return (
        Q(vuln_id__istartswith=word) | Q(aliases__icontains=f'"{word}') | Q(pk__in=records.values("vulnerability_id"))
    )


def _text_match(word: str) -> Q:
    return (
        Q(title__icontains=word)
        | Q(title_ja__icontains=word)
        | Q(description__icontains=word)
        | Q(description_ja__icontains=word)
    )


def _product_match(name: str) -> QuerySet[AffectedProductIndex]:
    vendor, colon, product = name.partition(":")
    rows = AffectedProductIndex.objects.all()
    if colon:
        rows = rows.filter(vendor=vendor) if vendor else rows
        return rows.filter(product__icontains=product) if product else rows
    return rows.filter(Q(product__icontains=name) | Q(vendor=name))


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _vuln_ordering(order: str) -> list[OrderBy]:
    """Unknown values (no CVSS, no EPSS, not published) sort last in either direction."""
    descending = order.startswith("-")
    fields = VULN_ORDERS.get(order.lstrip("-")) or VULN_ORDERS[DEFAULT_ORDER.lstrip("-")]
    return [F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields]


def change_events(vuln_id: str, limit: int = 50) -> list[ChangeEvent]:
    """The latest change events of one vulnerability, newest first."""
    return list(ChangeEvent.objects.filter(vuln_id=vuln_id).order_by("-id")[:limit])
