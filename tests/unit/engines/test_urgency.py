"""Urgency engine: DESIGN.md's matrix cell by cell, explanations, evidence, deadlines, matrix validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismp.engines.urgency import (
    DEFAULT_MATRIX,
    EVIDENCE_KINDS,
    URGENCY_RANK,
    AttackPossibility,
    Evidence,
    Matrix,
    Urgency,
    UrgencyInput,
    deadline,
    decide,
    input_from_cvss,
)

REMOTE_TOOL = AttackPossibility.REMOTE_TOOL
REMOTE_NO_TOOL = AttackPossibility.REMOTE_NO_TOOL
NOT_REMOTE = AttackPossibility.NOT_REMOTE

# DESIGN.md "Urgency", the default matrix, copied row by row (risk level 5 … 1)
DESIGN_TABLE = {
    REMOTE_TOOL: ("S+", "A", "B", "B", "B"),
    REMOTE_NO_TOOL: ("S-", "A", "B", "B", "B"),
    NOT_REMOTE: ("A", "A", "B", "B", "B"),
}
CELLS = [
    (possibility, level, expected)
    for possibility, row in DESIGN_TABLE.items()
    for level, expected in zip((5, 4, 3, 2, 1), row, strict=True)
]
# inputs that land in each row
ROW_INPUTS = {
    REMOTE_TOOL: ("NETWORK", (Evidence("exploitdb", reference="50592"),)),
    REMOTE_NO_TOOL: ("AV:N", ()),
    NOT_REMOTE: ("LOCAL", (Evidence("metasploit"),)),
}
KEV = Evidence("kev", date(2022, 1, 28))


@pytest.mark.parametrize(("possibility", "level", "expected"), CELLS)
def test_default_matrix_cell(possibility, level, expected):
    assert DEFAULT_MATRIX.cell(level, possibility) == expected


@pytest.mark.parametrize(("possibility", "level", "expected"), CELLS)
def test_decide_reaches_every_cell(possibility, level, expected):
    vector, evidence = ROW_INPUTS[possibility]
    result = decide(UrgencyInput(level, "", vector, evidence))
    assert (result.value, result.level, result.possibility) == (expected, level, possibility)


def test_explanation_names_score_vector_and_kev_date():
    result = decide(input_from_cvss(9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", [KEV], version="3.1"))
    assert result == Urgency(
        "S+",
        5,
        REMOTE_TOOL,
        "S+: CVSS 3.1 9.8 → level 5; AV:N → remote; in KEV since 2022-01-28 → attack tool",
        DEFAULT_MATRIX.version,
    )
    assert result.response_standard.startswith("Stop the service at once")


def test_explanation_without_evidence_and_without_vector():
    assert decide(input_from_cvss(9.1, "AV:N/AC:L", version="3.1")).explanation == (
        "S-: CVSS 3.1 9.1 → level 5; AV:N → remote; no exploit evidence → no attack tool"
    )
    assert decide(input_from_cvss(None, "")).explanation == (
        "B: no CVSS score → level 1; no attack vector → not remote; no exploit evidence → no attack tool"
    )


def test_adjacent_network_is_not_remote_unless_evidence_says_so():
    assert decide(UrgencyInput(5, "CVSS 3.1 9.6", "AV:A", (KEV,))).possibility is NOT_REMOTE
    analyst = Evidence("analyst", reference="reachable through the VPN concentrator", remote=True)
    result = decide(UrgencyInput(5, "CVSS 3.1 9.6", "AV:A", (analyst,)))
    assert result.value == "S+"
    assert "AV:A, but analyst evidence: reachable through the VPN concentrator shows remote attack → remote" in (
        result.explanation
    )


def test_attack_vector_accepted_as_word_letter_or_vector():
    for vector in ("NETWORK", "N", "AV:N", "CVSS:4.0/AV:N/AC:L", " network "):
        assert decide(UrgencyInput(5, "", vector)).possibility is REMOTE_NO_TOOL
    assert decide(UrgencyInput(5, "", "PHYSICAL")).explanation.startswith("A: level 5; AV:P → not remote")


def test_evidence_cited_strongest_first_whatever_the_input_order():
    evidence = (
        Evidence("analyst", reference="PoC reproduced in lab"),
        Evidence("ssvc_poc"),
        Evidence("exploitdb", reference="50592"),
        Evidence("metasploit", reference="exploit/multi/http/log4shell_header_injection"),
        Evidence("ssvc_active"),
        KEV,
    )
    result = decide(UrgencyInput(5, "CVSS 3.1 10", "AV:N", evidence))
    assert result.explanation.endswith(
        "; in KEV since 2022-01-28, SSVC exploitation: active, "
        "Metasploit module exploit/multi/http/log4shell_header_injection, Exploit-DB 50592, "
        "SSVC exploitation: poc, analyst evidence: PoC reproduced in lab → attack tool"
    )
    assert decide(UrgencyInput(5, "CVSS 3.1 10", "AV:N", evidence[::-1])).explanation == result.explanation


@pytest.mark.parametrize("kind", EVIDENCE_KINDS)
def test_each_evidence_kind_alone_means_attack_tool(kind):
    assert decide(UrgencyInput(5, "", "N", (Evidence(kind),))).value == "S+"


def test_unknown_evidence_kind_and_bad_risk_level_rejected():
    with pytest.raises(ValueError, match="evidence kind 'rumour' is not one of kev, ssvc_active"):
        Evidence("rumour")
    with pytest.raises(ValueError, match="risk level 6 is outside 1–5"):
        UrgencyInput(6, "", "N")


def test_analyst_override_basis_appears_in_explanation():
    result = decide(UrgencyInput(2, "analyst override: internal test host only", "AV:N", (KEV,)))
    assert result.explanation.startswith("B: analyst override: internal test host only → level 2; AV:N → remote")


def test_thresholds_come_from_severity():
    assert input_from_cvss(7.0, "AV:N").risk_level == 4
    assert input_from_cvss(6.9, "AV:N", thresholds=((6.0, 5),)).risk_level == 5


# --- matrix validation -------------------------------------------------------------------------------------


def test_matrix_round_trips_through_its_stored_mapping():
    assert Matrix.from_mapping(DEFAULT_MATRIX.version, DEFAULT_MATRIX.to_mapping()) == DEFAULT_MATRIX
    int_keys = {row: {int(k): v for k, v in cells.items()} for row, cells in DEFAULT_MATRIX.to_mapping().items()}
    assert Matrix.from_mapping("x", int_keys).rows == DEFAULT_MATRIX.rows


def test_edited_matrix_is_used_and_its_version_recorded():
    edited = DEFAULT_MATRIX.to_mapping()
    edited["not_remote"]["4"] = "B"
    matrix = Matrix.from_mapping("csirt-2024-06", edited)
    result = decide(UrgencyInput(4, "", "LOCAL"), matrix)
    assert (result.value, result.matrix_version) == ("B", "csirt-2024-06")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["remote_tool"].__setitem__("3", "C"), r"cell \(remote_tool, level 3\): 'C' is not one of S\+"),
        (lambda m: m["remote_no_tool"].pop("1"), r"cell \(remote_no_tool, level 1\): missing"),
        (lambda m: m.pop("not_remote"), r"row 'not_remote' \(not remote\) missing"),
        (lambda m: m.__setitem__("local", {}), r"unknown row 'local'"),
        (lambda m: m["not_remote"].__setitem__("0", "B"), r"cell \(not_remote, level 0\): risk level is outside"),
        (lambda m: m["not_remote"].__setitem__("5", "s+"), r"cell \(not_remote, level 5\): 's\+' is not one of"),
    ],
)
def test_matrix_validation_names_the_bad_cell(edit, message):
    cells = DEFAULT_MATRIX.to_mapping()
    edit(cells)
    with pytest.raises(ValueError, match=r"urgency matrix v9.*" + message):
        Matrix.from_mapping("v9", cells)


def test_matrix_built_directly_is_validated_too():
    with pytest.raises(ValueError, match=r"cell \(remote_no_tool, level 4\): 'X'"):
        Matrix("v", (("S+", "A", "B", "B", "B"), ("S-", "X", "B", "B", "B"), ("A", "A", "B", "B", "B")))
    with pytest.raises(ValueError, match="2 rows; expected 3"):
        Matrix("v", (("S+", "A", "B", "B", "B"),) * 2)


# --- deadlines ---------------------------------------------------------------------------------------------

JST = timezone(timedelta(hours=9))
FRIDAY = datetime(2024, 5, 3, 17, 30, tzinfo=JST)  # 2024-05-03 is a Friday


@pytest.mark.parametrize(("value", "days"), [("S+", 1), ("S-", 3), ("A", 14), ("B", 90)])
def test_default_calendar_deadlines(value, days):
    assert deadline(value, FRIDAY) == FRIDAY + timedelta(days=days)


def test_deadline_accepts_an_urgency_and_custom_days():
    urgency = decide(UrgencyInput(5, "", "N", (KEV,)))
    assert deadline(urgency, FRIDAY, days={"S+": 0}) == FRIDAY


def test_business_days_skip_the_weekend():
    due = deadline("S+", FRIDAY, business_days=True)
    assert due == datetime(2024, 5, 6, 17, 30, tzinfo=JST)  # Monday, same time of day
    assert due.tzinfo is not None


def test_business_days_skip_weekend_and_holiday():
    # Friday + 3 business days: Mon 6 May is a holiday (振替休日) → Tue 7, Wed 8, Thu 9
    due = deadline("S-", FRIDAY, business_days=True, holidays=frozenset({date(2024, 5, 6)}))
    assert due == datetime(2024, 5, 9, 17, 30, tzinfo=JST)


def test_business_days_from_a_saturday_start():
    saturday = datetime(2024, 5, 4, 9, 0, tzinfo=UTC)
    assert deadline("S+", saturday, business_days=True) == datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def test_deadline_refuses_naive_start_and_unknown_urgency():
    with pytest.raises(ValueError, match="has no time zone"):
        deadline("A", datetime(2024, 5, 3, 9, 0))
    with pytest.raises(ValueError, match="urgency 'C' is not one of"):
        deadline("C", FRIDAY)


# --- properties --------------------------------------------------------------------------------------------

evidence_st = st.builds(
    Evidence,
    kind=st.sampled_from(EVIDENCE_KINDS),
    date_added=st.none() | st.dates(),
    remote=st.booleans(),
)
inputs_st = st.builds(
    UrgencyInput,
    risk_level=st.integers(1, 5),
    risk_basis=st.just(""),
    attack_vector=st.sampled_from(["NETWORK", "ADJACENT_NETWORK", "LOCAL", "PHYSICAL", ""]),
    evidence=st.lists(evidence_st, max_size=4).map(tuple),
)


@given(inputs_st, st.lists(evidence_st, min_size=1, max_size=3))
def test_more_evidence_never_lowers_urgency(base, extra):
    more = UrgencyInput(base.risk_level, base.risk_basis, base.attack_vector, base.evidence + tuple(extra))
    assert URGENCY_RANK[decide(more).value] >= URGENCY_RANK[decide(base).value]


@given(inputs_st, st.integers(1, 5))
def test_higher_risk_level_never_lowers_urgency(base, higher):
    higher = max(higher, base.risk_level)
    raised = UrgencyInput(higher, base.risk_basis, base.attack_vector, base.evidence)
    assert URGENCY_RANK[decide(raised).value] >= URGENCY_RANK[decide(base).value]
