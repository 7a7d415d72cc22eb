"""Decisions on findings: not affected (VEX), reopen, confirm — who may, in which state, and the audit."""

from __future__ import annotations

import pytest

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions
from ismp.apps.findings.models import Finding
from ismp.apps.findings.queries import confirmation_queue, findings_for
from ismp.errors import Forbidden, InputError

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")
# may mark the EC shop's confirmed struts finding not affected: the CSIRT and the shop's administrator
MAY_DECIDE_SHOP = {"csirt": True, "ciso": False, "auditor": False, "alice": True, "bob": False, "sam": False}
VISIBLE = {
    "csirt": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "ciso": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "auditor": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "alice": {"CVE-2017-5638"},
    "bob": {"CVE-2016-0001"},
    "sam": {"CVE-2017-5638"},
}


def actor(company, name: str) -> Actor:
    return Actor(company.users()[name], "test")


def audits(finding: Finding) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="findings.finding", object_id=str(finding.pk)).order_by("pk"))


@pytest.mark.parametrize("role", ROLES)
def test_not_affected_role_matrix(company, findings, role):
    call = lambda: decisions.mark_not_affected(  # noqa: E731
        actor(company, role), findings.struts, justification="vulnerable_code_not_in_execute_path", note="no upload"
    )
    if MAY_DECIDE_SHOP[role]:
        decided = call()
        assert decided.state == "not_affected" and decided.decided_by == company.users()[role]
    else:
        with pytest.raises(Forbidden, match="CSIRT or the system's administrators"):
            call()
        assert Finding.objects.get(pk=findings.struts.pk).state == "open"


@pytest.mark.parametrize("role", ROLES)
def test_findings_are_scoped_and_unconfirmed_low_matches_are_the_csirts(company, findings, role):
    user = company.users()[role]
    assert {f.vulnerability.vuln_id for f in findings_for(user).select_related("vulnerability")} == VISIBLE[role]
    queue = {f.vulnerability.vuln_id for f in confirmation_queue(user)}
    assert queue == ({"CVE-2099-0666"} if role == "csirt" else set())


def test_not_affected_is_audited_with_before_and_after(company, findings):
    decisions.mark_not_affected(
        actor(company, "alice"), findings.struts, justification="inline_mitigations_already_exist", note="WAF rule 42"
    )
    (entry,) = audits(findings.struts)
    assert entry.actor_name == "alice" and entry.action == "update"
    assert entry.before["state"] == "open" and entry.after["state"] == "not_affected"
    assert entry.after["justification"] == "inline_mitigations_already_exist"
    assert entry.after["decision_note"] == "WAF rule 42" and entry.after["decided_by_id"] == company.alice.pk


@pytest.mark.parametrize(
    ("justification", "note", "field"),
    [
        ("", "checked", "justification"),
        ("it_is_fine", "checked", "justification"),
        ("component_not_present", "  ", "note"),
    ],
)
def test_not_affected_needs_a_known_justification_and_a_note(company, findings, justification, note, field):
    with pytest.raises(InputError) as caught:
        decisions.mark_not_affected(actor(company, "csirt"), findings.struts, justification=justification, note=note)
    assert caught.value.location.field == field
    assert Finding.objects.get(pk=findings.struts.pk).state == "open" and not audits(findings.struts)


def test_reopen_undoes_the_decision_and_both_steps_are_audited(company, findings):
    csirt = actor(company, "csirt")
    decisions.mark_not_affected(csirt, findings.struts, justification="component_not_present", note="removed")
    reopened = decisions.reopen(actor(company, "alice"), findings.struts)
    assert reopened.state == "open" and reopened.justification == "" and reopened.decided_by is None
    first, second = audits(findings.struts)
    assert second.actor_name == "alice" and second.before["decision_note"] == "removed"
    assert second.after["state"] == "open"


def test_wrong_state_is_refused_with_the_state_named(company, findings):
    csirt = actor(company, "csirt")
    with pytest.raises(InputError, match="only a finding marked not affected can be reopened"):
        decisions.reopen(csirt, findings.struts)
    Finding.objects.filter(pk=findings.postfix.pk).update(state="closed")
    with pytest.raises(InputError, match="is closed: only an open finding"):
        decisions.mark_not_affected(csirt, findings.postfix, justification="component_not_present", note="x")


