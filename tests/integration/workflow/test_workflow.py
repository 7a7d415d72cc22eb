"""Work items through the services, on real records: urgency from NVD and KEV (CVE-2014-6271 becomes S+
once KEV is loaded), items following findings, role and state refusals, optimistic locking, the sweep."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions
from ismp.apps.findings.models import Finding
from ismp.apps.findings.services import match_systems
from ismp.apps.inventory import services as inventory
from ismp.apps.vulns.models import Vulnerability
from ismp.apps.vulns.services import import_feed
from ismp.apps.workflow import services
from ismp.apps.workflow.models import VulnerabilityUrgency, WorkItem, WorkItemEvent
from ismp.engines.workflow import Action, Step
from ismp.errors import Conflict, Forbidden, InputError

FEEDS = Path(__file__).resolve().parents[3] / "src" / "ismp" / "apps" / "inventory" / "demo" / "feeds"
OPERATOR = Actor(None, "test", label="operator")
BASH = "cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shellshock(company, committed):
    """The EC shop runs bash 4.3; NVD is loaded (no KEV yet) and the shop matched."""
    import_feed("nvd", [FEEDS / "nvdcve-1.1-demo.json.gz"])
    inventory.save_component(OPERATOR, company.shop, {"cpe": BASH})
    with committed():
        match_systems([company.shop.pk])
    return WorkItem.objects.get(system=company.shop, vulnerability__vuln_id="CVE-2014-6271")


def as_(user) -> Actor:
    return Actor(user, "test")


def test_cve_2014_6271_is_s_minus_on_nvd_then_s_plus_with_kev(shellshock, committed):
    assert shellshock.urgency == "S-"
    assert shellshock.urgency_explanation.startswith("S-: CVSS 3.")
    assert "AV:N → remote; no exploit evidence → no attack tool" in shellshock.urgency_explanation
    before_due = shellshock.due
    with committed():
        import_feed("kev", [FEEDS / "kev-2025.08.25.json.gz"])
    item = WorkItem.objects.get(pk=shellshock.pk)
    assert item.urgency == "S+"
    assert "in KEV since 2022-01-28 → attack tool" in item.urgency_explanation
    assert item.urgency_explanation.startswith("S+: CVSS 3.")
    assert item.due <= before_due
    raised = WorkItemEvent.objects.get(item=item, action="urgency_raised")
    assert raised.note.startswith("S- → S+:")
    stored = VulnerabilityUrgency.objects.get(vulnerability__vuln_id="CVE-2014-6271")
    assert stored.value == "S+" and stored.matrix_version == "design-default-1"


def test_one_item_per_system_and_vulnerability_whatever_rematching_does(shellshock, company, committed):
    with committed():
        match_systems()
    count = WorkItem.objects.count()
    assert count > WorkItem.objects.filter(system=company.shop).count() > 0
    with committed():
        match_systems([company.shop.pk])
        match_systems()
    assert WorkItem.objects.count() == count
    pairs = set(Finding.objects.filter(state="open").values_list("system_id", "vulnerability_id"))
    assert pairs == set(WorkItem.objects.values_list("system_id", "vulnerability_id"))


def test_an_upgrade_closes_the_item_with_the_findings_reason_and_a_downgrade_reopens_it(shellshock, company, committed):
    component = company.shop.components.get(cpe=BASH)
    with committed():
        component = inventory.save_component(
            OPERATOR, company.shop, {"cpe": "cpe:2.3:a:gnu:bash:5.2:*:*:*:*:*:*:*"}, component=component
        )
        match_systems([company.shop.pk])
    item = WorkItem.objects.get(pk=shellshock.pk)
    assert item.state == "closed"
    assert item.closed_reason == "the component was removed or its version changed"
    with committed():
        inventory.save_component(OPERATOR, company.shop, {"cpe": BASH}, component=component)
        match_systems([company.shop.pk])
    assert WorkItem.objects.get(pk=shellshock.pk).state == "new"


def test_not_affected_closes_the_item(shellshock, company):
    finding = Finding.objects.get(system=company.shop, vulnerability=shellshock.vulnerability)
    decisions.mark_not_affected(
        as_(company.alice), finding, justification="vulnerable_code_not_in_execute_path", note="bash not reachable"
    )
    item = WorkItem.objects.get(pk=shellshock.pk)
    assert item.state == "closed"
    assert item.closed_reason == "not affected (VEX: vulnerable_code_not_in_execute_path)"


def test_the_administrator_answers_and_the_csirt_approves(shellshock, company):
    item = services.transition(as_(company.alice), shellshock, Step(Action.DECIDE, needed=True), version=1)
    planned = timezone.localdate() + dt.timedelta(days=1)
    item = services.transition(
        as_(company.alice),
        item,
        Step(Action.PLAN, planned_date=planned, method="upgrade bash"),
        version=item.version,
    )
    item = services.transition(as_(company.csirt), item, Step(Action.APPROVE), version=item.version)
    assert item.state == "approved"
    assert item.answered_at is not None
    history = list(WorkItemEvent.objects.filter(item=item).values_list("action", "actor_label", "to_state"))
    assert history == [("decide", "alice", "needed"), ("plan", "alice", "planned"), ("approve", "csirt", "approved")]
    assert AuditEntry.objects.filter(object_type="workflow.workitem", object_id=str(item.pk)).count() == 3


def test_refusals_say_why(shellshock, company):
    with pytest.raises(Forbidden, match="bob may not decide"):
        services.transition(as_(company.bob), shellshock, Step(Action.DECIDE, needed=True), version=1)
    with pytest.raises(Forbidden, match="auditors read work items"):
        services.transition(as_(company.auditor), shellshock, Step(Action.DECIDE, needed=True), version=1)
    with pytest.raises(InputError, match="possible only when"):
        services.transition(as_(company.alice), shellshock, Step(Action.COMPLETE, evidence="x"), version=1)
    item = services.transition(as_(company.alice), shellshock, Step(Action.DECIDE, needed=True), version=1)
    with pytest.raises(InputError, match="in the past"):
        services.transition(
            as_(company.alice),
            item,
            Step(Action.PLAN, planned_date=dt.date(2020, 1, 1), method="x"),
            version=item.version,
        )
    assert WorkItem.objects.get(pk=item.pk).state == "needed"  # nothing half-applied


def test_concurrent_updates_cannot_both_win(shellshock, company):
    services.transition(as_(company.alice), shellshock, Step(Action.DECIDE, needed=True), version=1)
    with pytest.raises(Conflict, match="changed by alice"):
        services.transition(as_(company.csirt), shellshock, Step(Action.DECIDE, needed=False, reason="x"), version=1)
    assert WorkItem.objects.get(pk=shellshock.pk).needed is True


def test_an_exception_needs_the_ciso_and_expires_in_the_sweep(shellshock, company):
    until = timezone.localdate() + dt.timedelta(days=10)
    item = services.transition(
        as_(company.alice), shellshock, Step(Action.REQUEST_EXCEPTION, reason="EOL", until=until), version=1
    )
    with pytest.raises(Forbidden, match="only the CISO"):
        services.transition(as_(company.csirt), item, Step(Action.APPROVE_EXCEPTION), version=item.version)
    item = services.transition(as_(company.ciso), item, Step(Action.APPROVE_EXCEPTION), version=item.version)
    assert item.state == "accepted"
    assert services.sweep(timezone.now()).expired == 0
    later = timezone.now() + dt.timedelta(days=11)
    assert services.sweep(later).expired == 1
    assert WorkItem.objects.get(pk=item.pk).state == "new"


def test_the_sweep_reminds_once_and_escalates_overdue_items(shellshock, company):
    far = timezone.now() + dt.timedelta(days=30)
    WorkItem.objects.update(answer_due=far, due=far)
    WorkItem.objects.filter(pk=shellshock.pk).update(answer_due=timezone.now() + dt.timedelta(hours=5))
    report = services.sweep()
    assert (report.reminded, report.escalated) == (1, 0)
    assert services.sweep().reminded == 0  # reminded once
    later = timezone.now() + dt.timedelta(hours=6)
    assert services.sweep(later).escalated == 1
    assert services.sweep(later + dt.timedelta(hours=1)).escalated == 0  # at most once a day


def test_an_analyst_override_needs_a_reason_and_survives_recomputation(shellshock, company):
    with pytest.raises(InputError, match="say why"):
        services.override_urgency(as_(company.csirt), shellshock, "A", reason=" ", version=1)
    with pytest.raises(Forbidden):
        services.override_urgency(as_(company.alice), shellshock, "B", reason="internal", version=1)
    item = services.override_urgency(as_(company.csirt), shellshock, "A", reason="bash not exposed", version=1)
    services.recompute_urgency([item.vulnerability_id])
    assert WorkItem.objects.get(pk=item.pk).urgency == "A"


def test_matrix_edits_are_versioned_and_recompute(shellshock, company):
    cells = services.current_matrix().to_mapping()
    cells["remote_no_tool"]["5"] = "S+"
    with pytest.raises(Forbidden):
        services.set_matrix(as_(company.alice), cells, note="stricter")
    bad = {**cells, "remote_no_tool": {**cells["remote_no_tool"], "4": "X"}}
    with pytest.raises(InputError, match="'X' is not one of"):
        services.set_matrix(as_(company.csirt), bad, note="typo")
    row = services.set_matrix(as_(company.csirt), cells, note="stricter")
    item = WorkItem.objects.get(pk=shellshock.pk)
    assert item.urgency == "S+"
    assert VulnerabilityUrgency.objects.get(vulnerability=item.vulnerability).matrix_version == row.version
    assert Vulnerability.objects.filter(urgency__value="S+").exists()


def test_the_findings_export_carries_urgency_and_the_work_items_deadlines(shellshock, company):
    from ismp.apps.findings.exporting import export_rows

    [row] = [r for r in export_rows(company.csirt, {"vuln": "CVE-2014-6271"})]
    assert (row["urgency"], row["work_item"], row["work_item_state"]) == ("S-", shellshock.pk, "new")
    assert row["due"] == shellshock.due and row["answer_due"] == shellshock.answer_due


def test_a_rise_is_told_at_once_to_the_administrators(shellshock, company, committed):
    from ismp.apps.notifications.models import Notification

    with committed():
        import_feed("kev", [FEEDS / "kev-2025.08.25.json.gz"])
    told = Notification.objects.filter(event="finding.escalated", recipient=company.alice)
    assert told.exists() and not told.filter(digest=True).exists()
    assert all("CVE-2014-6271" in n.body for n in told.filter(channel="inbox"))


def test_the_csirt_orders_an_s_plus_service_stopped_and_the_administrator_records_it(shellshock, company):
    with pytest.raises(Forbidden, match="orders a service stopped"):
        services.transition(as_(company.alice), shellshock, Step(Action.ORDER_STOP, reason="stop"), version=1)
    item = services.transition(
        as_(company.csirt), shellshock, Step(Action.ORDER_STOP, reason="停止指示: 即時停止"), version=1
    )
    item = services.transition(as_(company.alice), item, Step(Action.RECORD_STOP), version=item.version)
    assert item.stop_order == "停止指示: 即時停止" and item.stop_ordered_at <= item.service_stopped_at
    assert list(item.events.values_list("action", flat=True)) == ["order_stop", "record_stop"]


def test_risk_level_thresholds_are_part_of_the_matrix_version(shellshock, company):
    cells = services.current_matrix().to_mapping()
    with pytest.raises(InputError, match="threshold 2 .* must fall"):
        services.set_matrix(as_(company.csirt), cells, note="bad", thresholds=[[7.0, 4], [9.0, 5]])
    services.set_matrix(as_(company.csirt), cells, note="level 5 only at 10.0", thresholds=[[10.0, 5], [7.0, 4]])
    item = WorkItem.objects.get(pk=shellshock.pk)
    assert item.urgency == "A"  # CVSS 9.8 → level 4 now; remote, no tool → A
    assert "→ level 4" in VulnerabilityUrgency.objects.get(vulnerability=item.vulnerability).explanation
    assert services.current_thresholds() == ((10.0, 5), (7.0, 4))
    services.set_matrix(as_(company.csirt), cells, note="cells only")  # thresholds kept
    assert services.current_thresholds() == ((10.0, 5), (7.0, 4))
