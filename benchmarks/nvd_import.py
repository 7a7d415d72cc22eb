"""Benchmark: import all of NVD 2002–2017 (the JSON 1.1 yearly feeds) — target ≤ 60 s, peak memory ≤ 1 GB —
then import the same files again (target ≤ 20 s, and nothing may be written).

    .venv/bin/python benchmarks/nvd_import.py [--database-url postgres://postgres@127.0.0.1:5432/ismp_bench]
        [--years 2002-2017]

Each run starts from an empty database. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED, fresh_environment, peak_rss_mb, reset_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--years", default="2002-2017")
    args = parser.parse_args()
    first, last = (int(y) for y in args.years.split("-"))
    feeds = [SHARED / "vuln" / "nvd" / "feeds-1.1" / f"nvdcve-1.1-{year}.json.gz" for year in range(first, last + 1)]
    fresh_environment(args.database_url)
    from django.db import connection

    from ismp.apps.vulns.models import AffectedProductIndex, ChangeEvent, SourceRecord, Vulnerability
    from ismp.apps.vulns.services import import_feed

    reset_database()
    print(f"NVD JSON 1.1 feeds {first}–{last}: {len(feeds)} files; database: {connection.vendor}", flush=True)
    start = time.perf_counter()
    report = import_feed("nvd", feeds)
    elapsed = time.perf_counter() - start
    counts = (Vulnerability.objects.count(), SourceRecord.objects.count(), AffectedProductIndex.objects.count())
    print(
        f"import: {elapsed:.1f} s; {report.records_read:,} records, {counts[0]:,} vulnerabilities, "
        f"{counts[2]:,} product index rows; peak memory {peak_rss_mb():.0f} MB; targets ≤ 60 s, ≤ 1024 MB"
    )
    events = ChangeEvent.objects.count()
    digests = sorted(SourceRecord.objects.values_list("pk", "digest", "imported_at"))
    start = time.perf_counter()
    again = import_feed("nvd", feeds)
    elapsed = time.perf_counter() - start
    unchanged = digests == sorted(SourceRecord.objects.values_list("pk", "digest", "imported_at"))
    wrote_nothing = (
        unchanged and ChangeEvent.objects.count() == events and again.records_new == again.records_changed == 0
    )
    print(
        f"re-import of the same files: {elapsed:.1f} s; {again.records_unchanged:,} unchanged; "
        f"wrote nothing: {wrote_nothing}; target ≤ 20 s; peak memory {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
