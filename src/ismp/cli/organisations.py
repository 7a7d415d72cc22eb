"""``ismp orgs create`` and ``ismp orgs list``: the organisation tree (company → division → department)."""

from __future__ import annotations

import argparse
from typing import Any

from ismp.cli.common import add_json, cli_actor, emit, setup_django


def register(sub: Any) -> None:
    orgs = sub.add_parser("orgs", help="create and list organisations").add_subparsers(
        dest="orgs_command", metavar="COMMAND", required=True
    )
    p = orgs.add_parser("create", help="create or update an organisation")
    p.add_argument("code", help="short unique code, e.g. WEB")
    p.add_argument("--name", required=True, help="name (Japanese as used in the company)")
    p.add_argument("--name-en", default="", help="English name")
    p.add_argument("--kind", required=True, choices=("company", "division", "department"))
    p.add_argument("--parent", default="", help="code of the parent organisation")
    p.add_argument("--head", default="", help="user name of the organisation's head (escalations)")
    add_json(p)
    p.set_defaults(handler=cmd_create)

    p = orgs.add_parser("list", help="list the organisation tree")
    add_json(p)
    p.set_defaults(handler=cmd_list)


def cmd_create(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.accounts.services import save_organisation

    org = save_organisation(
        cli_actor(None),
        code=args.code,
        name=args.name,
        kind=args.kind,
        parent_code=args.parent,
        name_en=args.name_en,
        head_username=args.head,
    )
    emit(
        {"code": org.code, "name": org.name, "kind": org.kind},
        args.json,
        f"Saved organisation {org.code} ({org.name}).",
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.accounts.models import Organisation

    orgs = list(Organisation.objects.select_related("parent").order_by("code"))
    children: dict[str | None, list[Any]] = {}
    for org in orgs:
        children.setdefault(org.parent.code if org.parent else None, []).append(org)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for org in children.get(parent, []):
            lines.append(f"{'  ' * depth}{org.code:<12} {org.name} ({org.kind})")
            walk(org.code, depth + 1)

    walk(None, 0)
    rows = [
        {
            "code": o.code,
            "name": o.name,
            "name_en": o.name_en,
            "kind": o.kind,
            "parent": o.parent.code if o.parent else None,
        }
        for o in orgs
    ]
    emit(rows, args.json, "\n".join(lines) or "no organisations")
    return 0
