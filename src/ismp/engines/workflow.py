"""Work items as explicit state machines: which action each role may take in which state, and what it needs.

DESIGN.md, "The cycle": two kinds of work item, each with its own registration period (登録期間):

* **security information** (a published vulnerability matched to a system):
  対策要否 (needed or not) → 予定 (planned date and method) → 完了 (completed, with evidence);
* **diagnosis result** (a vulnerability found by a scan):
  対策要否申請 (application: needed / not needed, with reason) → 承認 (by the CSIRT or the CISO) → 完了
  (completed, verified by a rescan where possible).

One state set serves both kinds; the kind decides which answers need approval::

    new ──decide(needed)──────────────▶ needed        (security information)
    new ──decide(not needed, reason)──▶ applied       (security information: "not needed" is approved)
    new ──decide(either, reason)──────▶ applied       (diagnosis: every application is approved)
    applied ──approve──▶ needed | not_needed          applied ──reject(reason)──▶ new
    needed | planned | approved ──plan(date ≥ today, method)──▶ planned
    planned ──approve──▶ approved                     planned ──reject(reason)──▶ needed
    needed | planned | approved ──complete(evidence)──▶ done
    new | needed | planned | approved ──request exception(reason, until)──▶ exception_requested
    exception_requested ──approve exception (CISO)──▶ accepted
    exception_requested ──reject exception (CISO)──▶ the state it was requested from
    accepted ──expire (after its date)──▶ the state it was requested from
    any open state, accepted ──close (the finding closed: upgrade, not affected)──▶ closed
    closed | done ──reopen (the finding came back)──▶ new

Who may act: the system's administrators answer (decide, plan, complete, request an exception, record the
service stop of an S+/S- item); the CSIRT may do all of that for any system, approves or rejects
applications and plans, and orders an S+/S- service stopped (停止指示); the CISO approves applications and
plans too, orders a stop, and alone approves or rejects exceptions; the system's service owner records the
grounds for not stopping on an S- item; the auditor changes nothing; ISMP itself (``SYSTEM``) closes,
reopens, expires and records rescan verification.

:func:`apply` returns the item after the action or raises :class:`Refused` saying why. Pure: no Django, no
clock (``today`` and ``now`` are passed in), no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from ismp.engines import urgency as urgency_engine


class Kind(StrEnum):
    SECURITY_INFO = "security_info"
    DIAGNOSIS = "diagnosis"


class State(StrEnum):
    NEW = "new"  # 対策要否 not registered yet
    APPLIED = "applied"  # an answer awaiting approval (対策要否申請)
    NEEDED = "needed"  # countermeasure needed, no plan yet
    PLANNED = "planned"  # 予定 registered, awaiting approval
    APPROVED = "approved"  # plan approved, being carried out
    DONE = "done"  # 完了
    NOT_NEEDED = "not_needed"  # 対策不要, approved
    EXCEPTION_REQUESTED = "exception_requested"  # risk acceptance awaiting the CISO
    ACCEPTED = "accepted"  # risk accepted by the CISO until a date
    CLOSED = "closed"  # the finding went away (upgrade, not affected, removed)


OPEN_STATES = frozenset(
    {State.NEW, State.APPLIED, State.NEEDED, State.PLANNED, State.APPROVED, State.EXCEPTION_REQUESTED}
)
"""States in which the item still needs someone to act (and counts against its deadlines)."""

ANSWERED_STATES = frozenset(State) - {State.NEW}
"""States in which the 対策要否 has been registered at least once."""

_EXCEPTION_FROM = frozenset({State.NEW, State.NEEDED, State.PLANNED, State.APPROVED})
_PLAN_FROM = frozenset({State.NEEDED, State.PLANNED, State.APPROVED})
_CLOSE_FROM = OPEN_STATES | {State.ACCEPTED}


class Role(StrEnum):
    CSIRT = "csirt"
    CISO = "ciso"
    SYSADMIN = "sysadmin"
    SERVICE_OWNER = "service_owner"
    AUDITOR = "auditor"
    SYSTEM = "system"  # ISMP itself: matching, expiry, rescans


class Action(StrEnum):
    DECIDE = "decide"
    PLAN = "plan"
    APPROVE = "approve"
    REJECT = "reject"
    COMPLETE = "complete"
    REQUEST_EXCEPTION = "request_exception"
    APPROVE_EXCEPTION = "approve_exception"
    REJECT_EXCEPTION = "reject_exception"
    EXPIRE_EXCEPTION = "expire_exception"
    ORDER_STOP = "order_stop"
    RECORD_STOP = "record_stop"
    RECORD_RESUME = "record_resume"
    RECORD_NO_STOP_GROUNDS = "record_no_stop_grounds"
    VERIFY = "verify"
    CLOSE = "close"
    REOPEN = "reopen"


ACTION_LABELS: dict[Action, str] = {
    Action.DECIDE: "対策要否 (countermeasure needed?)",
    Action.PLAN: "予定 (plan)",
    Action.APPROVE: "承認 (approve)",
    Action.REJECT: "差戻し (send back)",
    Action.COMPLETE: "完了 (complete)",
    Action.REQUEST_EXCEPTION: "リスク受容申請 (request an exception)",
    Action.APPROVE_EXCEPTION: "リスク受容承認 (approve the exception)",
    Action.REJECT_EXCEPTION: "リスク受容却下 (refuse the exception)",
    Action.EXPIRE_EXCEPTION: "exception expired",
    Action.ORDER_STOP: "停止指示 (order the service stopped)",
    Action.RECORD_STOP: "サービス停止 (record the service stop)",
    Action.RECORD_RESUME: "サービス再開 (record the service resumption)",
    Action.RECORD_NO_STOP_GROUNDS: "継続理由 (grounds for not stopping)",
    Action.VERIFY: "再診断で確認 (verified by a rescan)",
    Action.CLOSE: "closed by matching",
    Action.REOPEN: "reopened by matching",
}

# Who may take each action (besides SYSTEM, which may take the system actions only). "answerer" roles act
# only on their own systems: the checks in ``_may`` look at Actor.administers / owns_service.
_ANSWER = frozenset({Action.DECIDE, Action.PLAN, Action.COMPLETE, Action.REQUEST_EXCEPTION})
_APPROVAL = frozenset({Action.APPROVE, Action.REJECT})
_CISO_ONLY = frozenset({Action.APPROVE_EXCEPTION, Action.REJECT_EXCEPTION})
_ORDERS = frozenset({Action.ORDER_STOP})  # the CSIRT or the CISO orders an S+/S- service stopped
_SERVICE_STOP = frozenset({Action.RECORD_STOP, Action.RECORD_RESUME})
_SYSTEM_ONLY = frozenset({Action.EXPIRE_EXCEPTION, Action.VERIFY, Action.CLOSE, Action.REOPEN})

MAX_TEXT = 4000


class Refused(Exception):
    """An action that may not be taken; the message says why, for the person who tried."""


@dataclass(frozen=True)
class Actor:
    """Who acts, as the state machine sees them: their role and their relation to the item's system."""

    role: Role
    administers: bool = False  # one of the system's administrators
    owns_service: bool = False  # the system's service owner
    name: str = ""


