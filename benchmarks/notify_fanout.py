"""Benchmark: one S+ vulnerability announced for 2,000 systems (400 administrators with 5 systems each, in
20 departments) and delivered by mail.

Target (issue "Triage and response", item 3): announce + delivery ≤ 30 s, and exactly one mail per
administrator (400), each listing that administrator's 5 systems.

    .venv/bin/python benchmarks/notify_fanout.py [--administrators 400] [--systems-each 5] [--runs 3]
        [--mail locmem|file] [--database-url postgres://postgres@127.0.0.1:5432/ismp_bench]

Setup (untimed): organisations, users and systems written in bulk. Each run announces under a new dedupe
key (as a new vulnerability would be), so every run stores and sends everything again. Timed: ``announce``
inside a transaction (rendering and storing the messages), then the delivery the commit triggers (the
task runner in immediate mode: ``deliver_pending`` sending every mail and recording each attempt).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_environment, peak_rss_mb, reset_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--administrators", type=int, default=400)
    parser.add_argument("--systems-each", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--mail", choices=("locmem", "file", "smtp"), default="locmem", help="smtp: a local aiosmtpd server"
    )
    parser.add_argument(
        "--event",
        choices=("finding.new", "workitem.overdue"),
        default="finding.new",
        help="workitem.overdue also tells each department's head and the 2 CISOs (each CISO: every system)",
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data_dir = fresh_environment(args.database_url)
    from django.conf import settings
    from django.core import mail
    from django.db import connection

    module = {"locmem": "locmem", "file": "filebased", "smtp": "smtp"}[args.mail]
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{module}.EmailBackend"
    if args.mail == "smtp":
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", start_smtp_server()
    mail.outbox = []
    reset_database()
    system_ids = make_estate(args.administrators, args.systems_each)
    print(
        f"data directory: {data_dir}; database: {connection.vendor}; mail: {args.mail}\n"
        f"estate: {len(system_ids):,} systems, {args.administrators:,} administrators with "
        f"{args.systems_each} systems each"
    )
    totals = [run(n, system_ids, args.mail, args.event) for n in range(args.runs)]
    print(
        f"announce + delivery, median of {args.runs}: {statistics.median(totals):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in totals)}); target ≤ 30 s; peak memory {peak_rss_mb():.0f} MB"
    )


def run(n: int, system_ids: list[int], backend: str, event: str) -> float:
    from django.core import mail
    from django.db import transaction

    from ismp.apps.notifications.models import Notification
    from ismp.apps.notifications.services import Subject, announce, deliver_pending

    mail.outbox = []
    RECEIVED.clear()
    subjects = [
        Subject(pk, "CVE-2014-6271", "S+", title="GNU Bash: code execution through crafted environment variables")
        for pk in system_ids
    ]
    start = time.perf_counter()
    with transaction.atomic():
        report = announce(event, subjects, dedupe=f"bench:{n}", immediate=True)
        stored = time.perf_counter()
    delivered = time.perf_counter()  # the commit ran the delivery task (immediate mode)
    again = deliver_pending()  # nothing is left: every mail went out once
    total = delivered - start
    sent = Notification.objects.filter(event=event, dedupe_key=f"bench:{n}", channel="mail", state="sent")
    count = {"locmem": len(mail.outbox), "smtp": len(RECEIVED)}.get(backend, sent.count())
    print(
        f"  run {n + 1}: announce {stored - start:.2f} s ({report.created:,} notifications for "
        f"{report.recipients:,} recipients), delivery {delivered - stored:.2f} s, total {total:.2f} s; "
        f"{count:,} mails sent, {again.messages_sent} left over",
        flush=True,
    )
    if count != report.recipients or again.messages_sent:
        raise SystemExit(f"expected exactly one mail per recipient ({report.recipients}), got {count}")
    return total


RECEIVED: list[bytes] = []


def start_smtp_server() -> int:
    """A local SMTP server (aiosmtpd) that keeps what it receives; returns its port."""
    import socket

    from aiosmtpd.controller import Controller

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            RECEIVED.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    Controller(Keep(), hostname="127.0.0.1", port=port).start()
    return port


def make_estate(administrators: int, each: int) -> list[int]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from ismp.apps.accounts.models import Organisation, User
    from ismp.apps.inventory.models import System

    password = make_password(None)  # unusable: nobody logs in
    with transaction.atomic():
        company = Organisation.objects.create(code="BENCH", name="ベンチ株式会社", kind="company")
        departments = [
            Organisation.objects.create(code=f"D{i:02d}", name=f"部門{i}", kind="department", parent=company)
            for i in range(20)
        ]
        for i, department in enumerate(departments):  # heads hear of overdue work only
            department.head = User.objects.create(
                username=f"head{i:02d}", email=f"head{i:02d}@example.jp", password=password, role="service_owner"
            )
            department.save(update_fields=["head"])
        for i in range(2):
            User.objects.create(username=f"ciso{i}", email=f"ciso{i}@example.jp", password=password, role="ciso")
        users = User.objects.bulk_create(
            User(
                username=f"admin{i:04d}",
                email=f"admin{i:04d}@example.jp",
                password=password,
                role="sysadmin",
                organisation=departments[i % len(departments)],
            )
            for i in range(administrators)
        )
        systems = System.objects.bulk_create(
            System(
                name=f"sys-{i:05d}",
                organisation=departments[(i // each) % len(departments)],
                system_type="internal",
                lifecycle="in_service",
            )
            for i in range(administrators * each)
        )
        through = System.administrators.through
        through.objects.bulk_create(
            through(system_id=system.pk, user_id=users[i // each].pk) for i, system in enumerate(systems)
        )
    return [s.pk for s in systems]


if __name__ == "__main__":
    main()
