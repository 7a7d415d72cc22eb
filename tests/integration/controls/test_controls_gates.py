"""Pre-launch gates: a system enters service only with its design review and pre-launch diagnosis passed, or
an approved, unexpired exception — through the service, the web form, the API and the ledger import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.controls import services as controls
from ismp.apps.controls.models import GateException
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import System
from ismp.errors import Forbidden, InputError, InputErrors

NOTHING = "Portal cannot enter in service: design review not recorded, pre-launch diagnosis not recorded"


def launch(company, system, user=None):
    return inventory.save_system(Actor(user or company.alice, "test"), {"lifecycle": "in_service"}, system=system)


def check(company, system, kind, result, user=None):
    return controls.record_gate_check(
        Actor(user or company.csirt, "test"), system, kind, result, evidence=f"{kind} report R-1"
    )


def test_without_checks_the_system_stays_out_of_service(company, portal):
    with pytest.raises(InputError) as caught:
        launch(company, portal)
    assert caught.value.reason == NOTHING and caught.value.location.field == "lifecycle"
    portal.refresh_from_db()
    assert portal.lifecycle == "development"
    assert not AuditEntry.objects.filter(object_type="inventory.system", object_id=str(portal.pk)).exists()


def test_a_failed_or_missing_check_is_named(company, portal):
    check(company, portal, "design_review", "failed")
    with pytest.raises(InputError, match="design review not passed, pre-launch diagnosis not recorded"):
        launch(company, portal)
    check(company, portal, "design_review", "passed")
    check(company, portal, "prelaunch", "failed")
    with pytest.raises(InputError) as caught:
        launch(company, portal)
    assert caught.value.reason == "Portal cannot enter in service: pre-launch diagnosis not passed"


def test_both_passed_lets_it_in_and_the_latest_result_counts(company, portal):
    check(company, portal, "design_review", "passed")
    check(company, portal, "prelaunch", "failed")
    check(company, portal, "prelaunch", "passed")
    assert launch(company, portal).lifecycle == "in_service"


def test_a_later_failure_closes_the_gate_again(company, portal):
    check(company, portal, "design_review", "passed")
    check(company, portal, "prelaunch", "passed")
    check(company, portal, "prelaunch", "failed")
    with pytest.raises(InputError, match="pre-launch diagnosis not passed"):
        launch(company, portal)


def test_systems_already_in_service_are_left_alone(company):
    shop = inventory.save_system(Actor(company.alice, "test"), {"purpose": "online shop"}, system=company.shop)
    assert shop.lifecycle == "in_service" and shop.purpose == "online shop"


def test_back_into_service_after_retirement_is_a_launch(company):
    inventory.save_system(Actor(company.csirt, "test"), {"lifecycle": "retired"}, system=company.shop)
    with pytest.raises(InputError, match="EC shop cannot enter in service"):
        launch(company, company.shop, company.csirt)


def test_a_new_system_in_service_is_registered_by_the_csirt_only(company):
    data = {"name": "Old HR", "organisation": company.web, "system_type": "internal", "lifecycle": "in_service"}
    with pytest.raises(InputError, match="Old HR cannot enter in service: a new system is registered as planned"):
        inventory.save_system(Actor(company.alice, "test"), data)
    assert inventory.save_system(Actor(company.csirt, "test"), data).lifecycle == "in_service"


# ------------------------------------------------------------------------------------------ exceptions


def ask(company, system, days=30, user=None):
    return controls.request_exception(
        Actor(user or company.alice, "test"),
        system,
        reason="campaign starts Monday; diagnosis booked",
        expires_on=dt.date.today() + dt.timedelta(days=days),
    )


def test_an_approved_exception_lets_it_in(company, portal):
    exception = ask(company, portal)
    with pytest.raises(InputError):  # pending is not approved
        launch(company, portal)
    controls.decide_exception(Actor(company.ciso, "test"), exception, approve=True, note="until the diagnosis")
    assert launch(company, portal).lifecycle == "in_service"
    entry = AuditEntry.objects.get(object_type="controls.gateexception", action="update")
    assert entry.before["state"] == "pending" and entry.after["state"] == "approved"
    assert entry.actor_name == "ciso"


@pytest.mark.parametrize("role", ["csirt", "alice", "bob", "sam", "auditor"])
def test_only_the_ciso_decides(company, portal, role):
    exception = ask(company, portal)
    with pytest.raises(Forbidden):
        controls.decide_exception(Actor(company.users()[role], "test"), exception, approve=True)
    exception.refresh_from_db()
    assert exception.state == "pending"


@pytest.mark.parametrize(("role", "allowed"), [("csirt", True), ("alice", True), ("bob", False), ("sam", False)])
def test_who_requests_an_exception(company, portal, role, allowed):
    if allowed:
        assert ask(company, portal, user=company.users()[role]).state == "pending"
        entry = AuditEntry.objects.get(object_type="controls.gateexception")
        assert entry.action == "create" and entry.actor_name == role and entry.after["reason"]
    else:
        with pytest.raises(Forbidden):
            ask(company, portal, user=company.users()[role])


def test_a_refused_exception_keeps_the_gate_closed_and_needs_a_reason(company, portal):
    exception = ask(company, portal)
    with pytest.raises(InputError, match="why"):
        controls.decide_exception(Actor(company.ciso, "test"), exception, approve=False)
    controls.decide_exception(Actor(company.ciso, "test"), exception, approve=False, note="diagnose first")
    with pytest.raises(InputError):
        launch(company, portal)
    with pytest.raises(InputError, match="already refused"):
        controls.decide_exception(Actor(company.ciso, "test"), exception, approve=True)


def test_an_expired_exception_no_longer_counts(company, portal):
    exception = ask(company, portal, days=1)
    controls.decide_exception(Actor(company.ciso, "test"), exception, approve=True)
    GateException.objects.filter(pk=exception.pk).update(expires_on=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(InputError, match="Portal cannot enter in service"):
        launch(company, portal)


def test_an_expired_request_cannot_be_approved_or_made(company, portal):
    exception = ask(company, portal, days=1)
    GateException.objects.filter(pk=exception.pk).update(expires_on=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(InputError, match="expired"):
        controls.decide_exception(Actor(company.ciso, "test"), exception, approve=True)
    with pytest.raises(InputError, match="already have expired"):
        ask(company, portal, days=-1)


@pytest.mark.parametrize(("role", "allowed"), [("csirt", True), ("sam", True), ("alice", False), ("ciso", False)])
def test_who_records_a_gate_check(company, portal, role, allowed):
    if allowed:
        assert check(company, portal, "prelaunch", "passed", company.users()[role]).recorded_by.username == role
        entry = AuditEntry.objects.get(object_type="controls.gatecheck")
        assert entry.action == "create" and entry.after["result"] == "passed"
    else:
        with pytest.raises(Forbidden):
            check(company, portal, "prelaunch", "passed", company.users()[role])


# ----------------------------------------------------------------------------- every surface refuses


def test_the_web_form_shows_the_refusal(company, portal):
    client = Client()
    client.force_login(company.alice)
    data = {
        "name": "Portal",
        "organisation": company.web.pk,
        "service_owner": company.sam.pk,
        "administrators": [company.alice.pk],
        "lifecycle": "in_service",
        "system_type": "public_web",
        "criticality": "medium",
    }
    response = client.post(reverse("web:system-edit", args=[portal.pk]), data)
    assert response.status_code == 200
    assert NOTHING in response.content.decode()
    portal.refresh_from_db()
    assert portal.lifecycle == "development"


def test_the_api_refuses_with_a_problem(company, portal):
    client = APIClient()
    client.force_authenticate(company.alice)
    response = client.patch(f"/api/systems/{portal.pk}/", {"lifecycle": "in_service"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].endswith(NOTHING) and body["errors"][0]["field"] == "lifecycle"
    portal.refresh_from_db()
    assert portal.lifecycle == "development"


def test_the_ledger_import_names_the_line(company, portal):
    ledger = (
        "system,organisation,system_type,lifecycle\n"
        "Portal,WEB,public_web,in_service\n"
        "EC shop,WEB,public_web,in_service\n"
        "Brand new,WEB,internal,in_service\n"
    )
    with pytest.raises(InputErrors) as caught:
        import_inventory(Actor(company.alice, "import"), ledger.encode(), "ledger.csv")
    errors = caught.value.errors
    assert [(e.location.line, e.location.field) for e in errors] == [(2, "lifecycle"), (4, "lifecycle")]
    assert errors[0].reason == NOTHING
    assert System.objects.get(name="Portal").lifecycle == "development"
    check(company, portal, "design_review", "passed")
    check(company, portal, "prelaunch", "passed")
    report = import_inventory(Actor(company.csirt, "import"), ledger.encode(), "ledger.csv")
    assert report.systems_created == 1
    assert System.objects.get(name="Portal").lifecycle == "in_service"
