"""``ismp users create`` and ``ismp users list``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ismp.cli.common import add_json, cli_actor, emit, setup_django

ROLES = ("csirt", "ciso", "sysadmin", "service_owner", "auditor")


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="create and list users").add_subparsers(
        dest="users_command", metavar="COMMAND", required=True
    )
    p = users.add_parser("create", help="create a user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--email", default="")
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.add_argument("--organisation", default="", help="organisation code")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add_json(p)
    p.set_defaults(handler=cmd_create)

    p = users.add_parser("list", help="list users")
    add_json(p)
    p.set_defaults(handler=cmd_list)


def cmd_create(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.accounts.services import create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
    user = create_user(
        cli_actor(None),
        username=args.username,
        role=args.role,
        password=password,
        email=args.email,
        first_name=args.first_name,
        last_name=args.last_name,
        organisation_code=args.organisation,
    )
    emit(
        {"id": user.pk, "username": user.username, "role": user.role},
        args.json,
        f"Created user {user.username} ({user.role}).",
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.accounts.models import User

    rows = [
        {
            "username": u.username,
            "role": u.role,
            "organisation": u.organisation.code if u.organisation else "",
            "active": u.is_active,
        }
        for u in User.objects.select_related("organisation").order_by("username")
    ]
    text = "\n".join(f"{r['username']:<20} {r['role']:<14} {r['organisation']}" for r in rows)
    emit(rows, args.json, text or "no users")
    return 0
