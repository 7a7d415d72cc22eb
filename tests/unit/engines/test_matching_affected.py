"""evaluate_affected on real records read through the real adapters from ../shared/data/vuln:
CVE JSON 5 (cisa-vulnrichment), OSV (osv-pypi), the Debian security tracker and JVN (MyJVN examples).

Only the records needed are read (matching lines are picked out of the jsonl files first), once per module.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, VulnRecord
from ismp.engines.feeds.cve5 import Cve5Adapter
from ismp.engines.feeds.debian import DebianAdapter
from ismp.engines.feeds.jvn import parse_response
from ismp.engines.feeds.osv import OsvAdapter
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.affected import AffectedResult, evaluate_affected
from ismp.engines.versions import compare

CVE5_FILES = {
    "CVE-2022-2097": "vulnrichment_1999-2022.jsonl.gz",
    "CVE-2023-34149": "vulnrichment_2023.jsonl.gz",
    "CVE-2024-0450": "vulnrichment_2024.jsonl.gz",
}
OSV_IDS = ("PYSEC-2024-47", "PYSEC-2022-42969")
DSA_IDS = ("DSA-5343-1", "DSA-2218-1")


def picked_lines(path: Path, needles: list[str], out: Path) -> Path:
    """The lines of a .jsonl.gz that contain one of ``needles``, written to ``out`` (a plain .jsonl)."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        out.write_text("".join(line for line in lines if any(n in line for n in needles)), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def cve5(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, VulnRecord]:
    folder = shared_data / "vuln" / "cisa-vulnrichment"
    tmp = tmp_path_factory.mktemp("cve5")
    records = {r.id: r for r in Cve5Adapter().read(folder / "raw")}  # CVE-2023-34362, CVE-2024-23897 …
    for cve, name in CVE5_FILES.items():
        picked = picked_lines(folder / name, [f'"cveId":"{cve}"'], tmp / f"{cve}.jsonl")
        records.update({r.id: r for r in Cve5Adapter().read(picked)})
    return records


@pytest.fixture(scope="module")
def osv(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, VulnRecord]:
    dump = shared_data / "vuln" / "osv-pypi" / "pypi_advisories.osv.jsonl.gz"
    picked = picked_lines(dump, [f'"id":"{i}"' for i in OSV_IDS], tmp_path_factory.mktemp("osv") / "picked.jsonl")
    return {r.id: r for r in OsvAdapter().read(picked)}


@pytest.fixture(scope="module")
def debian(shared_data: Path) -> dict[str, VulnRecord]:
    folder = shared_data / "vuln" / "debian-security-tracker"
    records = {r.id: r for r in DebianAdapter().read(folder / "DSA_list.txt") if r.id in DSA_IDS}
    records.update({r.id: r for r in DebianAdapter().read(folder / "tracker_json_excerpt.json")})
    return records


@pytest.fixture(scope="module")
def jvn(shared_data: Path) -> dict[str, VulnRecord]:
    examples = shared_data / "vuln" / "jvn" / "examples"
    records: dict[str, VulnRecord] = {}
    for path in (
        examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml",
        examples / "hnd" / "dataFeed_jvndb_detail_hnd.xml",
        examples / "oka" / "getVulnDetailInfo_oka_jvncsaf.json",
    ):
        records.update({r.id: r for r in parse_response(path.read_bytes(), path.name).records})
    return records


def cpe(vendor: str, product: str, version: str, part: str = "a") -> ComponentRecord:
    return ComponentRecord(line=1, cpe=f"cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:*:*:*")


def purl(text: str, line: int = 1) -> ComponentRecord:
    return ComponentRecord(line=line, purl=text)


def verdict(result: AffectedResult) -> list[tuple[str, str]]:
    """(confidence, criterion) of every match, plus ("cleared", reason) of every cleared component."""
    return [(m.confidence, m.criterion) for m in result.matches] + [("cleared", r) for r in result.cleared.values()]


