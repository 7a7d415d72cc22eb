"""Matching beyond NVD configurations, through the service on real records: CNA ranges (CVE JSON 5) under
the CNA's own names, OSV package ranges, and Debian backports that clear an upstream range match."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.findings.models import Finding
from ismp.apps.findings.services import match_systems
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.models import System
from ismp.apps.vulns.services import import_feed

CSIRT = Actor(None, "test", label="csirt")
OPENSSL = "cpe:2.3:a:openssl:openssl:1.1.1n:*:*:*:*:*:*:*"
LIBSSL = "pkg:deb/debian/libssl1.1@{}?arch=amd64&distro=debian-11&upstream=openssl"


def picked(path: Path, needles: list[str], out: Path) -> Path:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        out.write_text("".join(line for line in lines if any(n in line for n in needles)), encoding="utf-8")
    return out


@pytest.fixture
def feeds(db, shared_data, tmp_path):
    vulnrichment = shared_data / "vuln" / "cisa-vulnrichment"
    import_feed(
        "cve5",
        [picked(vulnrichment / "vulnrichment_1999-2022.jsonl.gz", ['"cveId":"CVE-2022-2097"'], tmp_path / "a.jsonl")],
    )
    import_feed(
        "cve5",
        [picked(vulnrichment / "vulnrichment_2023.jsonl.gz", ['"cveId":"CVE-2023-34149"'], tmp_path / "b.jsonl")],
    )
    osv = shared_data / "vuln" / "osv-pypi" / "pypi_advisories.osv.jsonl.gz"
    import_feed("osv", [picked(osv, ['"id":"PYSEC-2024-47"'], tmp_path / "osv.jsonl")])
    dsa = (shared_data / "vuln" / "debian-security-tracker" / "DSA_list.txt").read_text(encoding="utf-8")
    start = dsa.index("[07 Feb 2023] DSA-5343-1")
    (tmp_path / "DSA_list.txt").write_text(dsa[start : dsa.index("\n[", start + 1) + 1], encoding="utf-8")
    import_feed("debian", [tmp_path / "DSA_list.txt"])


def add(system: System, **fields: str) -> None:
    inventory.save_component(CSIRT, system, fields)


def found(system: System) -> dict[str, Finding]:
    return {f.vulnerability.vuln_id: f for f in Finding.objects.filter(system=system).select_related("vulnerability")}


def test_debian_backport_clears_the_upstream_range(feeds, company):
    add(company.shop, cpe=OPENSSL, purl=LIBSSL.format("1.1.1n-0+deb11u4"))  # the fix backported
    add(company.mail, cpe=OPENSSL, purl=LIBSSL.format("1.1.1n-0+deb11u3"))  # before the fix
    match_systems()
    assert "CVE-2022-2097" not in found(company.shop)
    before_fix = found(company.mail)["CVE-2022-2097"]
    assert before_fix.confidence == "high" and before_fix.state == "open"


def test_a_backport_installed_later_closes_the_finding_saying_why(feeds, company):
    add(company.shop, cpe=OPENSSL, purl=LIBSSL.format("1.1.1n-0+deb11u3"))
    match_systems()
    assert found(company.shop)["CVE-2022-2097"].state == "open"
    component = company.shop.components.get(product="openssl")
    inventory.save_component(
        CSIRT, company.shop, {"cpe": OPENSSL, "purl": LIBSSL.format("1.1.1n-0+deb11u4")}, component=component
    )
    match_systems()
    finding = found(company.shop)["CVE-2022-2097"]
    assert finding.state == "closed"


def test_osv_range_matches_a_pypi_package(feeds, company):
    add(company.shop, purl="pkg:pypi/django@4.2.10")
    add(company.mail, purl="pkg:pypi/django@4.2.11")
    match_systems()
    [finding] = [f for f in found(company.shop).values() if "django" in f.criterion]
    assert finding.confidence == "high"
    assert finding.criterion == "pkg:pypi/django >=4.2,<4.2.11 (osv PYSEC-2024-47)"
    assert not [f for f in found(company.mail).values() if "django" in f.criterion]


def test_cna_names_reach_an_nvd_named_component(feeds, company):
    # CVE-2023-34149: the CNA writes "Apache Software Foundation" / "Apache Struts"; the system has apache:struts
    add(company.shop, cpe="cpe:2.3:a:apache:struts:2.5.30:*:*:*:*:*:*:*")
    add(company.mail, cpe="cpe:2.3:a:apache:struts:6.1.2.1:*:*:*:*:*:*:*")
    match_systems()
    finding = found(company.shop)["CVE-2023-34149"]
    assert (
        finding.confidence == "high"
        and finding.criterion == "affected: Apache Software Foundation Apache Struts <=2.5.30 (cve5 CVE-2023-34149)"
    )
    # the CNA lists no range past 6.1.2 but says every other version is affected (defaultStatus): medium
    assert found(company.mail)["CVE-2023-34149"].confidence == "medium"
