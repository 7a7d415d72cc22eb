"""Fan-out of one S+ vulnerability to 2,000 systems, end to end: the feed import that brings Shellshock
(CVE-2014-6271) in, matching, a work item per affected system, and one message per administrator, delivered.

Target (issue "Triage and response"): ≤ 30 s, one message per administrator.

    .venv/bin/python benchmarks/fanout.py [--administrators 400] [--systems-each 5] [--runs 3]
        [--database-url postgres://postgres@127.0.0.1:5432/ismp_bench]

Setup (untimed): 2,000 systems (400 administrators × 5, in 20 departments), each running bash 4.3 among
four other real components; CISA's KEV entry for Shellshock already stored (so the vulnerability is S+ the
moment NVD's record arrives). Timed, each run from a database without the NVD record: importing the real
NVD 1.1 record of CVE-2014-6271 (a one-record feed file cut from the shipped demo feed), the task runner in
immediate mode then matching the change, opening the work items (``findings_changed``), announcing them
(one message per administrator and channel) and delivering the mail (locmem backend).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_environment, peak_rss_mb, reset_database  # noqa: E402
from notify_fanout import make_estate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "src" / "ismp" / "apps" / "inventory" / "demo" / "feeds"
CVE = "CVE-2014-6271"
COMPONENTS = (
    "cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*",
    "cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*",
    "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*",
    "cpe:2.3:a:postgresql:postgresql:15.5:*:*:*:*:*:*:*",
    "cpe:2.3:o:redhat:enterprise_linux:9.3:*:*:*:*:*:*:*",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--administrators", type=int, default=400)
    parser.add_argument("--systems-each", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    fresh_environment(args.database_url)
    from django.conf import settings
    from django.core import mail
    from django.db import connection

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    reset_database()
    system_ids = make_estate(args.administrators, args.systems_each)
    _components(system_ids)
    feed = _one_record_feed()
    from ismp.apps.vulns.services import import_feed

    import_feed("kev", [FEEDS / "kev-2025.08.25.json.gz"])
    print(f"database: {connection.vendor}; {len(system_ids):,} systems, {args.administrators:,} administrators")
    times = []
    for run in range(args.runs):
        _forget()
        mail.outbox = []
        started = time.perf_counter()
        import_feed("nvd", [feed])
        took = time.perf_counter() - started
        times.append(took)
        _report(run, took, args.administrators)
    print(
        f"fan-out of {CVE} to {len(system_ids):,} systems, median of {args.runs}: {statistics.median(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}); target ≤ 30 s; peak memory {peak_rss_mb():.0f} MB"
    )


def _components(system_ids: list[int]) -> None:
    from django.db import transaction

    from ismp.apps.audit.services import SYSTEM_ACTOR
    from ismp.apps.inventory.choices import ComponentSource
    from ismp.apps.inventory.importing import ImportReport, sync_components
    from ismp.engines.inventory.component import make_component

    records = [make_component(line=1, file="bench", cpe=cpe) for cpe in COMPONENTS]
    with transaction.atomic():
        sync_components(
            SYSTEM_ACTOR,
            {pk: records for pk in system_ids},
            ComponentSource.MANUAL,
            ImportReport(file="bench", format="bench"),
        )


def _one_record_feed() -> Path:
    with gzip.open(FEEDS / "nvdcve-1.1-demo.json.gz", "rt", encoding="utf-8") as handle:
        feed = json.load(handle)
    items = [item for item in feed["CVE_Items"] if item["cve"]["CVE_data_meta"]["ID"] == CVE]
    path = Path(tempfile.mkdtemp(prefix="ismp-fanout-")) / "nvdcve-1.1-shellshock.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({**feed, "CVE_data_numberOfCVEs": str(len(items)), "CVE_Items": items}, handle)
    return path


def _forget() -> None:
    """Each run starts before NVD's record arrived: no record, finding, work item or notification of it."""
    from ismp.apps.findings.services import reset_index
    from ismp.apps.notifications.models import Notification
    from ismp.apps.vulns.models import SourceRecord, Vulnerability

    Notification.objects.all().delete()
    Vulnerability.objects.filter(vuln_id=CVE).delete()  # its findings and work items go with it
    SourceRecord.objects.filter(source="nvd").delete()
    reset_index()


def _report(run: int, took: float, administrators: int) -> None:
    from django.core import mail

    from ismp.apps.notifications.models import Notification
    from ismp.apps.workflow.models import WorkItem

    items = WorkItem.objects.filter(vulnerability__vuln_id=CVE)
    urgencies = sorted(set(items.values_list("urgency", flat=True)))
    recipients = {address for message in mail.outbox for address in message.to}
    inbox = Notification.objects.filter(channel="inbox", event="finding.new").count()
    print(
        f"  run {run + 1}: {took:.2f} s — {items.count():,} work items ({', '.join(urgencies)}), "
        f"{len(mail.outbox):,} mails to {len(recipients):,} recipients, {inbox:,} inbox messages"
    )
    if len(recipients) != administrators or len(mail.outbox) != administrators:
        raise SystemExit(f"expected one mail per administrator ({administrators})")


if __name__ == "__main__":
    main()
