"""The demo company's response history: work items in every state, the Shellshock board with answered and
unanswered systems, every item backed by an open finding, and urgencies from the shipped KEV records."""

from __future__ import annotations

import pytest

from ismp.apps.findings.models import Finding
from ismp.apps.inventory.demo import load_demo
from ismp.apps.workflow.models import WorkItem, WorkItemEvent
from ismp.engines.workflow import State


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()


def test_the_demo_response_history(demo):
    """One load (it takes seconds): every state, items on visible open findings, the Shellshock board."""
    _every_state()
    _every_open_item_stands_on_a_visible_open_finding()
    _the_shellshock_board_has_answers_and_silences()


def _every_state() -> None:
    states = set(WorkItem.objects.values_list("state", flat=True))
    assert states >= {s.value for s in State} - {State.CLOSED}
    assert WorkItem.objects.filter(urgency="S+").exists() and WorkItem.objects.filter(urgency="B").exists()
    assert WorkItemEvent.objects.filter(action="approve", actor__username="csirt").exists()
    assert WorkItemEvent.objects.filter(action="approve_exception", actor__username="ciso").exists()


def _every_open_item_stands_on_a_visible_open_finding() -> None:
    open_pairs = set(
        Finding.objects.filter(state="open")
        .exclude(confidence="low", confirmed_at=None)
        .values_list("system_id", "vulnerability_id")
    )
    items = WorkItem.objects.filter(drill=None)
    assert open_pairs == set(items.exclude(state="closed").values_list("system_id", "vulnerability_id"))
    assert not open_pairs & set(items.filter(state="closed").values_list("system_id", "vulnerability_id"))


def _the_shellshock_board_has_answers_and_silences() -> None:
    board = WorkItem.objects.filter(vulnerability__vuln_id="CVE-2014-6271")
    assert set(board.values_list("urgency", flat=True)) == {"S+"}  # CVSS 9.8, AV:N, in KEV
    states = set(board.values_list("state", flat=True))
    assert {"done", "new"} <= states and states & {"planned", "approved"}


def test_loading_the_demo_again_changes_no_work_item(demo, django_capture_on_commit_callbacks):
    before = list(WorkItem.objects.order_by("pk").values_list("pk", "state", "version"))
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()
    assert list(WorkItem.objects.order_by("pk").values_list("pk", "state", "version")) == before
