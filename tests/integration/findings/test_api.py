"""The findings REST API: scoped list and detail, decisions per role, export and VEX downloads."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.findings.models import Finding
from ismp.apps.vulns.models import Vulnerability

ROLES = ("csirt", "ciso", "auditor", "alice", "bob", "sam")
LISTED = {
    "csirt": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "ciso": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "auditor": {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"},
    "alice": {"CVE-2017-5638"},
    "bob": {"CVE-2016-0001"},
    "sam": {"CVE-2017-5638"},
}
# POST not-affected on the shop's struts finding: a role outside write_roles is 403 before any lookup;
# bob (a writer) cannot see the shop's finding: 404; sam and ciso are not writers
NOT_AFFECTED_SHOP = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 200, "bob": 404, "sam": 403}
CONFIRM_UNSURE = {"csirt": 200, "ciso": 403, "auditor": 403, "alice": 404, "bob": 404, "sam": 403}


def client_for(company, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.users()[username])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_list_is_scoped(company, findings, role):
    body = client_for(company, role).get("/api/findings/").json()
    assert {f["vulnerability"] for f in body["results"]} == LISTED[role]


@pytest.mark.parametrize("role", ROLES)
def test_not_affected_per_role(company, findings, role):
    response = client_for(company, role).post(
        f"/api/findings/{findings.struts.pk}/not-affected/",
        {"justification": "vulnerable_code_not_present", "note": "built without the parser"},
        format="json",
    )
    assert response.status_code == NOT_AFFECTED_SHOP[role], response.content
    if response.status_code == 200:
        assert response.json()["state"] == "not_affected" and response.json()["decided_by"] == role
        assert AuditEntry.objects.filter(object_type="findings.finding", via="api").count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_confirm_per_role(company, findings, role):
    response = client_for(company, role).post(f"/api/findings/{findings.unsure.pk}/confirm/")
    assert response.status_code == CONFIRM_UNSURE[role]


def test_an_administrator_cannot_reach_another_systems_finding(company, findings):
    response = client_for(company, "alice").post(f"/api/findings/{findings.postfix.pk}/reopen/")
    assert response.status_code == 404


def test_bad_decisions_are_problem_responses(company, findings):
    client = client_for(company, "csirt")
    response = client.post(
        f"/api/findings/{findings.struts.pk}/not-affected/", {"justification": "nope"}, format="json"
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert set(response.json()["fields"]) == {"justification", "note"}
    response = client.post(f"/api/findings/{findings.struts.pk}/reopen/")
    assert response.status_code == 400 and "only a finding marked not affected" in response.json()["detail"]
    response = client.post(f"/api/findings/{findings.struts.pk}/confirm/")
    assert response.status_code == 400 and "only low-confidence" in response.json()["detail"]


def test_read_only_token_cannot_decide(company, findings):
    from ismp.apps.accounts.services import issue_token
    from ismp.apps.audit.services import Actor

    _, secret = issue_token(Actor(company.csirt, "test"), company.csirt, name="ro", scope="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/findings/").status_code == 200
    response = client.post(f"/api/findings/{findings.unsure.pk}/confirm/")
    assert response.status_code == 403 and "read-only" in response.json()["detail"]


def test_filters_and_detail(company, findings):
    client = client_for(company, "csirt")
    assert [f["vulnerability"] for f in client.get("/api/findings/?needs_confirmation=true").json()["results"]] == [
        "CVE-2099-0666"
    ]
    assert client.get("/api/findings/?system=Mail gateway").json()["count"] == 1
    assert client.get("/api/findings/?organisation=WEB&confidence=high").json()["count"] == 1
    assert client.get("/api/findings/?vuln=cve-2017-5638").json()["count"] == 1
    assert client.get("/api/findings/?q=struts").json()["count"] == 2
    detail = client.get(f"/api/findings/{findings.unsure.pk}/").json()
    assert detail["needs_confirmation"] is True and detail["reason"] and detail["evidence"]
    assert client_for(company, "alice").get(f"/api/findings/{findings.unsure.pk}/").status_code == 404


def test_list_takes_a_constant_number_of_queries(company, findings):
    client = client_for(company, "csirt")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/findings/")
    for number in range(30):
        vuln = Vulnerability.objects.create(vuln_id=f"CVE-2020-{number:04d}")
        Finding.objects.create(
            system=company.mail,
            vulnerability=vuln,
            component=findings.postfix.component,
            component_key=findings.postfix.component_key,
            criterion="c",
            confidence="high",
            evidence="e",
            decided_by=company.csirt,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/api/findings/")
    assert len(many) == len(few)


def test_export_and_vex_downloads(company, findings):
    client = client_for(company, "alice")
    response = client.get("/api/findings/export/?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r["vulnerability"] for r in rows] == ["CVE-2017-5638"]
    response = client.get(f"/api/findings/vex/?system={company.shop.pk}&format=openvex")
    assert response.status_code == 200 and "openvex.json" in response["Content-Disposition"]
    assert json.loads(response.content)["statements"][0]["vulnerability"]["name"] == "CVE-2017-5638"
    assert client.get(f"/api/findings/vex/?system={company.mail.pk}").status_code == 404
    assert client.get(f"/api/findings/vex/?system={company.shop.pk}&format=spdx").status_code == 400
    assert client.get("/api/findings/export/?format=pdf").status_code == 400
