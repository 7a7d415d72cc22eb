"""The work-items REST API: scoped list and detail, filters, transitions per role with 200/400/403/404/409
problem responses, the urgency override and the board."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.workflow.models import WorkItem

from .test_web import items, make_item  # noqa: F401  # the shared work items

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")
LISTED = {"csirt": 4, "ciso": 4, "auditor": 4, "alice": 2, "bob": 2, "sam": 2}
# decide "needed" on the shop's shellshock item: auditors never write (403 before any lookup); bob cannot see
# the shop's item (404); the CISO and the service owner may not answer (403 from the state machine)
DECIDE_SHOP = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 200, "bob": 404, "sam": 403}


def client_for(company, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.users()[username])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_list_is_scoped(company, items, role):  # noqa: F811
    body = client_for(company, role).get("/api/workitems/").json()
    assert body["count"] == LISTED[role]
    if role == "alice":
        assert {r["system_name"] for r in body["results"]} == {"EC shop"}


def test_list_filters_and_one_query_per_page(company, items):  # noqa: F811
    client = client_for(company, "csirt")
    body = client.get("/api/workitems/", {"overdue": "1"}).json()
    assert [r["vulnerability"] for r in body["results"]] == ["CVE-2016-0001"] and body["results"][0]["overdue"]
    body = client.get("/api/workitems/", {"organisation": "BIZ", "urgency": "S+", "ordering": "system"}).json()
    assert [r["system_name"] for r in body["results"]] == ["EC shop", "Mail gateway"]
    assert client.get("/api/workitems/", {"state": "done"}).json()["count"] == 0
    with CaptureQueriesContext(connection) as few:
        client.get("/api/workitems/")
    for number in range(10):
        make_item(company.mail, f"CVE-2021-{number:04d}", "B")
    with CaptureQueriesContext(connection) as many:
        client.get("/api/workitems/")
    assert len(many) == len(few)


def test_detail_lists_the_callers_actions_and_hides_other_systems(company, items):  # noqa: F811
    body = client_for(company, "alice").get(f"/api/workitems/{items.shellshock.pk}/").json()
    assert "decide" in body["allowed_actions"] and "approve" not in body["allowed_actions"]
    assert body["urgency"] == "S+" and body["version"] == 1
    response = client_for(company, "bob").get(f"/api/workitems/{items.shellshock.pk}/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", ROLES)
def test_transition_per_role(company, items, role):  # noqa: F811
    response = client_for(company, role).post(
        f"/api/workitems/{items.shellshock.pk}/transition/",
        {"action": "decide", "version": 1, "needed": True},
        format="json",
    )
    assert response.status_code == DECIDE_SHOP[role], response.content
    if response.status_code == 200:
        assert response.json()["state"] == "needed" and response.json()["version"] == 2
        assert AuditEntry.objects.filter(object_type="workflow.workitem", via="api").count() == 1
    else:
        assert response["Content-Type"] == "application/problem+json"
        assert WorkItem.objects.get(pk=items.shellshock.pk).state == "new"


def test_transition_problems_say_why(company, items):  # noqa: F811
    client = client_for(company, "alice")
    url = f"/api/workitems/{items.shellshock.pk}/transition/"
    response = client.post(url, {"action": "complete", "version": 1, "evidence": "x"}, format="json")
    assert response.status_code == 400 and "possible only when" in response.json()["detail"]
    response = client.post(url, {"action": "close", "version": 1}, format="json")
    assert response.status_code == 400 and "action" in response.json()["fields"]
    assert client.post(url, {"action": "decide", "version": 1, "needed": True}, format="json").status_code == 200
    response = client.post(url, {"action": "decide", "version": 1, "needed": False, "reason": "x"}, format="json")
    assert response.status_code == 409 and "changed by alice" in response.json()["detail"]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        url, {"action": "plan", "version": 2, "planned_date": tomorrow, "method": "upgrade"}, format="json"
    )
    assert response.status_code == 200 and response.json()["planned_date"] == tomorrow
    response = client_for(company, "alice").post(url, {"action": "approve", "version": 3}, format="json")
    assert response.status_code == 403 and "the CSIRT or the CISO approves" in response.json()["detail"]
    response = client_for(company, "ciso").post(url, {"action": "approve", "version": 3}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "approved"


def test_service_stop_at_a_given_time(company, items):  # noqa: F811
    url = f"/api/workitems/{items.shellshock.pk}/transition/"
    response = client_for(company, "sam").post(
        url, {"action": "record_stop", "version": 1, "at": "2026-11-20T09:00:00+09:00"}, format="json"
    )
    assert response.status_code == 200
    assert WorkItem.objects.get(pk=items.shellshock.pk).service_stopped_at == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def test_urgency_override(company, items):  # noqa: F811
    url = f"/api/workitems/{items.postfix.pk}/urgency/"
    data = {"urgency": "S-", "reason": "exposed", "version": 1}
    assert client_for(company, "bob").post(url, data, format="json").status_code == 403
    assert client_for(company, "alice").post(url, data, format="json").status_code == 404
    response = client_for(company, "csirt").post(url, data, format="json")
    assert response.status_code == 200 and response.json()["urgency"] == "S-"
    response = client_for(company, "csirt").post(url, {"urgency": "", "reason": "back", "version": 2}, format="json")
    assert response.status_code == 200 and response.json()["urgency_override"] == ""


def test_board(company, items):  # noqa: F811
    client = client_for(company, "csirt")
    body = client.get("/api/board/").json()
    assert body["results"][0]["vulnerability__vuln_id"] == "CVE-2014-6271"
    assert body["results"][0]["open_items"] == 2
    client_for(company, "alice").post(
        f"/api/workitems/{items.shellshock.pk}/transition/",
        {"action": "decide", "version": 1, "needed": True},
        format="json",
    )
    body = client.get("/api/board/CVE-2014-6271/").json()
    assert body["counts"]["systems"] == 2 and body["counts"]["unanswered"] == 1
    rows = {row["system"]: row for row in body["rows"]}
    assert rows["EC shop"]["answers"]["decide"]["by"] == "alice" and rows["EC shop"]["waiting_on"] == []
    assert rows["Mail gateway"]["waiting_on"] == ["bob"] and rows["Mail gateway"]["answers"] == {}
    body = client_for(company, "bob").get("/api/board/CVE-2014-6271/").json()
    assert [row["system"] for row in body["rows"]] == ["Mail gateway"]
    assert client_for(company, "alice").get("/api/board/CVE-2016-0001/").status_code == 404
