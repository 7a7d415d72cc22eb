"""``ismp setup``, ``ismp demo``, ``ismp serve`` and ``ismp worker``."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from ismp.cli.common import add_json, emit, err, setup_django

DEMO_URL = "http://{host}:{port}/"


def register(sub: Any) -> None:
    p = sub.add_parser("setup", help="create or migrate the database in the data directory")
    add_json(p)
    p.set_defaults(handler=cmd_setup)

    p = sub.add_parser("demo", help="set up, load the demo company (once) and serve the web UI")
    _serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="load the demo data and stop")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("serve", help="serve the web UI and API, with the task worker")
    _serve_options(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("worker", help="run the task worker alone (scale-out: several machines)")
    p.set_defaults(handler=cmd_worker)


def _serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=8, help="web server threads (default 8)")
    p.add_argument("--no-worker", action="store_true", help="do not start the task worker")


def migrate() -> list[str]:
    """Apply pending migrations; returns what was applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())]
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
    return pending


def cmd_setup(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    with err.status("Migrating the database…"):
        applied = migrate()
    emit(
        {
            "data_dir": str(settings.ISMP.data_dir),
            "database": settings.DATABASES["default"]["ENGINE"],
            "migrations_applied": applied,
        },
        args.json,
        f"ISMP is set up in {settings.ISMP.data_dir} ({len(applied)} migration(s) applied).",
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.demo import DEMO_PASSWORD, load_demo

    with err.status("Migrating the database…"):
        migrate()
    with err.status("Loading the demo company…"):
        summary = load_demo()
    print(
        f"Demo company: {summary.company} — {summary.organisations} organisations, {summary.systems} systems, "
        f"{summary.components} components{' (already loaded)' if summary.already_loaded else ''}."
    )
    v = summary.vulns
    print(
        f"Vulnerabilities: {v.vulnerabilities:,}, {v.kev} of them in CISA KEV"
        f"{'' if v.imported else ' (already loaded)'}. "
        f"Findings: {v.findings_open:,} open ({v.needs_confirmation} need the CSIRT's confirmation), "
        f"{v.not_affected} not affected."
    )
    print("Demo logins (password for all: " + DEMO_PASSWORD + "):")
    for username, role in summary.logins:
        print(f"  {username:<16} {role}")
    if args.no_serve:
        return 0
    return _serve(args)


def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()
    migrate()
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from waitress import serve

    from ismp.wsgi import application

    worker = None
    if not args.no_worker and settings.ISMP.tasks_backend != "immediate":
        worker = subprocess.Popen([sys.executable, "-m", "ismp.cli.main", "worker"])
    print(f"ISMP is serving on {DEMO_URL.format(host=args.host, port=args.port)}  (Ctrl-C to stop)", flush=True)
    try:
        serve(application, host=args.host, port=args.port, threads=args.threads, ident="ismp")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("run_huey")
    return 0
