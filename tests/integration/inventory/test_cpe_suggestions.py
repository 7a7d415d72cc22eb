"""CPE suggestions for components without a CPE: the system page's card, applying one (audited, only by
those who may change the system), and the CLI."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services
from ismp.apps.inventory.models import Component
from ismp.apps.inventory.suggestions import accept_suggestion, system_suggestions
from ismp.apps.vulns.aliases import clear_caches
from ismp.apps.vulns.models import AffectedProductIndex, Vulnerability
from ismp.cli.main import main
from ismp.errors import Forbidden, InputError

STRUTS_CPE = "cpe:2.3:a:apache:struts:2.5.10:*:*:*:*:*:*:*"


@pytest.fixture
def nvd_products(db: None) -> None:
    """What NVD names in the imported data (as the feed service indexes it)."""
    pairs = [
        ("CVE-2017-5638", "apache", "struts"),
        ("CVE-2017-9805", "apache", "struts"),
        ("CVE-2017-9791", "apache", "struts2-showcase"),
        ("CVE-2017-7525", "fasterxml", "jackson-databind"),
        ("CVE-2016-2183", "openssl", "openssl"),
        ("CVE-2017-12617", "apache", "tomcat"),
    ]
    for vuln_id, vendor, product in pairs:
        vuln, _ = Vulnerability.objects.get_or_create(vuln_id=vuln_id)
        AffectedProductIndex.objects.create(vulnerability=vuln, source="nvd", vendor=vendor, product=product)
    AffectedProductIndex.objects.create(  # a CNA's names are not CPE names: never suggested
        vulnerability=Vulnerability.objects.get(vuln_id="CVE-2017-5638"),
        source="cve5",
        vendor="apache software foundation",
        product="apache struts",
    )
    clear_caches()


@pytest.fixture
def struts(company, nvd_products) -> Component:
    return services.save_component(
        Actor(company.alice, "web"), company.shop, {"purl": "pkg:maven/org.apache.struts/struts2-core@2.5.10"}
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_suggestions_for_a_system(company, struts):
    services.save_component(
        Actor(company.alice, "web"), company.shop, {"part": "a", "vendor": "OpenSSL Project", "product": "OpenSSL"}
    )
    found = {item.component.pk: item.suggestions for item in system_suggestions(company.shop)}
    assert found[struts.pk][0].cpe == STRUTS_CPE
    openssl = next(c for c in company.shop.components.all() if c.product == "OpenSSL")
    assert found[openssl.pk][0].cpe == "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"
    assert all(s.vendor != "apache software foundation" for items in found.values() for s in items)
    assert len(found) == 2  # the component registered with a CPE is not listed


def test_accepting_a_suggestion_is_an_audited_component_change(company, struts):
    saved = accept_suggestion(struts, STRUTS_CPE, Actor(company.alice, "web"))
    saved.refresh_from_db()
    assert saved.cpe == STRUTS_CPE and saved.purl == "pkg:maven/org.apache.struts/struts2-core@2.5.10"
    update = AuditEntry.objects.filter(object_type="inventory.component", action="update").get()
    assert (update.before["cpe"], update.after["cpe"]) == ("", STRUTS_CPE) and update.actor_name == "alice"
    with pytest.raises(InputError, match="already has the CPE"):
        accept_suggestion(saved, STRUTS_CPE, Actor(company.alice, "web"))


def test_only_those_who_may_change_the_system_accept(company, struts):
    with pytest.raises(Forbidden):
        accept_suggestion(struts, STRUTS_CPE, Actor(company.bob, "web"))
    with pytest.raises(InputError):
        accept_suggestion(struts, "cpe:2.3:a:apache", Actor(company.alice, "web"))
    assert Component.objects.get(pk=struts.pk).cpe == ""


def test_the_system_page_loads_the_card_and_applies_on_post(company, struts):
    alice = client_for(company.alice)
    page = alice.get(reverse("web:system-detail", args=[company.shop.pk]))
    assert reverse("web:system-cpe-suggestions", args=[company.shop.pk]) in page.content.decode()
    card = alice.get(reverse("web:system-cpe-suggestions", args=[company.shop.pk])).content.decode()
    apply_url = reverse("web:cpe-suggestion-apply", args=[company.shop.pk, struts.pk])
    assert STRUTS_CPE in card and f'action="{apply_url}"' in card
    assert alice.get(apply_url).status_code == 405  # never applied by a GET
    response = alice.post(apply_url, {"cpe": STRUTS_CPE})
    assert response.status_code == 302
    assert Component.objects.get(pk=struts.pk).cpe == STRUTS_CPE
    assert AuditEntry.objects.filter(object_type="inventory.component", action="update", via="web").exists()


def test_readers_see_the_card_without_apply_and_cannot_post(company, struts):
    auditor = client_for(company.auditor)
    card = auditor.get(reverse("web:system-cpe-suggestions", args=[company.shop.pk])).content.decode()
    apply_url = reverse("web:cpe-suggestion-apply", args=[company.shop.pk, struts.pk])
    assert STRUTS_CPE in card and apply_url not in card
    assert auditor.post(apply_url, {"cpe": STRUTS_CPE}).status_code == 403
    bob = client_for(company.bob)  # administers another system: this one is out of his scope
    assert bob.get(reverse("web:system-cpe-suggestions", args=[company.shop.pk])).status_code == 404
    assert bob.post(apply_url, {"cpe": STRUTS_CPE}).status_code == 404
    assert Component.objects.get(pk=struts.pk).cpe == ""


def test_cli_suggest_and_apply(company, struts, capsys):
    assert main(["inventory", "suggest-cpe", "--system", "EC shop", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["component"] for r in rows] == [struts.pk]
    assert rows[0]["suggestions"][0]["cpe"] == STRUTS_CPE
    assert main(["inventory", "suggest-cpe", "--as", "bob", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # bob sees only his mail gateway
    assert main(["inventory", "apply-cpe", str(struts.pk), STRUTS_CPE, "--as", "bob"]) != 0  # not his system
    capsys.readouterr()
    assert main(["inventory", "apply-cpe", str(struts.pk), STRUTS_CPE, "--as", "alice", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cpe"] == STRUTS_CPE
    assert Component.objects.get(pk=struts.pk).cpe == STRUTS_CPE
    assert AuditEntry.objects.filter(object_type="inventory.component", action="update", via="cli").exists()
