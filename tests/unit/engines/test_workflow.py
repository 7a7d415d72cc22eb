"""The work-item state machines: each transition, each refusal, and property tests over random sequences of
actions by random roles (no sequence reaches an invalid state or lets a role do what it may not)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismp.engines.workflow import (
    SYSTEM,
    Action,
    Actor,
    Item,
    Kind,
    Refused,
    Role,
    State,
    Step,
    allowed,
    apply,
    periods,
    problems,
)

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ADMIN = Actor(Role.SYSADMIN, administers=True, name="alice")
OTHER_ADMIN = Actor(Role.SYSADMIN, administers=False, name="bob")
CSIRT = Actor(Role.CSIRT, name="csirt")
CISO = Actor(Role.CISO, name="ciso")
OWNER = Actor(Role.SERVICE_OWNER, owns_service=True, name="sam")
AUDITOR = Actor(Role.AUDITOR, name="auditor")


def run(item: Item, *steps: tuple[Actor, Step]) -> Item:
    for actor, step in steps:
        item = apply(item, actor, step, today=TODAY, now=NOW)
        assert problems(item) == []
    return item


def test_security_information_needed_planned_approved_done() -> None:
    item = run(
        Item(Kind.SECURITY_INFO, urgency="A"),
        (ADMIN, Step(Action.DECIDE, needed=True)),
        (ADMIN, Step(Action.PLAN, planned_date=TODAY + timedelta(days=3), method="apply the vendor patch")),
        (CSIRT, Step(Action.APPROVE)),
        (ADMIN, Step(Action.COMPLETE, evidence="patched to 2.4.58, change CHG-123")),
    )
    assert item.state is State.DONE
    assert item.completed_on == TODAY


def test_security_information_not_needed_needs_a_reason_and_approval() -> None:
    item = Item(Kind.SECURITY_INFO)
    with pytest.raises(Refused, match="reason"):
        apply(item, ADMIN, Step(Action.DECIDE, needed=False), today=TODAY)
    item = run(item, (ADMIN, Step(Action.DECIDE, needed=False, reason="module not loaded")))
    assert item.state is State.APPLIED
    with pytest.raises(Refused, match="CSIRT or the CISO"):
        apply(item, ADMIN, Step(Action.APPROVE), today=TODAY)
    assert run(item, (CISO, Step(Action.APPROVE))).state is State.NOT_NEEDED
    assert run(item, (CSIRT, Step(Action.REJECT, reason="it is loaded"))).state is State.NEW


def test_diagnosis_every_application_is_approved() -> None:
    item = run(Item(Kind.DIAGNOSIS), (ADMIN, Step(Action.DECIDE, needed=True, reason="TLS 1.0 enabled")))
    assert item.state is State.APPLIED
    item = run(item, (CSIRT, Step(Action.APPROVE)))
    assert item.state is State.NEEDED
    item = run(item, (ADMIN, Step(Action.COMPLETE, evidence="disabled TLS 1.0")))
    item = run(item, (SYSTEM, Step(Action.VERIFY, at=NOW)))
    assert item.verified_at == NOW


def test_a_planned_date_in_the_past_is_refused_with_the_dates() -> None:
    item = run(Item(Kind.SECURITY_INFO), (ADMIN, Step(Action.DECIDE, needed=True)))
    with pytest.raises(Refused, match=r"2026-11-24 is in the past \(today is 2026-11-25\)"):
        apply(item, ADMIN, Step(Action.PLAN, planned_date=TODAY - timedelta(days=1), method="x"), today=TODAY)


def test_wrong_state_names_the_states_that_allow_it() -> None:
    with pytest.raises(Refused, match="the work item is new: complete is possible only when approved, needed, planned"):
        apply(Item(Kind.SECURITY_INFO), ADMIN, Step(Action.COMPLETE, evidence="x"), today=TODAY)


@pytest.mark.parametrize("actor", [OTHER_ADMIN, AUDITOR, OWNER])
def test_others_may_not_answer(actor: Actor) -> None:
    with pytest.raises(Refused):
        apply(Item(Kind.SECURITY_INFO), actor, Step(Action.DECIDE, needed=True), today=TODAY)


def test_exceptions_need_the_ciso_and_expire_back_to_where_they_were() -> None:
    item = run(Item(Kind.SECURITY_INFO), (ADMIN, Step(Action.DECIDE, needed=True)))
    item = run(item, (ADMIN, Step(Action.REQUEST_EXCEPTION, reason="EOL next month", until=TODAY + timedelta(days=30))))
    with pytest.raises(Refused, match="only the CISO"):
        apply(item, CSIRT, Step(Action.APPROVE_EXCEPTION), today=TODAY)
    item = run(item, (CISO, Step(Action.APPROVE_EXCEPTION)))
    assert item.state is State.ACCEPTED
    with pytest.raises(Refused, match="runs until"):
        apply(item, SYSTEM, Step(Action.EXPIRE_EXCEPTION), today=TODAY)
    expired = apply(item, SYSTEM, Step(Action.EXPIRE_EXCEPTION), today=TODAY + timedelta(days=30))
    assert expired.state is State.NEEDED


def test_service_stop_for_s_plus_and_grounds_for_s_minus() -> None:
    item = Item(Kind.SECURITY_INFO, urgency="S+")
    with pytest.raises(Refused, match="the CSIRT or the CISO orders"):
        apply(item, ADMIN, Step(Action.ORDER_STOP, reason="stop now"), today=TODAY, now=NOW)
    item = run(item, (CSIRT, Step(Action.ORDER_STOP, reason="停止指示: 即時停止のうえ対応")))
    assert item.stop_ordered_at == NOW and item.stop_order.startswith("停止指示")
    with pytest.raises(Refused, match="S\\+ and S- only"):
        apply(Item(Kind.SECURITY_INFO, urgency="A"), CISO, Step(Action.ORDER_STOP, reason="x"), today=TODAY, now=NOW)
    item = run(item, (ADMIN, Step(Action.RECORD_STOP, at=NOW)))
    with pytest.raises(Refused, match="before it stopped"):
        apply(item, ADMIN, Step(Action.RECORD_RESUME, at=NOW - timedelta(hours=1)), today=TODAY)
    item = run(item, (ADMIN, Step(Action.RECORD_RESUME, at=NOW + timedelta(hours=5))))
    assert item.service_resumed_at == NOW + timedelta(hours=5)
    with pytest.raises(Refused, match="S- only"):
        apply(item, OWNER, Step(Action.RECORD_NO_STOP_GROUNDS, reason="x"), today=TODAY)
    s_minus = run(Item(Kind.SECURITY_INFO, urgency="S-"), (OWNER, Step(Action.RECORD_NO_STOP_GROUNDS, reason="WAF")))
    assert s_minus.no_stop_grounds == "WAF"


def test_matching_closes_and_reopens() -> None:
    item = run(Item(Kind.SECURITY_INFO), (SYSTEM, Step(Action.CLOSE, reason="upgraded to 2.4.58")))
    assert item.state is State.CLOSED
    with pytest.raises(Refused, match="ISMP does this itself"):
        apply(item, CSIRT, Step(Action.REOPEN), today=TODAY)
    assert run(item, (SYSTEM, Step(Action.REOPEN))).state is State.NEW


def test_allowed_lists_what_each_role_may_try() -> None:
    item = Item(Kind.SECURITY_INFO)
    assert Action.DECIDE in allowed(item, ADMIN)
    assert allowed(item, AUDITOR) == []
    assert Action.APPROVE not in allowed(item, CSIRT)  # nothing to approve yet
    applied = run(item, (ADMIN, Step(Action.DECIDE, needed=False, reason="r")))
    assert Action.APPROVE in allowed(applied, CISO)


def test_periods_from_urgency_with_business_days() -> None:
    start = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)  # Wednesday
    plain = periods("S-", start)
    assert plain.due == start + timedelta(days=3)
    business = periods("S-", start, business_days=True, holidays=frozenset({date(2026, 12, 31), date(2027, 1, 1)}))
    assert business.due.date() == date(2027, 1, 6)  # Thu 31 and Fri 1 are holidays, then Mon 4, Tue 5, Wed 6
    assert business.answer_due.date() == date(2027, 1, 4)


# --- properties -----------------------------------------------------------------------------------------

ACTORS = [ADMIN, OTHER_ADMIN, CSIRT, CISO, OWNER, AUDITOR, SYSTEM]
steps = st.builds(
    Step,
    action=st.sampled_from(list(Action)),
    needed=st.one_of(st.none(), st.booleans()),
    reason=st.sampled_from(["", "  ", "because", "x" * 5000]),
    planned_date=st.one_of(st.none(), st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=60))),
    method=st.sampled_from(["", "patch"]),
    evidence=st.sampled_from(["", "CHG-1"]),
    on=st.one_of(st.none(), st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3))),
    until=st.one_of(st.none(), st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=60))),
    at=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
)

# what each role may ever bring about, whatever the state (the target states of their actions)
MAY_CAUSE: dict[Role, set[Action]] = {
    Role.SYSADMIN: {
        Action.DECIDE,
        Action.PLAN,
        Action.COMPLETE,
        Action.REQUEST_EXCEPTION,
        Action.RECORD_STOP,
        Action.RECORD_RESUME,
    },
    Role.SERVICE_OWNER: {Action.RECORD_STOP, Action.RECORD_RESUME, Action.RECORD_NO_STOP_GROUNDS},
    Role.AUDITOR: set(),
    Role.CISO: {Action.APPROVE, Action.REJECT, Action.APPROVE_EXCEPTION, Action.REJECT_EXCEPTION, Action.ORDER_STOP},
    Role.CSIRT: {
        Action.DECIDE,
        Action.PLAN,
        Action.COMPLETE,
        Action.REQUEST_EXCEPTION,
        Action.RECORD_STOP,
        Action.RECORD_RESUME,
        Action.RECORD_NO_STOP_GROUNDS,
        Action.APPROVE,
        Action.REJECT,
        Action.ORDER_STOP,
    },
    Role.SYSTEM: {Action.EXPIRE_EXCEPTION, Action.VERIFY, Action.CLOSE, Action.REOPEN},
}


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(list(Kind)),
    urgency=st.sampled_from(["S+", "S-", "A", "B"]),
    moves=st.lists(st.tuples(st.sampled_from(ACTORS), steps), max_size=25),
    days=st.lists(st.integers(0, 40), min_size=25, max_size=25),
)
def test_no_sequence_reaches_an_invalid_state_or_exceeds_a_role(
    kind: Kind, urgency: str, moves: list[tuple[Actor, Step]], days: list[int]
) -> None:
    item = Item(kind, urgency=urgency)
    for (actor, step), offset in zip(moves, days, strict=False):
        today = TODAY + timedelta(days=offset)
        try:
            after = apply(item, actor, step, today=today, now=NOW)
        except Refused as refusal:
            assert str(refusal)  # a refusal always says why
            continue
        assert problems(after) == [], (item, actor, step)
        assert step.action in MAY_CAUSE[actor.role], f"{actor.role} took {step.action}"
        if actor.role is Role.SYSADMIN:
            assert actor.administers, "an administrator acted on a system that is not theirs"
        if after.state is State.ACCEPTED and item.state is not State.ACCEPTED:
            assert actor.role is Role.CISO
        if after.state is State.NOT_NEEDED and item.state is not State.NOT_NEEDED:
            assert actor.role in (Role.CSIRT, Role.CISO)
        if step.action is Action.PLAN:
            assert after.planned_date is not None and after.planned_date >= today
        assert step.action in allowed(item, actor)
        item = after
