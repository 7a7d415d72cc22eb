"""What every sub-command shares: starting Django, printing reports, naming the actor."""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

from rich.console import Console

err = Console(stderr=True)


def setup_django() -> None:
    """Start Django (only the commands that need the database call this)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismp.settings.django")
    import django

    django.setup()


def emit(data: dict[str, Any] | list[Any], as_json: bool, text: str = "") -> None:
    """Print a report: JSON on stdout with --json, else the human text."""
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(text or json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cli_actor(username: str | None) -> Any:
    """``--as USER`` acts (and is scoped) as that user; without it, the local operator acts with full rights
    and is recorded as cli:<login name>."""
    from ismp.apps.accounts.models import User
    from ismp.apps.audit.services import Actor
    from ismp.errors import NotFound

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise NotFound(f"user {username!r} does not exist or is inactive")
        return Actor(user, "cli")
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor(None, "cli", label=f"cli:{login}")


class Operator:
    """The local operator: sees everything (used only when no --as is given)."""

    is_authenticated = True
    is_active = True
    sees_everything = True
    pk = None


def scoped_user(actor: Any) -> Any:
    """The user reads are scoped to: the ``--as`` user, else the local operator who sees everything."""
    return actor.user if actor.user is not None else Operator()


def add_json(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def add_as(parser: Any) -> None:
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        help="act as this ISMP user (their role and scope apply); default: the operator, full rights",
    )
