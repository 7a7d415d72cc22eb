"""A small company for integration tests: organisations, one user per role, and systems they own.

HQ ─ SEC (csirt, ciso, auditor)
   └ BIZ ─ WEB (alice: sysadmin of shop; sam: service owner of shop)
           OPS (bob: sysadmin of mail)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ismp.apps.accounts.models import Organisation, User
from ismp.apps.inventory.models import Component, System

PASSWORD = "correct-horse-battery-9"


@dataclass
class Company:
    hq: Organisation
    web: Organisation
    ops: Organisation
    csirt: User
    ciso: User
    auditor: User
    alice: User
    bob: User
    sam: User
    shop: System
    mail: System

    def users(self) -> dict[str, User]:
        return {u.username: u for u in (self.csirt, self.ciso, self.auditor, self.alice, self.bob, self.sam)}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """Argon2 is what production uses (tests/integration/test_security_settings.py checks the setting); here a fast hasher keeps tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str, role: str, org: Organisation) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, organisation=org)


@pytest.fixture
def company(db: None) -> Company:
    hq = Organisation.objects.create(code="HQ", name="本社", name_en="Head office", kind="company")
    sec = Organisation.objects.create(code="SEC", name="情報セキュリティ部", kind="department", parent=hq)
    biz = Organisation.objects.create(code="BIZ", name="事業本部", kind="division", parent=hq)
    web = Organisation.objects.create(code="WEB", name="Web事業部", kind="department", parent=biz)
    ops = Organisation.objects.create(code="OPS", name="運用部", kind="department", parent=biz)
    csirt, ciso, auditor = _user("csirt", "csirt", sec), _user("ciso", "ciso", sec), _user("auditor", "auditor", sec)
    alice, bob, sam = _user("alice", "sysadmin", web), _user("bob", "sysadmin", ops), _user("sam", "service_owner", web)
    shop = System.objects.create(
        name="EC shop",
        organisation=web,
        system_type="public_web",
        lifecycle="in_service",
        service_owner=sam,
        has_global_ip=True,
        addresses=["203.0.113.10"],
        fqdns=["shop.example.jp"],
        urls=["https://shop.example.jp/"],
    )
    shop.administrators.set([alice])
    mail = System.objects.create(
        name="Mail gateway",
        organisation=ops,
        system_type="public_other",
        lifecycle="in_service",
        addresses=["203.0.113.25"],
    )
    mail.administrators.set([bob])
    Component.objects.create(
        system=shop,
        key="cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*",
        cpe="cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*",
        part="a",
        vendor="apache",
        product="struts",
        version="2.3.5",
    )
    Component.objects.create(
        system=mail,
        key="cpe:2.3:a:postfix:postfix:3.1.0:*:*:*:*:*:*:*",
        cpe="cpe:2.3:a:postfix:postfix:3.1.0:*:*:*:*:*:*:*",
        part="a",
        vendor="postfix",
        product="postfix",
        version="3.1.0",
    )
    return Company(hq, web, ops, csirt, ciso, auditor, alice, bob, sam, shop, mail)
