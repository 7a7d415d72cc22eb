"""Benchmark: the systems list with 10,000 systems (target ≤ 200 ms server time, constant query count).

Builds 10,000 systems with 20 real-CPE components each, then times the web page /systems/ and the API
/api/systems/ through Django's test client (server time: request in, response out, no network) for a
CSIRT user (sees everything) and a system administrator (sees his 500), first page, a search, a filter
and a sort. Reports the median of --repeat requests and the number of queries, which must not depend on
the number of systems.

    .venv/bin/python benchmarks/systems_list.py [--systems 10000] [--repeat 20] [--database-url …]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_environment, ledger_csv, make_organisations, real_cpe_names, reset_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    fresh_environment(args.database_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from ismp.apps.accounts.models import User
    from ismp.apps.audit.services import Actor
    from ismp.apps.inventory.importing import import_inventory

    setup_test_environment()
    reset_database()
    make_organisations()
    import_inventory(
        Actor(None, "bench", label="bench"), ledger_csv(args.systems, args.components, real_cpe_names()), "bench.csv"
    )
    User.objects.create_user(username="csirt", password="x" * 12, role="csirt")
    print(f"{args.systems:,} systems × {args.components} components; database: {connection.vendor}")

    cases = [
        ("csirt", "/systems/"),
        ("csirt", "/systems/?q=sys-0042"),
        ("csirt", "/systems/?system_type=internal&lifecycle=in_service"),
        ("csirt", "/systems/?order=-name&page=3"),
        ("csirt", "/api/systems/"),
        ("admin3", "/systems/"),
        ("admin3", "/api/systems/"),
    ]
    clients: dict[str, Client] = {}
    worst = 0.0
    for username, url in cases:
        client = clients.setdefault(username, Client())
        client.force_login(User.objects.get(username=username))
        client.get(url)  # warm caches
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"  {username:<7} {url:<55} median {median:6.1f} ms  queries {len(queries)}")
    print(f"systems list, {args.systems:,} systems: worst median {worst:.1f} ms; target ≤ 200 ms")


if __name__ == "__main__":
    main()