SYSTEM = Actor(Role.SYSTEM, name="ISMP")


@dataclass(frozen=True)
class Item:
    """A work item's state and the answers recorded so far."""

    kind: Kind
    state: State = State.NEW
    urgency: str = "B"
    needed: bool | None = None
    decision_reason: str = ""
    planned_date: date | None = None
    method: str = ""
    evidence: str = ""
    completed_on: date | None = None
    verified_at: datetime | None = None
    stop_ordered_at: datetime | None = None
    stop_order: str = ""  # the order as given (停止指示)
    service_stopped_at: datetime | None = None
    service_resumed_at: datetime | None = None
    no_stop_grounds: str = ""
    exception_reason: str = ""
    exception_until: date | None = None
    resume_state: State | None = None  # where an exception request or acceptance returns to
    closed_reason: str = ""
    last_note: str = ""  # the reason of the last rejection, approval note or closing


@dataclass(frozen=True)
class Step:
    """One action with what it carries; unused fields stay empty."""

    action: Action
    needed: bool | None = None
    reason: str = ""
    planned_date: date | None = None
    method: str = ""
    evidence: str = ""
    on: date | None = None  # completion date (default: today)
    until: date | None = None  # exception expiry
    at: datetime | None = None  # service stop / resumption time, rescan time


def apply(item: Item, actor: Actor, step: Step, *, today: date, now: datetime | None = None) -> Item:
    """The item after ``actor`` takes ``step``; raises :class:`Refused` if the role, the state or a value
    does not allow it."""
    check_role(item, actor, step.action)
    handler = _HANDLERS[step.action]
    return handler(item, step, today, now)


