"""Control status and evidence per system, the CSIRT's baseline versions, gaps and coverage in a constant
number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.controls import queries
from ismp.apps.controls import services as controls
from ismp.apps.controls.models import Baseline, SystemControl
from ismp.apps.inventory.models import System
from ismp.engines.controls import DEFAULT_BASELINE, ControlRecord, ControlStatus, GapReason, coverage_of
from ismp.errors import Forbidden, InputError

YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def put(company, system, control, status, user=None, **kw):
    return controls.set_control(Actor(user or company.csirt, "test"), system, control, status, **kw)


def test_setting_a_control_records_evidence_who_and_audit(company):
    row = put(
        company,
        company.shop,
        "waf",
        "implemented",
        user=company.alice,
        evidence="AWS WAF managed rules",
        reference="https://wiki.example.jp/waf",
        evidence_file="waf-config.pdf",
    )
    assert (row.checked_by, row.evidence_file) == (company.alice, "waf-config.pdf")
    put(company, company.shop, "waf", "partial", user=company.alice, evidence="rules off for /api")
    assert SystemControl.objects.filter(system=company.shop).count() == 1
    entries = AuditEntry.objects.filter(object_type="controls.systemcontrol").order_by("pk")
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["status"] == "implemented" and entries[1].after["status"] == "partial"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("csirt", True), ("alice", True), ("bob", False), ("ciso", False), ("auditor", False), ("sam", False)],
)
def test_who_sets_a_control(company, role, allowed):
    if allowed:
        put(company, company.shop, "firewall", "implemented", user=company.users()[role])
    else:
        with pytest.raises(Forbidden):
            put(company, company.shop, "firewall", "implemented", user=company.users()[role])
        assert not SystemControl.objects.exists()


def test_not_applicable_needs_a_reason_and_unknown_values_are_named(company):
    with pytest.raises(InputError, match="why the control does not apply"):
        put(company, company.shop, "waf", "not_applicable")
    with pytest.raises(InputError, match="unknown control 'antivirus'"):
        put(company, company.shop, "antivirus", "implemented")
    with pytest.raises(InputError, match="unknown status 'done'"):
        put(company, company.shop, "waf", "done")


def test_system_page_rows_show_gaps_and_stale_evidence(company):
    put(company, company.shop, "firewall", "implemented", review_by=YESTERDAY)
    put(company, company.shop, "waf", "implemented")
    result, rows = queries.system_controls(company.shop)
    by_control = {r["control"]: r for r in rows}
    assert by_control["firewall"]["gap"] == GapReason.STALE
    assert by_control["waf"]["gap"] is None and by_control["ids_ips"]["gap"] == GapReason.NOT_RECORDED
    assert len(result.gaps) == 9


def test_the_csirt_edits_the_baseline_in_versions(company):
    assert queries.current_baseline() == DEFAULT_BASELINE
    rows = DEFAULT_BASELINE.as_dict() | {"internal": ["mail_web_av", "risk_assessment"]}
    saved = controls.save_baseline(Actor(company.csirt, "test"), rows, note="internal: fewer controls")
    assert saved.version == 2 and queries.current_baseline().required("internal") == {"mail_web_av", "risk_assessment"}
    entry = AuditEntry.objects.get(object_type="controls.baseline")
    assert entry.before["version"] == 1 and "profiling" in entry.before["requirements"]["internal"]
    assert entry.after["requirements"]["internal"] == ["mail_web_av", "risk_assessment"]
    with pytest.raises(InputError, match="unchanged"):
        controls.save_baseline(Actor(company.csirt, "test"), rows)
    with pytest.raises(Forbidden):
        controls.save_baseline(Actor(company.ciso, "test"), DEFAULT_BASELINE.as_dict())
    with pytest.raises(InputError, match="unknown control"):
        controls.save_baseline(Actor(company.csirt, "test"), rows | {"internal": ["fw"]})
    assert Baseline.objects.count() == 1


def _estate(company, n: int) -> None:
    """n more systems in each organisation with a mix of statuses."""
    for i in range(n):
        for org, system_type in ((company.web, "public_web"), (company.ops, "internal")):
            system = System.objects.create(name=f"{org.code}-{i}", organisation=org, system_type=system_type)
            SystemControl.objects.create(system=system, control="mail_web_av", status="implemented")
            SystemControl.objects.create(system=system, control="profiling", status="implemented", review_by=YESTERDAY)
            SystemControl.objects.create(system=system, control="risk_assessment", status="not_applicable", reason="x")
            SystemControl.objects.create(system=system, control="waf", status="missing")


def _reference(systems):
    rows = [
        (
            s.organisation.code,
            s.organisation.name,
            s.system_type,
            [ControlRecord(c.control, ControlStatus(c.status), c.review_by) for c in s.controls.all()],
        )
        for s in systems.select_related("organisation").prefetch_related("controls")
    ]
    return coverage_of(rows, queries.current_baseline(), dt.date.today())


@pytest.mark.parametrize("n", [0, 1, 20])
def test_coverage_takes_three_queries_and_matches_the_engine(company, django_assert_num_queries, n):
    _estate(company, n)
    put(company, company.shop, "firewall", "implemented")
    systems = System.objects.all()
    with django_assert_num_queries(3):
        result = queries.coverage(systems)
    assert result == _reference(systems)
    web = next(r for r in result.rows if r.key == "WEB")
    assert web.systems == 1 + n and web.required == 10 * (1 + n) and web.implemented == 1 + n * 1
    assert result.total.stale == 2 * n


def test_coverage_of_nothing(company):
    assert queries.coverage(System.objects.none()).required == 0


def test_systems_with_gaps_are_counted_in_sql(company):
    for control in DEFAULT_BASELINE.required("public_other"):
        put(company, company.mail, control.value, "implemented")
    put(company, company.shop, "firewall", "implemented")
    rows = list(queries.systems_with_gaps(System.objects.all()))
    assert [(s.name, s.gap_count, s.required_count) for s in rows] == [("EC shop", 9, 10)]
    put(company, company.mail, "firewall", "implemented", review_by=YESTERDAY)
    assert [s.name for s in queries.systems_with_gaps(System.objects.all())] == ["EC shop", "Mail gateway"]


def test_overlong_values_are_refused_not_cut(company):
    with pytest.raises(InputError, match="at most 500"):
        put(company, company.shop, "waf", "implemented", reference="https://x.example/" + "a" * 500)
    assert not SystemControl.objects.exists()
