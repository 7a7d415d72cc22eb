"""The security settings a reviewer would check first, as the application actually runs them."""

from __future__ import annotations

from django.test import Client

import ismp.settings.django as production


def test_passwords_are_hashed_with_argon2():
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_sessions_and_csrf_cookies_are_hardened():
    assert production.SESSION_COOKIE_HTTPONLY and production.CSRF_COOKIE_HTTPONLY
    assert production.SESSION_COOKIE_SAMESITE == "Lax"
    assert production.SESSION_COOKIE_AGE <= 24 * 3600
    assert "axes.middleware.AxesMiddleware" in production.MIDDLEWARE


def test_pages_carry_security_headers(db):
    response = Client().get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_login_form_needs_its_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_no_page_loads_anything_from_another_host(company):
    client = Client()
    client.force_login(company.csirt)
    for url in ("/", "/systems/", f"/systems/{company.shop.pk}/", "/inventory/import/", "/audit/", "/login/"):
        body = client.get(url).content.decode()
        for marker in ('src="http', "src='http", 'href="http://', "//cdn", "googleapis", "unpkg", "jsdelivr"):
            assert marker not in body, (url, marker)
