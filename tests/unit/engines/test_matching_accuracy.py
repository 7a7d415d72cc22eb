"""Accuracy of the matching engine on a labelled set of real NVD records (tests/fixtures/matching/).

Each case names a CVE from the NVD 1.1 yearly feeds, one system's components and the exact verdict: the set
of (component, criterion, confidence) reported, or "not affected". Cases the engine gets wrong today keep
the correct verdict and are marked ``xfail`` with the reason (strict: fixing the bug makes them fail until
the mark is removed). Only the feeds that hold the cases' CVEs are read, once per module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ismp.engines.feeds.base import VulnRecord
from ismp.engines.feeds.registry import registry
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import evaluate

CASES_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "matching" / "cases.yaml"
NOT_AFFECTED = "not affected"
CONFIDENCES = frozenset({"high", "medium", "low"})

Verdict = frozenset[tuple[int, str, str]]  # (component index, criterion, confidence)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    cve: str
    category: str
    why: str
    components: tuple[ComponentRecord, ...]
    expected: Verdict
    xfail: str


def _component(line: int, raw: Any) -> ComponentRecord:
    if isinstance(raw, str):
        return ComponentRecord(line=line, cpe=raw)
    unknown = set(raw) - {"part", "vendor", "product", "version"}
    if unknown:
        raise ValueError(f"{CASES_FILE.name}: component {raw!r} has unknown keys {sorted(unknown)}")
    return ComponentRecord(line=line, **{key: str(value) for key, value in raw.items()})


def _case(raw: dict[str, Any]) -> Case:
    where = f"{CASES_FILE.name}, case {raw.get('id', '?')}"
    components = tuple(_component(line, c) for line, c in enumerate(raw["components"], start=1))
    expect = raw["expect"]
    if expect == NOT_AFFECTED:
        expected: Verdict = frozenset()
    else:
        expected = frozenset((int(m["component"]), str(m["criterion"]), str(m["confidence"])) for m in expect)
        if not expected:
            raise ValueError(f'{where}: expect is empty; write "{NOT_AFFECTED}"')
    for index, _, confidence in expected:
        if not 0 <= index < len(components) or confidence not in CONFIDENCES:
            raise ValueError(f"{where}: bad expected match ({index}, {confidence})")
    if not str(raw.get("why", "")).strip():
        raise ValueError(f"{where}: every case says why")
    return Case(
        id=str(raw["id"]),
        cve=str(raw["cve"]),
        category=str(raw["category"]),
        why=str(raw["why"]),
        components=components,
        expected=expected,
        xfail=str(raw.get("xfail", "")),
    )


def load_cases() -> list[Case]:
    cases = [_case(raw) for raw in yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))]
    duplicates = [name for name, count in Counter(c.id for c in cases).items() if count > 1]
    if duplicates:
        raise ValueError(f"{CASES_FILE.name}: duplicate case ids {duplicates}")
    return cases


CASES = load_cases()


def feed_year(cve: str) -> int:
    """The NVD 1.1 yearly feed that holds ``cve``: its year, and 2002 for CVE-1999 … CVE-2001."""
    return max(2002, int(cve.split("-")[1]))


@pytest.fixture(scope="module")
def records(shared_data: Path) -> dict[str, VulnRecord]:
    """The records of the cases' CVEs (those found), read once through the "nvd" adapter."""
    adapter = registry.get("nvd")
    feeds = shared_data / "vuln" / "nvd" / "feeds-1.1"
    wanted = {c.cve for c in CASES}
    found: dict[str, VulnRecord] = {}
    for year in sorted({feed_year(cve) for cve in wanted}):
        for record in adapter.read(feeds / f"nvdcve-1.1-{year}.json.gz"):
            if isinstance(record, VulnRecord) and record.id in wanted:
                found[record.id] = record
    return found


def verdict(case: Case, record: VulnRecord) -> Verdict:
    index = {component: i for i, component in enumerate(case.components)}
    return frozenset(
        (index[m.component], m.criterion, m.confidence) for m in evaluate(record.configurations, case.components)
    )


def show(case: Case, matches: Verdict) -> str:
    if not matches:
        return NOT_AFFECTED
    return "; ".join(
        f"{case.components[i].cpe or case.components[i].key} ∋ {c} ({conf})" for i, c, conf in sorted(matches)
    )


def test_every_case_names_a_cve_in_the_feeds(records: dict[str, VulnRecord]) -> None:
    missing = sorted({c.cve for c in CASES} - set(records))
    assert not missing, f"{CASES_FILE.name} names CVEs absent from the NVD 1.1 feeds: {missing}"


def test_every_expected_criterion_is_in_its_record(records: dict[str, VulnRecord]) -> None:
    def criteria(record: VulnRecord) -> set[str]:
        found: set[str] = set()
        stack = [node for configuration in record.configurations for node in configuration.nodes]
        while stack:
            node = stack.pop()
            found.update(m.criteria for m in node.matches if m.vulnerable)
            stack.extend(node.children)
        return found

    wrong = [
        f"{case.id}: {criterion}"
        for case in CASES
        if case.cve in records
        for _, criterion, _ in case.expected
        if criterion not in criteria(records[case.cve])
    ]
    assert not wrong, f"expected criteria that are not vulnerable criteria of their CVE: {wrong}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [])
        for c in CASES
    ],
)
def test_case_verdict_is_exact(case: Case, records: dict[str, VulnRecord]) -> None:
    if case.cve not in records:
        pytest.fail(f"{case.cve} is not in the NVD 1.1 feeds (see test_every_case_names_a_cve_in_the_feeds)")
    actual = verdict(case, records[case.cve])
    assert actual == case.expected, (
        f"{case.id} ({case.cve}): {case.why}\n  expected: {show(case, case.expected)}\n  actual:   {show(case, actual)}"
    )


def test_precision_and_recall_over_the_set(records: dict[str, VulnRecord], capsys: pytest.CaptureFixture[str]) -> None:
    """Counts (component, criterion) pairs over every case: a reported pair is a true positive when the case
    expects it (whatever the confidence); confidence agreement is reported beside. Prints the figures."""
    true_positive = false_positive = false_negative = same_confidence = exact = 0
    by_category: Counter[str] = Counter()
    for case in CASES:
        actual = verdict(case, records[case.cve])
        exact += actual == case.expected
        by_category[case.category] += 1
        got = {(i, c): conf for i, c, conf in actual}
        want = {(i, c): conf for i, c, conf in case.expected}
        true_positive += len(got.keys() & want.keys())
        false_positive += len(got.keys() - want.keys())
        false_negative += len(want.keys() - got.keys())
        same_confidence += sum(got[key] == want[key] for key in got.keys() & want.keys())
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 1.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 1.0
    with capsys.disabled():
        print(
            f"\nmatching accuracy over {len(CASES)} cases ({dict(sorted(by_category.items()))}):"
            f"\n  exact verdicts {exact}/{len(CASES)}; matches: precision {precision:.3f}, recall {recall:.3f}"
            f" (TP {true_positive}, FP {false_positive}, FN {false_negative});"
            f" confidence agrees on {same_confidence}/{true_positive} true positives"
        )
    expected_failures = sum(1 for c in CASES if c.xfail)
    assert exact >= len(CASES) - expected_failures, "a case outside the xfail list changed verdict"
