"""Read logic for findings, scoped by role. Every list of findings anywhere goes through ``findings_for``.

CSIRT, CISO and auditors see every finding. System administrators and service owners see the findings
of their systems (``inventory.queries.systems_for``) except the low-confidence matches the CSIRT has not
confirmed yet: those are the CSIRT's "needs confirmation" queue (確認待ち) until confirmed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet

from ismp.apps.accounts.choices import Role
from ismp.apps.findings.choices import Confidence, FindingState
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for

UNCONFIRMED = Q(confidence=Confidence.LOW, confirmed_at__isnull=True)
# what a list row shows, joined so that one page is one query whatever its length
LIST_RELATED = ("system__organisation", "vulnerability", "component", "decided_by", "confirmed_by")
FINDING_FILTERS = ("state", "confidence", "system", "organisation", "vuln", "q", "needs_confirmation")
FINDING_ORDERS: dict[str, tuple[str, ...]] = {
    "last_seen": ("last_seen", "pk"),
    "first_seen": ("first_seen", "pk"),
    "system": ("system__name", "vulnerability__vuln_id", "pk"),
    "vulnerability": ("vulnerability__vuln_id", "system__name", "pk"),
    "risk": ("vulnerability__risk_level", "vulnerability__cvss_score", "pk"),
}


def findings_for(user: Any) -> QuerySet[Finding]:
    """The findings this user may see (see the module docstring)."""
    if not (user and user.is_authenticated and user.is_active):
        return Finding.objects.none()
    if user.sees_everything:
        return Finding.objects.all()
    return Finding.objects.filter(system__in=systems_for(user).values("pk")).exclude(UNCONFIRMED)


def can_confirm(user: Any) -> bool:
    """Only the CSIRT confirms low-confidence matches."""
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.CSIRT)


def can_decide(user: Any, finding: Finding) -> bool:
    """The CSIRT decides on any finding; a system administrator on the confirmed findings of the systems
    they administer. Nobody else (CISO, auditor, service owner) records a decision."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.role == Role.CSIRT:
        return True
    if user.role != Role.SYSADMIN or finding.needs_confirmation:
        return False
    return System.administrators.through.objects.filter(system_id=finding.system_id, user_id=user.pk).exists()


def finding_list(user: Any, *, filters: dict[str, str] | None = None, order: str = "-last_seen") -> QuerySet[Finding]:
    """Visible findings, filtered and ordered, with everything a row shows joined (one query a page)."""
    qs = findings_for(user).select_related(*LIST_RELATED)
    values = {k: v.strip() for k, v in (filters or {}).items() if k in FINDING_FILTERS and v and v.strip()}
    if "state" in values:
        qs = qs.filter(state=values["state"])
    if "confidence" in values:
        qs = qs.filter(confidence=values["confidence"])
    if "system" in values:
        system = values["system"]
        qs = qs.filter(system_id=int(system)) if system.isdigit() else qs.filter(system__name=system)
    if "organisation" in values:
        qs = qs.filter(system__organisation__code=values["organisation"])
    if "vuln" in values:
        qs = qs.filter(vulnerability__vuln_id__iexact=values["vuln"])
    if values.get("needs_confirmation") in ("1", "true", "yes", "on"):
        qs = qs.filter(UNCONFIRMED, state=FindingState.OPEN)
    if "q" in values:
        text = values["q"]
        qs = qs.filter(
            Q(vulnerability__vuln_id__icontains=text)
            | Q(vulnerability__title__icontains=text)
            | Q(system__name__icontains=text)
            | Q(component_key__icontains=text)
            | Q(criterion__icontains=text)
        )
    return qs.order_by(*_ordering(order))


def _ordering(order: str) -> list[str]:
    descending = order.startswith("-")
    fields = FINDING_ORDERS.get(order.lstrip("-"), FINDING_ORDERS["last_seen"])
    return [f"-{f}" if descending else f for f in fields]


def confirmation_queue(user: Any) -> QuerySet[Finding]:
    """The CSIRT's "needs confirmation" queue: open low-confidence matches nobody confirmed yet, oldest
    first. Empty for every other role."""
    if not can_confirm(user):
        return Finding.objects.none()
    return (
        findings_for(user)
        .filter(UNCONFIRMED, state=FindingState.OPEN)
        .select_related(*LIST_RELATED)
        .order_by("first_seen", "pk")
    )


def finding_detail(user: Any, pk: int) -> Finding | None:
    """One visible finding with what its page shows, or None (absent or outside the user's scope)."""
    return findings_for(user).select_related(*LIST_RELATED).filter(pk=pk).first()


def system_findings(user: Any, system: System, *, limit: int = 20) -> dict[str, Any]:
    """The findings section of a system's page: counts by state, how many need confirmation (CSIRT), and
    the open findings most at risk first."""
    visible = findings_for(user).filter(system=system)
    counts = visible.aggregate(
        open=Count("pk", filter=Q(state=FindingState.OPEN)),
        not_affected=Count("pk", filter=Q(state=FindingState.NOT_AFFECTED)),
        closed=Count("pk", filter=Q(state=FindingState.CLOSED)),
        needs_confirmation=Count("pk", filter=UNCONFIRMED & Q(state=FindingState.OPEN)),
    )
    rows = list(
        visible.filter(state__in=(FindingState.OPEN, FindingState.NOT_AFFECTED))
        .select_related("vulnerability", "component")
        .order_by(
            "state",
            "-vulnerability__risk_level",
            F("vulnerability__cvss_score").desc(nulls_last=True),
            "vulnerability__vuln_id",
        )[:limit]
    )
    return {"counts": counts, "rows": rows, "shown": len(rows), "total": counts["open"] + counts["not_affected"]}
