"""The server-rendered web interface: login and lockout, scoping (404 outside the scope, 403 for changes
not allowed), forms that show errors per field, import and export, the audit trail, tokens, language."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ismp.apps.accounts.models import ApiToken, User
from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services
from ismp.apps.inventory.models import Component, System

Company = Any  # tests/integration/conftest.py's company fixture
PASSWORD = "a-long-test-password-42"
BAD_CSV = b"""system,organisation,system_type,cpe,product
billing,WEB,internal,cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*,
billing,WEB,internal,cpe:2.3:a:apache:http_server,
reception,OPS,internal,cpe:2.3:x:nginx:nginx:1.25.1:*:*:*:*:*:*:*,
"""
SBOM = json.dumps(
    {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": "django", "version": "4.2.1", "purl": "pkg:pypi/django@4.2.1"}],
    }
).encode()


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def csirt(company: Company) -> Client:
    return client_for(company.csirt)


@pytest.fixture
def japanese(settings) -> None:
    """The demo's default language, whatever ISMP_LANGUAGE the test run has."""
    settings.LANGUAGE_CODE = "ja"


# ------------------------------------------------------------------------------------- login, logout


def test_healthz_needs_no_login(db):
    response = Client().get("/healthz/")
    assert response.status_code == 200 and response.content == b"ok"


