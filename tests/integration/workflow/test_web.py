"""The work-item pages: the list (scope, filters, query count, deadlines in the user's zone), an item with
one form per allowed action, every action through its form as the right and the wrong role, conflicts on a
stale version, the CSIRT's urgency override and settings, the section on a system's page.

The ``items`` fixture (used by the API, CLI and board tests too) creates work items directly:

EC shop (alice administers, sam owns)  CVE-2014-6271 S+ (shellshock)  CVE-2099-1000 S- (sminus)
Mail gateway (bob administers)         CVE-2014-6271 S+ (mail_shellshock)  CVE-2016-0001 A, overdue (postfix)
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.vulns.models import Vulnerability
from ismp.apps.workflow import services
from ismp.apps.workflow.models import ResponsePolicy, UrgencyMatrix, VulnerabilityUrgency, WorkItem
from ismp.engines.workflow import Action, Step


@dataclass
class Items:
    shellshock: WorkItem
    sminus: WorkItem
    mail_shellshock: WorkItem
    postfix: WorkItem


def make_item(system, vuln_id: str, urgency: str, *, title: str = "", kind: str = "security_info", **extra) -> WorkItem:
    vulnerability, _ = Vulnerability.objects.get_or_create(
        vuln_id=vuln_id, defaults={"title": title or f"{vuln_id} title", "risk_level": 5, "cvss_score": 9.8}
    )
    VulnerabilityUrgency.objects.get_or_create(
        vulnerability=vulnerability,
        defaults={
            "value": urgency,
            "level": 5,
            "possibility": "remote_tool",
            "explanation": f"{urgency}: CVSS 3.1 9.8 → risk level 5; AV:N → remote; in KEV → attack tool",
            "matrix_version": "design-default-1",
        },
    )
    now = timezone.now()
    periods = services.current_policy().periods(urgency, now)
    fields = {
        "kind": kind,
        "system": system,
        "vulnerability": vulnerability,
        "urgency": urgency,
        "urgency_explanation": f"{urgency}: CVSS 3.1 9.8 → risk level 5; AV:N → remote",
        "opened_at": now,
        "answer_due": periods.answer_due,
        "due": periods.due,
    }
    return WorkItem.objects.create(**(fields | extra))


@pytest.fixture
def items(company) -> Items:
    past = timezone.now() - dt.timedelta(days=2)
    return Items(
        shellshock=make_item(company.shop, "CVE-2014-6271", "S+", title="GNU Bash environment variable (Shellshock)"),
        sminus=make_item(company.shop, "CVE-2099-1000", "S-"),
        mail_shellshock=make_item(company.mail, "CVE-2014-6271", "S+"),
        postfix=make_item(
            company.mail, "CVE-2016-0001", "A", opened_at=past - dt.timedelta(days=7), answer_due=past, due=past
        ),
    )


@pytest.fixture(autouse=True)
def english(settings) -> None:
    settings.LANGUAGE_CODE = "en"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(user, item: WorkItem, action: str, version: int | None = None, **fields):
    """POST one action form as the page would: the prefixed fields, the hidden action and version."""
    data = {"action": action, f"{action}-version": version or WorkItem.objects.get(pk=item.pk).version}
    data |= {f"{action}-{name}": value for name, value in fields.items()}
    return client_for(user).post(reverse("web:workitem-act", args=[item.pk]), data, follow=False)


def state(item: WorkItem) -> str:
    return WorkItem.objects.get(pk=item.pk).state


def page(response) -> str:
    """The page's text with entities decoded (messages quote "the system's …")."""
    return html.unescape(response.content.decode())


# ------------------------------------------------------------------------------------------------ list


def test_the_list_is_scoped(company, items):
    body = page(client_for(company.csirt).get(reverse("web:workitem-list")))
    assert body.count('href="/workitems/') >= 4 and "Mail gateway" in body and "EC shop" in body
    body = page(client_for(company.alice).get(reverse("web:workitem-list")))
    assert f"/workitems/{items.shellshock.pk}/" in body and "Mail gateway" not in body
    assert f"/workitems/{items.postfix.pk}/" not in body
    body = page(client_for(company.bob).get(reverse("web:workitem-list")))
    assert f"/workitems/{items.postfix.pk}/" in body and f"/workitems/{items.shellshock.pk}/" not in body


