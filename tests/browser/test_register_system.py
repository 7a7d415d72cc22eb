"""A CSIRT member logs in and registers a system; a system administrator sees only his own systems."""

from __future__ import annotations

import re

import pytest

from ismp.apps.inventory.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def login(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_csirt_registers_a_system(page):
    login(page, "csirt")
    assert "/login/" not in page.url
    page.goto("/systems/new/")
    page.fill("input[name=name]", "ブラウザテスト用システム")
    page.fill("textarea[name=purpose]", "E2E テスト")
    page.select_option("select[name=organisation]", index=1)
    page.select_option("select[name=system_type]", "internal")
    page.select_option("select[name=lifecycle]", "development")
    page.fill("textarea[name=addresses]", "10.9.8.7\n10.9.0.0/16")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert re.search(r"/systems/\d+/$", page.url), page.url
    body = page.inner_text("body")
    assert "ブラウザテスト用システム" in body and "10.9.0.0/16" in body


def test_invalid_address_shows_the_field_error(page):
    login(page, "csirt")
    page.goto("/systems/new/")
    page.fill("input[name=name]", "bad address system")
    page.select_option("select[name=organisation]", index=1)
    page.select_option("select[name=system_type]", "internal")
    page.fill("textarea[name=addresses]", "10.9.8.700")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "10.9.8.700" in page.inner_text("body") and "/systems/new/" in page.url


def test_sysadmin_sees_only_his_systems(page):
    login(page, "csirt")
    page.goto("/systems/")
    everyone = page.locator("table tbody tr").count()
    page.context.clear_cookies()
    login(page, "admin-web")
    page.goto("/systems/")
    mine = page.locator("table tbody tr").count()
    assert 0 < mine < everyone
