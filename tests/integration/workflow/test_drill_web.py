"""Response drills (対応訓練) in the web pages and the REST API: the CSIRT starts one for an organisation's
systems only, reads its report per organisation and ends it; the CISO and auditors read; administrators are
refused; the API's problem responses say why."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from rest_framework.test import APIClient

from ismp.apps.audit.services import Actor
from ismp.apps.workflow import drills, services
from ismp.apps.workflow.models import Drill, WorkItem
from ismp.engines.workflow import Action, Step


def browser(company, username: str) -> Client:
    client = Client()
    client.force_login(company.users()[username])
    return client


def api(company, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.users()[username])
    return client


@pytest.fixture
def drill(company, django_capture_on_commit_callbacks) -> Drill:
    with django_capture_on_commit_callbacks(execute=True):
        return drills.start_drill(
            Actor(company.csirt, "test"),
            name="Q4 drill",
            vuln_title="Simulated RCE in the web server",
            urgency="S+",
            system_ids=[company.shop.pk, company.mail.pk],
            description="A proof of concept was published this morning.",
        )


# ------------------------------------------------------------------------------------------------ web


def test_the_csirt_starts_a_drill_for_an_organisations_systems_only(company, django_capture_on_commit_callbacks):
    client = browser(company, "csirt")
    page = client.get("/drills/")
    assert page.status_code == 200 and 'id="drill-form"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/drills/",
            {"name": "Ops drill", "vuln_title": "Simulated mail RCE", "urgency": "A", "organisations": ["OPS"]},
        )
    drill = Drill.objects.get(name="Ops drill")
    assert response.status_code == 302 and response["Location"] == f"/drills/{drill.pk}/"
    assert [item.system for item in WorkItem.objects.filter(drill=drill)] == [company.mail]
    listed = html.unescape(client.get("/drills/").content.decode())
    assert "Ops drill" in listed and "Simulated mail RCE" in listed


def test_an_organisation_includes_the_organisations_below_it(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        browser(company, "csirt").post(
            "/drills/", {"name": "All of BIZ", "vuln_title": "x", "urgency": "B", "organisations": ["BIZ"]}
        )
    systems = {item.system for item in WorkItem.objects.filter(drill__name="All of BIZ")}
    assert systems == {company.shop, company.mail}


def test_a_drill_needs_participants_and_the_form_says_so(company):
    response = browser(company, "csirt").post("/drills/", {"name": "Empty", "vuln_title": "x", "urgency": "S+"})
    assert response.status_code == 400
    assert "at least one organisation or system" in html.unescape(response.content.decode())
    assert not Drill.objects.exists()


@pytest.mark.parametrize("username", ["alice", "sam"])
def test_drills_are_refused_to_administrators_and_service_owners(company, drill, username):
    client = browser(company, username)
    assert client.get("/drills/").status_code == 403
    assert client.get(f"/drills/{drill.pk}/").status_code == 403
    response = client.post(
        "/drills/", {"name": "Mine", "vuln_title": "x", "urgency": "A", "systems": [company.shop.pk]}
    )
    assert response.status_code == 403
    assert client.post(f"/drills/{drill.pk}/end/").status_code == 403
    assert Drill.objects.count() == 1 and Drill.objects.get().ended_at is None
    assert "/drills/" not in client.get("/workitems/").content.decode()  # no navigation link either


@pytest.mark.parametrize("username", ["ciso", "auditor"])
def test_the_ciso_and_auditors_read_drills_but_do_not_run_them(company, drill, username):
    client = browser(company, username)
    page = client.get("/drills/").content.decode()
    assert "Q4 drill" in page and 'id="drill-form"' not in page
    detail = client.get(f"/drills/{drill.pk}/").content.decode()
    assert "Web事業部" in detail and 'id="drill-end-form"' not in detail
    assert client.post("/drills/", {"name": "x", "vuln_title": "x", "urgency": "A"}).status_code == 403
    assert client.post(f"/drills/{drill.pk}/end/").status_code == 403
    assert Drill.objects.get().ended_at is None


def test_the_report_page_shows_each_organisation_and_who_has_not_answered(company, drill):
    response = browser(company, "csirt").get(f"/drills/{drill.pk}/")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "A proof of concept was published this morning." in page
    assert "Web事業部" in page and "運用部" in page
    assert "EC shop" in page and "Mail gateway" in page  # neither has answered yet
    assert f"/workitems/?drill={drill.pk}" in page
    assert 'id="drill-end-form"' in page
    assert browser(company, "csirt").get("/drills/999999/").status_code == 404


def test_the_csirt_ends_a_drill_and_its_open_items_close(company, drill):
    client = browser(company, "csirt")
    response = client.post(f"/drills/{drill.pk}/end/")
    assert response.status_code == 302
    drill.refresh_from_db()
    assert drill.ended_at is not None
    assert set(WorkItem.objects.filter(drill=drill).values_list("state", flat=True)) == {"closed"}
    page = html.unescape(client.get(f"/drills/{drill.pk}/").content.decode())
    assert 'id="drill-end-form"' not in page
    again = html.unescape(client.post(f"/drills/{drill.pk}/end/", follow=True).content.decode())
    assert "ended at" in again


def test_the_navigation_links_drills_for_the_csirt(company):
    assert 'href="/drills/"' in browser(company, "csirt").get("/workitems/").content.decode()
    assert 'href="/drills/"' not in browser(company, "ciso").get("/workitems/").content.decode()


# ------------------------------------------------------------------------------------------------ API


def test_api_create_retrieve_and_end(company, django_capture_on_commit_callbacks):
    client = api(company, "csirt")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/drills/",
            {"name": "API drill", "vuln_title": "Simulated", "urgency": "S-", "systems": [company.shop.pk]},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["urgency"], body["systems"], body["answered"]) == ("API drill", "S-", 1, 0)
    assert body["report"] == [
        {
            "organisation": "Web事業部",
            "systems": 1,
            "answered": 0,
            "completed": 0,
            "median_hours_to_answer": None,
            "max_hours_to_answer": None,
            "median_hours_to_complete": None,
            "not_answered": ["EC shop"],
        }
    ]
    listed = client.get("/api/drills/").json()
    assert [row["name"] for row in listed["results"]] == ["API drill"]
    assert client.get(f"/api/drills/{body['id']}/").json()["report"][0]["organisation"] == "Web事業部"
    ended = client.post(f"/api/drills/{body['id']}/end/")
    assert ended.status_code == 200 and ended.json()["ended_at"] is not None
    again = client.post(f"/api/drills/{body['id']}/end/")
    assert again.status_code == 400 and again["Content-Type"] == "application/problem+json"


def test_api_create_by_organisation_and_bad_input(company, django_capture_on_commit_callbacks):
    client = api(company, "csirt")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/drills/", {"name": "Ops", "vuln_title": "x", "organisations": ["OPS"]}, format="json"
        )
    assert response.status_code == 201 and response.json()["report"][0]["not_answered"] == ["Mail gateway"]
    unknown = client.post("/api/drills/", {"name": "x", "vuln_title": "x", "organisations": ["NOPE"]}, format="json")
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["detail"]
    empty = client.post("/api/drills/", {"name": "x", "vuln_title": "x"}, format="json")
    assert empty.status_code == 400 and "at least one" in empty.json()["detail"]
    assert Drill.objects.count() == 1


@pytest.mark.parametrize("username", ["ciso", "auditor"])
def test_api_readers_may_not_start_or_end(company, drill, username):
    client = api(company, username)
    assert client.get(f"/api/drills/{drill.pk}/").status_code == 200
    start = client.post("/api/drills/", {"name": "x", "vuln_title": "x", "systems": [company.shop.pk]}, format="json")
    assert start.status_code == 403 and start["Content-Type"] == "application/problem+json"
    assert client.post(f"/api/drills/{drill.pk}/end/").status_code == 403
    assert Drill.objects.get().ended_at is None


@pytest.mark.parametrize("username", ["alice", "bob", "sam"])
def test_api_refuses_drills_to_other_roles(company, drill, username):
    client = api(company, username)
    assert client.get("/api/drills/").status_code == 403
    assert client.get(f"/api/drills/{drill.pk}/").status_code == 403
    assert client.post(f"/api/drills/{drill.pk}/end/").status_code == 403
    assert Drill.objects.get().ended_at is None


def test_api_unknown_drill_is_404(company):
    assert api(company, "csirt").get("/api/drills/999999/").status_code == 404


def test_counts_and_report_follow_the_participants_answers(company, drill):
    item = WorkItem.objects.get(drill=drill, system=company.shop)
    alice = Actor(company.alice, "test")
    item = services.transition(alice, item, Step(Action.DECIDE, needed=True), version=item.version)
    services.transition(alice, item, Step(Action.COMPLETE, evidence="patched"), version=item.version)
    [row] = api(company, "auditor").get("/api/drills/").json()["results"]
    assert (row["systems"], row["answered"], row["completed"]) == (2, 1, 1)
    report = {r["organisation"]: r for r in api(company, "ciso").get(f"/api/drills/{drill.pk}/").json()["report"]}
    assert report["Web事業部"]["not_answered"] == [] and report["Web事業部"]["median_hours_to_answer"] is not None
    assert report["運用部"]["not_answered"] == ["Mail gateway"]
    page = html.unescape(browser(company, "csirt").get(f"/drills/{drill.pk}/").content.decode())
    assert "1 / 1" in page and "0 / 1" in page
