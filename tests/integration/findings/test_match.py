"""Matching real NVD records against systems: findings with evidence, closed on upgrade, decisions kept."""

from __future__ import annotations

import json

import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.findings.models import Finding
from ismp.apps.findings.services import match_systems
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.models import System
from ismp.apps.vulns.services import import_feed

CSIRT = Actor(None, "test", label="csirt")


@pytest.fixture
def nvd_2014(db, shared_data):
    import_feed("nvd", [shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz"])


@pytest.fixture
def web(company):
    system = company.shop
    for cpe in ("cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*", "cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*"):
        inventory.save_component(CSIRT, system, {"cpe": cpe})
    return system


def findings(system: System) -> dict[str, Finding]:
    return {f.vulnerability.vuln_id: f for f in Finding.objects.filter(system=system).select_related("vulnerability")}


def test_shellshock_and_heartbleed_are_found_with_evidence(nvd_2014, web, company):
    report = match_systems()
    assert report.systems == 2 and report.findings_new > 0
    found = findings(web)
    shellshock, heartbleed = found["CVE-2014-6271"], found["CVE-2014-0160"]
    assert shellshock.confidence == "high" and "4.3" in shellshock.evidence and "gnu:bash" in shellshock.criterion
    assert heartbleed.confidence == "high" and heartbleed.component.version == "1.0.1f"
    assert not findings(company.mail).keys() & {"CVE-2014-6271", "CVE-2014-0160"}


def test_rematch_changes_nothing_and_an_upgrade_closes_the_finding(nvd_2014, web):
    match_systems()
    again = match_systems()
    assert again.findings_new == again.findings_closed == 0 and again.findings_unchanged > 0
    bash = web.components.get(product="bash")
    inventory.save_component(CSIRT, web, {"cpe": "cpe:2.3:a:gnu:bash:4.4:*:*:*:*:*:*:*"}, component=bash)
    match_systems([web.pk])
    shellshock = findings(web)["CVE-2014-6271"]
    assert shellshock.state == "closed" and "version changed" in shellshock.closed_reason


def test_a_not_affected_decision_survives_rematching(nvd_2014, web):
    match_systems()
    Finding.objects.filter(system=web, vulnerability__vuln_id="CVE-2014-0160").update(state="not_affected")
    match_systems()
    assert findings(web)["CVE-2014-0160"].state == "not_affected"


def test_cli_match_reports_json(nvd_2014, web, capsys):
    from ismp.cli.main import main

    assert main(["match", "--system", "EC shop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["systems"] == 1
    assert main(["match", "--system", "no such"]) == 66
