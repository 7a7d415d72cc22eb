"""Findings for the company fixture (tests/integration/conftest.py), created directly:

EC shop (alice administers, sam owns)   struts 2.3.5   CVE-2017-5638 high, open
                                                       CVE-2099-0666 low, open, unconfirmed (hostile text)
Mail gateway (bob administers)          postfix 3.1.0  CVE-2016-0001 medium, open
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ismp.apps.findings.models import Finding
from ismp.apps.vulns.models import Vulnerability

HOSTILE = '=HYPERLINK("http://evil.invalid","x")'


@dataclass
class Findings:
    struts: Finding
    unsure: Finding
    postfix: Finding


def make_finding(system, vuln: Vulnerability, *, confidence: str = "high", **extra) -> Finding:
    component = system.components.order_by("pk").first()
    fields = {
        "component": component,
        "component_key": component.key,
        "criterion": f"cpe:2.3:a:{component.vendor}:{component.product}:*:*:*:*:*:*:*:* versions up to (excluding) 9",
        "reason": "" if confidence == "high" else "the version could not be compared exactly",
        "evidence": f"{component.key} is within the affected range",
    }
    return Finding.objects.create(system=system, vulnerability=vuln, confidence=confidence, **(fields | extra))


@pytest.fixture
def findings(company) -> Findings:
    struts = Vulnerability.objects.create(
        vuln_id="CVE-2017-5638", title="Apache Struts Jakarta Multipart parser RCE", risk_level=5, cvss_score=10.0
    )
    hostile = Vulnerability.objects.create(vuln_id="CVE-2099-0666", title=HOSTILE, risk_level=3, cvss_score=5.0)
    postfix = Vulnerability.objects.create(vuln_id="CVE-2016-0001", title="Postfix something", risk_level=4)
    return Findings(
        struts=make_finding(company.shop, struts),
        unsure=make_finding(company.shop, hostile, confidence="low", evidence=HOSTILE),
        postfix=make_finding(company.mail, postfix, confidence="medium"),
    )
