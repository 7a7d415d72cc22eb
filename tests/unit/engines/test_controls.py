"""Control baseline engine: DESIGN.md's table cell by cell, gaps, stale evidence, coverage and the gates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismp.engines.controls import (
    DEFAULT_BASELINE,
    SYSTEM_TYPES,
    Control,
    ControlRecord,
    ControlStatus,
    CoverageRow,
    GapReason,
    GateKind,
    GateResult,
    GateState,
    coverage_of,
    evaluate,
    launch_blockers,
    make_baseline,
    refusal,
    summarise,
)

C = Control
COLUMNS = (
    C.FIREWALL,
    C.IDS_IPS,
    C.MAIL_WEB_AV,
    C.WAF,
    C.VM_SECURITY,
    C.PROFILING,
    C.REALTIME_MALWARE,
    C.NETWORK_DIAGNOSIS,
    C.WEB_DIAGNOSIS,
    C.RISK_ASSESSMENT,
)
# DESIGN.md "Control baseline", copied row by row ("x" = ●)
DESIGN_TABLE = {
    "public_web": "x x x x x x x x x x",
    "public_other": "x x x . x x x x . x",
    "internet_gateway": "x x x . . x x x . x",
    "internal": ". . x . . x x x . x",
}
CELLS = [
    (system_type, column, mark == "x")
    for system_type, row in DESIGN_TABLE.items()
    for column, mark in zip(COLUMNS, row.split(), strict=True)
]
TODAY = date(2026, 11, 25)


def test_columns_are_the_tables_in_order():
    assert tuple(Control) == COLUMNS
    assert set(DESIGN_TABLE) == set(SYSTEM_TYPES)


@pytest.mark.parametrize(("system_type", "control", "required"), CELLS)
def test_default_baseline_cell(system_type, control, required):
    assert (control in DEFAULT_BASELINE.required(system_type)) is required


def test_default_baseline_is_version_one_and_round_trips():
    assert DEFAULT_BASELINE.version == 1
    assert make_baseline(1, DEFAULT_BASELINE.as_dict()) == DEFAULT_BASELINE


def test_unknown_type_or_control_is_named():
    with pytest.raises(ValueError, match="'intranet'"):
        make_baseline(2, {**DEFAULT_BASELINE.as_dict(), "intranet": []})
    with pytest.raises(ValueError, match="internal: unknown control 'antivirus'"):
        make_baseline(2, {**DEFAULT_BASELINE.as_dict(), "internal": ["antivirus"]})
    rows = DEFAULT_BASELINE.as_dict()
    del rows["internal"]
    with pytest.raises(ValueError, match="'internal' is missing"):
        make_baseline(2, rows)


def rec(control, status, review_by=None):
    return ControlRecord(control, ControlStatus(status), review_by)


def test_every_required_control_unrecorded_is_a_gap():
    result = evaluate(DEFAULT_BASELINE.required("internal"), [], TODAY)
    assert [g.control for g in result.gaps] == [c for c in COLUMNS if c in DEFAULT_BASELINE.required("internal")]
    assert {g.reason for g in result.gaps} == {GapReason.NOT_RECORDED}


def test_statuses_give_gaps_and_satisfied_controls():
    required = DEFAULT_BASELINE.required("internal")
    records = [
        rec(C.MAIL_WEB_AV, "implemented"),
        rec(C.PROFILING, "partial"),
        rec(C.REALTIME_MALWARE, "missing"),
        rec(C.NETWORK_DIAGNOSIS, "not_applicable"),
        rec(C.WAF, "missing"),  # not required of an internal system: ignored
    ]
    result = evaluate(required, records, TODAY)
    assert {(g.control, g.reason) for g in result.gaps} == {
        (C.PROFILING, GapReason.PARTIAL),
        (C.REALTIME_MALWARE, GapReason.MISSING),
        (C.RISK_ASSESSMENT, GapReason.NOT_RECORDED),
    }
    assert result.implemented == {C.MAIL_WEB_AV}
    assert result.not_applicable == {C.NETWORK_DIAGNOSIS}


@pytest.mark.parametrize(
    ("review_by", "stale"),
    [(None, False), (date(2026, 11, 26), False), (TODAY, False), (date(2026, 11, 24), True)],
)
def test_evidence_past_its_review_date_is_stale(review_by, stale):
    result = evaluate(frozenset({C.FIREWALL}), [rec(C.FIREWALL, "implemented", review_by)], TODAY)
    assert [g.reason for g in result.gaps] == ([GapReason.STALE] if stale else [])
    assert (C.FIREWALL in result.implemented) is not stale


def test_coverage_per_organisation_and_total():
    systems = [
        ("WEB", "Web", "public_web", [rec(C.FIREWALL, "implemented"), rec(C.WAF, "implemented", date(2020, 1, 1))]),
        ("WEB", "Web", "internal", [rec(C.MAIL_WEB_AV, "not_applicable")]),
        ("OPS", "Ops", "internal", [rec(c, "implemented") for c in DEFAULT_BASELINE.required("internal")]),
    ]
    result = coverage_of(systems, DEFAULT_BASELINE, TODAY)
    web = next(r for r in result.rows if r.key == "WEB")
    assert (web.systems, web.required, web.implemented, web.not_applicable, web.stale, web.gaps) == (2, 15, 1, 1, 1, 13)
    assert result.rows[0].key == "WEB"  # most gaps first
    assert (result.required, result.implemented, result.gaps) == (20, 6, 13)
    assert result.rows[1].ratio == 1.0 and result.rows[1].percent == 100


def test_nothing_required_is_full_coverage():
    assert summarise([]).total.ratio == 1.0
    assert CoverageRow("X", "x", 1, 0, 0, 0).gaps == 0


PASSED, FAILED = GateResult.PASSED, GateResult.FAILED


@pytest.mark.parametrize(
    ("design", "prelaunch", "expected"),
    [
        (PASSED, PASSED, []),
        (None, None, ["design review not recorded", "pre-launch diagnosis not recorded"]),
        (FAILED, None, ["design review not passed", "pre-launch diagnosis not recorded"]),
        (PASSED, FAILED, ["pre-launch diagnosis not passed"]),
    ],
)
def test_launch_needs_both_checks_passed(design, prelaunch, expected):
    state = GateState({GateKind.DESIGN_REVIEW: design, GateKind.PRELAUNCH: prelaunch})
    assert launch_blockers(state, TODAY) == expected


@pytest.mark.parametrize(
    ("expires", "blocked"), [(TODAY, False), (date(2026, 12, 1), False), (date(2026, 11, 24), True)]
)
def test_an_approved_exception_holds_until_it_expires(expires, blocked):
    state = GateState({}, exception_expires=expires)
    assert bool(launch_blockers(state, TODAY)) is blocked


def test_refusal_names_the_system_and_what_is_missing():
    blockers = launch_blockers(GateState({GateKind.DESIGN_REVIEW: FAILED}), TODAY)
    assert refusal("EC shop", blockers) == (
        "EC shop cannot enter in service: design review not passed, pre-launch diagnosis not recorded"
    )


records_strategy = st.lists(
    st.builds(
        ControlRecord,
        st.sampled_from(list(Control)),
        st.sampled_from(list(ControlStatus)),
        st.one_of(st.none(), st.dates(min_value=date(2026, 11, 1), max_value=date(2026, 12, 31))),
    ),
    max_size=12,
)


@given(st.sampled_from(SYSTEM_TYPES), records_strategy)
def test_every_required_control_is_exactly_one_of_implemented_not_applicable_or_gap(system_type, records):
    required = DEFAULT_BASELINE.required(system_type)
    result = evaluate(required, records, TODAY)
    gaps = result.gap_controls
    assert result.implemented | result.not_applicable | gaps == required
    assert not (result.implemented & result.not_applicable) and not (result.implemented & gaps)
    assert not (result.not_applicable & gaps) and len(gaps) == len(result.gaps)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(SYSTEM_TYPES), records_strategy)))
def test_coverage_adds_up(systems):
    result = coverage_of([(org, org, t, r) for org, t, r in systems], DEFAULT_BASELINE, TODAY)
    assert result.total.systems == len(systems)
    assert result.required == sum(len(DEFAULT_BASELINE.required(t)) for _, t, _ in systems)
    assert result.required == result.implemented + result.total.not_applicable + result.gaps
    assert all(0 <= row.stale <= row.gaps for row in result.rows)
