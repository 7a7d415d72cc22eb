"""The response cycle in a real browser: a system administrator finds a work item through the notification
in his inbox, registers 対策要否 and 予定, the CSIRT approves the plan, he reports 完了, and his dashboard's
counts move: one fewer open, one more completed."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ismp.apps.inventory.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
ADMIN = "admin-web"


def login(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url


def counts(page) -> tuple[int, int]:
    page.goto("/")
    open_ = int(page.inner_text("[data-count=open] .stat-value").replace(",", ""))
    done = int(page.inner_text("[data-count=done] .stat-value").replace(",", ""))
    return open_, done


def submit(page, action: str) -> None:
    page.click(f"#action-{action} button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_an_administrator_answers_a_notified_item_and_the_dashboard_follows(page):
    login(page, ADMIN)
    page.goto("/inbox/")
    inbox = page.inner_text("main")
    linked = [int(pk) for pk in re.findall(r"/workitems/(\d+)/", inbox)]
    assert linked, "the administrator's inbox names no work item"
    item = None
    for pk in dict.fromkeys(linked):
        page.goto(f"/workitems/{pk}/")
        if page.locator("#action-decide").count():
            item = pk
            break
    assert item is not None, "no notified work item is waiting for 対策要否"
    open_before, done_before = counts(page)

    page.goto(f"/workitems/{item}/")
    page.check("#action-decide input[name=decide-needed][value=yes]")
    submit(page, "decide")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    page.fill("#action-plan input[name=plan-planned_date]", tomorrow)
    page.fill("#action-plan textarea[name=plan-method]", "bash を修正版へ更新（定期保守枠）")
    submit(page, "plan")
    assert page.locator("#action-approve").count() == 0  # the administrator does not approve his own plan

    login(page, "csirt")
    page.goto(f"/workitems/{item}/")
    submit(page, "approve")
    assert "approve" in page.inner_text("main").lower() or "承認" in page.inner_text("main")

    login(page, ADMIN)
    page.goto(f"/workitems/{item}/")
    page.fill("#action-complete textarea[name=complete-evidence]", "bash 5.2 へ更新済み（CHG-0042）")
    submit(page, "complete")
    history = page.inner_text("main")
    assert "予定" in history and "完了" in history

    open_after, done_after = counts(page)
    assert (open_after, done_after) == (open_before - 1, done_before + 1)