ALIASES = {
    ("apache software foundation", "apache struts"): ("apache", "struts"),
    ("python software foundation", "cpython"): ("python", "cpython"),
    ("jenkins project", "jenkins"): ("jenkins", "jenkins"),
}


def canonical(vendor: str, product: str) -> tuple[str, str]:
    return ALIASES.get((vendor.lower(), product.lower()), (vendor, product))


# ------------------------------------------------------------------------------------------- CVE JSON 5


@pytest.mark.parametrize(
    ("product", "version", "expected"),
    [
        ("moveit_transfer", "2019.5", [("high", "affected: progress moveit_transfer <2020.0 (cve5)")]),
        ("moveit_transfer", "2020.0", []),  # lessThan is exclusive, and nothing else lists 2020.0
        ("moveit_transfer", "2020.1", [("high", "affected: progress moveit_transfer =2020.1 (cve5)")]),
        ("moveit_transfer", "2021.0.6", [("high", "affected: progress moveit_transfer >=2021.0,<2021.0.7 (cve5)")]),
        ("moveit_transfer", "2021.0.7", []),
        ("moveit_transfer", "2021.0", [("high", "affected: progress moveit_transfer >=2021.0,<2021.0.7 (cve5)")]),
        ("moveit_cloud", "14.1.6.97", [("high", "affected: progress moveit_cloud >=14.1.0.0,<=14.1.6.97 (cve5)")]),
        ("moveit_cloud", "14.1.6.98", []),  # lessThanOrEqual is inclusive, one past it is not
        ("moveit_cloud", "14.0.5.45", [("high", "affected: progress moveit_cloud =14.0.5.45 (cve5)")]),
    ],
)
def test_cve5_ranges_and_single_versions_moveit(cve5, product, version, expected):
    """CVE-2023-34362 (MOVEit Transfer SQL injection): custom lessThan and lessThanOrEqual ranges."""
    result = evaluate_affected(cve5["CVE-2023-34362"].affected, [cpe("progress", product, version)], source="cve5")
    assert verdict(result) == expected
    assert result.cleared == {}


def test_cve5_match_carries_evidence_and_reason(cve5):
    component = cpe("progress", "moveit_transfer", "2021.0.6")
    (match,) = evaluate_affected(cve5["CVE-2023-34362"].affected, [component], source="cve5").matches
    assert match.component == component
    assert match.evidence == (
        "affected: progress moveit_transfer >=2021.0,<2021.0.7 ∋ 2021.0.6 "
        "(component cpe:2.3:a:progress:moveit_transfer:2021.0.6:*:*:*:*:*:*:*)"
    )
    assert match.reason == "version 2021.0.6 lies within >=2021.0,<2021.0.7 (generic)"


JENKINS_DEFAULT = ("medium", "affected: jenkins jenkins * (defaultStatus affected) (cve5)")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.605", []),  # 0 ≤ v < 1.606 unaffected
        ("1.606", [JENKINS_DEFAULT]),
        ("2.426.2", [JENKINS_DEFAULT]),
        ("2.426.3", []),  # 2.426.3 ≤ v < 2.426.* (the whole 2.426 series) unaffected
        ("2.426.9", []),
        ("2.441", [JENKINS_DEFAULT]),
        ("2.442", []),  # 2.442 ≤ v < * unaffected
        ("2.500", []),
    ],
)
def test_cve5_default_status_affected_with_unaffected_ranges_jenkins(cve5, version, expected):
    """CVE-2024-23897 (Jenkins CLI file read): defaultStatus affected, unaffected maven ranges."""
    result = evaluate_affected(cve5["CVE-2024-23897"].affected, [cpe("jenkins", "jenkins", version)], source="cve5")
    assert verdict(result) == expected
    if expected:
        assert "source says other versions are affected" in result.matches[0].reason


