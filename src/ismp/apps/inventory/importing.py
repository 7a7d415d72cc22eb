"""Importing the inventory: spreadsheet ledgers (CSV, XLSX) and SBOMs attached to a system.

An import is validated whole before anything is written; then it is applied in one transaction.
It is idempotent: systems are matched by name and components by their key, so importing the same file
twice changes nothing but the components' ``last_seen``. Each source owns its components: a ledger
import replaces the ledger components of the systems it lists, an SBOM import the SBOM components of
its system; components from other sources are left alone and never duplicated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ismp.apps.accounts.models import Organisation, User
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor, PendingEntry, entry, record_many
from ismp.apps.bulk import db_datetime, insert_rows
from ismp.apps.controls.services import launch_refusals
from ismp.apps.inventory.choices import ComponentSource, Criticality, Lifecycle, SystemType
from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.queries import can_change_system, can_create_system, systems_for
from ismp.apps.inventory.services import (
    SYSTEM_FIELDS,
    Snapshot,
    component_snapshot,
    initial_administrators,
    software_changed,
    system_snapshot,
)
from ismp.engines.inventory.ledger import read_ledger
from ismp.engines.inventory.records import ComponentRecord, LedgerRow, SbomDocument
from ismp.engines.inventory.registry import ErrorList, check_size, detect_format, read_inventory_file
from ismp.errors import Forbidden, InputError, NotFound

_SPLIT = re.compile(r"[;,\s]+")
_TRUE = {"1", "true", "yes", "y", "○", "〇", "◯", "有", "あり", "はい"}
_FALSE = {"0", "false", "no", "n", "×", "-", "無", "なし", "いいえ", ""}
CHUNK = 500
LEDGER_FORMATS = ("csv", "xlsx")


@dataclass
class ImportReport:
    file: str
    format: str
    systems_created: int = 0
    systems_updated: int = 0
    systems_unchanged: int = 0
    components_created: int = 0
    components_deleted: int = 0
    components_unchanged: int = 0
    systems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "systems"} | {"system_count": len(self.systems)}


def max_import_bytes() -> int:
    return int(settings.ISMP.max_import_mb) * 1024 * 1024


def _silent(_: str) -> None:
    return None


def import_inventory(
    actor: Actor,
    data: bytes,
    filename: str,
    *,
    fmt: str | None = None,
    system_name: str | None = None,
    progress: Callable[[str], None] = _silent,
) -> ImportReport:
    """Import one file. Ledgers carry their systems; an SBOM needs ``system_name``. ``progress`` is told
    which phase the import is in (the CLI shows it)."""
    check_size(len(data), filename, max_import_bytes())
    fmt = fmt or detect_format(filename, data)
    progress(f"reading {filename} ({len(data) / 1048576:.1f} MB, {fmt})")
    if fmt in LEDGER_FORMATS:
        # ledger rows are checked by the reader and then against the database; both report together
        errors = ErrorList(filename)
        rows = read_ledger(data, filename, max_bytes=max_import_bytes(), fmt=fmt, collect=errors)
        progress(f"checking {len(rows):,} rows against the inventory")
        return _import_ledger(actor, rows, filename, fmt, errors, progress)
    document = read_inventory_file(data, filename, fmt=fmt, max_bytes=max_import_bytes())
    if not isinstance(document, SbomDocument):
        raise InputError(f"format {fmt!r} is not an SBOM", file=filename, field="format")
    if not system_name:
        raise InputError(
            "an SBOM describes one system's software: name the system it belongs to", file=filename, field="system"
        )
    return _import_sbom(actor, document, filename, system_name)


# ----------------------------------------------------------------------------------------------- SBOM


def _import_sbom(actor: Actor, doc: SbomDocument, filename: str, system_name: str) -> ImportReport:
    visible = systems_for(actor.user) if actor.user is not None else System.objects.all()
    system = visible.filter(name=system_name).first()
    if system is None:
        raise NotFound(f"system {system_name!r} does not exist", hint="register the system first")
    if actor.user is not None and not can_change_system(actor.user, system):
        raise Forbidden(f"you may not change system {system_name!r}")
    report = ImportReport(file=filename, format=doc.format, systems=[system.name])
    with transaction.atomic():
        sync_components(actor, {system.pk: doc.components}, ComponentSource.SBOM, report)
        System.objects.filter(pk=system.pk).update(updated_at=timezone.now())
    report.systems_unchanged = 1
    return report


# --------------------------------------------------------------------------------------------- ledger


@dataclass
class _PlannedSystem:
    name: str
    line: int
    values: dict[str, str] = field(default_factory=dict)
    value_lines: dict[str, int] = field(default_factory=dict)
    components: list[ComponentRecord] = field(default_factory=list)
    lists_components: bool = False


def _group_rows(rows: list[LedgerRow], filename: str, errors: ErrorList) -> dict[str, _PlannedSystem]:
    planned: dict[str, _PlannedSystem] = {}
    for row in rows:
        name = row.system.get("system", "").strip()
        if not name:
            errors.add(InputError("the system name is empty", file=filename, line=row.line, field="system"))
            continue
        plan = planned.setdefault(name, _PlannedSystem(name=name, line=row.line))
        for column, value in row.system.items():
            if column == "system" or value == "":
                continue
            if column in plan.values and plan.values[column] != value:
                errors.add(
                    InputError(
                        f"{value!r} contradicts {plan.values[column]!r} given for {name} on line "
                        f"{plan.value_lines[column]}",
                        file=filename,
                        line=row.line,
                        field=column,
                    )
                )
                continue
            plan.values[column] = value
            plan.value_lines[column] = row.line
        if row.component is not None:
            plan.components.append(row.component)
        plan.lists_components = plan.lists_components or row.component is not None
    return planned


class _Lookups:
    """Organisations, users and choice labels, loaded once per import."""

    def __init__(self) -> None:
        self.organisations: dict[str, Organisation] = {}
        for org in Organisation.objects.all():
            for key in (org.code, org.name, org.name_en):
                if key:
                    self.organisations[key.casefold()] = org
        self.users = {u.username.casefold(): u for u in User.objects.filter(is_active=True)}
        self.choices = {
            "lifecycle": _choice_map(Lifecycle),
            "system_type": _choice_map(SystemType),
            "criticality": _choice_map(Criticality),
        }


def _choice_map(choices: Any) -> dict[str, str]:
    """code, English label and Japanese label (the part in brackets) → code."""
    mapping: dict[str, str] = {}
    for value, label in choices.choices:
        text = str(label)
        mapping[value.casefold()] = value
        mapping[text.casefold()] = value
        english, _, japanese = text.partition(" (")
        mapping[english.casefold()] = value
        if japanese:
            mapping[japanese.rstrip(")").casefold()] = value
        mapping[gettext(text).casefold()] = value
    return mapping


def _convert(column: str, value: str, look: _Lookups) -> Any:
    """One ledger cell → the model value, or ValueError with what is expected."""
    if column == "organisation":
        org = look.organisations.get(value.casefold())
        if org is None:
            raise ValueError(f"unknown organisation {value!r}; use an organisation code or name")
        return org
    if column == "service_owner":
        owner = look.users.get(value.casefold())
        if owner is None:
            raise ValueError(f"unknown user {value!r}")
        return owner
    if column in look.choices:
        code = look.choices[column].get(value.casefold())
        if code is None:
            allowed = sorted({c for c in look.choices[column].values()})
            raise ValueError(f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return code
    if column == "has_global_ip":
        folded = value.casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise ValueError(f"{value!r} is not yes/no")
    if column in ("addresses", "fqdns", "urls"):
        return [v for v in _SPLIT.split(value) if v]
    return value


def _administrators(value: str, look: _Lookups) -> list[User]:
    users = []
    for name in (v for v in _SPLIT.split(value) if v):
        user = look.users.get(name.casefold())
        if user is None:
            raise ValueError(f"unknown user {name!r}")
        users.append(user)
    return users


def _import_ledger(
    actor: Actor,
    rows: list[LedgerRow],
    filename: str,
    fmt: str,
    errors: ErrorList,
    progress: Callable[[str], None],
) -> ImportReport:
    planned = _group_rows(rows, filename, errors)
    look = _Lookups()
    existing = _existing_systems(list(planned))
    new_systems: list[System] = []
    changed: list[tuple[System, dict[str, Any]]] = []
    admin_sets: dict[str, list[User]] = {}
    launches: list[System] = []
    report = ImportReport(file=filename, format=fmt, systems=list(planned))
    if actor.user is not None and not can_create_system(actor.user):
        raise Forbidden("your role may not change the inventory")
    for plan in planned.values():
        system = existing.get(plan.name)
        before = system_snapshot(system) if system is not None else None
        if system is None:
            system = System(name=plan.name)
        elif actor.user is not None and not can_change_system(actor.user, system):
            errors.add(
                InputError(f"you may not change system {plan.name!r}", file=filename, line=plan.line, field="system")
            )
            continue
        for column, value in plan.values.items():
            try:
                if column == "administrators":
                    admin_sets[plan.name] = _administrators(value, look)
                elif column in SYSTEM_FIELDS:
                    setattr(system, column, _convert(column, value, look))
            except ValueError as exc:
                errors.add(InputError(str(exc), file=filename, line=plan.value_lines[column], field=column))
        for error in _validate_system(system, plan, filename):
            errors.add(error)
        launches.append(system)
        if before is None:
            new_systems.append(system)
        else:
            changed.append((system, before))
    for name, message in launch_refusals(actor, launches).items():
        line = planned[name].value_lines.get("lifecycle", planned[name].line)
        errors.add(InputError(message, file=filename, line=line, field="lifecycle"))
    errors.raise_if_any()
    progress(f"writing {len(planned):,} systems and {sum(len(p.components) for p in planned.values()):,} components")
    with transaction.atomic():
        _write_systems(actor, new_systems, changed, admin_sets, report)
        ids = {s.name: s.pk for s in new_systems} | {s.name: s.pk for s, _ in changed}
        components = {ids[p.name]: p.components for p in planned.values() if p.lists_components}
        sync_components(actor, components, ComponentSource.LEDGER, report)
    return report


def _existing_systems(names: list[str]) -> dict[str, System]:
    found: dict[str, System] = {}
    for start in range(0, len(names), CHUNK):
        for system in System.objects.filter(name__in=names[start : start + CHUNK]).prefetch_related("administrators"):
            found[system.name] = system
    return found


def _validate_system(system: System, plan: _PlannedSystem, filename: str) -> list[InputError]:
    try:
        system.full_clean(exclude=["organisation", "service_owner", "administrators"], validate_unique=False)
    except ValidationError as exc:
        return [
            InputError(
                " ".join(str(m) for m in messages),
                file=filename,
                line=plan.value_lines.get(column, plan.line),
                field=column,
            )
            for column, messages in exc.message_dict.items()
        ]
    if system.organisation_id is None:
        return [InputError("a new system needs its organisation", file=filename, line=plan.line, field="organisation")]
    return []


def _write_systems(
    actor: Actor,
    new_systems: list[System],
    changed: list[tuple[System, Snapshot]],
    admin_sets: dict[str, list[User]],
    report: ImportReport,
) -> None:
    now = timezone.now()
    for system in new_systems:
        admins = initial_administrators(actor, admin_sets.get(system.name, []))
        if admins:
            admin_sets[system.name] = admins
    for system in new_systems:
        system.created_at = system.updated_at = now
    System.objects.bulk_create(new_systems, batch_size=CHUNK)
    report.systems_created = len(new_systems)
    through = System.administrators.through
    changed_ids = [s.pk for s, _ in changed if s.name in admin_sets]
    for start in range(0, len(changed_ids), CHUNK):
        through.objects.filter(system_id__in=changed_ids[start : start + CHUNK]).delete()
    through.objects.bulk_create(
        [
            through(system_id=s.pk, user_id=u.pk)
            for s in [*new_systems, *(s for s, _ in changed)]
            if s.name in admin_sets
            for u in dict.fromkeys(admin_sets[s.name])
        ],
        batch_size=2000,
    )
    audits = [
        entry(actor, AuditAction.CREATE, s, None, system_snapshot(s, admin_sets.get(s.name, []))) for s in new_systems
    ]
    updated = []
    for system, before in changed:
        after = system_snapshot(system, admin_sets.get(system.name))
        if after == before:
            report.systems_unchanged += 1
            continue
        system.updated_at = now
        updated.append(system)
        audits.append(entry(actor, AuditAction.UPDATE, system, before, after))
    System.objects.bulk_update(updated, [*(f for f in SYSTEM_FIELDS if f != "name"), "updated_at"], batch_size=CHUNK)
    report.systems_updated = len(updated)
    record_many(audits)


# ---------------------------------------------------------------------------------------- components


def sync_components(actor: Actor, wanted: dict[int, list[ComponentRecord]], source: str, report: ImportReport) -> None:
    """Make each listed system's components from ``source`` exactly ``wanted``; others untouched."""
    now = timezone.now()
    system_ids = list(wanted)
    have: dict[tuple[int, str], tuple[int, str]] = {}
    for start in range(0, len(system_ids), CHUNK):
        chunk = system_ids[start : start + CHUNK]
        for pk, system_id, key, comp_source in Component.objects.filter(system_id__in=chunk).values_list(
            "pk", "system_id", "key", "source"
        ):
            have[(system_id, key)] = (pk, comp_source)
    created: dict[tuple[int, str], ComponentRecord] = {}
    keep: set[int] = set()
    for system_id, records in wanted.items():
        for rec in records:
            found = have.get((system_id, rec.key))
            if found is not None:
                keep.add(found[0])
            elif (system_id, rec.key) not in created:
                created[(system_id, rec.key)] = rec
    stale = [pk for pk, comp_source in have.values() if comp_source == source and pk not in keep]
    stale_systems = {system_id for (system_id, _), (pk, s) in have.items() if s == source and pk not in keep}
    _delete_components(actor, stale)
    _insert_components(actor, created, source, now)
    _mark_seen(system_ids, source, [pk for (_, _), (pk, s) in have.items() if pk in keep and s != source], now)
    software_changed(sorted({system_id for system_id, _ in created} | stale_systems))
    report.components_created += len(created)
    report.components_deleted += len(stale)
    report.components_unchanged += len(keep)


