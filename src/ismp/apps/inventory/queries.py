"""Read logic for the inventory, scoped by role. Every list anywhere goes through these."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from ismp.apps.accounts.choices import Role
from ismp.apps.inventory.models import Component, System


def systems_for(user: Any) -> QuerySet[System]:
    """The systems this user may see: everything for CSIRT, CISO and auditors; otherwise those they
    administer or own as service owner."""
    if not (user and user.is_authenticated and user.is_active):
        return System.objects.none()
    if user.sees_everything:
        return System.objects.all()
    administered = System.administrators.through.objects.filter(user_id=user.pk).values("system_id")
    return System.objects.filter(Q(pk__in=administered) | Q(service_owner_id=user.pk))


def components_for(user: Any) -> QuerySet[Component]:
    return Component.objects.filter(system__in=systems_for(user).values("pk"))


def can_create_system(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.writes_inventory)


def can_change_system(user: Any, system: System) -> bool:
    """CSIRT changes any system; a system administrator only the systems they administer."""
    if not (user and user.is_authenticated and user.writes_inventory):
        return False
    if user.role == Role.CSIRT:
        return True
    return system.administrators.filter(pk=user.pk).exists()


def system_list(
    user: Any, *, search: str = "", filters: dict[str, str] | None = None, order: str = "name"
) -> QuerySet[System]:
    """The systems list with one query for the page: organisation and owner joined, and components counted
    by a correlated subquery, so that only the rows on the page are counted."""
    counted = (
        Component.objects.filter(system=OuterRef("pk")).order_by().values("system").annotate(n=Count("*")).values("n")
    )
    qs = (
        systems_for(user)
        .select_related("organisation", "service_owner")
        .annotate(component_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
    )
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(purpose__icontains=search)
            | Q(organisation__name__icontains=search)
            | Q(fqdns__icontains=search)
            | Q(addresses__icontains=search)
            | Q(pk__in=Component.objects.filter(product__icontains=search).values("system_id"))
        )
    for field, value in (filters or {}).items():
        if value and field in SYSTEM_FILTERS:
            qs = qs.filter(**{SYSTEM_FILTERS[field]: value})
    return qs.order_by(*_ordering(order))


def _ordering(order: str) -> list[str]:
    descending = order.startswith("-")
    fields = SYSTEM_ORDERS.get(order.lstrip("-"), ("name",))
    return [f"-{f}" if descending else f for f in fields]


SYSTEM_FILTERS = {
    "organisation": "organisation__code",
    "system_type": "system_type",
    "lifecycle": "lifecycle",
    "criticality": "criticality",
}
SYSTEM_ORDERS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "organisation": ("organisation__code", "name"),
    "system_type": ("system_type", "name"),
    "lifecycle": ("lifecycle", "name"),
    "criticality": ("criticality", "name"),
    "components": ("component_count", "name"),
    "updated": ("updated_at", "name"),
}