def test_login_page_renders(db):
    response = Client().get(reverse("web:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_pages_redirect_to_login_when_logged_out(db):
    response = Client().get(reverse("web:system-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


@pytest.fixture
def login_user(company: Company) -> User:
    return User.objects.create_user(username="misaki", password=PASSWORD, role="csirt", organisation=company.hq)


def test_login_and_logout(login_user):
    client = Client()
    response = client.post(reverse("web:login"), {"username": "misaki", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("web:dashboard")
    assert client.get(reverse("web:dashboard")).status_code == 200
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_wrong_password_repeatedly_locks_the_login(login_user):
    client = Client()
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = client.post(reverse("web:login"), {"username": "misaki", "password": "wrong-password"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
    response = client.post(reverse("web:login"), {"username": "misaki", "password": "wrong-password"})
    assert response.status_code == 429
    assert "web/locked_out.html" in [t.name for t in response.templates]
    # even the right password is refused while the lock lasts
    response = client.post(reverse("web:login"), {"username": "misaki", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get(reverse("web:dashboard")).status_code == 302


# ------------------------------------------------------------------------------------- every page


def _pages(company: Company) -> list[str]:
    component = company.shop.components.first()
    assert component is not None
    shop = company.shop.pk
    return [
        reverse("web:dashboard"),
        reverse("web:system-list"),
        reverse("web:system-list") + "?q=shop&system_type=public_web&order=-components",
        reverse("web:system-create"),
        reverse("web:system-detail", args=[shop]),
        reverse("web:system-edit", args=[shop]),
        reverse("web:system-delete", args=[shop]),
        reverse("web:component-create", args=[shop]),
        reverse("web:component-edit", args=[shop, component.pk]),
        reverse("web:component-delete", args=[shop, component.pk]),
        reverse("web:inventory-import"),
        reverse("web:organisations"),
        reverse("web:audit-list"),
        reverse("web:audit-list") + "?object_type=inventory.system&action=update",
        reverse("web:tokens"),
    ]


def test_every_page_renders_for_csirt(company, csirt):
    for url in _pages(company):
        response = csirt.get(url)
        assert response.status_code == 200, url


def test_csirt_sees_the_whole_navigation(company, csirt):
    body = csirt.get(reverse("web:dashboard")).content.decode()
    for url in ("web:system-list", "web:inventory-import", "web:organisations", "web:audit-list", "web:tokens"):
        assert f'href="{reverse(url)}"' in body
    assert 'href="/api/docs/"' in body and 'action="/i18n/setlang/"' in body


def test_organisation_tree_lists_children_under_parents(company, csirt):
    rows = csirt.get(reverse("web:organisations")).context["rows"]
    assert [(org.code, depth) for org, depth, _systems in rows] == [
        ("HQ", 0),
        ("BIZ", 1),
        ("OPS", 2),
        ("WEB", 2),
        ("SEC", 1),
    ]


# ------------------------------------------------------------------------------------------- scope


@pytest.fixture
def hidden(company: Company) -> System:
    """A system alice neither administers nor owns."""
    return System.objects.create(name="HR payroll", organisation=company.hq, system_type="internal")


def test_sysadmin_sees_only_his_systems(company, hidden):
    response = client_for(company.alice).get(reverse("web:system-list"))
    assert [s.name for s in response.context["page"].object_list] == ["EC shop"]
    assert b"Mail gateway" not in response.content and b"HR payroll" not in response.content


def test_system_outside_the_scope_is_404(company, hidden):
    alice = client_for(company.alice)
    for name in ("web:system-detail", "web:system-edit", "web:system-delete", "web:component-create"):
        assert alice.get(reverse(name, args=[hidden.pk])).status_code == 404, name
    assert alice.post(reverse("web:system-delete", args=[hidden.pk])).status_code == 404
    assert System.objects.filter(pk=hidden.pk).exists()


def test_change_of_a_visible_system_not_administered_is_403(company):
    company.mail.service_owner = company.alice  # alice now sees the mail gateway, but bob administers it
    company.mail.save()
    alice = client_for(company.alice)
    mail = company.mail.pk
    detail = alice.get(reverse("web:system-detail", args=[mail]))
    assert detail.status_code == 200 and not detail.context["can_change"]
    assert reverse("web:system-edit", args=[mail]).encode() not in detail.content
    assert alice.get(reverse("web:system-edit", args=[mail])).status_code == 403
    assert alice.post(reverse("web:system-edit", args=[mail]), {"name": "x"}).status_code == 403
    assert alice.post(reverse("web:system-delete", args=[mail])).status_code == 403
    assert alice.post(reverse("web:component-create", args=[mail]), {"product": "x"}).status_code == 403
    assert System.objects.filter(pk=mail, name="Mail gateway").exists()


def test_read_only_roles_get_no_write_buttons_and_403(company):
    auditor = client_for(company.auditor)
    listing = auditor.get(reverse("web:system-list"))
    assert not listing.context["can_create"]
    assert reverse("web:system-create").encode() not in listing.content
    detail = auditor.get(reverse("web:system-detail", args=[company.shop.pk]))
    assert reverse("web:system-edit", args=[company.shop.pk]).encode() not in detail.content
    assert auditor.get(reverse("web:system-create")).status_code == 403
    assert auditor.post(reverse("web:inventory-import"), {}).status_code == 403
    assert b'type="file"' not in auditor.get(reverse("web:inventory-import")).content


def test_audit_trail_is_only_for_roles_that_read_it(company):
    alice = client_for(company.alice)
    assert alice.get(reverse("web:audit-list")).status_code == 403
    assert alice.get(reverse("web:audit-export")).status_code == 403
    assert reverse("web:audit-list").encode() not in alice.get(reverse("web:dashboard")).content
    assert client_for(company.auditor).get(reverse("web:audit-list")).status_code == 200


# ----------------------------------------------------------------------------------------- systems


def _system_post(company: Company, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Reservation",
        "purpose": "予約受付",
        "organisation": company.web.pk,
        "service_owner": company.sam.pk,
        "administrators": [company.alice.pk],
        "lifecycle": "development",
        "system_type": "public_web",
        "criticality": "high",
        "has_global_ip": "on",
        "addresses": "203.0.113.80\n\n10.20.0.0/16 ",
        "fqdns": "reserve.example.jp",
        "urls": "https://reserve.example.jp/",
        "hardware": "",
        "location": "東京DC",
        "notes": "",
    }
    data.update(changes)
    return data


def test_csirt_registers_a_system_and_it_is_audited(company, csirt):
    response = csirt.post(reverse("web:system-create"), _system_post(company))
    system = System.objects.get(name="Reservation")
    assert response.status_code == 302 and response["Location"] == reverse("web:system-detail", args=[system.pk])
    assert system.addresses == ["203.0.113.80", "10.20.0.0/16"] and system.has_global_ip
    assert list(system.administrators.all()) == [company.alice]
    entry = AuditEntry.objects.get(object_type="inventory.system", object_id=str(system.pk))
    assert (entry.action, entry.actor_name, entry.via) == ("create", "csirt", "web")


def test_invalid_list_values_show_on_their_fields(company, csirt):
    response = csirt.post(
        reverse("web:system-create"),
        _system_post(company, addresses="10.9.8.700", fqdns="not a domain", urls="ftp://x.example.jp/"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"addresses", "fqdns", "urls"}
    assert "10.9.8.700" in errors["addresses"][0]
    assert not System.objects.filter(name="Reservation").exists()


def test_duplicate_name_is_a_field_error(company, csirt):
    response = csirt.post(reverse("web:system-create"), _system_post(company, name="EC shop"))
    assert response.status_code == 200 and "name" in response.context["form"].errors


def test_sysadmin_edits_his_system_and_the_audit_keeps_the_old_values(company):
    alice = client_for(company.alice)
    data = _system_post(company, name="EC shop", lifecycle="retired", administrators=[company.alice.pk])
    response = alice.post(reverse("web:system-edit", args=[company.shop.pk]), data)
    assert response.status_code == 302
    company.shop.refresh_from_db()
    assert company.shop.lifecycle == "retired"
    entry = AuditEntry.objects.get(object_type="inventory.system", action="update")
    assert entry.before["lifecycle"] == "in_service" and entry.after["lifecycle"] == "retired"


def test_delete_asks_then_deletes(company, csirt):
    url = reverse("web:system-delete", args=[company.shop.pk])
    assert b'<form method="post"' in csirt.get(url).content
    assert System.objects.filter(pk=company.shop.pk).exists()
    assert csirt.post(url)["Location"] == reverse("web:system-list")
    assert not System.objects.filter(pk=company.shop.pk).exists()
    assert AuditEntry.objects.filter(object_type="inventory.system", action="delete").count() == 1


# -------------------------------------------------------------------------------------- components


def test_component_with_invalid_cpe_shows_the_field_error(company):
    alice = client_for(company.alice)
    url = reverse("web:component-create", args=[company.shop.pk])
    before = Component.objects.count()
    response = alice.post(url, {"cpe": "cpe:2.3:a:apache:http_server", "part": "a"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["cpe"]
    assert 'class="error"' in response.content.decode()
    assert Component.objects.count() == before


def test_component_without_any_name_is_an_error_not_a_crash(company):
    response = client_for(company.alice).post(reverse("web:component-create", args=[company.shop.pk]), {"part": "a"})
    assert response.status_code == 200 and response.context["form"].errors


def test_component_add_edit_delete(company):
    alice = client_for(company.alice)
    shop = company.shop.pk
    response = alice.post(
        reverse("web:component-create", args=[shop]), {"cpe": "cpe:2.3:a:nginx:nginx:1.25.1:*:*:*:*:*:*:*", "part": "a"}
    )
    assert response.status_code == 302
    component = Component.objects.get(system_id=shop, product="nginx")
    assert (component.vendor, component.version, component.source) == ("nginx", "1.25.1", "manual")
    response = alice.post(
        reverse("web:component-edit", args=[shop, component.pk]),
        {"cpe": "cpe:2.3:a:nginx:nginx:1.26.0:*:*:*:*:*:*:*", "part": "a"},
    )
    assert response.status_code == 302
    component.refresh_from_db()
    assert component.version == "1.26.0"
    update = AuditEntry.objects.get(object_type="inventory.component", action="update")
    assert update.before["version"] == "1.25.1" and update.after["version"] == "1.26.0"
    assert alice.post(reverse("web:component-delete", args=[shop, component.pk])).status_code == 302
    assert not Component.objects.filter(pk=component.pk).exists()


def test_component_of_another_system_is_404(company):
    other = company.mail.components.first()
    assert other is not None
    url = reverse("web:component-edit", args=[company.shop.pk, other.pk])
    assert client_for(company.csirt).get(url).status_code == 404


# ---------------------------------------------------------------------------------- import, export


def test_import_of_a_bad_csv_lists_the_errors_and_changes_nothing(company, csirt):
    before = (System.objects.count(), Component.objects.count(), AuditEntry.objects.count())
    upload = io.BytesIO(BAD_CSV)
    upload.name = "ledger.csv"
    response = csirt.post(reverse("web:inventory-import"), {"file": upload})
    assert response.status_code == 200
    failure = response.context["failure"]
    assert failure is not None and response.context["report"] is None
    located = {(e.location.line, e.location.field) for e in failure.errors}
    assert located == {(3, "cpe"), (4, "cpe")}
    body = response.content.decode()
    assert "ledger.csv" in body and "<code>cpe</code>" in body and "cpe:2.3:x:nginx" in body
    assert (System.objects.count(), Component.objects.count(), AuditEntry.objects.count()) == before


def test_import_of_a_good_csv_shows_the_report(company, csirt):
    upload = io.BytesIO(
        BAD_CSV.replace(b"cpe:2.3:a:apache:http_server,", b"cpe:2.3:a:apache:tomcat:9.0.1:*:*:*:*:*:*:*,").replace(
            b"cpe:2.3:x:", b"cpe:2.3:a:"
        )
    )
    upload.name = "ledger.csv"
    response = csirt.post(reverse("web:inventory-import"), {"file": upload})
    report = response.context["report"]
    assert response.context["failure"] is None and report is not None
    assert (report.systems_created, report.components_created) == (2, 3)
    assert System.objects.filter(name__in=["billing", "reception"]).count() == 2


def test_sbom_without_a_system_is_reported_on_the_system_field(company, csirt):
    sbom = io.BytesIO(SBOM)
    sbom.name = "app.cdx.json"
    response = csirt.post(reverse("web:inventory-import"), {"file": sbom})
    assert response.status_code == 200 and response.context["report"] is None
    assert [e.location.field for e in response.context["failure"].errors] == ["system"]


def test_sbom_import_into_a_system(company, csirt):
    sbom = io.BytesIO(SBOM)
    sbom.name = "app.cdx.json"
    response = csirt.post(reverse("web:inventory-import"), {"file": sbom, "system": "EC shop"})
    report = response.context["report"]
    assert report is not None and report.components_created == 1
    assert company.shop.components.filter(source="sbom", product="django").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_downloads_what_the_user_may_see(company, fmt):
    response = client_for(company.alice).get(reverse("web:inventory-export") + f"?format={fmt}")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment; filename=")
        and f'.{fmt}"' in response["Content-Disposition"]
    )
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        assert "EC shop" in text and "Mail gateway" not in text
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None and "EC shop" in [c.value for c in sheet["A"]]
    else:
        assert [s["system"] for s in json.loads(response.content)["systems"]] == ["EC shop"]


def test_unknown_export_format_is_404(company, csirt):
    assert csirt.get(reverse("web:inventory-export") + "?format=exe").status_code == 404


# ---------------------------------------------------------------------------------- list behaviour


def test_systems_list_filters_searches_orders_and_pages(company, csirt):
    url = reverse("web:system-list")
    assert [s.name for s in csirt.get(url + "?system_type=public_other").context["page"]] == ["Mail gateway"]
    assert [s.name for s in csirt.get(url + "?organisation=WEB").context["page"]] == ["EC shop"]
    assert [s.name for s in csirt.get(url + "?q=struts").context["page"]] == ["EC shop"]
    assert [s.name for s in csirt.get(url + "?order=-name").context["page"]] == ["Mail gateway", "EC shop"]
    assert csirt.get(url + "?lifecycle=bogus&order=bogus&page=99").status_code == 200


def test_htmx_request_gets_only_the_table(company, csirt):
    response = csirt.get(reverse("web:system-list") + "?q=mail", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "Mail gateway" in body and "EC shop" not in body
    assert 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]
    full = csirt.get(reverse("web:system-list") + "?q=mail").content.decode()
    assert "<html" in full and 'hx-get="/systems/"' in full and 'hx-push-url="true"' in full


def _make_systems(company: Company, count: int) -> None:
    systems = System.objects.bulk_create(
        System(name=f"bulk-{i:04d}", organisation=company.web, system_type="internal") for i in range(count)
    )
    Component.objects.bulk_create(
        Component(system=s, key=f"a:v:p{i}:1", part="a", vendor="v", product=f"p{i}", version="1")
        for i, s in enumerate(systems)
    )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("user", ["csirt", "alice"])
def test_systems_list_runs_a_constant_number_of_queries(company, django_assert_max_num_queries, user):
    client = client_for(getattr(company, user))
    url = reverse("web:system-list") + "?order=-components"
    few = _queries(client, url)
    _make_systems(company, 200)
    System.administrators.through.objects.bulk_create(
        System.administrators.through(system_id=s.pk, user_id=company.alice.pk)
        for s in System.objects.filter(name__startswith="bulk-")
    )
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 50


# ------------------------------------------------------------------------------------- audit trail


def test_audit_csv_neutralises_formulas(company, csirt):
    hostile = '=HYPERLINK("http://evil.example/","click")'
    services.save_system(Actor(company.csirt, "web"), {"name": hostile, "notes": "+1"}, system=company.shop)
    response = csirt.get(reverse("web:audit-export") + "?object_type=inventory.system&action=update")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == ["at", "actor_name", "via", "action", "object_type", "object_id", "object_repr", "before", "after"]
    assert row[header.index("object_repr")] == "'" + hostile
    assert json.loads(row[header.index("after")])["notes"] == "+1"  # JSON cells start with "{"; kept as they are


def test_audit_list_filters(company, csirt):
    services.save_system(Actor(company.csirt, "web"), {"lifecycle": "retired"}, system=company.shop)
    response = csirt.get(reverse("web:audit-list") + f"?object_type=inventory.system&object_id={company.shop.pk}")
    rows = response.context["rows"]
    assert [(e.action, e.object_repr) for e, _changes in rows] == [("update", "EC shop")]
    assert ("lifecycle", "in_service", "retired") in rows[0][1]


# ------------------------------------------------------------------------------------------- tokens


def test_token_secret_is_shown_once_and_can_be_revoked(company, csirt):
    response = csirt.post(reverse("web:tokens"), {"name": "ci upload", "scope": "write", "expires_on": ""})
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    token = ApiToken.objects.get(user=company.csirt, name="ci upload")
    assert token.scope == "write" and secret not in csirt.get(reverse("web:tokens")).content.decode()
    response = csirt.post(reverse("web:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_with_a_past_expiry_is_a_field_error(company, csirt):
    response = csirt.post(reverse("web:tokens"), {"name": "old", "scope": "read", "expires_on": "2000-01-01"})
    assert "expires_on" in response.context["form"].errors and not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(company, csirt):
    token = ApiToken.objects.create(user=company.alice, name="alice's", prefix="abc", key_hash="0" * 64)
    assert csirt.post(reverse("web:token-revoke", args=[token.pk])).status_code == 404


# ------------------------------------------------------------------------------------------ language


def test_japanese_is_the_default(company, csirt, japanese):
    # the company's language, whatever the browser asks for
    body = csirt.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "ダッシュボード" in body and "システム台帳" in body and "監査ログ" in body
    assert "情報セキュリティ部" in body  # the role under the user name


def test_language_switch_to_english(company, csirt, japanese):
    response = csirt.post("/i18n/setlang/", {"language": "en", "next": reverse("web:system-list")})
    assert response.status_code == 302 and response["Location"] == reverse("web:system-list")
    body = csirt.get(reverse("web:system-list")).content.decode()
    assert '<html lang="en">' in body and "System inventory" in body and "システム台帳" not in body