def test_cve5_canonical_names_reach_the_cna_product(cve5):
    """The CNA names "Jenkins Project" / "Jenkins": only an alias makes it the component's jenkins:jenkins."""
    affected = cve5["CVE-2024-23897"].affected
    component = cpe("jenkins", "jenkins", "2.441")
    plain = evaluate_affected(affected, [component], source="cve5")
    aliased = evaluate_affected(affected, [component], source="cve5", canonical=canonical)
    assert [m.criterion for m in plain.matches] == ["affected: jenkins jenkins * (defaultStatus affected) (cve5)"]
    assert sorted(m.criterion for m in aliased.matches) == [
        "affected: Jenkins Project Jenkins * (defaultStatus affected) (cve5)",
        "affected: jenkins jenkins * (defaultStatus affected) (cve5)",
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.12.1", ["high affected: Python Software Foundation CPython >=3.12.0,<3.12.2 (cve5)",
                    "high affected: python cpython =3.12.1 (cve5)"]),
        ("3.12.2", []),  # the CNA's lessThan; defaultStatus unaffected
        ("3.13.0a2", ["high affected: Python Software Foundation CPython >=3.13.0a1,<3.13.0a3 (cve5)"]),
        ("3.13.0a3", []),  # PEP 440 order: the pre-release that fixed it
        ("3.8.18", ["high affected: Python Software Foundation CPython <3.8.19 (cve5)"]),
    ],
)  # fmt: skip
def test_cve5_version_type_python_uses_pep440(cve5, version, expected):
    """CVE-2024-0450 (CPython zipfile): versionType python, with pre-releases."""
    result = evaluate_affected(
        cve5["CVE-2024-0450"].affected, [cpe("python", "cpython", version)], source="cve5", canonical=canonical
    )
    assert sorted(f"{m.confidence} {m.criterion}" for m in result.matches) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.5.30", [("high", "affected: Apache Software Foundation Apache Struts <=2.5.30 (cve5)")]),
        ("2.5.31", [("high", "affected: Apache Software Foundation Apache Struts <=6.1.2 (cve5)")]),
        ("6.1.2", [("high", "affected: Apache Software Foundation Apache Struts <=6.1.2 (cve5)")]),
        ("6.2.0", [("medium", "affected: Apache Software Foundation Apache Struts * (defaultStatus affected) (cve5)")]),
    ],
)
def test_cve5_less_than_or_equal_is_inclusive_struts(cve5, version, expected):
    """CVE-2023-34149 (Struts): semver lessThanOrEqual, defaultStatus affected (as the CNA wrote it)."""
    result = evaluate_affected(
        cve5["CVE-2023-34149"].affected, [cpe("apache", "struts", version)], source="cve5", canonical=canonical
    )
    assert verdict(result) == expected


def test_cve5_versions_that_cannot_be_compared_give_low_saying_why():
    """A product listed only by git commits (as Linux kernel records do) cannot be checked: low."""
    product = AffectedProduct(
        vendor="Linux",
        product="Linux",
        default_status="unaffected",
        versions=(
            AffectedVersion("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", version_type="git", less_than="4bd9e2f5a"),
        ),
    )
    (match,) = evaluate_affected([product], [cpe("linux", "linux", "6.1.50", "o")], source="cve5").matches
    assert match.confidence == "low"
    assert "names commits, which have no order without the repository" in match.reason


def test_undecidable_statements_give_way_to_a_decided_one(cve5):
    """CVE-2022-2097: the CNA's free text ("Fixed in OpenSSL 1.1.1q (Affected 1.1.1-1.1.1p)") cannot be read,
    the ADP's range can: only the ADP's verdict is reported."""
    result = evaluate_affected(cve5["CVE-2022-2097"].affected, [cpe("openssl", "openssl", "1.1.1q")], source="cve5")
    assert verdict(result) == []
    result = evaluate_affected(cve5["CVE-2022-2097"].affected, [cpe("openssl", "openssl", "1.1.1n")], source="cve5")
    assert verdict(result) == [("high", "affected: openssl openssl >=1.1.1,<1.1.1q (cve5)")]