def allowed(item: Item, actor: Actor) -> list[Action]:
    """The actions ``actor`` may attempt on ``item`` in its current state (for buttons and forms); values are
    still checked when the action is taken."""
    result = []
    for action in Action:
        try:
            check_role(item, actor, action)
            _check_state(item, action)
        except Refused:
            continue
        result.append(action)
    return result


# --- checks ---------------------------------------------------------------------------------------------


def check_role(item: Item, actor: Actor, action: Action) -> None:
    """Raise :class:`Refused` if ``actor``'s role (or relation to the system) never allows ``action``."""
    role = actor.role
    label = actor.name or role.value
    if action in _SYSTEM_ONLY:
        if role is not Role.SYSTEM:
            raise Refused(f"{label} may not {action.value}: ISMP does this itself (matching, expiry, rescans)")
        return
    if role is Role.SYSTEM:
        raise Refused(f"ISMP does not {action.value} on anyone's behalf")
    if role is Role.AUDITOR:
        raise Refused(f"{label} is an auditor: auditors read work items and change nothing")
    if action in _CISO_ONLY:
        if role is not Role.CISO:
            raise Refused(f"{label} may not {action.value}: only the CISO approves or refuses exceptions")
        return
    if action in _ORDERS:
        if role not in (Role.CSIRT, Role.CISO):
            raise Refused(f"{label} may not {action.value}: the CSIRT or the CISO orders a service stopped")
        return
    if action in _APPROVAL:
        if role not in (Role.CSIRT, Role.CISO):
            raise Refused(f"{label} may not {action.value}: the CSIRT or the CISO approves applications and plans")
        return
    if action is Action.RECORD_NO_STOP_GROUNDS:
        if not (role is Role.CSIRT or actor.owns_service):
            raise Refused(f"{label} may not record grounds for not stopping: the system's service owner does")
        return
    if action in _ANSWER or action in _SERVICE_STOP:
        if role is Role.CSIRT or (role is Role.SYSADMIN and actor.administers):
            return
        if action in _SERVICE_STOP and actor.owns_service:
            return
        raise Refused(f"{label} may not {action.value}: the system's administrators or the CSIRT answer work items")
    raise Refused(f"{label} may not {action.value}")  # pragma: no cover - every action is classified above


_NEEDS: dict[Action, frozenset[State]] = {
    Action.DECIDE: frozenset({State.NEW}),
    Action.PLAN: _PLAN_FROM,
    Action.APPROVE: frozenset({State.APPLIED, State.PLANNED}),
    Action.REJECT: frozenset({State.APPLIED, State.PLANNED}),
    Action.COMPLETE: _PLAN_FROM,
    Action.REQUEST_EXCEPTION: _EXCEPTION_FROM,
    Action.APPROVE_EXCEPTION: frozenset({State.EXCEPTION_REQUESTED}),
    Action.REJECT_EXCEPTION: frozenset({State.EXCEPTION_REQUESTED}),
    Action.EXPIRE_EXCEPTION: frozenset({State.ACCEPTED}),
    Action.ORDER_STOP: OPEN_STATES,
    Action.RECORD_STOP: OPEN_STATES,
    Action.RECORD_RESUME: frozenset(State) - {State.CLOSED},
    Action.RECORD_NO_STOP_GROUNDS: OPEN_STATES,
    Action.VERIFY: frozenset({State.DONE}),
    Action.CLOSE: _CLOSE_FROM,
    Action.REOPEN: frozenset({State.CLOSED, State.DONE}),
}


def _check_state(item: Item, action: Action) -> None:
    allowed_from = _NEEDS[action]
    if item.state not in allowed_from:
        states = ", ".join(sorted(s.value for s in allowed_from))
        raise Refused(f"the work item is {item.state.value}: {action.value} is possible only when {states}")
    if action in (Action.ORDER_STOP, Action.RECORD_STOP) and item.urgency not in ("S+", "S-"):
        raise Refused(f"the work item is {item.urgency}: a service stop is ordered and recorded for S+ and S- only")
    if action is Action.RECORD_RESUME and item.service_stopped_at is None:
        raise Refused("no service stop is recorded: record the stop before its resumption")
    if action is Action.RECORD_NO_STOP_GROUNDS and item.urgency != "S-":
        raise Refused(f"the work item is {item.urgency}: grounds for not stopping are recorded for S- only")


