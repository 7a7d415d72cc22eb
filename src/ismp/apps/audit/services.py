"""Recording the audit trail. Services call these inside their own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from ismp.apps.audit.models import AuditAction, AuditEntry
from ismp.apps.bulk import db_datetime, db_json, insert_rows

Snapshot = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change and through which surface (web, api, cli, import, system)."""

    user: Any  # accounts.User, or None for the operator or the system itself (full rights)
    via: str
    label: str = "system"

    @property
    def name(self) -> str:
        return self.user.get_username() if self.user is not None else self.label

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


SYSTEM_ACTOR = Actor(None, "system")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(instance: models.Model, exclude: Iterable[str] = ()) -> Snapshot:
    """A JSON-safe picture of a model instance: concrete fields (foreign keys as ids) and many-to-many ids."""
    skip = set(exclude)
    data: Snapshot = {}
    for field in instance._meta.concrete_fields:
        if field.name in skip:
            continue
        data[field.attname] = _plain(getattr(instance, field.attname))
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            if m2m.name not in skip:
                data[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))
    return data


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An audit entry not yet written; ``record_many`` writes many at once."""

    actor: Actor
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: Snapshot | None
    after: Snapshot | None


def entry(
    actor: Actor,
    action: AuditAction,
    instance: models.Model,
    before: Snapshot | None,
    after: Snapshot | None,
) -> PendingEntry:
    return PendingEntry(actor, action, instance._meta.label_lower, str(instance.pk), str(instance)[:300], before, after)


def record(
    actor: Actor,
    action: AuditAction,
    instance: models.Model,
    before: Snapshot | None,
    after: Snapshot | None,
) -> None:
    """Record one change; an update that changed nothing records nothing."""
    if action == AuditAction.UPDATE and before == after:
        return
    record_many([entry(actor, action, instance, before, after)])


COLUMNS = (
    "at",
    "actor_id",
    "actor_name",
    "via",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
)


def record_many(entries: Iterable[PendingEntry]) -> int:
    """Write entries in bulk, all stamped with the same time."""
    at = db_datetime(timezone.now())
    return insert_rows(
        AuditEntry,
        COLUMNS,
        (
            (
                at,
                e.actor.user_id,
                e.actor.name,
                e.actor.via,
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                db_json(e.before),
                db_json(e.after),
            )
            for e in entries
        ),
    )