def test_invisible_items_are_404_not_403(company, items):
    bob = client_for(company.bob)
    assert bob.get(reverse("web:workitem-detail", args=[items.shellshock.pk])).status_code == 404
    assert act(company.bob, items.shellshock, "decide", needed="yes").status_code == 404
    assert state(items.shellshock) == "new"
    assert client_for(company.alice).get(reverse("web:workitem-detail", args=[99999])).status_code == 404


def test_filters_and_the_htmx_partial(company, items):
    client = client_for(company.csirt)
    response = client.get(reverse("web:workitem-list"), {"urgency": "A"}, HTTP_HX_REQUEST="true")
    body = page(response)
    assert "<html" not in body and "CVE-2016-0001" in body and "CVE-2014-6271" not in body
    assert "HX-Request" in response["Vary"]
    body = page(client.get(reverse("web:workitem-list"), {"overdue": "on"}))
    assert "CVE-2016-0001" in body and "CVE-2014-6271" not in body and "期限超過 (overdue)</span>" in body
    body = page(client.get(reverse("web:workitem-list"), {"organisation": "WEB"}))
    assert "EC shop" in body and "CVE-2016-0001" not in body
    body = page(client.get(reverse("web:workitem-list"), {"organisation": "BIZ", "vuln": "cve-2014-6271"}))
    assert body.count("CVE-2014-6271</a>") == 2  # both sub-organisations of BIZ
    body = page(client.get(reverse("web:workitem-list"), {"q": "shellshock", "state": "open", "order": "-urgency"}))
    assert "CVE-2014-6271" in body and "CVE-2016-0001" not in body


def test_deadlines_are_shown_in_the_users_zone(company, items):
    due = dt.datetime(2031, 4, 1, 15, 30, tzinfo=dt.UTC)
    WorkItem.objects.filter(pk=items.shellshock.pk).update(due=due)
    body = page(client_for(company.alice).get(reverse("web:workitem-list")))
    assert "2031-04-02 00:30" in body and "Asia/Tokyo" in body  # 15:30 UTC is 00:30 the next day in Tokyo
    from ismp.apps.notifications.models import Preference

    Preference.objects.create(user=company.alice, language="en", time_zone="Europe/Paris")
    body = page(client_for(company.alice).get(reverse("web:workitem-detail", args=[items.shellshock.pk])))
    assert "2031-04-01 17:30" in body


def test_the_list_takes_a_constant_number_of_queries(company, items):
    client = client_for(company.csirt)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("web:workitem-list")).status_code == 200
    for number in range(20):
        make_item(company.mail, f"CVE-2021-{number:04d}", "B")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("web:workitem-list"))
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------- detail


def test_the_detail_shows_urgency_standard_deadlines_and_only_the_allowed_forms(company, items):
    body = page(client_for(company.alice).get(reverse("web:workitem-detail", args=[items.shellshock.pk])))
    assert "AV:N → remote" in body and "Stop the service at once and respond." in body
    assert "対応実施基準" in body and "登録期限" in body and "完了期限" in body
    assert 'id="action-decide"' in body and 'id="action-record_stop"' in body
    assert 'id="action-approve"' not in body and 'id="urgency-override"' not in body
    assert f'name="decide-version" value="{items.shellshock.version}"' in body
    body = page(client_for(company.csirt).get(reverse("web:workitem-detail", args=[items.shellshock.pk])))
    assert 'id="urgency-override"' in body and 'id="action-decide"' in body
    body = page(client_for(company.auditor).get(reverse("web:workitem-detail", args=[items.shellshock.pk])))
    assert 'id="action-' not in body and "Nothing for you to do" in body


