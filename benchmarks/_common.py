"""Shared set-up for benchmarks: a fresh ISMP database and realistic inventories built from real CPE names."""

from __future__ import annotations

import gzip
import json
import os
import random
import resource
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ISMP_SHARED_DATA", str(ROOT.parent / "shared" / "data")))


def fresh_environment(database_url: str | None, data_dir: Path | None = None) -> Path:
    """Point ISMP at a data directory (a new one unless given) and database before Django starts."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="ismp-bench-"))
    os.environ["ISMP_DATA_DIR"] = str(data_dir)
    os.environ["ISMP_TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("ISMP_MAX_IMPORT_MB", "2048")
    if database_url:
        os.environ["ISMP_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ismp.settings.django"
    import django

    django.setup()
    return data_dir


def reset_database() -> None:
    """Drop and recreate every table (the audit trail's append-only triggers go with them)."""
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            tables = connection.introspection.table_names(cursor)
            cursor.execute("PRAGMA foreign_keys=OFF")
            for table in tables:
                cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
    call_command("migrate", interactive=False, verbosity=0)


def real_cpe_names(limit: int = 60000) -> list[str]:
    """Concrete-version CPE 2.3 names from the NVD 1.1 feeds (2014–2017)."""
    feeds = SHARED / "vuln" / "nvd" / "feeds-1.1"
    if not feeds.is_dir():
        raise SystemExit(f"real data not found at {feeds}: set ISMP_SHARED_DATA")
    names: set[str] = set()
    for year in (2017, 2016, 2015, 2014):
        with gzip.open(feeds / f"nvdcve-1.1-{year}.json.gz", "rt", encoding="utf-8") as handle:
            for item in json.load(handle)["CVE_Items"]:
                stack = list(item["configurations"]["nodes"])
                while stack:
                    node = stack.pop()
                    stack.extend(node.get("children", []))
                    for match in node.get("cpe_match", []):
                        uri = match["cpe23Uri"]
                        version = uri.split(":")[5]
                        if version not in ("*", "-") and "\\" not in uri:
                            names.add(uri)
        if len(names) >= limit:
            break
    return sorted(names)[:limit]


def make_organisations() -> None:
    from ismp.apps.accounts.models import Organisation, User

    company = Organisation.objects.create(code="BENCH", name="ベンチ株式会社", kind="company")
    for i in range(10):
        Organisation.objects.create(code=f"D{i}", name=f"事業部{i}", kind="division", parent=company)
    for i in range(20):
        User.objects.create_user(username=f"admin{i}", password="x" * 12, role="sysadmin")


def ledger_csv(systems: int, components: int, cpes: list[str], seed: int = 7) -> bytes:
    rng = random.Random(seed)
    header = "system,organisation,system_type,lifecycle,criticality,administrators,addresses,cpe\n"
    types = ("public_web", "public_other", "internet_gateway", "internal")
    lifecycles = ("planned", "development", "in_service", "retired")
    lines = [header]
    for s in range(systems):
        name = f"sys-{s:05d}"
        fields = (
            f"D{s % 10}",
            types[s % 4],
            lifecycles[s % 4 if s % 7 == 0 else 2],
            "medium",
            f"admin{s % 20}",
            f"10.{s // 256 % 256}.{s % 256}.0/24",
        )
        for i, cpe in enumerate(rng.sample(cpes, components)):
            lines.append(f"{name},{','.join(fields)},{cpe}\n" if i == 0 else f"{name},,,,,,,{cpe}\n")
    return "".join(lines).encode("utf-8")


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    times = [fn() for _ in range(runs)]
    return statistics.median(times), times


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
