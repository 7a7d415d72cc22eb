"""The emergency response board (the Shellshock case): every affected system, who answered 要否 / 予定 / 完了
and when, who has not, overdue flags, counts, sorting by organisation, CSV; the index of S+/S- vulnerabilities."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ismp.apps.audit.services import Actor
from ismp.apps.findings.services import match_systems
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.models import System
from ismp.apps.vulns.services import import_feed
from ismp.apps.workflow import queries, services
from ismp.apps.workflow.models import WorkItem
from ismp.engines.workflow import Action, Step

from .test_web import client_for, items, make_item, page  # noqa: F401  # the shared work items

FEEDS = Path(__file__).resolve().parents[3] / "src" / "ismp" / "apps" / "inventory" / "demo" / "feeds"
BASH = "cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*"
OPERATOR = Actor(None, "test", label="operator")


@pytest.fixture(autouse=True)
def english(settings) -> None:
    settings.LANGUAGE_CODE = "en"


def answer(user, item: WorkItem, step: Step) -> WorkItem:
    item = WorkItem.objects.get(pk=item.pk)
    return services.transition(Actor(user, "web"), item, step, version=item.version)


def test_shellshock_on_real_data_who_answered_and_who_has_not(company, django_capture_on_commit_callbacks):
    """NVD and KEV loaded, bash 4.3 on the shop and the mail gateway: two S+ items; alice answers, bob not."""
    import_feed("nvd", [FEEDS / "nvdcve-1.1-demo.json.gz"])
    for system in (company.shop, company.mail):
        inventory.save_component(OPERATOR, system, {"cpe": BASH})
    with django_capture_on_commit_callbacks(execute=True):
        match_systems([company.shop.pk, company.mail.pk])
        import_feed("kev", [FEEDS / "kev-2025.08.25.json.gz"])
    shop = WorkItem.objects.get(system=company.shop, vulnerability__vuln_id="CVE-2014-6271")
    answer(company.alice, shop, Step(Action.DECIDE, needed=True))
    answer(company.alice, shop, Step(Action.PLAN, planned_date=timezone.localdate(), method="upgrade bash"))

    body = page(client_for(company.csirt).get(reverse("web:board-index")))
    assert "/board/CVE-2014-6271/" in body
    body = page(client_for(company.csirt).get(reverse("web:board-detail", args=["CVE-2014-6271"])))
    shop_row, mail_row = _rows(body, "EC shop"), _rows(body, "Mail gateway")
    assert "alice" in shop_row and "upgrade" not in shop_row and "S+" in shop_row
    assert "未回答: bob" in mail_row and "S+" in mail_row
    board = queries.board(company.csirt, "CVE-2014-6271")
    assert board is not None
    assert board.counts | {"overdue": 0} == {
        "systems": 2,
        "answered": 1,
        "unanswered": 1,
        "planned": 1,
        "done": 0,
        "open": 2,
        "overdue": 0,
    }


def _rows(body: str, system: str) -> str:
    """The board row (one <tr>) that names the system."""
    start = body.index(f">{system}</a>")
    return body[body.rindex("<tr", 0, start) : body.index("</tr>", start)]


def test_the_board_names_who_answered_when_and_who_has_not(company, items):  # noqa: F811
    answer(company.alice, items.shellshock, Step(Action.DECIDE, needed=True))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    answer(company.alice, items.shellshock, Step(Action.PLAN, planned_date=tomorrow, method="upgrade"))
    answer(company.csirt, items.shellshock, Step(Action.APPROVE))
    answer(company.csirt, items.shellshock, Step(Action.COMPLETE, evidence="bash 4.3-p25"))
    board = queries.board(company.ciso, "CVE-2014-6271")
    assert board is not None
    rows = {row.item.system.name: row for row in board.rows}
    shop, mail = rows["EC shop"], rows["Mail gateway"]
    assert (shop.answers["decide"].by, shop.answers["plan"].by, shop.answers["complete"].by) == (
        "alice",
        "alice",
        "csirt",
    )
    assert shop.waiting_on == [] and not shop.unanswered
    assert mail.answers == {} and mail.waiting_on == ["bob"] and mail.unanswered
    assert board.counts["done"] == 1 and board.counts["unanswered"] == 1 and board.by_state == {"done": 1, "new": 1}
    body = page(client_for(company.ciso).get(reverse("web:board-detail", args=["CVE-2014-6271"])))
    assert "未回答: bob" in _rows(body, "Mail gateway") and "csirt" in _rows(body, "EC shop")


def test_overdue_flags_and_counts(company, items):  # noqa: F811
    past = timezone.now() - dt.timedelta(hours=1)
    WorkItem.objects.filter(pk=items.mail_shellshock.pk).update(answer_due=past)
    board = queries.board(company.csirt, "CVE-2014-6271")
    assert board is not None and board.counts["overdue"] == 1
    assert [row.overdue for row in board.rows] == [True, False]  # by organisation: OPS (mail) before WEB (shop)
    body = page(client_for(company.csirt).get(reverse("web:board-detail", args=["CVE-2014-6271"])))
    assert "期限超過" in _rows(body, "Mail gateway") and "期限超過" not in _rows(body, "EC shop")


def test_sorted_by_organisation_or_system(company, items):  # noqa: F811
    board = queries.board(company.csirt, "CVE-2014-6271", order="organisation")
    assert board is not None and [r.item.system.organisation.code for r in board.rows] == ["OPS", "WEB"]
    board = queries.board(company.csirt, "CVE-2014-6271", order="system")
    assert board is not None and [r.item.system.name for r in board.rows] == ["EC shop", "Mail gateway"]
    body = page(client_for(company.csirt).get(reverse("web:board-detail", args=["CVE-2014-6271"]), {"order": "system"}))
    assert body.index(">EC shop</a>") < body.index(">Mail gateway</a>")
    body = page(client_for(company.csirt).get(reverse("web:board-detail", args=["CVE-2014-6271"])))
    assert body.index(">Mail gateway</a>") < body.index(">EC shop</a>")


def test_the_board_takes_a_constant_number_of_queries(company, items):  # noqa: F811
    client = client_for(company.csirt)
    url = reverse("web:board-detail", args=["CVE-2014-6271"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(10):
        system = System.objects.create(name=f"web-{number}", organisation=company.web, system_type="internal")
        system.administrators.set([company.alice])
        item = make_item(system, "CVE-2014-6271", "S+")
        answer(company.alice, item, Step(Action.DECIDE, needed=True))
    with CaptureQueriesContext(connection) as many:
        body = page(client.get(url))
    assert len(many) == len(few) and body.count("web-") >= 10


def test_the_board_is_scoped(company, items):  # noqa: F811
    body = page(client_for(company.bob).get(reverse("web:board-detail", args=["CVE-2014-6271"])))
    assert "Mail gateway" in body and "EC shop" not in body
    assert client_for(company.alice).get(reverse("web:board-detail", args=["CVE-2016-0001"])).status_code == 404
    assert client_for(company.alice).get(reverse("web:board-detail", args=["CVE-1999-9999"])).status_code == 404
    body = page(client_for(company.alice).get(reverse("web:board-index")))
    assert "/board/CVE-2014-6271/" in body and "/board/CVE-2099-1000/" in body


def test_the_index_lists_open_s_items_most_affected_first(company, items):  # noqa: F811
    rows = queries.board_vulnerabilities(company.csirt)
    assert [(r["vulnerability__vuln_id"], r["open_items"]) for r in rows] == [
        ("CVE-2014-6271", 2),
        ("CVE-2099-1000", 1),
    ]
    answer(company.alice, items.sminus, Step(Action.DECIDE, needed=True))
    answer(company.alice, items.sminus, Step(Action.COMPLETE, evidence="patched"))
    assert [r["vulnerability__vuln_id"] for r in queries.board_vulnerabilities(company.csirt)] == ["CVE-2014-6271"]


def test_csv_export_of_the_board(company, items):  # noqa: F811
    answer(company.alice, items.shellshock, Step(Action.DECIDE, needed=True))
    System.objects.filter(pk=company.mail.pk).update(name="=cmd|' /C calc'!A0")
    response = client_for(company.csirt).get(reverse("web:board-detail", args=["CVE-2014-6271"]), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="ismp-board-CVE-2014-6271.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_system = {row["system"]: row for row in rows}
    assert by_system["EC shop"]["decided_by"] == "alice" and by_system["EC shop"]["waiting_on"] == ""
    mail = by_system["'=cmd|' /C calc'!A0"]  # neutralised: a spreadsheet shows it as text
    assert mail["decided_by"] == "" and mail["waiting_on"] == "bob"
    assert by_system["EC shop"]["decided_at"].endswith("+09:00")  # in the user's zone (Asia/Tokyo)
