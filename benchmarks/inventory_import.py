"""Benchmark: CSV import of 10,000 systems × 50 components (target ≤ 30 s on a 2-core machine).

Components are real CPE names drawn from the NVD 1.1 feeds. Each run starts from an empty database; the
import is timed end to end (parse, validate, write, audit). A re-import of the same file is timed too
(idempotent: nothing created). Prints the median of --runs.

    .venv/bin/python benchmarks/inventory_import.py [--systems 10000] [--components 50] [--runs 3]
        [--database-url postgres://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    fresh_environment,
    ledger_csv,
    make_organisations,
    median_of,
    peak_rss_mb,
    real_cpe_names,
    reset_database,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    fresh_environment(args.database_url)
    from django.db import connection

    from ismp.apps.audit.services import Actor
    from ismp.apps.inventory.importing import import_inventory
    from ismp.apps.inventory.models import Component, System

    cpes = real_cpe_names()
    data = ledger_csv(args.systems, args.components, cpes)
    print(
        f"ledger: {args.systems} systems × {args.components} components = {args.systems * args.components:,} rows, "
        f"{len(data) / 1048576:.1f} MB, {len(cpes):,} distinct real CPE names; database: {connection.vendor}"
    )
    actor = Actor(None, "bench", label="bench")
    reimports: list[float] = []

    def one_run() -> float:
        reset_database()
        make_organisations()
        start = time.perf_counter()
        report = import_inventory(actor, data, "bench.csv")
        elapsed = time.perf_counter() - start
        assert report.systems_created == args.systems, report
        assert Component.objects.count() == args.systems * args.components
        start = time.perf_counter()
        again = import_inventory(actor, data, "bench.csv")
        reimports.append(time.perf_counter() - start)
        assert again.components_created == 0 and again.systems_updated == 0
        assert System.objects.count() == args.systems
        print(f"  run: import {elapsed:.2f} s, re-import {reimports[-1]:.2f} s", flush=True)
        return elapsed

    median, times = median_of(args.runs, one_run)
    reimports.sort()
    print(
        f"CSV import {args.systems:,} systems × {args.components} components: median {median:.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)}); target ≤ 30 s"
    )
    print(f"re-import of the same file (idempotent): median {reimports[len(reimports) // 2]:.2f} s")
    print(f"peak memory (RSS): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
