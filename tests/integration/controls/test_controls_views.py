"""Controls web pages: company-wide gaps, a system's controls and gates, the baseline editor, the CISO's
exception queue; scoping (404 outside the scope, 403 for actions not allowed) and Japanese labels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.controls import services
from ismp.apps.controls.models import Baseline, GateCheck, GateException, SystemControl


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_system_page_links_to_its_controls(company):
    page = client_for(company.alice).get(reverse("web:system-detail", args=[company.shop.pk])).content.decode()
    assert reverse("web:system-controls", args=[company.shop.pk]) in page


def test_gaps_page_shows_coverage_per_organisation(company):
    services.set_control(Actor(company.csirt, "test"), company.mail, "firewall", "implemented")
    client = client_for(company.csirt)
    response = client.get(reverse("web:controls-gaps"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "運用部" in page and "Web事業部" in page and "EC shop" in page
    assert "ファイアウォール" in page
    filtered = client.get(reverse("web:controls-gaps") + "?organisation=OPS").content.decode()
    assert "Mail gateway" in filtered and "EC shop" not in filtered


def test_gaps_page_is_scoped(company):
    page = client_for(company.bob).get(reverse("web:controls-gaps")).content.decode()
    assert "Mail gateway" in page and "EC shop" not in page


def test_system_controls_page_outside_the_scope_is_404(company):
    assert client_for(company.bob).get(reverse("web:system-controls", args=[company.shop.pk])).status_code == 404


def test_administrator_records_a_control_with_evidence(company):
    client = client_for(company.alice)
    url = reverse("web:system-control-set", args=[company.shop.pk])
    response = client.post(
        url,
        {
            "control": "waf",
            "status": "implemented",
            "evidence": "WAF rules v3",
            "evidence_file": "waf.pdf",
            "review_by": "2099-03-31",
        },
    )
    assert response.status_code == 302
    row = SystemControl.objects.get(control="waf")
    assert (row.evidence_file, row.review_by) == ("waf.pdf", dt.date(2099, 3, 31))
    page = client.get(reverse("web:system-controls", args=[company.shop.pk])).content.decode()
    assert "WAF rules v3" in page and "waf.pdf" in page


def test_refusals_are_messages_and_forbidden_is_403(company):
    client = client_for(company.alice)
    url = reverse("web:system-control-set", args=[company.shop.pk])
    response = client.post(url, {"control": "waf", "status": "not_applicable"}, follow=True)
    assert "why the control does not apply" in response.content.decode()
    assert not SystemControl.objects.exists()
    assert client_for(company.auditor).post(url, {"control": "waf", "status": "missing"}).status_code == 403
    gate = reverse("web:system-gate-check", args=[company.shop.pk])
    assert client.post(gate, {"kind": "prelaunch", "result": "passed", "evidence": "x"}).status_code == 403
    assert not GateCheck.objects.exists()


def test_service_owner_signs_off_a_check_and_the_page_shows_the_gate(company, portal):
    client = client_for(company.sam)
    gate = reverse("web:system-gate-check", args=[portal.pk])
    client.post(gate, {"kind": "design_review", "result": "passed", "evidence": "DR-1 minutes"})
    page = client.get(reverse("web:system-controls", args=[portal.pk])).content.decode()
    assert "DR-1 minutes" in page and "pre-launch diagnosis not recorded" in page


def test_exception_requested_and_approved_by_the_ciso_only(company, portal):
    expires = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    client_for(company.alice).post(
        reverse("web:system-gate-exception", args=[portal.pk]), {"reason": "launch day", "expires_on": expires}
    )
    exception = GateException.objects.get()
    decide = reverse("web:controls-exception-decide", args=[exception.pk])
    assert client_for(company.csirt).post(decide, {"decision": "approve"}).status_code == 403
    queue = client_for(company.ciso).get(reverse("web:controls-exceptions")).content.decode()
    assert "launch day" in queue and "承認" in queue
    assert client_for(company.ciso).post(decide, {"decision": "approve", "note": "ok"}).status_code == 302
    exception.refresh_from_db()
    assert exception.state == "approved" and exception.decided_by == company.ciso


def test_baseline_editor_saves_a_new_version_for_the_csirt_only(company):
    url = reverse("web:controls-baseline")
    page = client_for(company.auditor).get(url).content.decode()
    assert "ファイアウォール" in page and "baseline-form" in page and 'type="checkbox"' not in page
    data = {"internal:mail_web_av": "on", "internal:risk_assessment": "on", "note": "fewer controls internally"}
    data |= {f"public_web:{c}": "on" for c in ("firewall", "waf")}
    assert client_for(company.ciso).post(url, data).status_code == 403
    assert client_for(company.csirt).post(url, data).status_code == 302
    saved = Baseline.objects.get()
    assert saved.version == 2 and saved.requirements["internal"] == ["mail_web_av", "risk_assessment"]
    assert saved.requirements["public_other"] == []
    assert AuditEntry.objects.filter(object_type="controls.baseline", via="web").exists()


@pytest.mark.parametrize("name", ["web:controls-gaps", "web:controls-baseline", "web:controls-exceptions"])
def test_pages_need_a_login(company, name):
    response = Client().get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_retired_systems_are_not_assessed(company):
    from ismp.apps.controls import queries

    company.mail.lifecycle = "retired"
    company.mail.save()
    page = client_for(company.csirt).get(reverse("web:controls-gaps")).content.decode()
    assert "EC shop" in page and "Mail gateway" not in page
    assert queries.coverage(queries.assessed_systems(company.csirt)).required == 10


def test_an_exception_that_lapsed_before_the_checks_passed_is_shown(company, portal):
    from ismp.apps.inventory import services as inventory

    exception = services.request_exception(
        Actor(company.alice, "test"), portal, reason="launch day", expires_on=dt.date.today()
    )
    services.decide_exception(Actor(company.ciso, "test"), exception, approve=True)
    inventory.save_system(Actor(company.alice, "test"), {"lifecycle": "in_service"}, system=portal)
    url = reverse("web:controls-exceptions")
    assert 'id="lapsed"' not in client_for(company.ciso).get(url).content.decode()
    GateException.objects.filter(pk=exception.pk).update(expires_on=dt.date.today() - dt.timedelta(days=1))
    page = client_for(company.ciso).get(url).content.decode()
    assert 'id="lapsed"' in page and "design review not recorded, pre-launch diagnosis not recorded" in page
    for kind in ("design_review", "prelaunch"):
        services.record_gate_check(Actor(company.csirt, "test"), portal, kind, "passed", evidence="done")
    assert 'id="lapsed"' not in client_for(company.ciso).get(url).content.decode()


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_pages_take_as_many_queries_for_many_systems_as_for_few(company):
    from ismp.apps.controls.models import GateCheck as Check
    from ismp.apps.inventory.models import System

    client = client_for(company.csirt)
    urls = [
        reverse("web:controls-gaps"),
        "/api/controls/gaps/",
        "/api/controls/status/",
        "/api/controls/gate-checks/",
        "/api/controls/systems/",
    ]
    services.set_control(Actor(company.csirt, "test"), company.shop, "firewall", "partial")
    services.record_gate_check(Actor(company.csirt, "test"), company.shop, "prelaunch", "passed", evidence="x")
    few = [_queries(client, url) for url in urls]
    for i in range(15):
        system = System.objects.create(name=f"s{i}", organisation=company.ops, system_type="internal")
        SystemControl.objects.create(system=system, control="profiling", status="missing", checked_by=company.alice)
        Check.objects.create(
            system=system,
            kind="prelaunch",
            result="failed",
            performed_on=dt.date.today(),
            evidence="x",
            recorded_by=company.csirt,
        )
    assert [_queries(client, url) for url in urls] == few