def test_placeholder_names_match_nothing(cve5):
    """CVE JSON 5 records converted from MITRE's list name vendor and product "n/a"."""
    affected = cve5["CVE-2023-44487"].affected
    assert any(p.vendor == "n/a" for p in affected)
    assert verdict(evaluate_affected(affected, [ComponentRecord(1, vendor="n/a", product="n/a")], source="cve5")) == []


# ------------------------------------------------------------------------------------------------- OSV


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.1.14", []),
        ("3.2", ["pkg:pypi/django >=3.2,<3.2.25 (osv PYSEC-2024-47)"]),  # introduced is inclusive
        ("3.2.24", ["pkg:pypi/django >=3.2,<3.2.25 (osv PYSEC-2024-47)"]),
        ("3.2.25", []),  # fixed is exclusive
        ("4.1.13", []),  # between two ranges
        ("4.2.10", ["pkg:pypi/django >=4.2,<4.2.11 (osv PYSEC-2024-47)"]),
        ("4.2.11", []),
        ("5.0.2", ["pkg:pypi/django >=5.0,<5.0.3 (osv PYSEC-2024-47)"]),
        ("5.0.3", []),
    ],
)
def test_osv_introduced_fixed_django(osv, version, expected):
    """PYSEC-2024-47 (CVE-2024-27351, Django Truncator ReDoS): three introduced/fixed pairs."""
    component = purl(f"pkg:pypi/Django@{version}")
    result = evaluate_affected(osv["PYSEC-2024-47"].affected, [component], source="osv", advisory="PYSEC-2024-47")
    assert [m.criterion for m in result.matches] == expected
    assert all(m.confidence == "high" for m in result.matches)
    assert result.cleared == {}  # PyPI is not a distribution: outside the range is simply no match


def test_osv_last_affected_is_inclusive(osv):
    """PYSEC-2022-42969 (CVE-2022-42969, py ReDoS): introduced 0, last_affected 1.11.0."""
    affected = osv["PYSEC-2022-42969"].affected
    result = evaluate_affected(affected, [purl("pkg:pypi/py@1.11.0"), purl("pkg:pypi/py@1.11.1", 2)], source="osv")
    assert verdict(result) == [("high", "pkg:pypi/py <=1.11.0 (osv)")]
    assert result.matches[0].evidence == "pkg:pypi/py <=1.11.0 ∋ 1.11.0 (component pkg:pypi/py@1.11.0)"


def test_osv_package_name_must_match(osv):
    affected = osv["PYSEC-2024-47"].affected
    assert verdict(evaluate_affected(affected, [purl("pkg:pypi/django-extensions@4.2.10")], source="osv")) == []
    assert verdict(evaluate_affected(affected, [purl("pkg:npm/django@4.2.10")], source="osv")) == []


# ---------------------------------------------------------------------------------------------- Debian

OPENSSL_DEB = "pkg:deb/debian/libssl1.1@{}?arch=amd64&distro=debian-11&upstream=openssl"


