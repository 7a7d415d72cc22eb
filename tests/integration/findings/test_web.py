"""The findings pages: list (filters, htmx, scope, query count), the CSIRT's queue, a finding with its
decision form, the findings section and VEX buttons on a system's page, downloads."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ismp.apps.findings.models import Finding
from ismp.apps.vulns.models import Vulnerability

HOSTILE = '=HYPERLINK("http://evil.invalid","x")'


@pytest.fixture(autouse=True)
def english(settings) -> None:
    """Assertions below read the English labels, whatever ISMP_LANGUAGE the run has."""
    settings.LANGUAGE_CODE = "en"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_shows_what_the_user_may_see(company, findings):
    page = client_for(company.csirt).get(reverse("web:finding-list")).content.decode()
    assert "CVE-2017-5638" in page and "CVE-2099-0666" in page and "CVE-2016-0001" in page
    page = client_for(company.alice).get(reverse("web:finding-list")).content.decode()
    assert "CVE-2017-5638" in page and "CVE-2099-0666" not in page and "CVE-2016-0001" not in page


def test_list_filters_and_htmx_partial(company, findings):
    client = client_for(company.csirt)
    response = client.get(reverse("web:finding-list"), {"confidence": "medium"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "CVE-2016-0001" in body and "CVE-2017-5638" not in body
    assert "HX-Request" in response["Vary"]
    body = client.get(reverse("web:finding-list"), {"q": "struts", "state": "open", "bogus": "x"}).content.decode()
    assert "CVE-2017-5638" in body and "CVE-2016-0001" not in body


def test_list_takes_a_constant_number_of_queries(company, findings):
    client = client_for(company.csirt)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("web:finding-list")).status_code == 200
    for number in range(30):
        Finding.objects.create(
            system=company.mail,
            vulnerability=Vulnerability.objects.create(vuln_id=f"CVE-2021-{number:04d}", title="t"),
            component=findings.postfix.component,
            component_key=findings.postfix.component_key,
            criterion="c",
            confidence="low" if number % 2 else "high",
            evidence="e",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("web:finding-list"))
    assert len(many) == len(few)


def test_hostile_text_is_escaped(company, findings):
    body = client_for(company.csirt).get(reverse("web:finding-detail", args=[findings.unsure.pk])).content.decode()
    assert HOSTILE not in body and "=HYPERLINK(&quot;http://evil.invalid&quot;" in body


def test_the_queue_is_the_csirts(company, findings):
    for user in (company.ciso, company.auditor, company.alice, company.sam):
        assert client_for(user).get(reverse("web:finding-queue")).status_code == 403
    body = client_for(company.csirt).get(reverse("web:finding-queue")).content.decode()
    assert "CVE-2099-0666" in body and "CVE-2017-5638" not in body and "the CSIRT confirms it" in body


def test_confirm_from_the_queue_returns_to_it(company, findings):
    client = client_for(company.csirt)
    queue = reverse("web:finding-queue")
    response = client.post(reverse("web:finding-confirm", args=[findings.unsure.pk]), {"next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    assert Finding.objects.get(pk=findings.unsure.pk).confirmed_by == company.csirt
    assert "No low-confidence match awaits confirmation." in client.get(queue).content.decode()


def test_not_affected_from_the_queue_and_an_offsite_next_is_ignored(company, findings):
    client = client_for(company.csirt)
    response = client.post(
        reverse("web:finding-not-affected", args=[findings.unsure.pk]),
        {"justification": "component_not_present", "note": "not installed", "next": "https://evil.invalid/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:finding-detail", args=[findings.unsure.pk]
    )
    assert Finding.objects.get(pk=findings.unsure.pk).state == "not_affected"


def test_administrator_decides_on_the_detail_page_and_reopens(company, findings):
    client = client_for(company.alice)
    url = reverse("web:finding-detail", args=[findings.struts.pk])
    assert 'name="justification"' in client.get(url).content.decode()
    response = client.post(reverse("web:finding-not-affected", args=[findings.struts.pk]), {"justification": "x"})
    assert response.status_code == 400 and "has-error" in response.content.decode()
    client.post(
        reverse("web:finding-not-affected", args=[findings.struts.pk]),
        {"justification": "vulnerable_code_not_in_execute_path", "note": "no multipart upload"},
    )
    page = client.get(url).content.decode()
    assert "no multipart upload" in page and "Reopen" in page
    client.post(reverse("web:finding-reopen", args=[findings.struts.pk]))
    assert Finding.objects.get(pk=findings.struts.pk).state == "open"


def test_a_wrong_state_is_a_message_not_an_error(company, findings):
    client = client_for(company.csirt)
    response = client.post(reverse("web:finding-reopen", args=[findings.struts.pk]), follow=True)
    assert (
        response.status_code == 200
        and "only a finding marked not affected can be reopened" in response.content.decode()
    )


@pytest.mark.parametrize(
    ("user", "finding", "status"),
    [
        ("sam", "struts", 403),
        ("ciso", "struts", 403),
        ("auditor", "postfix", 403),
        ("bob", "struts", 404),
        ("alice", "unsure", 404),
    ],
)
def test_decisions_outside_the_role_or_scope(company, findings, user, finding, status):
    target = getattr(findings, finding)
    response = client_for(company.users()[user]).post(
        reverse("web:finding-not-affected", args=[target.pk]), {"justification": "component_not_present", "note": "x"}
    )
    assert response.status_code == status
    assert Finding.objects.get(pk=target.pk).state == "open"


def test_read_only_roles_get_no_decision_form(company, findings):
    body = client_for(company.ciso).get(reverse("web:finding-detail", args=[findings.struts.pk])).content.decode()
    assert 'name="justification"' not in body and "CSIRT or the system's administrators decide" in body


def test_system_page_has_findings_and_vex_buttons(company, findings):
    body = client_for(company.alice).get(reverse("web:system-detail", args=[company.shop.pk])).content.decode()
    assert "CVE-2017-5638" in body and "CVE-2099-0666" not in body
    assert reverse("web:system-vex", args=[company.shop.pk]) + "?format=openvex" in body
    body = client_for(company.csirt).get(reverse("web:system-detail", args=[company.shop.pk])).content.decode()
    assert "CVE-2099-0666" in body and "1 needs confirmation" in body


def test_vex_and_export_downloads(company, findings):
    client = client_for(company.bob)
    assert client.get(reverse("web:system-vex", args=[company.shop.pk])).status_code == 404
    response = client.get(reverse("web:system-vex", args=[company.mail.pk]), {"format": "cyclonedx"})
    assert response.status_code == 200 and json.loads(response.content)["vulnerabilities"][0]["id"] == "CVE-2016-0001"
    assert client.get(reverse("web:system-vex", args=[company.mail.pk]), {"format": "x"}).status_code == 404
    response = client.get(reverse("web:finding-export"), {"format": "json"})
    rows = json.loads(b"".join(response.streaming_content))["findings"]
    assert [r["vulnerability"] for r in rows] == ["CVE-2016-0001"]
    response = client_for(company.csirt).get(reverse("web:finding-export"), {"format": "xlsx", "state": "open"})
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"PK")
    assert client.get(reverse("web:finding-export"), {"format": "pdf"}).status_code == 404


def test_japanese_labels(company, findings, settings):
    settings.LANGUAGE_CODE = "ja"
    body = client_for(company.csirt).get(reverse("web:finding-queue")).content.decode()
    assert "確認待ち" in body
