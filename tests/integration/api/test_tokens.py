"""API tokens: hashed at rest, scoped (read/write), revocable, expiring."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ismp.apps.accounts.models import ApiToken
from ismp.apps.accounts.services import issue_token, revoke_token
from ismp.apps.audit.services import Actor
from ismp.errors import Forbidden


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_token_is_stored_hashed_and_authenticates(company):
    token, secret = issue_token(Actor(company.alice, "test"), company.alice, name="ci")
    assert secret not in token.key_hash and len(token.key_hash) == 64
    assert not ApiToken.objects.filter(key_hash__contains=secret).exists()
    body = bearer(secret).get("/api/systems/").json()
    assert [s["name"] for s in body["results"]] == ["EC shop"]


def test_read_token_cannot_write_even_for_a_writer(company):
    _, secret = issue_token(Actor(company.csirt, "test"), company.csirt, name="ro", scope="read")
    response = bearer(secret).patch(f"/api/systems/{company.shop.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_write_token_writes(company):
    _, secret = issue_token(Actor(company.alice, "test"), company.alice, name="rw", scope="write")
    response = bearer(secret).patch(f"/api/systems/{company.shop.pk}/", {"notes": "via token"}, format="json")
    assert response.status_code == 200


def test_revoked_and_expired_tokens_are_refused(company):
    token, secret = issue_token(Actor(company.bob, "test"), company.bob, name="x")
    revoke_token(Actor(company.bob, "test"), token)
    assert bearer(secret).get("/api/systems/").status_code == 401
    token2, secret2 = issue_token(
        Actor(company.bob, "test"), company.bob, name="y", expires_at=timezone.now() + dt.timedelta(seconds=30)
    )
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert bearer(secret2).get("/api/systems/").status_code == 401
    assert bearer("ismp_deadbeef_nonsense").get("/api/systems/").status_code == 401


def test_tokens_of_a_deactivated_user_stop_working(company):
    _, secret = issue_token(Actor(company.bob, "test"), company.bob, name="x")
    company.bob.is_active = False
    company.bob.save()
    assert bearer(secret).get("/api/systems/").status_code == 401


def test_cannot_revoke_someone_elses_token(company):
    token, _ = issue_token(Actor(company.bob, "test"), company.bob, name="x")
    with pytest.raises(Forbidden):
        revoke_token(Actor(company.alice, "test"), token)


def test_token_api_creates_shows_secret_once_and_revokes(company):
    client = APIClient()
    client.force_authenticate(company.sam)
    created = client.post("/api/tokens/", {"name": "laptop", "scope": "read"}, format="json").json()
    assert created["token"].startswith("ismp_")
    listed = client.get("/api/tokens/").json()["results"]
    assert "token" not in listed[0]
    assert client.delete(f"/api/tokens/{created['id']}/").status_code == 204
    assert bearer(created["token"]).get("/api/systems/").status_code == 401


def test_openapi_schema_needs_a_login_and_describes_the_api(company):
    assert APIClient().get("/api/schema/").status_code in (401, 403)
    client = APIClient()
    client.force_authenticate(company.auditor)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/systems/", "/api/systems/import/", "/api/audit/", "/api/tokens/"} <= set(paths)
