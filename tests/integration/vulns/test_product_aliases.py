"""The CSIRT's product aliases: added and deleted through the page and the CLI, audited, CSIRT only, and
used at once by CPE suggestions and AliasTable.canonical."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services
from ismp.apps.inventory.suggestions import system_suggestions
from ismp.apps.vulns.aliases import add_alias, clear_caches, delete_alias, load_alias_table
from ismp.apps.vulns.models import AffectedProductIndex, ProductAlias, Vulnerability
from ismp.cli.main import main
from ismp.errors import Forbidden, InputError

CYBOZU = {"alias_vendor": "サイボウズ株式会社", "vendor": "cybozu", "note": "JVN's name for Cybozu"}


@pytest.fixture(autouse=True)
def fresh_caches(db: None) -> None:
    clear_caches()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audit(action: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="vulns.productalias", action=action).values_list("actor_name", flat=True)
    )


def test_add_and_delete_are_audited_and_change_the_table_at_once(company):
    table = load_alias_table()
    assert table.canonical("サイボウズ株式会社", "Garoon") == ("サイボウズ", "garoon")  # unknown: normalised
    alias = add_alias(Actor(company.csirt, "web"), CYBOZU)
    assert load_alias_table().canonical("サイボウズ株式会社", "Garoon") == ("cybozu", "garoon")
    assert load_alias_table().canonical("ｻｲﾎﾞｳｽﾞ", "Garoon") == ("cybozu", "garoon")  # half-width kana (NFKC)
    assert audit("create") == ["csirt"]
    delete_alias(Actor(company.csirt, "web"), alias)
    assert load_alias_table().canonical("サイボウズ株式会社", "Garoon") == ("サイボウズ", "garoon")
    assert audit("delete") == ["csirt"]


def test_a_csirt_alias_wins_over_the_builtin_one(company):
    assert load_alias_table().lookup("Juniper Networks", "") == ("juniper", "")
    add_alias(Actor(company.csirt, "cli"), {"alias_vendor": "Juniper Networks", "vendor": "juniper_networks"})
    assert load_alias_table().lookup("Juniper Networks", "Junos") == ("juniper_networks", "junos")


def test_only_the_csirt_maintains_aliases(company):
    for user in (company.ciso, company.auditor, company.alice):
        with pytest.raises(Forbidden):
            add_alias(Actor(user, "web"), CYBOZU)
    alias = add_alias(Actor(company.csirt, "web"), CYBOZU)
    with pytest.raises(Forbidden):
        delete_alias(Actor(company.alice, "web"), alias)
    assert ProductAlias.objects.count() == 1


def test_bad_and_duplicate_aliases_are_refused_with_a_reason(company):
    actor = Actor(company.csirt, "web")
    add_alias(actor, CYBOZU)
    with pytest.raises(InputError, match="exists already"):
        add_alias(actor, {"alias_vendor": "サイボウズ 株式会社", "vendor": "cybozu"})  # same after normalise
    with pytest.raises(InputError, match="no spaces or colons"):
        add_alias(actor, {"alias_vendor": "Example", "vendor": "cpe:2.3:a:example"})
    with pytest.raises(InputError, match="alias product"):
        add_alias(actor, {"alias_vendor": "Example", "vendor": "example", "product": "web"})


def test_the_page_lists_adds_and_deletes_for_the_csirt(company):
    csirt = client_for(company.csirt)
    url = reverse("web:alias-list")
    response = csirt.post(url, {**CYBOZU, "alias_product": "ガルーン", "product": "garoon"})
    assert response.status_code == 302
    page = csirt.get(url).content.decode()
    assert "サイボウズ株式会社" in page and "cybozu:garoon" in page
    alias = ProductAlias.objects.get()
    assert csirt.post(reverse("web:alias-delete", args=[alias.pk])).status_code == 302
    assert not ProductAlias.objects.exists() and audit("delete") == ["csirt"]


def test_other_roles_read_the_page_but_cannot_change_it(company):
    alias = add_alias(Actor(company.csirt, "web"), CYBOZU)
    alice = client_for(company.alice)
    page = alice.get(reverse("web:alias-list"))
    assert page.status_code == 200 and "サイボウズ株式会社" in page.content.decode()
    assert 'name="alias_vendor"' not in page.content.decode()  # no form
    assert 'name="alias_vendor"' in client_for(company.csirt).get(reverse("web:alias-list")).content.decode()
    assert alice.post(reverse("web:alias-list"), {"alias_vendor": "x", "vendor": "y"}).status_code == 403
    assert alice.post(reverse("web:alias-delete", args=[alias.pk])).status_code == 403
    assert Client().get(reverse("web:alias-list")).status_code == 302  # signed out: to the login page
    assert ProductAlias.objects.count() == 1


def test_cli_list_add_delete(company, capsys):
    assert main(["feeds", "aliases", "add", "サイボウズ株式会社", "cybozu", "--as", "csirt", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert main(["feeds", "aliases", "add", "X", "y", "--as", "alice"]) != 0  # not the CSIRT
    capsys.readouterr()
    assert main(["feeds", "aliases", "list", "--json"]) == 0
    assert [a["vendor"] for a in json.loads(capsys.readouterr().out)] == ["cybozu"]
    assert main(["feeds", "aliases", "list", "--builtin", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) > 500
    assert main(["feeds", "aliases", "delete", str(added["id"])]) == 0
    assert not ProductAlias.objects.exists()
    assert audit("create") == ["csirt"] and len(audit("delete")) == 1


def test_suggestions_use_a_new_alias(company):
    vuln = Vulnerability.objects.create(vuln_id="CVE-2017-2254")
    AffectedProductIndex.objects.create(vulnerability=vuln, source="nvd", vendor="cybozu", product="garoon")
    component = services.save_component(
        Actor(company.alice, "web"), company.shop, {"part": "a", "vendor": "サイボウズ株式会社", "product": "ガルーン"}
    )

    def best() -> str:
        found = {i.component.pk: i.suggestions for i in system_suggestions(company.shop)}[component.pk]
        return found[0].cpe if found else ""

    assert best() != "cpe:2.3:a:cybozu:garoon:*:*:*:*:*:*:*:*"
    add_alias(Actor(company.csirt, "web"), {**CYBOZU, "alias_product": "ガルーン", "product": "garoon"})
    assert best() == "cpe:2.3:a:cybozu:garoon:*:*:*:*:*:*:*:*"
