"""Every change through a service leaves exactly the audit entries a reader expects."""

from __future__ import annotations

from ismp.apps.accounts.services import create_user, issue_token, revoke_token
from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services


def entries(object_type: str) -> list[tuple[str, str]]:
    return list(AuditEntry.objects.filter(object_type=object_type).order_by("id").values_list("action", "actor_name"))


def test_system_and_component_lifecycle_is_audited(company):
    actor = Actor(company.alice, "web")
    system = services.save_system(actor, {"name": "New", "organisation": company.web, "system_type": "internal"})
    services.save_system(actor, {"purpose": "CRM"}, system=system)
    services.save_system(actor, {"purpose": "CRM"}, system=system)  # no change: no entry
    component = services.save_component(actor, system, {"cpe": "cpe:2.3:a:nginx:nginx:1.10.0:*:*:*:*:*:*:*"})
    services.save_component(actor, system, {"cpe": "cpe:2.3:a:nginx:nginx:1.10.3:*:*:*:*:*:*:*"}, component=component)
    services.delete_component(actor, component)
    services.delete_system(actor, system)
    assert entries("inventory.system") == [("create", "alice"), ("update", "alice"), ("delete", "alice")]
    assert entries("inventory.component") == [("create", "alice"), ("update", "alice"), ("delete", "alice")]
    update = AuditEntry.objects.filter(object_type="inventory.system", action="update").get()
    assert update.changed_fields() == ["purpose"] and update.via == "web"
    assert update.before["administrators"] == [company.alice.pk]
    comp_update = AuditEntry.objects.filter(object_type="inventory.component", action="update").get()
    assert (comp_update.before["version"], comp_update.after["version"]) == ("1.10.0", "1.10.3")


def test_deleting_a_system_audits_its_components(company):
    services.delete_system(Actor(company.csirt, "api"), company.shop)
    assert ("delete", "csirt") in entries("inventory.component")


def test_users_and_tokens_are_audited_without_secrets(company):
    actor = Actor(company.csirt, "cli")
    user = create_user(actor, username="eve", role="auditor", password="a-long-enough-passphrase")
    token, secret = issue_token(actor, user, name="x")
    revoke_token(actor, token)
    created = AuditEntry.objects.get(object_type="accounts.user")
    assert "password" not in created.after
    assert [a for a, _ in entries("accounts.apitoken")] == ["create", "update"]
    assert not AuditEntry.objects.filter(after__icontains=secret).exists()
    assert all("key_hash" not in (e.after or {}) for e in AuditEntry.objects.filter(object_type="accounts.apitoken"))
