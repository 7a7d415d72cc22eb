"""Exporting the inventory a user may see, as a ledger (CSV, XLSX) or JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone

from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.queries import systems_for
from ismp.engines.inventory.ledger import write_ledger
from ismp.engines.inventory.records import COMPONENT_COLUMNS, ComponentRecord
from ismp.engines.inventory.sbom_writer import write_cyclonedx_json, write_spdx_json
from ismp.errors import InputError

EXPORT_FORMATS = ("csv", "xlsx", "json")
SBOM_FORMATS = {"cyclonedx-json": ".cdx.json", "spdx-json": ".spdx.json"}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "cyclonedx-json": "application/vnd.cyclonedx+json",
    "spdx-json": "application/spdx+json",
}
_CHUNK = 1000


def _systems(user: Any) -> Iterator[System]:
    qs = (
        systems_for(user)
        .select_related("organisation", "service_owner")
        .prefetch_related("administrators", Prefetch("components", queryset=Component.objects.order_by("pk")))
        .order_by("name")
    )
    yield from qs.iterator(chunk_size=_CHUNK)


def _system_cells(system: System) -> dict[str, str]:
    return {
        "system": system.name,
        "purpose": system.purpose,
        "organisation": system.organisation.code,
        "service_owner": system.service_owner.username if system.service_owner else "",
        "administrators": ";".join(sorted(u.username for u in system.administrators.all())),
        "lifecycle": system.lifecycle,
        "system_type": system.system_type,
        "criticality": system.criticality,
        "has_global_ip": "yes" if system.has_global_ip else "no",
        "addresses": ";".join(system.addresses),
        "fqdns": ";".join(system.fqdns),
        "urls": ";".join(system.urls),
        "hardware": system.hardware,
        "location": system.location,
        "notes": system.notes,
    }


def ledger_rows(user: Any) -> Iterator[dict[str, str]]:
    """One row per system × component (one row for a system without components)."""
    for system in _systems(user):
        cells = _system_cells(system)
        components = list(system.components.all())
        if not components:
            yield cells | {c: "" for c in COMPONENT_COLUMNS}
        for component in components:
            yield cells | {c: getattr(component, c) for c in COMPONENT_COLUMNS}


def _json_document(user: Any) -> dict[str, Any]:
    systems = []
    for system in _systems(user):
        cells: dict[str, Any] = _system_cells(system)
        cells.update(
            administrators=sorted(u.username for u in system.administrators.all()),
            has_global_ip=system.has_global_ip,
            addresses=system.addresses,
            fqdns=system.fqdns,
            urls=system.urls,
            created_at=system.created_at.isoformat(),
            updated_at=system.updated_at.isoformat(),
            components=[
                {c: getattr(component, c) for c in COMPONENT_COLUMNS}
                | {
                    "source": component.source,
                    "first_seen": component.first_seen.isoformat(),
                    "last_seen": component.last_seen.isoformat(),
                }
                for component in system.components.all()
            ],
        )
        systems.append(cells)
    return {"format": "ismp-inventory", "version": 1, "systems": systems}


def export_download(user: Any, fmt: str) -> HttpResponse:
    """The export as a file download named with the local time; ``fmt`` must be one of EXPORT_FORMATS."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected csv, xlsx or json", field="format")
    response = HttpResponse(export_inventory(user, fmt), content_type=CONTENT_TYPES[fmt])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ismp-inventory-{stamp}.{fmt}"'
    return response


def export_inventory(user: Any, fmt: str) -> bytes:
    """The inventory visible to ``user`` in ``fmt`` (csv, xlsx or json)."""
    if fmt == "json":
        return json.dumps(_json_document(user), ensure_ascii=False, indent=1).encode("utf-8")
    buffer = io.BytesIO()
    write_ledger(ledger_rows(user), buffer, fmt)
    return buffer.getvalue()


def export_system_sbom(system: System, fmt: str) -> bytes:
    """One system's components as an SBOM (CycloneDX 1.6 JSON or SPDX 2.3 JSON). The caller checks that
    the user may see the system."""
    records = [
        ComponentRecord(0, c.cpe, c.purl, c.part, c.vendor, c.product, c.version)
        for c in system.components.order_by("pk")
    ]
    now = timezone.now()
    if fmt == "cyclonedx-json":
        return write_cyclonedx_json(system.name, records, timestamp=now)
    if fmt == "spdx-json":
        return write_spdx_json(system.name, records, timestamp=now)
    raise InputError(f"unknown SBOM format {fmt!r}; expected {' or '.join(SBOM_FORMATS)}", field="format")


def sbom_download(system: System, fmt: str) -> HttpResponse:
    data = export_system_sbom(system, fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in system.name)
    response["Content-Disposition"] = f'attachment; filename="{safe}{SBOM_FORMATS[fmt]}"'
    return response
