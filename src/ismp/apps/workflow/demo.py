"""The demo company's response history: the work items that matching opened are spread over the last twelve
weeks and a sample is carried through every state by the demo's own people (administrators answer, the CSIRT
approves, the CISO decides exceptions), so the bottom line, the emergency board and the lists have something
to show. Shellshock (CVE-2014-6271) is the emergency board's story: some systems done, some planned, some
not answered and overdue.

It happens once (when no work item has been answered yet) and is deterministic (a fixed seed).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from ismp.apps.accounts.models import User
from ismp.apps.audit.services import Actor
from ismp.apps.bulk import db_datetime, update_rows
from ismp.apps.workflow import services
from ismp.apps.workflow.models import WorkItem
from ismp.engines.workflow import Action, State, Step

SEED = 20261125
WEEKS = 12
SAMPLE = 300  # items carried through the workflow (the rest stay as matching opened them)
LATE = 0.08  # the share of the rest that is past its registration period
BOARD = "CVE-2014-6271"
# the share of the sample left in each state
TARGETS: tuple[tuple[State, int], ...] = (
    (State.DONE, 38),
    (State.APPROVED, 12),
    (State.PLANNED, 9),
    (State.NEEDED, 8),
    (State.APPLIED, 4),
    (State.NOT_NEEDED, 7),
    (State.EXCEPTION_REQUESTED, 2),
    (State.ACCEPTED, 3),
    (State.NEW, 17),
)
METHODS = (
    "ベンダー修正版へ更新（定期保守枠）",
    "OS パッケージ更新（yum/apt）と再起動",
    "WAF シグネチャ適用後、次回保守で更新",
    "設定変更で該当機能を無効化",
)
NOT_NEEDED_REASONS = (
    "該当機能（モジュール）を使用していないことを設定で確認",
    "インターネットから到達不能なセグメントで、管理端末からのみ利用",
)


def load_demo() -> int:
    """Spread and progress the demo's work items; returns how many were carried through the workflow."""
    if WorkItem.objects.filter(answered_at__isnull=False).exists() or not WorkItem.objects.exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    now = timezone.now()
    csirt = _actor("csirt")
    ciso = _actor("ciso")
    with transaction.atomic():
        board = list(WorkItem.objects.filter(vulnerability__vuln_id=BOARD, drill=None).order_by("system__name"))
        others = list(WorkItem.objects.exclude(vulnerability__vuln_id=BOARD).filter(drill=None).order_by("pk"))
        sample = rng.sample(others, min(SAMPLE, len(others)))
        _spread(rng, now, {item.pk for item in sample} | {item.pk for item in board})
        plan = [(item, _pick(rng)) for item in sample]
        # the board: a third done, a third planned or approved, the rest not answered
        for index, item in enumerate(board):
            plan.append(
                (item, (State.DONE, State.APPROVED, State.NEW, State.PLANNED, State.DONE, State.NEW)[index % 6])
            )
        for item, target in plan:
            _carry(item, target, rng, csirt, ciso, now)
    return len(plan)


def _actor(username: str) -> Actor:
    return Actor(User.objects.get(username=username), "demo", label="demo-loader")


def _pick(rng: random.Random) -> State:
    states = [state for state, _ in TARGETS]
    chosen: State = rng.choices(states, weights=[weight for _, weight in TARGETS])[0]
    return chosen


def _spread(rng: random.Random, now: dt.datetime, history: set[int]) -> None:
    """Open dates, deadlines from them. The items carried through the workflow (``history``) opened over the
    last twelve weeks (urgent ones more recently); of the rest, most opened within their registration period
    (on track) and one in LATE earlier (overdue), as in a company that keeps up but not everywhere."""
    policy = services.current_policy()
    newest = {"S+": 10, "S-": 20, "A": 45, "B": WEEKS * 7}
    answer_days = policy.answer_days
    updates = []
    for pk, urgency in WorkItem.objects.filter(drill=None).values_list("pk", "urgency"):
        if pk in history or rng.random() < LATE:
            age = rng.uniform(0.5, newest[urgency])
        else:
            age = rng.uniform(0.05, 0.9) * answer_days[urgency]
        opened = now - dt.timedelta(days=age)
        periods = policy.periods(urgency, opened)
        updates.append((db_datetime(opened), db_datetime(periods.answer_due), db_datetime(periods.due), pk))
    update_rows(WorkItem, "id", ("opened_at", "answer_due", "due"), updates)


def _carry(item: WorkItem, target: State, rng: random.Random, csirt: Actor, ciso: Actor, now: dt.datetime) -> None:
    item.refresh_from_db()
    admin = item.system.administrators.order_by("username").first()
    if admin is None or target is State.NEW:
        return
    me = Actor(admin, "demo", label="demo-loader")
    today = timezone.localdate(now)
    answered = min(item.opened_at + dt.timedelta(hours=rng.uniform(2, 60)), now - dt.timedelta(minutes=5))

    def step(actor: Actor, what: Step) -> WorkItem:
        nonlocal item
        item = services.transition(actor, item, what, version=item.version)
        return item

    if item.urgency in ("S+", "S-") and target is not State.NOT_NEEDED:
        ordered = item.opened_at + (answered - item.opened_at) / 2
        step(csirt, Step(Action.ORDER_STOP, reason="停止指示: 対策完了までサービスを停止すること", at=ordered))
        step(me, Step(Action.RECORD_STOP, at=answered))
    if target in (State.APPLIED, State.NOT_NEEDED):
        step(me, Step(Action.DECIDE, needed=False, reason=rng.choice(NOT_NEEDED_REASONS)))
        if target is State.NOT_NEEDED:
            step(csirt, Step(Action.APPROVE, reason="確認しました"))
    else:
        step(me, Step(Action.DECIDE, needed=True))
        if target in (State.EXCEPTION_REQUESTED, State.ACCEPTED):
            until = today + dt.timedelta(days=rng.choice((30, 60, 90)))
            step(me, Step(Action.REQUEST_EXCEPTION, reason="次期更改（来期）で廃止予定のため", until=until))
            if target is State.ACCEPTED:
                step(ciso, Step(Action.APPROVE_EXCEPTION, reason="廃止計画を確認。期限まで監視を強化すること"))
        elif target is not State.NEEDED:
            planned = today + dt.timedelta(days=rng.randint(1, 30))
            step(me, Step(Action.PLAN, planned_date=planned, method=rng.choice(METHODS)))
            if target in (State.APPROVED, State.DONE):
                step(csirt, Step(Action.APPROVE))
            if target is State.DONE:
                done = min(now, answered + dt.timedelta(days=rng.uniform(0.5, 20)))
                evidence = f"更新作業完了（変更管理票 CHG-{item.pk:05d}）"
                step(me, Step(Action.COMPLETE, evidence=evidence, on=done.date()))
                if item.service_stopped_at:
                    step(me, Step(Action.RECORD_RESUME, at=done))
    # the answer came some hours after the item opened, not when the demo was loaded
    WorkItem.objects.filter(pk=item.pk).update(answered_at=answered)
    item.events.filter(action__in=("decide", "record_stop")).update(at=answered)
