"""Benchmark: the bottom line (ボトムライン) with 10,000 systems, 1,000,000 findings and 1,000,000 work items
(target ≤ 300 ms server time, a constant number of queries).

Generates the data itself with bulk inserts (no matching run): a company of 10 divisions × 10
departments, 10,000 systems, 20,000 vulnerabilities (risk levels 1–5), 100 findings per system and one
work item per finding's (system, vulnerability) — the worst case, every finding with its work item. Work
items are spread over two years: about 80 % finished (完了, closed, not needed, accepted), 20 % open, a
third of those overdue; urgency S+ 1 %, S- 3 %, A 20 %, B 76 %.

Then refreshes the roll-up (what the task runner does every five minutes) and renders the dashboard
through Django's test client (server time: request in, response out, no network) as the CISO for the
company, a division (1,000 systems: roll-up) and a department (100: live), as an administrator of 50
systems (live), and the API; prints the median of --repeat requests, the number of queries and which
source answered.

    .venv/bin/python benchmarks/dashboard.py [--systems 10000] [--per-system 100] [--repeat 7] [--database-url …]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_environment, reset_database  # noqa: E402

VULNS = 20_000
URGENCY_WEIGHTS = (("S+", 1), ("S-", 3), ("A", 20), ("B", 76))
STATE_WEIGHTS = (
    ("done", 60),
    ("closed", 12),
    ("not_needed", 5),
    ("accepted", 3),
    ("new", 6),
    ("needed", 5),
    ("planned", 4),
    ("approved", 3),
    ("applied", 1),
    ("exception_requested", 1),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--per-system", type=int, default=100, help="findings (and work items) per system")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    fresh_environment(args.database_url)
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from ismp.apps.accounts.models import User

    setup_test_environment()
    reset_database()
    start = time.perf_counter()
    with transaction.atomic():
        generate(args.systems, args.per_system)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    items = args.systems * args.per_system
    print(
        f"{args.systems:,} systems, {items:,} findings, {items:,} work items; database: {connection.vendor}; "
        f"generated in {time.perf_counter() - start:.0f} s"
    )
    from ismp.apps.dashboard.services import refresh

    report = refresh()
    print(
        f"roll-up refreshed in {report.seconds:.1f} s ({report.cells:,} cells, {report.weeks:,} system-weeks, "
        f"{report.findings:,} finding counts); the task runner does this every five minutes"
    )

    cases = [
        ("ciso", "/"),
        ("ciso", "/?organisation=D3"),
        ("ciso", "/?organisation=D3-4"),
        ("ciso", "/api/dashboard/"),
        ("admin7", "/"),
    ]
    worst = 0.0
    for username, url in cases:
        client = Client()
        client.force_login(User.objects.get(username=username))
        client.get(url)  # warm caches
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(times)
        worst = max(worst, median)
        source = "roll-up" if response.context and response.context["summary"].rollup else "live"
        if url.startswith("/api/"):
            source = "roll-up" if response.json().get("refreshed_at") else "live"
        print(f"  {username:<7} {url:<28} median {median:7.1f} ms  queries {len(queries):2d}  {source}")
    print(f"dashboard, {args.systems:,} systems / {items:,} work items: worst median {worst:.1f} ms; target ≤ 300 ms")


def _weighted(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]


def generate(systems: int, per_system: int, seed: int = 11) -> None:
    """Organisations, users, systems, vulnerabilities, findings and work items, by bulk insert."""
    from django.utils import timezone

    from ismp.apps.accounts.models import Organisation, User
    from ismp.apps.bulk import db_datetime, insert_rows, with_defaults
    from ismp.apps.findings.models import Finding
    from ismp.apps.inventory.models import System
    from ismp.apps.vulns.models import Vulnerability
    from ismp.apps.workflow.models import WorkItem

    rng = random.Random(seed)
    now = timezone.now()
    company = Organisation.objects.create(code="BENCH", name="ベンチ株式会社", name_en="Bench Inc.", kind="company")
    departments = []
    for d in range(10):
        division = Organisation.objects.create(
            code=f"D{d}", name=f"事業部{d}", name_en=f"Division {d}", kind="division", parent=company
        )
        for k in range(10):
            departments.append(
                Organisation.objects.create(
                    code=f"D{d}-{k}", name=f"部{d}-{k}", name_en=f"Dept {d}-{k}", kind="department", parent=division
                ).pk
            )
    User.objects.create(username="ciso", role="ciso")  # no password: the benchmark logs in with force_login
    admins = [User.objects.create(username=f"admin{i}", role="sysadmin") for i in range(200)]

    stamp = db_datetime(now)
    types = ("public_web", "public_other", "internet_gateway", "internal")
    columns, rows = with_defaults(
        System,
        ("name", "organisation_id", "system_type", "lifecycle", "created_at", "updated_at"),
        ((f"sys-{s:05d}", departments[s % len(departments)], types[s % 4], "in_service", stamp, stamp)
         for s in range(systems)),
    )  # fmt: skip
    insert_rows(System, columns, rows)
    system_ids = list(System.objects.order_by("pk").values_list("pk", flat=True))
    through = System.administrators.through
    admin_of = ((pk, admins[i % len(admins)].pk) for i, pk in enumerate(system_ids))
    insert_rows(through, ("system_id", "user_id"), admin_of)

    columns, rows = with_defaults(
        Vulnerability,
        ("vuln_id", "risk_level", "updated_at"),
        ((f"CVE-2099-{v:05d}", rng.choices((1, 2, 3, 4, 5), (10, 25, 35, 22, 8))[0], stamp) for v in range(VULNS)),
    )
    insert_rows(Vulnerability, columns, rows)
    vuln_ids = list(Vulnerability.objects.order_by("pk").values_list("pk", flat=True))

    pairs = [(s, vuln_ids[(i * 97 + k * 13) % VULNS]) for i, s in enumerate(system_ids) for k in range(per_system)]
    columns, rows = with_defaults(
        Finding,
        ("system_id", "vulnerability_id", "component_key", "criterion", "confidence", "evidence", "state",
         "first_seen", "last_seen"),
        ((s, v, "cpe:2.3:a:bench:app:1.0:*:*:*:*:*:*:*", "cpe:2.3:a:bench:app:*:*:*:*:*:*:*:*", "high", "bench",
          rng.choices(("open", "closed", "not_affected"), (30, 60, 10))[0], stamp, stamp) for s, v in pairs),
    )  # fmt: skip
    insert_rows(Finding, columns, rows)

    def work_item(system: int, vuln: int) -> tuple[object, ...]:
        state = _weighted(rng, STATE_WEIGHTS)
        urgency = _weighted(rng, URGENCY_WEIGHTS)
        opened = now - dt.timedelta(days=rng.uniform(0, 730))
        answer_due, due = opened + dt.timedelta(days=7), opened + dt.timedelta(days=rng.choice((14, 30, 90, 180)))
        if state in ("new", "needed", "planned", "approved", "applied", "exception_requested") and rng.random() < 0.7:
            opened = now - dt.timedelta(days=rng.uniform(0, 60))  # most open items are recent …
            answer_due, due = opened + dt.timedelta(days=7), opened + dt.timedelta(days=90)  # … and in time
        completed = (opened + dt.timedelta(days=rng.uniform(1, 60))).date() if state == "done" else None
        completed = min(completed, now.date()) if completed else None
        return ("security_info", system, vuln, state, urgency, db_datetime(opened), db_datetime(answer_due),
                db_datetime(due), completed.isoformat() if completed else None, stamp)  # fmt: skip

    columns, rows = with_defaults(
        WorkItem,
        ("kind", "system_id", "vulnerability_id", "state", "urgency", "opened_at", "answer_due", "due",
         "completed_on", "updated_at"),
        (work_item(s, v) for s, v in pairs),
    )  # fmt: skip
    insert_rows(WorkItem, columns, rows)


if __name__ == "__main__":
    main()
