"""Urgency recomputation after a KEV update touching 1,000 CVEs (target ≤ 5 s), with 10,000 systems and
1,000,000 work items.

Setup (untimed): import the real NVD 1.1 feeds of the chosen years; write the organisations, 2,000
administrators, 10,000 systems (5 per administrator) and the work items straight into the tables, spread over
the imported CVEs with a skew (a few CVEs touch thousands of systems, most a few dozen); decide every CVE's
urgency once.

Timed: a KEV catalogue in the real format naming 1,000 imported CVEs — every real KEV entry of those years,
completed with entries for other imported CVEs (copied from a real entry, the CVE id replaced; said in the
output) — is imported (``import_feed("kev")``), then ``recompute_pending_urgency`` reads its change events,
decides those CVEs again, raises their open work items (deadlines shortened, history written) and announces
the rises (one notification per administrator and channel, written to the database; delivery is the task
runner's and is not timed).

    .venv/bin/python benchmarks/urgency.py [--systems 10000] [--items 1000000] [--cves 1000]
        [--years 2014-2017] [--runs 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, fresh_environment, peak_rss_mb, reset_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--cves", type=int, default=1_000)
    parser.add_argument("--years", default="2014-2017")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    first, last = (int(y) for y in args.years.split("-"))
    fresh_environment(args.database_url)
    reset_database()
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False  # as in production: tasks (recompute after an import, mail delivery) are queued

    from django.db import connection

    from ismp.apps.vulns.models import Vulnerability
    from ismp.apps.vulns.services import import_feed

    feeds = SHARED / "vuln" / "nvd" / "feeds-1.1"
    started = time.perf_counter()
    import_feed("nvd", [feeds / f"nvdcve-1.1-{year}.json.gz" for year in range(first, last + 1)])
    cves = list(Vulnerability.objects.order_by("pk").values_list("pk", "vuln_id"))
    took = time.perf_counter() - started
    print(f"database: {connection.vendor}; NVD {first}–{last}: {len(cves):,} CVEs in {took:.0f} s")
    started = time.perf_counter()
    _populate(args.systems, args.items, cves)
    print(f"{args.systems:,} systems, {args.items:,} work items written in {time.perf_counter() - started:.0f} s")

    times = []
    for run in range(args.runs):
        kev, real = _kev_update(cves, args.cves, seed=run)
        _forget_kev()
        started = time.perf_counter()
        import_feed("kev", [kev])
        imported = time.perf_counter() - started
        from ismp.apps.workflow.services import recompute_pending_urgency

        started = time.perf_counter()
        report = recompute_pending_urgency()
        took = time.perf_counter() - started
        times.append(took)
        print(
            f"run {run + 1}: KEV of {args.cves:,} CVEs ({real} real entries) imported in {imported:.2f} s; "
            f"urgency recomputed in {took:.2f} s: {report.as_dict()}"
        )
    print(f"urgency after a KEV update of {args.cves:,} CVEs: median {statistics.median(times):.2f} s (target ≤ 5 s)")
    print(f"peak memory {peak_rss_mb():,.0f} MB")


def _populate(systems: int, items: int, cves: list[tuple[int, str]]) -> None:
    from django.db import transaction
    from django.utils import timezone

    from ismp.apps.accounts.models import Organisation, User
    from ismp.apps.bulk import db_datetime, insert_rows, with_defaults
    from ismp.apps.inventory.models import System
    from ismp.apps.workflow.models import VulnerabilityUrgency, WorkItem
    from ismp.apps.workflow.services import recompute_urgency

    rng = random.Random(7)
    now = timezone.now()
    with transaction.atomic():
        company = Organisation.objects.create(code="BENCH", name="ベンチ株式会社", kind="company")
        divisions = [
            Organisation.objects.create(code=f"D{i}", name=f"事業部{i}", kind="division", parent=company)
            for i in range(20)
        ]
        admins = systems // 5
        insert_rows(
            User,
            *with_defaults(
                User,
                ("username", "password", "role", "email", "is_active", "date_joined"),
                (
                    (f"admin{i:05d}", "!", "sysadmin", f"admin{i:05d}@example.jp", True, db_datetime(now))
                    for i in range(admins)
                ),
            ),
        )
        insert_rows(
            System,
            *with_defaults(
                System,
                ("name", "organisation_id", "system_type", "lifecycle", "created_at", "updated_at"),
                (
                    (f"sys-{s:05d}", divisions[s % 20].pk, "internal", "in_service", db_datetime(now), db_datetime(now))
                    for s in range(systems)
                ),
            ),
        )
        system_pks = list(System.objects.order_by("pk").values_list("pk", flat=True))
        user_pks = list(User.objects.filter(username__startswith="admin").order_by("pk").values_list("pk", flat=True))
        insert_rows(
            System.administrators.through,
            ("system_id", "user_id"),
            ((pk, user_pks[i // 5]) for i, pk in enumerate(system_pks)),
        )
    recompute_urgency(None)
    urgency = dict(VulnerabilityUrgency.objects.values_list("vulnerability_id", "value"))
    # skew: CVE k is chosen with weight 1/(k+1)^0.8, shuffled, so some CVEs touch thousands of systems
    weights = [1 / (k + 1) ** 0.8 for k in range(len(cves))]
    order = [pk for pk, _ in cves]
    rng.shuffle(order)
    per_system = max(1, items // systems)
    columns = ("kind", "system_id", "vulnerability_id", "state", "urgency", "opened_at", "answer_due", "due")
    later = db_datetime(now + dt.timedelta(days=30))

    def rows():
        for system_pk in system_pks:
            chosen = set(rng.choices(order, weights=weights, k=per_system * 2))
            for vuln_pk in list(chosen)[:per_system]:
                yield ("security_info", system_pk, vuln_pk, "new", urgency[vuln_pk], db_datetime(now), later, later)

    with transaction.atomic():
        insert_rows(WorkItem, *with_defaults(WorkItem, columns, rows()))


def _kev_update(cves: list[tuple[int, str]], count: int, seed: int) -> tuple[Path, int]:
    """A KEV catalogue (real format) naming ``count`` imported CVEs: the real entries first."""
    catalogue = json.loads((SHARED / "vuln" / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text())
    present = {name for _, name in cves}
    real = [entry for entry in catalogue["vulnerabilities"] if entry["cveID"] in present][:count]
    named = {entry["cveID"] for entry in real}
    others = sorted(present - named)
    random.Random(seed).shuffle(others)
    template = catalogue["vulnerabilities"][0]
    extra = [{**template, "cveID": name, "dateAdded": "2026-11-25"} for name in others[: count - len(real)]]
    path = Path(tempfile.mkdtemp(prefix="ismp-kev-")) / "known_exploited_vulnerabilities.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({**catalogue, "count": count, "vulnerabilities": real + extra}, handle)
    return path, len(real)


def _forget_kev() -> None:
    """Each run starts from no KEV evidence and the urgencies without it, so every run raises the same items."""
    from ismp.apps.vulns.models import ChangeEvent, ExploitEvidence
    from ismp.apps.workflow.models import UrgencyState, WorkItem
    from ismp.apps.workflow.services import recompute_urgency

    ExploitEvidence.objects.filter(source="kev").delete()
    recompute_urgency(None)
    WorkItem.objects.exclude(state="new").update(state="new")
    last = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    UrgencyState.objects.update_or_create(pk=1, defaults={"last_event": last})
    from ismp.apps.notifications.models import Notification

    Notification.objects.all().delete()


if __name__ == "__main__":
    main()
