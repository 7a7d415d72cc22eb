"""Inventory import and export through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.exporting import export_inventory
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import Component, System
from ismp.errors import Forbidden, InputErrors

OPERATOR = Actor(None, "test", label="operator")

LEDGER = """system,purpose,organisation,service_owner,administrators,lifecycle,system_type,criticality,has_global_ip,addresses,fqdns,urls,hardware,location,notes,cpe,purl,part,vendor,product,version
Portal,社内ポータル,WEB,sam,alice;bob,in_service,internal,high,no,10.1.2.3;10.1.0.0/16,portal.example.jp,https://portal.example.jp/,HPE DL360,東京DC,"=HYPERLINK(""http://evil"")",cpe:2.3:a:apache:http_server:2.4.29:*:*:*:*:*:*:*,,,,,
Portal,,,,,,,,,,,,,,,cpe:2.3:o:canonical:ubuntu_linux:16.04:*:*:*:lts:*:*:*,,,,,
Portal,,,,,,,,,,,,,,,,pkg:pypi/django@1.11.0,,,,
DNS,権威DNS,OPS,,bob,in_service,public_other,critical,yes,198.51.100.53,ns1.example.jp,,,大阪DC,,cpe:2.3:a:isc:bind:9.10.3:*:*:*:*:*:*:*,,,,,
"""


def ledger_bytes(text: str = LEDGER) -> bytes:
    return text.encode("utf-8")


def counts() -> tuple[int, int, int]:
    return System.objects.count(), Component.objects.count(), AuditEntry.objects.count()


def test_csv_import_creates_systems_components_and_audit(company):
    report = import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    assert (report.systems_created, report.components_created) == (2, 4)
    portal = System.objects.get(name="Portal")
    assert portal.organisation.code == "WEB" and portal.service_owner.username == "sam"
    assert {u.username for u in portal.administrators.all()} == {"alice", "bob"}
    assert portal.addresses == ["10.1.2.3", "10.1.0.0/16"] and portal.has_global_ip is False
    assert portal.notes == '=HYPERLINK("http://evil")'
    assert {c.product for c in portal.components.all()} == {"http_server", "ubuntu_linux", "django"}
    assert portal.components.get(product="django").purl == "pkg:pypi/django@1.11.0"
    created = AuditEntry.objects.filter(action="create")
    assert created.filter(object_type="inventory.system").count() == 2
    assert created.filter(object_type="inventory.component").count() == 4
    assert created.first().actor_name == "operator"


def test_reimport_is_idempotent(company):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    before = counts()
    report = import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    assert (report.systems_created, report.systems_updated, report.components_created) == (0, 0, 0)
    assert report.components_unchanged == 4
    assert counts() == before


def test_reimport_updates_and_replaces_ledger_components(company):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    changed = LEDGER.replace("2.4.29", "2.4.58").replace("権威DNS", "権威DNS（更新）")
    report = import_inventory(OPERATOR, ledger_bytes(changed), "ledger.csv")
    assert report.systems_updated == 1 and report.components_created == 1 and report.components_deleted == 1
    assert System.objects.get(name="DNS").purpose == "権威DNS（更新）"
    assert Component.objects.filter(product="http_server").get().version == "2.4.58"
    update = AuditEntry.objects.filter(action="update", object_type="inventory.system").get()
    assert update.before["purpose"] == "権威DNS" and update.after["purpose"] == "権威DNS（更新）"


def test_bad_rows_are_all_reported_and_nothing_changes(company):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    before = counts()
    bad = (
        LEDGER.replace("cpe:2.3:a:isc:bind:9.10.3:*:*:*:*:*:*:*", "cpe:2.3:a:isc:bind")
        .replace("internal,high", "intranet,high")
        .replace("2.4.29", "2.4.30")
    )
    with pytest.raises(InputErrors) as caught:
        import_inventory(OPERATOR, ledger_bytes(bad), "ledger.csv")
    where = {(e.location.line, e.location.field) for e in caught.value.errors}
    assert (2, "system_type") in where and (5, "cpe") in where
    assert "ledger.csv" in str(caught.value)
    assert counts() == before
    assert Component.objects.filter(version="2.4.29").exists()


def test_contradicting_system_values_are_refused(company):
    bad = LEDGER.replace("Portal,,,,,,,,,,,,,,,cpe:2.3:o", "Portal,,OPS,,,,,,,,,,,,,cpe:2.3:o")
    with pytest.raises(InputErrors) as caught:
        import_inventory(OPERATOR, ledger_bytes(bad), "ledger.csv")
    assert caught.value.errors[0].location.line == 3 and caught.value.errors[0].location.field == "organisation"


def test_unknown_users_and_organisations_are_named(company):
    bad = LEDGER.replace("alice;bob", "alice;mallory").replace(",OPS,", ",NOPE,")
    with pytest.raises(InputErrors) as caught:
        import_inventory(OPERATOR, ledger_bytes(bad), "ledger.csv")
    messages = " ".join(e.reason for e in caught.value.errors)
    assert "mallory" in messages and "NOPE" in messages


def test_labels_in_japanese_are_accepted(company):
    text = "システム名,所管組織,システム種別,ライフサイクル\n人事システム,OPS,社内のみ,運用中\n"
    import_inventory(OPERATOR, text.encode("cp932"), "人事.csv")
    system = System.objects.get(name="人事システム")
    assert (system.system_type, system.lifecycle) == ("internal", "in_service")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip(company, fmt):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    data = export_inventory(company.csirt, fmt)
    before = counts()
    report = import_inventory(OPERATOR, data, f"export.{fmt}")
    assert report.systems_updated == 0 and report.components_created == 0
    assert counts() == before


def test_export_neutralises_formulas(company):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    text = export_inventory(company.csirt, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    sheet = openpyxl.load_workbook(io.BytesIO(export_inventory(company.csirt, "xlsx"))).active
    values = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_export_is_scoped(company):
    data = json.loads(export_inventory(company.bob, "json"))
    assert [s["system"] for s in data["systems"]] == ["Mail gateway"]


def test_sysadmin_cannot_import_over_someone_elses_system(company):
    text = "system,notes\nMail gateway,taken over\n"
    with pytest.raises(InputErrors) as caught:
        import_inventory(Actor(company.alice, "test"), text.encode(), "x.csv")
    assert "may not change" in caught.value.errors[0].reason
    assert System.objects.get(name="Mail gateway").notes == ""


def test_auditor_cannot_import(company):
    with pytest.raises(Forbidden):
        import_inventory(Actor(company.auditor, "test"), b"system\nX\n", "x.csv")


def test_audit_trail_refuses_update_and_delete_in_the_database(company):
    import_inventory(OPERATOR, ledger_bytes(), "ledger.csv")
    from django.db import DatabaseError, transaction

    for statement in (lambda: AuditEntry.objects.update(actor_name="x"), lambda: AuditEntry.objects.all().delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    entry = AuditEntry.objects.first()
    with pytest.raises(PermissionError):
        entry.save()


def test_a_system_a_sysadmin_imports_is_theirs(company):
    import_inventory(
        Actor(company.bob, "test"), b"system,organisation,system_type,administrators\nNew,OPS,internal,sam\n", "x.csv"
    )
    assert {u.username for u in System.objects.get(name="New").administrators.all()} == {"sam", "bob"}