def test_security_information_needed_plan_approve_complete_through_the_forms(company, items):
    item = items.shellshock
    assert act(company.alice, item, "decide", needed="yes").status_code == 302
    assert state(item) == "needed"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert act(company.alice, item, "plan", planned_date=tomorrow, method="upgrade bash to 4.3-p25").status_code == 302
    assert state(item) == "planned"
    # the administrator cannot approve his own plan; the CSIRT can
    response = act(company.alice, item, "approve")
    assert response.status_code == 403 and "the CSIRT or the CISO approves" in page(response)
    assert act(company.csirt, item, "approve", reason="ok").status_code == 302
    assert state(item) == "approved"
    today = timezone.localdate().isoformat()
    assert act(company.alice, item, "complete", evidence="bash 4.3-p25 installed", on=today).status_code == 302
    done = WorkItem.objects.get(pk=item.pk)
    assert done.state == "done" and done.completed_on == timezone.localdate() and done.answered_at is not None
    body = page(client_for(company.alice).get(reverse("web:workitem-detail", args=[item.pk])))
    assert "bash 4.3-p25 installed" in body and "upgrade bash to 4.3-p25" in body
    assert body.count("alice") >= 3  # the history names who did what
    assert AuditEntry.objects.filter(object_type="workflow.workitem", object_id=str(item.pk), via="web").count() == 4


def test_wrong_roles_get_a_message_saying_why(company, items):
    for user, expected in (
        (company.auditor, "auditors read work items"),
        (company.sam, "the system's administrators or the CSIRT answer"),
        (company.ciso, "the system's administrators or the CSIRT answer"),
    ):
        response = act(user, items.shellshock, "decide", needed="yes")
        assert response.status_code == 403 and expected in page(response)
    assert state(items.shellshock) == "new"


def test_a_send_back_needs_a_reason_and_returns_the_plan(company, items):
    item = items.shellshock
    act(company.alice, item, "decide", needed="yes")
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    act(company.alice, item, "plan", planned_date=tomorrow, method="upgrade")
    response = act(company.csirt, item, "reject")
    assert response.status_code == 400 and state(item) == "planned"
    assert act(company.csirt, item, "reject", reason="a date within the 完了期限, please").status_code == 302
    assert WorkItem.objects.get(pk=item.pk).last_note == "a date within the 完了期限, please"
    assert state(item) == "needed"


def test_a_bad_value_is_a_message_not_a_500(company, items):
    item = items.shellshock
    act(company.alice, item, "decide", needed="yes")
    response = act(company.alice, item, "plan", planned_date="2020-01-01", method="upgrade")
    assert response.status_code == 400 and "is in the past" in page(response)
    response = act(company.alice, item, "plan", planned_date="not a date", method="upgrade")
    assert response.status_code == 400 and "correct the fields" in page(response)
    response = client_for(company.alice).post(reverse("web:workitem-act", args=[item.pk]), {"action": "close"})
    assert response.status_code == 400 and "Unknown action" in page(response)
    assert state(item) == "needed"


def test_a_stale_version_is_a_conflict_saying_who_changed_it(company, items):
    item = items.shellshock
    assert act(company.alice, item, "decide", version=1, needed="yes").status_code == 302
    response = act(company.csirt, item, "decide", version=1, needed="no", reason="not exposed")
    body = page(response)
    assert response.status_code == 409 and "was changed by alice" in body and "reload the item" in body
    assert WorkItem.objects.get(pk=item.pk).needed is True
    assert 'name="plan-version" value="2"' in body  # the page offers the forms at the current version


def test_diagnosis_application_approved_or_sent_back(company, items):
    item = make_item(company.shop, "CVE-2099-2000", "A", kind="diagnosis")
    assert act(company.alice, item, "decide", needed="no", reason="behind the WAF").status_code == 302
    assert state(item) == "applied"
    assert act(company.ciso, item, "reject", reason="the WAF rule does not cover it").status_code == 302
    assert state(item) == "new"
    act(company.alice, item, "decide", needed="no", reason="module disabled")
    assert act(company.csirt, item, "approve").status_code == 302
    assert state(item) == "not_needed"


