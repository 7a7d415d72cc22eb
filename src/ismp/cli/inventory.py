"""``ismp inventory import``, ``export``, ``suggest-cpe`` and ``apply-cpe``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, err, scoped_user, setup_django
from ismp.errors import InputError


def register(sub: Any) -> None:
    inv = sub.add_parser("inventory", help="import and export the system inventory").add_subparsers(
        dest="inventory_command", metavar="COMMAND", required=True
    )
    p = inv.add_parser("import", help="import a ledger (CSV, XLSX) or an SBOM (CycloneDX, SPDX) for --system")
    p.add_argument("path", type=Path)
    p.add_argument("--system", help="the system an SBOM belongs to")
    p.add_argument(
        "--format",
        dest="fmt",
        help="csv, xlsx, cyclonedx-json, cyclonedx-xml, spdx-json, spdx-tag (default: from the file)",
    )
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_import)

    p = inv.add_parser("export", help="export the inventory (only what --as may see), or one system's SBOM")
    p.add_argument(
        "--format",
        dest="fmt",
        choices=("csv", "xlsx", "json", "cyclonedx-json", "spdx-json"),
        default="csv",
        help="csv, xlsx or json for the inventory; cyclonedx-json or spdx-json for --system's SBOM",
    )
    p.add_argument("--system", help="the system whose SBOM to export")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    add_as(p)
    p.set_defaults(handler=cmd_export)

    p = inv.add_parser("suggest-cpe", help="suggest CPE names for components registered without one")
    p.add_argument("--system", help="only this system (default: every system --as may see)")
    p.add_argument("--limit", type=int, default=3, help="suggestions per component (default 3)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_suggest_cpe)

    p = inv.add_parser("apply-cpe", help="give a component without a CPE the CPE a person chose (audited)")
    p.add_argument("component", type=int, help="the component's id (as suggest-cpe prints it)")
    p.add_argument("cpe", help="the CPE 2.3 name, e.g. one that suggest-cpe proposed")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_apply_cpe)


def cmd_import(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.importing import import_inventory, max_import_bytes
    from ismp.engines.inventory.registry import check_size

    path: Path = args.path
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    check_size(path.stat().st_size, path.name, max_import_bytes())  # before reading it into memory
    actor = cli_actor(args.as_user)
    with err.status(f"Importing {path.name}…") as status:
        report = import_inventory(
            actor,
            path.read_bytes(),
            path.name,
            fmt=args.fmt,
            system_name=args.system,
            progress=lambda phase: status.update(f"Importing: {phase}…"),
        )
    d = report.as_dict()
    emit(
        d,
        args.json,
        f"{path.name}: systems {d['systems_created']} created, {d['systems_updated']} updated, "
        f"{d['systems_unchanged']} unchanged; components {d['components_created']} created, "
        f"{d['components_deleted']} removed, {d['components_unchanged']} unchanged.",
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.exporting import export_inventory

    if args.fmt in ("cyclonedx-json", "spdx-json") and not args.system:
        raise InputError(f"--format {args.fmt} exports one system's SBOM: name it with --system", field="system")
    actor = cli_actor(args.as_user)
    user = scoped_user(actor)
    with err.status("Exporting…"):
        data = _sbom(user, args.system, args.fmt) if args.system else export_inventory(user, args.fmt)
    if args.output:
        args.output.write_bytes(data)
        err.print(f"wrote {args.output} ({len(data)} bytes)")
    else:
        sys.stdout.buffer.write(data)
    return 0


def _sbom(user: Any, name: str, fmt: str) -> bytes:
    from ismp.apps.inventory.exporting import export_system_sbom
    from ismp.apps.inventory.queries import systems_for
    from ismp.errors import NotFound

    system = systems_for(user).filter(name=name).first()
    if system is None:
        raise NotFound(f"system {name!r} does not exist or is not visible to you")
    return export_system_sbom(system, fmt)


def cmd_suggest_cpe(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.queries import systems_for
    from ismp.apps.inventory.suggestions import suggestions_for
    from ismp.errors import NotFound

    actor = cli_actor(args.as_user)
    systems = systems_for(scoped_user(actor))
    if args.system:
        systems = systems.filter(name=args.system)
        if not systems.exists():
            raise NotFound(f"system {args.system!r} does not exist or is not visible to you")
    from ismp.apps.inventory.models import Component

    components = Component.objects.filter(system__in=systems, cpe="").select_related("system")
    with err.status("Suggesting CPE names…"):
        found = suggestions_for(components.order_by("system__name", "vendor", "product", "pk"), args.limit)
    rows = [
        {
            "component": item.component.pk,
            "system": item.component.system.name,
            "name": str(item.component),
            "purl": item.component.purl,
            "suggestions": [
                {"cpe": s.cpe, "vendor": s.vendor, "product": s.product, "score": s.score, "why": s.why}
                for s in item.suggestions
            ],
        }
        for item in found
    ]
    lines = []
    for item in found:
        c = item.component
        lines.append(f"{c.system.name} · component {c.pk}: {c or c.purl}")
        lines += [f"  {s.score:.2f}  {s.cpe}  ({s.why})" for s in item.suggestions] or ["  no suggestion"]
    lines.append(f"{len(rows)} component(s) without a CPE. Apply one with: ismp inventory apply-cpe COMPONENT CPE")
    emit(rows, args.json, "\n".join(lines))
    return 0


def cmd_apply_cpe(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.models import Component
    from ismp.apps.inventory.queries import systems_for
    from ismp.apps.inventory.suggestions import accept_suggestion
    from ismp.errors import NotFound

    actor = cli_actor(args.as_user)
    systems = systems_for(scoped_user(actor))
    component = Component.objects.filter(pk=args.component, system__in=systems).select_related("system").first()
    if component is None:
        raise NotFound(f"component {args.component} does not exist or is not visible to you")
    saved = accept_suggestion(component, args.cpe, actor)
    emit(
        {"component": saved.pk, "system": saved.system.name, "cpe": saved.cpe},
        args.json,
        f"{saved.system.name}: {saved} now has the CPE {saved.cpe}",
    )
    return 0