def _text(value: str, what: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Refused(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise Refused(f"{what} has {len(text)} characters; at most {MAX_TEXT}")
    return text


# --- handlers -------------------------------------------------------------------------------------------


def _decide(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.DECIDE)
    if step.needed is None:
        raise Refused("say whether a countermeasure is needed (対策要否)")
    needs_reason = item.kind is Kind.DIAGNOSIS or not step.needed
    reason = _text(step.reason, "the reason (理由)", required=needs_reason)
    if item.kind is Kind.SECURITY_INFO and step.needed:
        return replace(item, state=State.NEEDED, needed=True, decision_reason=reason)
    return replace(item, state=State.APPLIED, needed=step.needed, decision_reason=reason)


def _plan(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.PLAN)
    if step.planned_date is None:
        raise Refused("the planned date (予定日) is required")
    if step.planned_date < today:
        raise Refused(f"the planned date {step.planned_date.isoformat()} is in the past (today is {today.isoformat()})")
    method = _text(step.method, "the method (対策方法)")
    return replace(item, state=State.PLANNED, planned_date=step.planned_date, method=method)


def _approve(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.APPROVE)
    note = _text(step.reason, "the note", required=False)
    if item.state is State.PLANNED:
        return replace(item, state=State.APPROVED, last_note=note)
    return replace(item, state=State.NEEDED if item.needed else State.NOT_NEEDED, last_note=note)


def _reject(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.REJECT)
    reason = _text(step.reason, "the reason for sending it back")
    if item.state is State.PLANNED:
        return replace(item, state=State.NEEDED, last_note=reason)
    return replace(item, state=State.NEW, needed=None, last_note=reason)


def _complete(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.COMPLETE)
    evidence = _text(step.evidence, "the evidence of completion (完了の根拠)")
    on = step.on or today
    if on > today:
        raise Refused(f"the completion date {on.isoformat()} is in the future (today is {today.isoformat()})")
    return replace(item, state=State.DONE, evidence=evidence, completed_on=on)


def _request_exception(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.REQUEST_EXCEPTION)
    reason = _text(step.reason, "the reason for accepting the risk")
    if step.until is None or step.until <= today:
        given = step.until.isoformat() if step.until else "none"
        raise Refused(f"an exception needs an expiry date after today ({today.isoformat()}); given: {given}")
    return replace(
        item,
        state=State.EXCEPTION_REQUESTED,
        exception_reason=reason,
        exception_until=step.until,
        resume_state=item.state,
    )


def _approve_exception(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.APPROVE_EXCEPTION)
    if item.exception_until is not None and item.exception_until <= today:
        raise Refused(f"the exception's expiry {item.exception_until.isoformat()} has passed: request it again")
    return replace(item, state=State.ACCEPTED, last_note=_text(step.reason, "the note", required=False))


def _reject_exception(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.REJECT_EXCEPTION)
    reason = _text(step.reason, "the reason for refusing the exception")
    return replace(item, state=item.resume_state or State.NEW, resume_state=None, last_note=reason)


def _expire_exception(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.EXPIRE_EXCEPTION)
    if item.exception_until is not None and item.exception_until > today:
        raise Refused(f"the exception runs until {item.exception_until.isoformat()}")
    return replace(item, state=item.resume_state or State.NEW, resume_state=None, last_note="exception expired")


def _order_stop(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.ORDER_STOP)
    at = step.at or now
    if at is None:
        raise Refused("the time of the order is required")
    return replace(item, stop_ordered_at=at, stop_order=_text(step.reason, "the order (停止指示)"))


def _record_stop(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.RECORD_STOP)
    at = step.at or now
    if at is None:
        raise Refused("the time the service stopped is required")
    return replace(item, service_stopped_at=at, service_resumed_at=None)


def _record_resume(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.RECORD_RESUME)
    at = step.at or now
    if at is None:
        raise Refused("the time the service resumed is required")
    stopped = item.service_stopped_at
    if stopped is not None and at < stopped:
        raise Refused(f"the service cannot resume ({at.isoformat()}) before it stopped ({stopped.isoformat()})")
    return replace(item, service_resumed_at=at)


def _record_no_stop_grounds(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.RECORD_NO_STOP_GROUNDS)
    return replace(item, no_stop_grounds=_text(step.reason, "the grounds for not stopping the service"))


def _verify(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.VERIFY)
    if item.kind is not Kind.DIAGNOSIS:
        raise Refused("only diagnosis results are verified by a rescan")
    at = step.at or now
    if at is None:
        raise Refused("the rescan's time is required")
    return replace(item, verified_at=at)


def _close(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.CLOSE)
    return replace(item, state=State.CLOSED, closed_reason=_text(step.reason, "the reason for closing"))


def _reopen(item: Item, step: Step, today: date, now: datetime | None) -> Item:
    _check_state(item, Action.REOPEN)
    return replace(
        item,
        state=State.NEW,
        needed=None,
        closed_reason="",
        evidence="",
        completed_on=None,
        planned_date=None,
        method="",
        resume_state=None,
        last_note=_text(step.reason, "the reason", required=False),
    )


_HANDLERS = {
    Action.DECIDE: _decide,
    Action.PLAN: _plan,
    Action.APPROVE: _approve,
    Action.REJECT: _reject,
    Action.COMPLETE: _complete,
    Action.REQUEST_EXCEPTION: _request_exception,
    Action.APPROVE_EXCEPTION: _approve_exception,
    Action.REJECT_EXCEPTION: _reject_exception,
    Action.EXPIRE_EXCEPTION: _expire_exception,
    Action.ORDER_STOP: _order_stop,
    Action.RECORD_STOP: _record_stop,
    Action.RECORD_RESUME: _record_resume,
    Action.RECORD_NO_STOP_GROUNDS: _record_no_stop_grounds,
    Action.VERIFY: _verify,
    Action.CLOSE: _close,
    Action.REOPEN: _reopen,
}


# --- invariants -----------------------------------------------------------------------------------------


def problems(item: Item) -> list[str]:
    """What is wrong with ``item`` as a reachable state (empty when it is consistent). The property tests
    hold every sequence of actions to this."""
    found = []
    if item.state in (State.NEEDED, State.PLANNED, State.APPROVED) and item.needed is not True:
        found.append(f"{item.state.value} without a 'needed' answer")
    if item.state is State.NOT_NEEDED and (item.needed is not False or not item.decision_reason):
        found.append("not needed without a 'not needed' answer and its reason")
    if item.state is State.APPLIED and item.needed is None:
        found.append("applied without an answer")
    if item.state in (State.PLANNED, State.APPROVED) and (item.planned_date is None or not item.method):
        found.append(f"{item.state.value} without a planned date and method")
    if item.state is State.DONE and (not item.evidence or item.completed_on is None):
        found.append("done without evidence and date")
    if item.state in (State.EXCEPTION_REQUESTED, State.ACCEPTED) and (
        not item.exception_reason or item.exception_until is None or item.resume_state not in _EXCEPTION_FROM
    ):
        found.append(f"{item.state.value} without a reason, an expiry and the state to return to")
    if item.state is State.CLOSED and not item.closed_reason:
        found.append("closed without a reason")
    if item.service_resumed_at is not None and (
        item.service_stopped_at is None or item.service_resumed_at < item.service_stopped_at
    ):
        found.append("service resumed without having stopped before")
    if item.verified_at is not None and item.kind is not Kind.DIAGNOSIS:
        found.append("a security-information item verified by a rescan")
    return found


# --- registration periods -------------------------------------------------------------------------------

DEFAULT_ANSWER_DAYS: dict[str, int] = {"S+": 1, "S-": 1, "A": 7, "B": 30}
"""登録期間: days to register 対策要否 and 予定 (or the application), by urgency. The final deadline for 完了 is
``ismp.engines.urgency.DEFAULT_DEADLINE_DAYS`` (S+ 1, S- 3, A 14, B 90)."""


@dataclass(frozen=True)
class Periods:
    answer_due: datetime  # end of the registration period for the answer (対策要否・予定 / 申請)
    due: datetime  # the final deadline for completion (完了)


def periods(
    urgency: str,
    start: datetime,
    *,
    answer_days: Mapping[str, int] | None = None,
    deadline_days: Mapping[str, int] | None = None,
    business_days: bool = False,
    holidays: frozenset[date] = frozenset(),
) -> Periods:
    """The registration period and final deadline of an item of ``urgency`` opened (or escalated) at
    ``start``; with ``business_days`` weekends and ``holidays`` are skipped."""
    answers = answer_days or DEFAULT_ANSWER_DAYS
    deadlines = deadline_days or urgency_engine.DEFAULT_DEADLINE_DAYS
    answer_due = urgency_engine.deadline(urgency, start, days=answers, business_days=business_days, holidays=holidays)
    due = urgency_engine.deadline(urgency, start, days=deadlines, business_days=business_days, holidays=holidays)
    return Periods(min(answer_due, due), due)
