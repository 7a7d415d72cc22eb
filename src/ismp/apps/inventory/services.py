"""Use cases that change the inventory: systems and components, one transaction each, audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor, entry, record, record_many, snapshot
from ismp.apps.controls.services import require_launch_ready
from ismp.apps.inventory.choices import ComponentSource
from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.queries import can_change_system, can_create_system
from ismp.apps.inventory.signals import components_changed
from ismp.engines.inventory.component import make_component
from ismp.errors import Forbidden, InputError

# what a person edits on a system, in the order forms and the API show it
EDITABLE_SYSTEM_FIELDS = (
    "name",
    "purpose",
    "organisation",
    "service_owner",
    "administrators",
    "lifecycle",
    "system_type",
    "criticality",
    "has_global_ip",
    "addresses",
    "fqdns",
    "urls",
    "hardware",
    "location",
    "notes",
)
# the plain fields among them (administrators is a many-to-many relation, set on its own)
SYSTEM_FIELDS = tuple(f for f in EDITABLE_SYSTEM_FIELDS if f != "administrators")


Snapshot = dict[str, Any]
SYSTEM_AUDIT_EXCLUDE = ("updated_at", "administrators")


def system_snapshot(system: System, administrators: Iterable[Any] | None = None) -> Snapshot:
    """The audited picture of a system. Administrators come from ``administrators`` when given, else from
    the (prefetched) relation; a system not yet saved has none."""
    data = snapshot(system, SYSTEM_AUDIT_EXCLUDE)
    if administrators is None:
        administrators = system.administrators.all() if system.pk is not None else []
    data["administrators"] = sorted({u.pk for u in administrators})
    return data


def component_snapshot(component: Component) -> Snapshot:
    """The audited picture of a component (built directly: imports write hundreds of thousands)."""
    return {
        "id": component.pk,
        "system_id": component.system_id,
        "cpe": component.cpe,
        "purl": component.purl,
        "part": component.part,
        "vendor": component.vendor,
        "product": component.product,
        "version": component.version,
        "source": component.source,
    }


def initial_administrators(actor: Actor, administrators: Iterable[Any]) -> list[Any]:
    """The administrators of a newly registered system: those given, and the system administrator who
    registers it (a system they register is theirs to maintain)."""
    admins = list(dict.fromkeys(administrators))
    if actor.user is not None and actor.user.role == Role.SYSADMIN and actor.user not in admins:
        admins.append(actor.user)
    return admins


def _check_can_change(actor: Actor, system: System) -> None:
    if actor.user is not None and not can_change_system(actor.user, system):
        raise Forbidden(f"you may not change system {system.name!r}")


def _validate(instance: System | Component, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InputError(" ".join(messages), field=field) from None


@transaction.atomic
def save_system(
    actor: Actor,
    data: Mapping[str, Any],
    *,
    administrators: Iterable[Any] | None = None,
    system: System | None = None,
) -> System:
    """Create (system=None) or update a system from validated field values; records the change."""
    if system is None:
        if actor.user is not None and not can_create_system(actor.user):
            raise Forbidden("your role may not register systems")
        system, before = System(), None
    else:
        _check_can_change(actor, system)
        before = system_snapshot(system)
    for name in SYSTEM_FIELDS:
        if name in data:
            setattr(system, name, data[name])
    system.updated_at = timezone.now()
    _validate(system)
    require_launch_ready(actor, system)
    system.save()
    if before is None:
        system.administrators.set(initial_administrators(actor, administrators or []))
    elif administrators is not None:
        system.administrators.set(list(administrators))
    action = AuditAction.CREATE if before is None else AuditAction.UPDATE
    record(actor, action, system, before, system_snapshot(system))
    return system


@transaction.atomic
def delete_system(actor: Actor, system: System) -> None:
    _check_can_change(actor, system)
    before = system_snapshot(system)
    components = list(system.components.all())
    record_many(entry(actor, AuditAction.DELETE, c, component_snapshot(c), None) for c in components)
    record(actor, AuditAction.DELETE, system, before, None)
    system.delete()


@transaction.atomic
def save_component(
    actor: Actor, system: System, data: Mapping[str, str], *, component: Component | None = None
) -> Component:
    """Add a component to a system, or change one; CPE and purl are checked and normalised."""
    _check_can_change(actor, system)
    record_ = make_component(line=None, file="", **_component_values(data, component))
    if component is None:
        component, before = Component(system=system, source=ComponentSource.MANUAL), None
    else:
        before = component_snapshot(component)
    for name in ("cpe", "purl", "part", "vendor", "product", "version"):
        setattr(component, name, getattr(record_, name))
    component.key = record_.key
    component.last_seen = timezone.now()
    _validate(component, exclude=["system"])
    clash = Component.objects.filter(system=system, source=component.source, key=component.key)
    if clash.exclude(pk=component.pk).exists():
        raise InputError(f"{system.name} already has this component ({component.key})", field="cpe")
    component.save()
    System.objects.filter(pk=system.pk).update(updated_at=timezone.now())
    record(
        actor,
        AuditAction.CREATE if before is None else AuditAction.UPDATE,
        component,
        before,
        component_snapshot(component),
    )
    software_changed([system.pk])
    return component


NAME_FIELDS = ("cpe", "purl")
DESCRIPTIVE_FIELDS = ("part", "vendor", "product", "version")


def _component_values(data: Mapping[str, str], component: Component | None) -> dict[str, str]:
    """The values to validate: what was given, else the current ones. When the CPE or purl changes, the
    descriptive fields not given are derived again from the new name rather than kept stale."""
    renamed = component is not None and any(f in data and (data[f] or "") != getattr(component, f) for f in NAME_FIELDS)
    values = {}
    for f in (*NAME_FIELDS, *DESCRIPTIVE_FIELDS):
        keep_current = component is not None and not (renamed and f in DESCRIPTIVE_FIELDS)
        values[f] = (data[f] if f in data else getattr(component, f) if keep_current else "") or ""
    return values


@transaction.atomic
def delete_component(actor: Actor, component: Component) -> None:
    _check_can_change(actor, component.system)
    record(actor, AuditAction.DELETE, component, component_snapshot(component), None)
    component.delete()
    software_changed([component.system_id])


def software_changed(system_ids: list[int]) -> None:
    """Tell the rest of ISMP (matching) once the current transaction commits."""
    if system_ids:
        transaction.on_commit(lambda: components_changed.send(sender=None, system_ids=system_ids))
