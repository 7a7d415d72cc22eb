"""Shared test set-up: where the real public data lives, and how its absence is reported.

Tests that need ../shared/data ask for the ``shared_data`` fixture. When the folder is missing they are
skipped with the reason, except when ISMP_REQUIRE_SHARED_DATA=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def shared_data_dir() -> Path:
    return Path(os.environ.get("ISMP_SHARED_DATA", str(ROOT.parent / "shared" / "data"))).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        reason = f"real data folder {path} is absent (set ISMP_SHARED_DATA)"
        if os.environ.get("ISMP_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


TIERS = ("unit", "integration", "browser")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report each tier's outcome, so that a skipped tier cannot pass unnoticed."""
    counts = {tier: {"passed": 0, "failed": 0, "skipped": 0, "error": 0} for tier in TIERS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "") or ""
            parts = nodeid.split("/")
            if len(parts) > 1 and parts[0] == "tests" and parts[1] in counts:
                counts[parts[1]][outcome] += 1
    terminalreporter.section("ISMP test tiers")
    for tier, c in counts.items():
        ran = c["passed"] + c["failed"] + c["error"]
        state = "NOT RUN" if ran == 0 else ("all skipped" if c["passed"] == 0 and c["skipped"] else "ran")
        terminalreporter.write_line(
            f"{tier:<12} {state:<12} passed {c['passed']}, failed {c['failed']}, errors {c['error']}, "
            f"skipped {c['skipped']}"
        )