def test_debian_backport_clears_what_the_upstream_range_matches(cve5, debian):
    """CVE-2022-2097: upstream says OpenSSL 1.1.1 ≤ v < 1.1.1q; Debian 11's 1.1.1n-0+deb11u4 carries the fix
    (DSA-5343-1). The same component: in the upstream range by its CPE, cleared by Debian."""
    component = ComponentRecord(
        line=7, cpe="cpe:2.3:a:openssl:openssl:1.1.1n:*:*:*:*:*:*:*", purl=OPENSSL_DEB.format("1.1.1n-0+deb11u4")
    )
    assert "CVE-2022-2097" in debian["DSA-5343-1"].aliases
    upstream = evaluate_affected(cve5["CVE-2022-2097"].affected, [component], source="cve5")
    assert verdict(upstream) == [("high", "affected: openssl openssl >=1.1.1,<1.1.1q (cve5)")]
    fixed = evaluate_affected(debian["DSA-5343-1"].affected, [component], source="debian", advisory="DSA-5343-1")
    assert fixed.matches == []
    assert fixed.cleared == {
        component.key: "fixed in 1.1.1n-0+deb11u4 (Debian 11, DSA-5343-1); version 1.1.1n-0+deb11u4 is at or "
        "after the fix in dpkg order"
    }


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (OPENSSL_DEB.format("1.1.1n-0+deb11u3"), [("high", "pkg:deb/debian/openssl <1.1.1n-0+deb11u4 (debian DSA-5343-1, Debian 11)")]),
        (OPENSSL_DEB.format("1.1.1n-0+deb11u5"), [("cleared", "fixed in 1.1.1n-0+deb11u4 (Debian 11, DSA-5343-1); version 1.1.1n-0+deb11u5 is at or after the fix in dpkg order")]),
        ("pkg:deb/debian/openssl@1.1.1n-0+deb11u4?distro=bullseye", [("cleared", "fixed in 1.1.1n-0+deb11u4 (Debian 11, DSA-5343-1); version 1.1.1n-0+deb11u4 is at or after the fix in dpkg order")]),
        ("pkg:deb/debian/openssl@1.1.1n-0+deb11u3", [("high", "pkg:deb/debian/openssl <1.1.1n-0+deb11u4 (debian DSA-5343-1, Debian 11)")]),  # release from +deb11u
        ("pkg:deb/debian/openssl@3.0.8-1?distro=debian-12", []),  # DSA-5343-1 says nothing about Debian 12
        ("pkg:deb/ubuntu/openssl@1.1.1n-0+deb11u3?distro=debian-11", []),  # another distribution
        ("pkg:deb/debian/openssl@1.1.1n-0+deb11u3~bpo", [("high", "pkg:deb/debian/openssl <1.1.1n-0+deb11u4 (debian DSA-5343-1, Debian 11)")]),
    ],
)  # fmt: skip
def test_debian_fixed_version_per_release(debian, component, expected):
    result = evaluate_affected(debian["DSA-5343-1"].affected, [purl(component)], source="debian", advisory="DSA-5343-1")
    assert verdict(result) == expected


def test_debian_not_affected_is_cleared(debian):
    """DSA-2218-1 (vlc): "[lenny] - vlc <not-affected> (Vulnerable code not present)"."""
    component = purl("pkg:deb/debian/vlc@0.9.14-1?distro=debian-5.0.10")
    result = evaluate_affected(debian["DSA-2218-1"].affected, [component], source="debian", advisory="DSA-2218-1")
    assert verdict(result) == [("cleared", "not affected in Debian 5.0 (DSA-2218-1): version 0.9.14-1 needs no fix")]


def test_debian_open_is_affected_without_a_fix(debian):
    """Tracker JSON: librsync CVE-2014-8242 is "open" in buster."""
    component = purl("pkg:deb/debian/librsync2@0.9.7-10?distro=debian-10&upstream=librsync")
    result = evaluate_affected(debian["CVE-2014-8242"].affected, [component], source="debian", advisory="CVE-2014-8242")
    assert verdict(result) == [("medium", "pkg:deb/debian/librsync unfixed (debian CVE-2014-8242, Debian 10)")]
    assert "no fix yet" in result.matches[0].reason


# ------------------------------------------------------------------------------------------------- JVN


def test_jvn_product_without_versions_is_low(jvn):
    """JVNDB-2017-009608 lists PCU (cpe:/h:pcu:pcu) without versions."""
    component = cpe("pcu", "pcu", "1.0", "h")
    (match,) = evaluate_affected(jvn["JVNDB-2017-009608"].affected, [component], source="jvn").matches
    assert (match.confidence, match.criterion) == ("low", "affected: PCU PCU (no versions) (jvn)")
    assert "matched by product name only" in match.reason and "confirm" in match.reason


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0.5", "high >=0.0.0,<1.0.6"),
        ("1.0.6", None),
        ("2.1.0", "high >=2.1.0,<=2.1.3"),
        ("2.1.3", "high >=2.1.0,<=2.1.3"),
        ("2.1.4", None),
        ("3.1.1c", "high >=3.1.1a,<3.1.1d"),
        ("3.1.1d", None),
        ("8.1.2", "high =8.1.2"),
    ],
)
def test_jvn_csaf_ranges_as_cve5(jvn, version, expected):
    """JVN's CSAF example (JVNDB-2025-000000): semver lt/le ranges, a custom range and a single version."""
    result = evaluate_affected(
        jvn["JVNDB-2025-000000"].affected, [cpe("dendai.ac.jp", "myjvn_api", version)], source="jvn"
    )
    found = [f"{m.confidence} {m.criterion.split(' API ', 1)[1].removesuffix(' (jvn)')}" for m in result.matches]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(("version", "expected"), [("7.6.1", ["medium"]), ("7.6.2", []), ("7.6.10", [])])