def test_an_exception_is_requested_by_the_administrator_and_decided_by_the_ciso(company, items):
    item = items.shellshock
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert (
        act(company.alice, item, "request_exception", reason="vendor patch next month", until=until).status_code == 302
    )
    assert state(item) == "exception_requested"
    body = page(client_for(company.ciso).get(reverse("web:workitem-detail", args=[item.pk])))
    assert 'id="action-approve_exception"' in body and 'id="action-reject_exception"' in body
    response = act(company.csirt, item, "approve_exception")
    assert response.status_code == 403 and "only the CISO approves" in page(response)
    assert act(company.ciso, item, "approve_exception", reason="accepted until the patch").status_code == 302
    assert state(item) == "accepted"


def test_a_refused_exception_returns_to_where_it_was(company, items):
    item = items.shellshock
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    act(company.alice, item, "request_exception", reason="vendor patch next month", until=until)
    assert act(company.ciso, item, "reject_exception").status_code == 400
    assert act(company.ciso, item, "reject_exception", reason="stop the service instead").status_code == 302
    assert state(item) == "new"


def test_s_plus_service_stop_and_resumption(company, items):
    item = items.shellshock
    assert act(company.alice, item, "record_stop", at="2026-11-20T09:00").status_code == 302
    stopped = WorkItem.objects.get(pk=item.pk).service_stopped_at
    assert stopped == dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)  # 09:00 in Tokyo
    response = act(company.alice, item, "record_resume", at="2026-11-19T09:00")
    assert response.status_code == 400 and "before it stopped" in page(response)
    assert act(company.sam, item, "record_resume", at="2026-11-21T09:00").status_code == 302
    assert WorkItem.objects.get(pk=item.pk).service_resumed_at is not None
    # S+ items have no "grounds for not stopping"
    response = act(company.sam, item, "record_no_stop_grounds", reason="x")
    assert response.status_code == 400 and "S- only" in page(response)


def test_a_stop_time_is_read_in_the_users_zone(company, items):
    from ismp.apps.notifications.models import Preference

    Preference.objects.create(user=company.alice, language="en", time_zone="Europe/Paris")
    assert act(company.alice, items.shellshock, "record_stop", at="2026-11-20T09:00").status_code == 302
    stopped = WorkItem.objects.get(pk=items.shellshock.pk).service_stopped_at
    assert stopped == dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris (CET)


def test_s_minus_grounds_for_not_stopping_are_the_service_owners(company, items):
    item = items.sminus
    body = page(client_for(company.sam).get(reverse("web:workitem-detail", args=[item.pk])))
    assert 'id="action-record_no_stop_grounds"' in body and 'id="action-decide"' not in body
    response = act(company.alice, item, "record_no_stop_grounds", reason="WAF blocks the vector")
    assert response.status_code == 403 and "the system's service owner does" in page(response)
    grounds = "the CGI is not exposed; WAF rule 942100 blocks the vector"
    assert act(company.sam, item, "record_no_stop_grounds", reason=grounds).status_code == 302
    assert WorkItem.objects.get(pk=item.pk).no_stop_grounds == grounds


# -------------------------------------------------------------------------------------- urgency override


def test_the_csirt_overrides_an_urgency_with_a_reason(company, items):
    url = reverse("web:workitem-urgency", args=[items.postfix.pk])
    data = {"version": items.postfix.version, "urgency": "S-", "reason": "exposed to the internet"}
    assert client_for(company.bob).post(url, data).status_code == 403
    assert client_for(company.csirt).post(url, data | {"reason": ""}).status_code == 400
    assert client_for(company.csirt).post(url, data).status_code == 302
    item = WorkItem.objects.get(pk=items.postfix.pk)
    assert (item.urgency, item.urgency_override, item.urgency_override_reason) == (
        "S-",
        "S-",
        "exposed to the internet",
    )
    response = client_for(company.csirt).post(url, data)  # the same version again
    assert response.status_code == 409 and "was changed by csirt" in page(response)