def _mark_seen(system_ids: list[int], source: str, other_sources: list[int], now: dt.datetime) -> None:
    """Stamp last_seen: every remaining component of this source on the listed systems (one statement per
    chunk of systems), and the few listed components that exist from another source."""
    for start in range(0, len(system_ids), CHUNK):
        Component.objects.filter(system_id__in=system_ids[start : start + CHUNK], source=source).update(last_seen=now)
    for start in range(0, len(other_sources), CHUNK):
        Component.objects.filter(pk__in=other_sources[start : start + CHUNK]).update(last_seen=now)


COMPONENT_COLUMNS = (
    "system_id",
    "key",
    "cpe",
    "purl",
    "part",
    "vendor",
    "product",
    "version",
    "source",
    "first_seen",
    "last_seen",
)


def _insert_components(
    actor: Actor, created: dict[tuple[int, str], ComponentRecord], source: str, now: dt.datetime
) -> None:
    """Insert new components and audit each one (their ids are read back by system and key)."""
    stamp = db_datetime(now)
    insert_rows(
        Component,
        COMPONENT_COLUMNS,
        (
            (system_id, key, r.cpe, r.purl, r.part or "a", r.vendor, r.product, r.version, source, stamp, stamp)
            for (system_id, key), r in created.items()
        ),
    )
    system_ids = sorted({system_id for system_id, _ in created})
    audits: list[PendingEntry] = []
    for start in range(0, len(system_ids), CHUNK):
        rows = Component.objects.filter(system_id__in=system_ids[start : start + CHUNK], source=source).values_list(
            "pk", "system_id", "key"
        )
        for pk, system_id, key in rows:
            rec = created.get((system_id, key))
            if rec is not None:
                audits.append(_component_entry(actor, AuditAction.CREATE, pk, system_id, source, rec))
    record_many(audits)


def _component_entry(
    actor: Actor, action: AuditAction, pk: int, system_id: int, source: str, rec: ComponentRecord
) -> PendingEntry:
    snap = {
        "id": pk,
        "system_id": system_id,
        "cpe": rec.cpe,
        "purl": rec.purl,
        "part": rec.part or "a",
        "vendor": rec.vendor,
        "product": rec.product,
        "version": rec.version,
        "source": source,
    }
    name = " ".join(p for p in (rec.vendor, rec.product, rec.version) if p)
    return PendingEntry(actor, action, "inventory.component", str(pk), name, None, snap)


def _delete_components(actor: Actor, pks: list[int]) -> None:
    for start in range(0, len(pks), CHUNK):
        batch = list(Component.objects.filter(pk__in=pks[start : start + CHUNK]))
        record_many(entry(actor, AuditAction.DELETE, c, component_snapshot(c), None) for c in batch)
        Component.objects.filter(pk__in=[c.pk for c in batch]).delete()
