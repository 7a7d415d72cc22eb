"""The controls API: scoped like findings (administrators their systems, the auditor reads all and changes
nothing), writes through the services with their role checks and audit entries."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.controls import services
from ismp.apps.controls.models import GateCheck, SystemControl

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")
VISIBLE = {
    "csirt": {"EC shop", "Mail gateway"},
    "ciso": {"EC shop", "Mail gateway"},
    "auditor": {"EC shop", "Mail gateway"},
    "alice": {"EC shop"},
    "bob": {"Mail gateway"},
    "sam": {"EC shop"},
}


def client_for(company, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.users()[username])
    return client


@pytest.fixture
def recorded(company):
    csirt = Actor(company.csirt, "test")
    for system in (company.shop, company.mail):
        services.set_control(csirt, system, "firewall", "implemented", evidence="FW policy")
        services.record_gate_check(csirt, system, "design_review", "passed", evidence="DR minutes")


@pytest.mark.parametrize("role", ROLES)
def test_reads_are_scoped(company, recorded, role):
    client = client_for(company, role)
    status = client.get("/api/controls/status/").json()["results"]
    assert {r["system_name"] for r in status} == VISIBLE[role]
    checks = client.get("/api/controls/gate-checks/").json()["results"]
    assert {r["system_name"] for r in checks} == VISIBLE[role]
    gaps = client.get("/api/controls/gaps/").json()
    assert {s["system"] for s in gaps["systems"]} == VISIBLE[role]
    assert gaps["total"]["implemented"] == len(VISIBLE[role])


SET_SHOP = {"csirt": 201, "ciso": 403, "auditor": 403, "alice": 201, "bob": 400, "sam": 403}


@pytest.mark.parametrize("role", ROLES)
def test_setting_a_control(company, role):
    payload = {"system": company.shop.pk, "control": "waf", "status": "implemented", "evidence": "WAF on"}
    response = client_for(company, role).post("/api/controls/status/", payload, format="json")
    assert response.status_code == SET_SHOP[role], response.content
    written = SystemControl.objects.filter(system=company.shop, control="waf").exists()
    assert written is (SET_SHOP[role] == 201)
    assert AuditEntry.objects.filter(object_type="controls.systemcontrol", via="api").exists() is written


def test_setting_twice_replaces(company):
    client = client_for(company, "alice")
    for status in ("missing", "partial"):
        payload = {"system": company.shop.pk, "control": "waf", "status": status}
        assert client.post("/api/controls/status/", payload, format="json").status_code == 201
    assert SystemControl.objects.get(control="waf").status == "partial"


GATE_SHOP = {"csirt": 201, "ciso": 403, "auditor": 403, "alice": 403, "bob": 403, "sam": 201}


@pytest.mark.parametrize("role", ROLES)
def test_recording_a_gate_check(company, role):
    payload = {"system": company.shop.pk, "kind": "prelaunch", "result": "passed", "evidence": "report D-12"}
    response = client_for(company, role).post("/api/controls/gate-checks/", payload, format="json")
    assert response.status_code == GATE_SHOP[role], response.content
    assert GateCheck.objects.exists() is (GATE_SHOP[role] == 201)


def test_exception_request_and_ciso_decision(company, portal):
    expires = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    payload = {"system": portal.pk, "reason": "launch campaign", "expires_on": expires}
    assert client_for(company, "bob").post("/api/controls/gate-exceptions/", payload, format="json").status_code == 400
    created = client_for(company, "alice").post("/api/controls/gate-exceptions/", payload, format="json")
    assert created.status_code == 201 and created.json()["state"] == "pending"
    url = f"/api/controls/gate-exceptions/{created.json()['id']}/approve/"
    assert client_for(company, "csirt").post(url, {}, format="json").status_code == 403
    assert client_for(company, "auditor").post(url, {}, format="json").status_code == 403
    approved = client_for(company, "ciso").post(url, {"note": "two weeks"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    patched = client_for(company, "alice").patch(f"/api/systems/{portal.pk}/", {"lifecycle": "in_service"})
    assert patched.status_code == 200 and patched.json()["lifecycle"] == "in_service"


def test_baseline_read_by_all_edited_by_the_csirt(company):
    body = client_for(company, "auditor").get("/api/controls/baseline/").json()
    assert body["version"] == 1 and "waf" in body["requirements"]["public_web"]
    rows = body["requirements"] | {"internal": ["risk_assessment"]}
    assert (
        client_for(company, "ciso").post("/api/controls/baseline/", {"requirements": rows}, format="json").status_code
        == 403
    )
    saved = client_for(company, "csirt").post("/api/controls/baseline/", {"requirements": rows}, format="json")
    assert saved.status_code == 201 and saved.json()["version"] == 2
    bad = client_for(company, "csirt").post(
        "/api/controls/baseline/", {"requirements": rows | {"intranet": []}}, format="json"
    )
    assert bad.status_code == 400 and "intranet" in bad.json()["detail"]


def test_gaps_filter_and_bad_paging(company):
    client = client_for(company, "csirt")
    body = client.get("/api/controls/gaps/?organisation=OPS").json()
    assert [s["system"] for s in body["systems"]] == ["Mail gateway"] and body["total"]["required"] == 8
    assert client.get("/api/controls/gaps/?limit=x").status_code == 400


def test_per_system_summary_with_the_launch_gate(company, portal):
    services.set_control(Actor(company.csirt, "test"), portal, "waf", "implemented", evidence="on")
    services.record_gate_check(Actor(company.csirt, "test"), portal, "design_review", "passed", evidence="DR")
    body = client_for(company, "alice").get(f"/api/controls/systems/{portal.pk}/").json()
    assert body["implemented"] == ["waf"] and len(body["gaps"]) == 9 and len(body["required"]) == 10
    assert body["gates"] == {"design_review": "passed", "prelaunch": None}
    assert body["launch_blockers"] == ["pre-launch diagnosis not recorded"]
    listed = client_for(company, "bob").get("/api/controls/systems/").json()["results"]
    assert [s["system"] for s in listed] == ["Mail gateway"]
    assert client_for(company, "bob").get(f"/api/controls/systems/{portal.pk}/").status_code == 404