def test_jvn_free_text_before_version_is_read_as_a_range(jvn, version, expected):
    """JVNDB-2025-000003 (FortiWeb): "7.6.2より前のバージョン" (versions before 7.6.2)."""
    result = evaluate_affected(jvn["JVNDB-2025-000003"].affected, [cpe("fortinet", "fortiweb", version)], source="jvn")
    assert [m.confidence for m in result.matches] == expected
    if expected:
        assert result.matches[0].criterion == "affected: フォーティネット Fortiweb <7.6.2 (jvn)"
        assert "read from the free text '7.6.2より前のバージョン'" in result.matches[0].reason


# ---------------------------------------------------------------------------------------------- general


def test_component_without_version_is_low(osv):
    result = evaluate_affected(
        osv["PYSEC-2024-47"].affected, [ComponentRecord(1, purl="pkg:pypi/django")], source="osv"
    )
    assert [m.confidence for m in result.matches] == ["low"]
    assert "has no version" in result.matches[0].reason


versions = st.tuples(*(st.integers(0, 12) for _ in range(3))).map(lambda t: ".".join(map(str, t)))


@given(
    version=versions, low=versions, high=versions, inclusive=st.booleans(), kind=st.sampled_from(["semver", "custom"])
)
def test_property_a_range_holds_exactly_the_versions_between_its_bounds(version, low, high, inclusive, kind):
    bound = {"less_than_or_equal": high} if inclusive else {"less_than": high}
    product = AffectedProduct(
        vendor="acme", product="widget", versions=(AffectedVersion(low, version_type=kind, **bound),)
    )
    result = evaluate_affected([product], [cpe("acme", "widget", version)], source="cve5")
    top = compare(version, high, "semver")
    assert top is not None
    inside = compare(version, low, "semver") in (0, 1) and (top <= 0 if inclusive else top < 0)
    assert [m.confidence for m in result.matches] == (["high"] if inside else [])


@given(version=versions, fixed=versions, revision=st.integers(1, 3))
def test_property_debian_component_is_either_affected_or_cleared(version, fixed, revision):
    product = AffectedProduct(
        package_name="foo", ecosystem="Debian:12", default_status="affected", fixed_version=f"{fixed}-{revision}"
    )
    component = purl(f"pkg:deb/debian/foo@{version}-1?distro=bookworm")
    result = evaluate_affected([product], [component], source="debian")
    order = compare(f"{version}-1", f"{fixed}-{revision}", "dpkg")
    assert order is not None
    assert (len(result.matches), len(result.cleared)) == ((1, 0) if order < 0 else (0, 1))


def test_canonical_is_applied_to_both_sides():
    calls: list[tuple[str, str]] = []

    def spy(vendor: str, product: str) -> tuple[str, str]:
        calls.append((vendor, product))
        return ("same", "thing")

    product = AffectedProduct(vendor="Vendor Inc.", product="Widget Pro", default_status="affected")
    component = ComponentRecord(1, vendor="vendor", product="widget_pro", version="2.0")
    mapping: Callable[[str, str], tuple[str, str]] = spy
    result = evaluate_affected([product], [component], source="cve5", canonical=mapping)
    assert [m.confidence for m in result.matches] == ["medium"]  # no versions, defaultStatus affected
    assert ("Vendor Inc.", "Widget Pro") in calls and ("vendor", "widget_pro") in calls