# -------------------------------------------------------------------------------------------- settings


def test_only_the_csirt_opens_the_settings(company, items):
    for user in (company.ciso, company.auditor, company.alice, company.sam):
        assert client_for(user).get(reverse("web:workitem-settings")).status_code == 403
    body = page(client_for(company.csirt).get(reverse("web:workitem-settings")))
    assert "design-default-1" in body and 'name="cell_remote_tool_5"' in body and 'name="answer_splus"' in body


def test_the_csirt_edits_the_matrix(company, items):
    client = client_for(company.csirt)
    from ismp.engines.urgency import DEFAULT_MATRIX

    data = {"form": "matrix", "note": "A for every level-3 remote tool"}
    for possibility, cells in DEFAULT_MATRIX.to_mapping().items():
        data |= {f"cell_{possibility}_{level}": value for level, value in cells.items()}
    data["cell_remote_tool_3"] = "A"
    assert client.post(reverse("web:workitem-settings"), data | {"note": ""}).status_code == 400
    assert client.post(reverse("web:workitem-settings"), data).status_code == 302
    row = UrgencyMatrix.objects.get()
    assert row.cells["remote_tool"]["3"] == "A" and row.note == "A for every level-3 remote tool"


def test_the_csirt_edits_the_response_policy(company, items):
    client = client_for(company.csirt)
    data = {"form": "policy", "business_days": "on"}
    for slug, answer, deadline in (("splus", 1, 1), ("sminus", 1, 3), ("a", 5, 10), ("b", 20, 60)):
        data |= {f"answer_{slug}": answer, f"deadline_{slug}": deadline}
    assert client.post(reverse("web:workitem-settings"), data | {"answer_a": "0"}).status_code == 400
    assert client.post(reverse("web:workitem-settings"), data).status_code == 302
    policy = ResponsePolicy.objects.get()
    assert policy.business_days and policy.answer_days["A"] == 5 and policy.deadline_days["B"] == 60


# ------------------------------------------------------------------------------------------ system page


def test_the_system_page_loads_its_work_items(company, items):
    body = page(client_for(company.alice).get(reverse("web:system-detail", args=[company.shop.pk])))
    assert f'hx-get="/systems/{company.shop.pk}/workitems/"' in body
    body = page(client_for(company.alice).get(reverse("web:system-workitems", args=[company.shop.pk])))
    assert "CVE-2014-6271" in body and "CVE-2099-1000" in body
    assert client_for(company.alice).get(reverse("web:system-workitems", args=[company.mail.pk])).status_code == 404
    body = page(client_for(company.bob).get(reverse("web:system-workitems", args=[company.mail.pk])))
    assert "期限超過 (overdue)</span>" in body and "CVE-2016-0001" in body


def test_the_nav_links_to_the_work_items(company, items):
    body = page(client_for(company.sam).get(reverse("web:dashboard")))
    assert 'href="/workitems/"' in body and "対応状況" in body


def test_exports_are_scoped_and_formula_safe(company, items):
    WorkItem.objects.filter(pk=items.shellshock.pk).update(decision_reason='=HYPERLINK("http://evil.invalid")')
    body = b"".join(client_for(company.alice).get(reverse("web:workitem-export"), {"format": "csv"}).streaming_content)
    text = body.decode("utf-8-sig")
    assert "CVE-2014-6271" in text and "CVE-2016-0001" not in text
    assert "'=HYPERLINK" in text
    response = client_for(company.csirt).get(reverse("web:workitem-export"), {"format": "xlsx"})
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"


def test_actor_of_services_is_recorded_for_history(company, items):
    """Actions taken elsewhere (API, CLI) show on the page's history with their actor."""
    services.transition(Actor(company.csirt, "api"), items.shellshock, Step(Action.DECIDE, needed=True), version=1)
    body = page(client_for(company.alice).get(reverse("web:workitem-detail", args=[items.shellshock.pk])))
    assert "csirt" in body and "new → needed" in body
