"""Role × object × action through the web UI, the same matrix as the API's."""

from __future__ import annotations

import pytest
from django.test import Client

from ismp.apps.inventory.models import System

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")
VIEW_MAIL = {"csirt": 200, "ciso": 200, "auditor": 200, "alice": 404, "bob": 200, "sam": 404}
EDIT_SHOP = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 200, "bob": 404, "sam": 403}
DELETE_MAIL = {"csirt": 302, "ciso": 403, "auditor": 403, "alice": 404, "bob": 302, "sam": 404}
NEW_SYSTEM = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 200, "bob": 200, "sam": 403}
AUDIT = {"csirt": 200, "ciso": 200, "auditor": 200, "alice": 403, "bob": 403, "sam": 403}
LISTED = {
    "csirt": {"EC shop", "Mail gateway"},
    "ciso": {"EC shop", "Mail gateway"},
    "auditor": {"EC shop", "Mail gateway"},
    "alice": {"EC shop"},
    "bob": {"Mail gateway"},
    "sam": {"EC shop"},
}


def browser(company, role: str) -> Client:
    client = Client()
    client.force_login(company.users()[role])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_ui_matrix(company, role):
    client = browser(company, role)
    listed = client.get("/systems/").content.decode()
    assert {n for n in ("EC shop", "Mail gateway") if n in listed} == LISTED[role]
    assert client.get(f"/systems/{company.mail.pk}/").status_code == VIEW_MAIL[role]
    assert client.get(f"/systems/{company.shop.pk}/edit/").status_code == EDIT_SHOP[role]
    assert client.get("/systems/new/").status_code == NEW_SYSTEM[role]
    assert client.get("/audit/").status_code == AUDIT[role]
    assert client.post(f"/systems/{company.mail.pk}/delete/").status_code == DELETE_MAIL[role]
    assert System.objects.filter(pk=company.mail.pk).exists() == (DELETE_MAIL[role] != 302)