def test_bob_may_not_reopen_the_shops_decision(company, findings):
    decisions.mark_not_affected(
        actor(company, "csirt"), findings.struts, justification="component_not_present", note="x"
    )
    with pytest.raises(Forbidden):
        decisions.reopen(actor(company, "bob"), findings.struts)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_csirt_confirms(company, findings, role):
    if role == "csirt":
        confirmed = decisions.confirm(actor(company, role), findings.unsure)
        assert confirmed.confirmed_by == company.csirt and confirmed.confirmed_at is not None
        (entry,) = audits(findings.unsure)
        assert entry.before["confirmed_at"] is None and entry.after["confirmed_by_id"] == company.csirt.pk
    else:
        with pytest.raises(Forbidden, match="only the CSIRT confirms"):
            decisions.confirm(actor(company, role), findings.unsure)
        assert not audits(findings.unsure)


def test_a_confirmed_match_leaves_the_queue_and_reaches_the_administrator(company, findings):
    alice = company.alice
    assert findings.unsure.pk not in set(findings_for(alice).values_list("pk", flat=True))
    with pytest.raises(Forbidden, match="awaiting the CSIRT's confirmation"):
        decisions.mark_not_affected(
            Actor(alice, "test"), findings.unsure, justification="component_not_present", note="x"
        )
    decisions.confirm(actor(company, "csirt"), findings.unsure)
    assert findings.unsure.pk in set(findings_for(alice).values_list("pk", flat=True))
    assert not confirmation_queue(company.csirt).exists()
    decided = decisions.mark_not_affected(
        Actor(alice, "test"), findings.unsure, justification="vulnerable_code_not_present", note="patched build"
    )
    assert decided.state == "not_affected"


def test_confirm_refuses_high_confidence_and_a_second_confirmation(company, findings):
    csirt = actor(company, "csirt")
    with pytest.raises(InputError, match="only low-confidence matches"):
        decisions.confirm(csirt, findings.struts)
    decisions.confirm(csirt, findings.unsure)
    with pytest.raises(InputError, match="already confirmed"):
        decisions.confirm(csirt, findings.unsure)


def test_the_operator_decides_with_full_rights(company, findings):
    operator = Actor(None, "cli", label="cli:root")
    decided = decisions.mark_not_affected(operator, findings.postfix, justification="component_not_present", note="x")
    assert (
        decided.state == "not_affected" and decided.decided_by is None and audits(decided)[0].actor_name == "cli:root"
    )


@pytest.fixture
def heartbleed(company, shared_data):
    from ismp.apps.findings.services import match_systems
    from ismp.apps.inventory import services as inventory
    from ismp.apps.vulns.services import import_feed

    import_feed("nvd", [shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz"])
    inventory.save_component(
        Actor(None, "test"), company.shop, {"cpe": "cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*"}
    )
    match_systems([company.shop.pk])
    return Finding.objects.get(system=company.shop, vulnerability__vuln_id="CVE-2014-0160")


def test_a_decision_on_a_real_match_survives_rematching_and_an_upgrade_asks_again(company, heartbleed):
    from ismp.apps.findings.services import match_systems
    from ismp.apps.inventory import services as inventory

    decisions.mark_not_affected(
        actor(company, "alice"), heartbleed, justification="vulnerable_code_not_in_execute_path", note="TLS off"
    )
    match_systems([company.shop.pk])
    kept = Finding.objects.get(pk=heartbleed.pk)
    assert (kept.state, kept.justification, kept.decision_note, kept.decided_by) == (
        "not_affected",
        "vulnerable_code_not_in_execute_path",
        "TLS off",
        company.alice,
    )
    openssl = company.shop.components.get(product="openssl")
    inventory.save_component(
        Actor(None, "test"), company.shop, {"cpe": "cpe:2.3:a:openssl:openssl:1.0.1a:*:*:*:*:*:*:*"}, component=openssl
    )
    match_systems([company.shop.pk])
    new = Finding.objects.get(
        system=company.shop, vulnerability__vuln_id="CVE-2014-0160", component_key__contains="1.0.1a"
    )
    assert new.state == "open" and new.justification == "" and new.pk != heartbleed.pk
