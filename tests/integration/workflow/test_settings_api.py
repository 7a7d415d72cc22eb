"""The urgency matrix and the response policy through the API: everyone reads, only the CSIRT changes, each
change a new audited version, bad cells refused with the cell named."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.workflow.models import ResponsePolicy, UrgencyMatrix


@pytest.fixture
def api():
    def as_(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return as_


def test_everyone_reads_the_matrix_and_policy(company, api):
    body = api(company.alice).get("/api/urgency-settings/").json()
    assert body["matrix"]["version"] == "design-default-1"
    assert body["matrix"]["cells"]["remote_tool"]["5"] == "S+"
    assert body["policy"]["deadline_days"] == {"S+": 1, "S-": 3, "A": 14, "B": 90}


def test_only_the_csirt_changes_them_and_each_change_is_a_version(company, api):
    cells = api(company.csirt).get("/api/urgency-settings/").json()["matrix"]["cells"]
    cells["remote_no_tool"]["5"] = "S+"
    assert (
        api(company.ciso)
        .post("/api/urgency-settings/matrix/", {"cells": cells, "note": "x"}, format="json")
        .status_code
        == 403
    )
    bad = {**cells, "not_remote": {**cells["not_remote"], "3": "Z"}}
    refused = api(company.csirt).post("/api/urgency-settings/matrix/", {"cells": bad, "note": "typo"}, format="json")
    assert refused.status_code == 400 and "not_remote, level 3" in refused.json()["detail"]
    changed = api(company.csirt).post(
        "/api/urgency-settings/matrix/", {"cells": cells, "note": "stricter"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["matrix"]["cells"]["remote_no_tool"]["5"] == "S+"
    assert UrgencyMatrix.objects.count() == 1
    policy = {"answer_days": {"S+": 1, "S-": 2, "A": 5, "B": 20}, "deadline_days": {"S+": 1, "S-": 3, "A": 10, "B": 60}}
    response = api(company.csirt).post(
        "/api/urgency-settings/policy/", {**policy, "business_days": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["policy"]["business_days"] is True
    assert ResponsePolicy.objects.count() == 1
    assert AuditEntry.objects.filter(object_type__in=("workflow.urgencymatrix", "workflow.responsepolicy")).count() == 2
