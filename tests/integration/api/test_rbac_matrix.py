"""Role × object × action through the REST API: no role sees or changes what it must not."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.inventory.models import System

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")

VISIBLE = {
    "csirt": {"EC shop", "Mail gateway"},
    "ciso": {"EC shop", "Mail gateway"},
    "auditor": {"EC shop", "Mail gateway"},
    "alice": {"EC shop"},
    "bob": {"Mail gateway"},
    "sam": {"EC shop"},
}
# expected HTTP status per role for each action: a role that may not write at all gets 403 for any
# object; a writer gets 404 for an object outside their scope
RETRIEVE_MAIL = {"csirt": 200, "ciso": 200, "auditor": 200, "alice": 404, "bob": 200, "sam": 404}
CREATE = {"csirt": 201, "ciso": 403, "auditor": 403, "alice": 201, "bob": 201, "sam": 403}
PATCH_SHOP = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 200, "bob": 404, "sam": 403}
DELETE_MAIL = {"csirt": 204, "ciso": 403, "auditor": 403, "alice": 404, "bob": 204, "sam": 403}
ADD_COMPONENT_SHOP = {"csirt": 201, "ciso": 403, "auditor": 403, "alice": 201, "bob": 400, "sam": 403}
READ_AUDIT = {"csirt": 200, "ciso": 200, "auditor": 200, "alice": 403, "bob": 403, "sam": 403}


def client_for(company, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.users()[username])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_visible_systems(company, role):
    body = client_for(company, role).get("/api/systems/").json()
    assert {s["name"] for s in body["results"]} == VISIBLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_components_list_is_scoped(company, role):
    body = client_for(company, role).get("/api/components/").json()
    products = {c["product"] for c in body["results"]}
    expected = {
        "struts" if "EC shop" in VISIBLE[role] else None,
        "postfix" if "Mail gateway" in VISIBLE[role] else None,
    }
    assert products == expected - {None}


@pytest.mark.parametrize("role", ROLES)
def test_retrieve_other_system(company, role):
    assert client_for(company, role).get(f"/api/systems/{company.mail.pk}/").status_code == RETRIEVE_MAIL[role]


@pytest.mark.parametrize("role", ROLES)
def test_create_system(company, role):
    payload = {"name": f"new-{role}", "organisation": "WEB", "system_type": "internal", "lifecycle": "planned"}
    response = client_for(company, role).post("/api/systems/", payload, format="json")
    assert response.status_code == CREATE[role], response.content
    if response.status_code == 201 and company.users()[role].role == "sysadmin":
        # a system administrator who registers a system administers it
        assert response.json()["administrators"] == [role]


@pytest.mark.parametrize("role", ROLES)
def test_patch_shop(company, role):
    response = client_for(company, role).patch(f"/api/systems/{company.shop.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == PATCH_SHOP[role]
    company.shop.refresh_from_db()
    assert (company.shop.notes == "x") == (PATCH_SHOP[role] == 200)


@pytest.mark.parametrize("role", ROLES)
def test_delete_mail(company, role):
    response = client_for(company, role).delete(f"/api/systems/{company.mail.pk}/")
    assert response.status_code == DELETE_MAIL[role]
    assert System.objects.filter(pk=company.mail.pk).exists() == (DELETE_MAIL[role] != 204)


@pytest.mark.parametrize("role", ROLES)
def test_add_component_to_shop(company, role):
    payload = {"system": company.shop.pk, "cpe": "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*"}
    response = client_for(company, role).post("/api/components/", payload, format="json")
    assert response.status_code == ADD_COMPONENT_SHOP[role], response.content
    assert company.shop.components.filter(product="openssh").exists() == (ADD_COMPONENT_SHOP[role] == 201)


@pytest.mark.parametrize("role", ROLES)
def test_audit_trail_readers(company, role):
    assert client_for(company, role).get("/api/audit/").status_code == READ_AUDIT[role]


@pytest.mark.parametrize("role", ROLES)
def test_export_contains_only_visible_systems(company, role):
    response = client_for(company, role).get("/api/systems/export/?format=json")
    assert response.status_code == 200
    import json

    names = {s["system"] for s in json.loads(response.content)["systems"]}
    assert names == VISIBLE[role]


def test_unauthenticated_gets_nothing(company):
    assert APIClient().get("/api/systems/").status_code in (401, 403)
    assert APIClient().get("/api/audit/").status_code in (401, 403)


def test_nobody_can_change_the_audit_trail_through_the_api(company):
    client = client_for(company, "csirt")
    client.patch(f"/api/systems/{company.shop.pk}/", {"notes": "audited"}, format="json")
    entry = AuditEntry.objects.latest("id")
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/audit/{entry.pk}/", {}, format="json").status_code in (403, 405)
