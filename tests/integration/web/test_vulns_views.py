"""Vulnerability intelligence in the web interface and the API: the search and each of its filters, one
vulnerability with every source side by side, the feeds' health; login required, every role reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ismp.apps.vulns.models import (
    AffectedProductIndex,
    ChangeEvent,
    EpssScore,
    ExploitEvidence,
    FeedState,
    SourceRecord,
    Vulnerability,
)
from ismp.engines.feeds.base import (
    AffectedProduct,
    AffectedVersion,
    ConfigNode,
    Configuration,
    CpeMatch,
    CvssMetric,
    Reference,
    VulnRecord,
)
from ismp.engines.feeds.registry import registry

Company = Any  # tests/integration/conftest.py's company fixture

STRUTS, SHELLSHOCK, LOCAL, PYSEC = "CVE-2017-5638", "CVE-2014-6271", "CVE-2023-0001", "PYSEC-2021-9999"
STRUTS_JA = "Apache Struts2 において任意のコードを実行される脆弱性"
STRUTS_JA_TEXT = "Apache Struts2 の Jakarta Multipart パーサには、任意のコードを実行される脆弱性が存在します。"
STRUTS_EN = "Apache Struts 2 Jakarta Multipart parser remote code execution"
FILTER_PARAMETERS = (
    "search",
    "product",
    "cwe",
    "kev",
    "exploit",
    "epss_min",
    "risk_level",
    "attack_vector",
    "ordering",
)
V30 = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"


def _time(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _vuln(vuln_id: str, *records: VulnRecord, **summary: Any) -> Vulnerability:
    """A merged vulnerability and its source records, as ``services.import_feed`` leaves them."""
    vuln = Vulnerability.objects.create(vuln_id=vuln_id, sources=sorted({r.source for r in records}), **summary)
    for record in records:
        stored = SourceRecord.objects.create(
            source=record.source,
            source_id=record.id,
            modified=record.modified,
            digest=record.id,
            data=msgspec.json.encode(record).decode(),
        )
        stored.vulnerabilities.add(vuln)
    return vuln


def _index(vuln: Vulnerability, source: str, *products: tuple[str, str]) -> None:
    AffectedProductIndex.objects.bulk_create(
        AffectedProductIndex(vulnerability=vuln, source=source, vendor=v, product=p) for v, p in products
    )


def _struts() -> None:
    nvd = VulnRecord(
        source="nvd",
        id=STRUTS,
        published=_time("2017-03-11T02:59:00"),
        modified=_time("2024-11-21T03:28:00"),
        descriptions={"en": "The Jakarta Multipart parser in Apache Struts 2 2.3.x before 2.3.32 mishandles …"},
        cvss=(
            CvssMetric("3.0", V30, 10.0, "CRITICAL", "nvd@nist.gov"),
            CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH", "nvd@nist.gov"),
        ),
        cwes=("CWE-20",),
        references=(
            Reference("https://www.exploit-db.com/exploits/41570/", ("Exploit", "Third Party Advisory")),
            Reference("javascript:alert(document.cookie)"),  # feed data is not trusted
        ),
        configurations=(
            Configuration(
                operator="AND",
                nodes=(
                    ConfigNode(
                        "OR",
                        matches=(
                            CpeMatch(
                                "cpe:2.3:a:apache:struts:*:*:*:*:*:*:*:*",
                                version_start_including="2.3.5",
                                version_end_excluding="2.3.32",
                            ),
                        ),
                        children=(ConfigNode("OR", matches=(CpeMatch("cpe:2.3:a:apache:struts:2.5:*:*:*:*:*:*:*"),)),),
                    ),
                    ConfigNode(
                        "OR",
                        negate=True,
                        matches=(CpeMatch("cpe:2.3:a:oracle:jre:1.6.0:*:*:*:*:*:*:*", vulnerable=False),),
                    ),
                ),
            ),
        ),
    )
    cve5 = VulnRecord(
        source="cve5",
        id=STRUTS,
        modified=_time("2024-08-02T15:00:00"),
        titles={"en": STRUTS_EN},
        descriptions={"en": "The Jakarta Multipart parser in Apache Struts 2 has incorrect exception handling."},
        cvss=(CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "CISA-ADP"),),
        affected=(
            AffectedProduct(
                vendor="Apache Software Foundation",
                product="Apache Struts",
                default_status="unaffected",
                versions=(AffectedVersion("2.3.5", "affected", "semver", less_than="2.3.32"),),
            ),
        ),
        ssvc_exploitation="active",
        ssvc_automatable="yes",
        ssvc_technical_impact="total",
    )
    jvn = VulnRecord(
        source="jvn",
        id="JVNDB-2017-001621",
        aliases=(STRUTS,),
        modified=_time("2019-07-17T00:00:00"),
        titles={"ja": STRUTS_JA},
        descriptions={"ja": STRUTS_JA_TEXT},
        cvss=(CvssMetric("3.0", V30, 10.0, "CRITICAL", "jvndb"),),
        severity="緊急",
    )
    vuln = _vuln(
        STRUTS,
        nvd,
        cve5,
        jvn,
        aliases=["JVNDB-2017-001621"],
        title=STRUTS_EN,
        title_ja=STRUTS_JA,
        description="The Jakarta Multipart parser in Apache Struts 2 has incorrect exception handling.",
        description_ja=STRUTS_JA_TEXT,
        published=_time("2017-03-11T02:59:00"),
        cvss_version="3.0",
        cvss_score=10.0,
        cvss_vector=V30,
        cvss_source="nvd@nist.gov",
        attack_vector="NETWORK",
        risk_level=5,
        severity_basis="CVSS 3.0 10 (nvd@nist.gov) → 5",
        cwes=["CWE-20"],
        ssvc_exploitation="active",
        ssvc_automatable="yes",
        ssvc_technical_impact="total",
    )
    _index(vuln, "nvd", ("apache", "struts"))
    _index(vuln, "cve5", ("apache software foundation", "apache struts"))
    ExploitEvidence.objects.bulk_create(
        [
            ExploitEvidence(
                vuln_id=STRUTS,
                source="kev",
                reference="2021.11.03",
                name="Apache Struts Jakarta Multipart Parser File Upload RCE",
                date=dt.date(2021, 11, 3),
                due=dt.date(2022, 5, 3),
                details={
                    "knownRansomwareCampaignUse": "Known",
                    "requiredAction": "Apply updates per vendor instructions.",
                },
            ),
            ExploitEvidence(vuln_id=STRUTS, source="exploitdb", reference="41570", date=dt.date(2017, 3, 7)),
            ExploitEvidence(
                vuln_id=STRUTS,
                source="metasploit",
                reference="exploit/multi/http/struts2_content_type_ognl",
                name="Apache Struts Jakarta Multipart Parser OGNL Injection",
                details={"type": "exploit", "path": "modules/exploits/multi/http/struts2_content_type_ognl.rb"},
            ),
        ]
    )
    EpssScore.objects.create(
        vuln_id=STRUTS, score=0.97565, percentile=0.99996, date=dt.date(2025, 12, 26), previous_score=0.9
    )
    ChangeEvent.objects.create(vuln_id=STRUTS, kind="new_vulnerability", source="nvd", details={"risk_level": 5})
    ChangeEvent.objects.create(vuln_id=STRUTS, kind="added_to_kev", source="kev", details={"reference": "2021.11.03"})


def _shellshock() -> None:
    nvd = VulnRecord(
        source="nvd",
        id=SHELLSHOCK,
        descriptions={"en": "GNU Bash through 4.3 processes trailing strings after function definitions …"},
        cvss=(CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov"),),
        cwes=("CWE-78",),
    )
    debian = VulnRecord(
        source="debian",
        id="DSA-3032-1",
        aliases=(SHELLSHOCK,),
        titles={"en": "bash -- security update"},
        affected=(AffectedProduct(package_name="bash", ecosystem="Debian:7", fixed_version="4.2+dfsg-0.1+deb7u1"),),
    )
    vuln = _vuln(
        SHELLSHOCK,
        nvd,
        debian,
        aliases=["DSA-3032-1"],
        description="GNU Bash through 4.3 processes trailing strings after function definitions …",
        published=_time("2014-09-24T18:48:00"),
        cvss_version="3.1",
        cvss_score=9.8,
        attack_vector="NETWORK",
        risk_level=5,
        cwes=["CWE-78"],
    )
    _index(vuln, "nvd", ("gnu", "bash"))
    _index(vuln, "debian", ("", "bash"))
    ExploitEvidence.objects.create(vuln_id=SHELLSHOCK, source="kev", reference="2022.01.28", date=dt.date(2022, 1, 28))
    ExploitEvidence.objects.create(vuln_id=SHELLSHOCK, source="exploitdb", reference="34765")
    EpssScore.objects.create(vuln_id=SHELLSHOCK, score=0.974, percentile=0.9995)


def _local() -> None:
    nvd = VulnRecord(source="nvd", id=LOCAL, titles={}, descriptions={"en": "Example Widget out-of-bounds write."})
    vuln = _vuln(
        LOCAL,
        nvd,
        description="Example Widget out-of-bounds write.",
        published=_time("2023-01-10T09:00:00"),
        cvss_version="3.1",
        cvss_score=5.5,
        attack_vector="LOCAL",
        risk_level=3,
        cwes=["CWE-787"],
    )
    _index(vuln, "nvd", ("example", "widget"))
    # analyst evidence: an exploit is known, but the vulnerability is not in KEV
    ExploitEvidence.objects.create(vuln_id=LOCAL, source="analyst", reference="ticket-42")
    EpssScore.objects.create(vuln_id=LOCAL, score=0.0004, percentile=0.1)


def _pysec() -> None:
    osv = VulnRecord(
        source="osv",
        id=PYSEC,
        published=_time("2021-05-01T00:00:00"),
        descriptions={"en": "Header injection in Django's mail helpers."},
        affected=(
            AffectedProduct(
                package_name="django",
                ecosystem="PyPI",
                purl="pkg:pypi/django",
                versions=(AffectedVersion("0", "affected", "ECOSYSTEM", less_than="3.2.1"),),
            ),
        ),
    )
    vuln = _vuln(PYSEC, osv, description="Header injection in Django's mail helpers.", published=osv.published)
    _index(vuln, "osv", ("", "django"))


@pytest.fixture
def vulns(db: None) -> None:
    _struts()
    _shellshock()
    _local()
    _pysec()


@pytest.fixture
def csirt(company: Company) -> Client:
    client = Client()
    client.force_login(company.csirt)
    return client


@pytest.fixture
def japanese(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"


@pytest.fixture
def english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def feeds(monkeypatch: pytest.MonkeyPatch, db: None) -> None:
    """Three registered sources (whatever adapters exist): nvd failed, kev imported, epss never run."""
    monkeypatch.setattr(registry, "names", lambda: ["epss", "kev", "nvd"])
    now = timezone.now()
    FeedState.objects.create(
        source="nvd",
        last_attempt=now,
        last_success=now - dt.timedelta(days=2),
        watermark="2026-11-24T00:00:00Z",
        records=126553,
        last_error="nvdcve-1.1-2018.json.gz, line 3: not a JSON object",
    )
    FeedState.objects.create(
        source="kev",
        last_attempt=now,
        last_success=now,
        watermark="2026.11.25",
        records=1484,
        last_report={"source": "kev", "files": ["kev.json"], "records_read": 1484, "evidence_new": 3, "events": 3},
    )


def _ids(client: Client, query: str = "") -> list[str]:
    response = client.get(reverse("web:vuln-list") + query)
    assert response.status_code == 200
    return [v.vuln_id for v in response.context["page"].object_list]


# ------------------------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {STRUTS, SHELLSHOCK, LOCAL, PYSEC}),
        ("?search=CVE-2017-5638", {STRUTS}),
        ("?search=cve-2014", {SHELLSHOCK}),
        ("?search=JVNDB-2017-001621", {STRUTS}),  # a source record's id
        ("?search=PYSEC-2021-9999", {PYSEC}),
        ("?search=DSA-3032-1", {SHELLSHOCK}),
        ("?search=jakarta+multipart", {STRUTS}),  # every word, in English
        ("?search=任意のコード", {STRUTS}),  # Japanese text
        ("?search=jakarta+bash", set()),
        ("?product=struts", {STRUTS}),
        ("?product=apache:struts", {STRUTS}),
        ("?product=gnu", {SHELLSHOCK}),  # a vendor
        ("?product=bash", {SHELLSHOCK}),
        ("?product=django", {PYSEC}),
        ("?cwe=78", {SHELLSHOCK}),
        ("?cwe=cwe-20", {STRUTS}),
        ("?cwe=CWE-2", set()),  # a whole CWE id, not a prefix
        ("?kev=true", {STRUTS, SHELLSHOCK}),
        ("?kev=false", {LOCAL, PYSEC}),
        ("?exploit=true", {STRUTS, SHELLSHOCK, LOCAL}),  # any evidence, analyst's included
        ("?exploit=false", {PYSEC}),
        ("?epss_min=0.5", {STRUTS, SHELLSHOCK}),
        ("?epss_min=0.975", {STRUTS}),
        ("?risk_level=3", {LOCAL}),
        ("?risk_level=1", {PYSEC}),
        ("?attack_vector=LOCAL", {LOCAL}),
        ("?attack_vector=NETWORK&kev=true&product=bash", {SHELLSHOCK}),
        ("?published_from=2017-01-01", {STRUTS, LOCAL, PYSEC}),
        ("?published_from=2017-01-01&published_to=2021-12-31", {STRUTS, PYSEC}),
        # invalid values filter nothing
        ("?kev=maybe&epss_min=abc&risk_level=9&attack_vector=x&published_from=soon&order=bogus&page=99", None),
    ],
)
def test_each_filter_narrows_the_search(vulns, csirt, query, expected):
    assert set(_ids(csirt, query)) == (expected if expected is not None else {STRUTS, SHELLSHOCK, LOCAL, PYSEC})


def test_published_range_is_in_days_of_the_local_time_zone(vulns, csirt, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # Shellshock: 2014-09-24 18:48 UTC is 2014-09-25 03:48 in Tokyo
    assert _ids(csirt, "?published_to=2014-09-25") == [SHELLSHOCK]  # the last day is included
    assert _ids(csirt, "?published_to=2014-09-24") == []
    assert _ids(csirt, "?published_from=2014-09-25&published_to=2014-09-25") == [SHELLSHOCK]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("", [LOCAL, PYSEC, STRUTS, SHELLSHOCK]),  # newest first
        ("published", [SHELLSHOCK, STRUTS, PYSEC, LOCAL]),
        ("-cvss", [STRUTS, SHELLSHOCK, LOCAL, PYSEC]),
        ("cvss", [LOCAL, SHELLSHOCK, STRUTS, PYSEC]),  # unknown scores last either way
        ("-epss", [STRUTS, SHELLSHOCK, LOCAL, PYSEC]),
        ("-risk_level", [STRUTS, SHELLSHOCK, LOCAL, PYSEC]),
    ],
)
def test_search_sorts(vulns, csirt, order, expected):
    assert _ids(csirt, f"?order={order}") == expected


def test_list_shows_kev_exploits_epss_and_the_japanese_title(vulns, csirt, japanese):
    body = csirt.get(reverse("web:vuln-list") + "?search=CVE-2017-5638").content.decode()
    assert STRUTS_JA in body and STRUTS_EN not in body
    assert 'class="badge risk risk-5"' in body and "10.0" in body and "v3.0" in body
    assert 'class="badge kev"' in body and "2021-11-03" in body and "2022-05-03" in body
    assert "Exploit-DB" in body and "Metasploit" in body
    assert "0.976" in body and "1.000" in body  # EPSS score and percentile
    assert "脆弱性情報" in body and 'aria-current="page"' in body  # the navigation entry


def test_list_shows_the_english_title_in_english(vulns, csirt, english):
    body = csirt.get(reverse("web:vuln-list") + "?search=CVE-2017-5638").content.decode()
    assert STRUTS_EN in body and STRUTS_JA not in body and "Vulnerabilities" in body


def test_htmx_request_gets_only_the_table(vulns, csirt):
    response = csirt.get(reverse("web:vuln-list") + "?kev=true", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and STRUTS in body and PYSEC not in body
    assert 'hx-swap-oob="true"' in body and "HX-Request" in response["Vary"]
    full = csirt.get(reverse("web:vuln-list")).content.decode()
    assert "<html" in full and 'hx-get="/vulns/"' in full and 'hx-target="#vuln-table"' in full


def _make_vulns(first: int, count: int) -> None:
    """``count`` vulnerabilities, each in KEV, with two exploits and an EPSS score."""
    ids = [f"CVE-2020-{n:05d}" for n in range(first, first + count)]
    Vulnerability.objects.bulk_create(
        Vulnerability(vuln_id=i, title=f"bulk {i}", cvss_version="3.1", cvss_score=7.5, risk_level=4) for i in ids
    )
    ExploitEvidence.objects.bulk_create(
        ExploitEvidence(vuln_id=i, source=s, reference=f"{s}-{i}", date=dt.date(2024, 1, 1))
        for i in ids
        for s in ("kev", "exploitdb", "metasploit")
    )
    EpssScore.objects.bulk_create(EpssScore(vuln_id=i, score=0.5, percentile=0.9) for i in ids)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", ["", "?order=-epss&kev=true&exploit=true&epss_min=0.1"])
def test_search_runs_a_constant_number_of_queries(company, csirt, django_assert_max_num_queries, query):
    url = reverse("web:vuln-list") + query
    _make_vulns(0, 2)
    few = _queries(csirt, url)
    _make_vulns(2, 58)
    with django_assert_max_num_queries(few):
        response = csirt.get(url)
    assert len(response.context["page"].object_list) == 50
    assert response.content.decode().count('class="badge kev"') == 50


# ------------------------------------------------------------------------------------------- detail


def test_detail_shows_every_source_side_by_side(vulns, csirt, japanese):
    response = csirt.get(reverse("web:vuln-detail", args=[STRUTS]))
    assert response.status_code == 200
    assert [s["source"] for s in response.context["sources"]] == ["cve5", "jvn", "nvd"]
    body = response.content.decode()
    assert body.count('class="card source-card') == 3 and 'class="sources-row"' in body
    for label, source_id in (("NVD", STRUTS), ("CVE (CNA)", STRUTS), ("JVN iPedia", "JVNDB-2017-001621")):
        assert f'<span class="badge source-badge">{label}</span>' in body and source_id in body
    # each source in its own language, with its own scores
    assert f'lang="ja"><span class="lang">ja</span> {STRUTS_JA}' in body and STRUTS_JA_TEXT in body
    assert f'lang="en"><span class="lang">en</span> {STRUTS_EN}' in body
    assert "CISA-ADP" in body and "jvndb" in body and "緊急" in body
    assert "https://jvndb.jvn.jp/ja/contents/2017/JVNDB-2017-001621.html" in body
    assert "https://nvd.nist.gov/vuln/detail/CVE-2017-5638" in body
    # CVE JSON 5: the affected product with its version range
    assert "Apache Struts" in body and "≥ 2.3.5, &lt; 2.3.32" in body and "影響あり" in body
    # the merged summary and why the risk level is what it is
    assert "CVSS 3.0 10 (nvd@nist.gov) → 5" in body and "リスクレベル" in body


def test_detail_renders_the_nvd_configuration_tree(vulns, csirt, japanese):
    body = csirt.get(reverse("web:vuln-detail", args=[STRUTS])).content.decode()
    assert '<span class="op op-and"' in body and '<span class="op op-or"' in body
    assert '<span class="op op-not"' in body and 'class="config-node negated"' in body
    assert 'class="cpe-match running-on"' in body and "動作環境" in body
    assert "cpe:2.3:a:oracle:jre:1.6.0" in body
    assert "≥ 2.3.5, &lt; 2.3.32" in body
    # the child node is rendered inside its parent
    parent = body.index("cpe:2.3:a:apache:struts:*:")
    assert parent < body.index("cpe:2.3:a:apache:struts:2.5:") < body.index("cpe:2.3:a:oracle:jre")


def test_detail_shows_evidence_epss_ssvc_and_changes(vulns, csirt, english):
    body = csirt.get(reverse("web:vuln-detail", args=[STRUTS])).content.decode()
    assert 'href="https://www.exploit-db.com/exploits/41570/"' in body
    assert (
        'href="https://www.cisa.gov/known-exploited-vulnerabilities-catalog?search_api_fulltext=CVE-2017-5638"' in body
    )
    assert (
        'href="https://github.com/rapid7/metasploit-framework/blob/master/modules/exploits/multi/http/'
        'struts2_content_type_ognl.rb"' in body
    )
    assert "Used by ransomware" in body and "Apply updates per vendor instructions." in body
    assert "2022-05-03" in body  # KEV due date
    assert "0.97565" in body and "0.90000" in body  # EPSS and the score before
    assert 'class="badge ssvc-active"' in body and "total" in body
    assert "added to KEV" in body and "new vulnerability" in body


def test_detail_links_only_to_web_addresses(vulns, csirt):
    body = csirt.get(reverse("web:vuln-detail", args=[STRUTS])).content.decode()
    assert "javascript:alert(document.cookie)" in body and 'href="javascript:' not in body


def test_detail_of_distribution_and_osv_records(vulns, csirt):
    body = csirt.get(reverse("web:vuln-detail", args=[SHELLSHOCK])).content.decode()
    assert "DSA-3032-1" in body and "4.2+dfsg-0.1+deb7u1" in body and "Debian:7" in body
    assert "https://security-tracker.debian.org/tracker/DSA-3032-1" in body
    body = csirt.get(reverse("web:vuln-detail", args=[PYSEC])).content.decode()
    assert (
        "pkg:pypi/django" in body and "&lt; 3.2.1" in body and "https://osv.dev/vulnerability/PYSEC-2021-9999" in body
    )


def test_unknown_vulnerability_is_404(vulns, csirt):
    assert csirt.get(reverse("web:vuln-detail", args=["CVE-1999-0000"])).status_code == 404


@pytest.mark.parametrize("other_id", ["JVNDB-2017-001621", "cve-2017-5638"])
def test_another_id_redirects_to_the_vulnerability(vulns, csirt, other_id):
    response = csirt.get(reverse("web:vuln-detail", args=[other_id]))
    assert response.status_code == 302 and response["Location"] == reverse("web:vuln-detail", args=[STRUTS])


def test_feed_status_shows_each_source_and_the_error(feeds, company, csirt, japanese):
    response = csirt.get(reverse("web:feed-status"))
    assert response.status_code == 200
    assert [f["source"] for f in response.context["feeds"]] == ["epss", "kev", "nvd"]
    body = response.content.decode()
    assert 'class="feed-failed"' in body and 'role="alert"' in body
    assert "nvdcve-1.1-2018.json.gz, line 3: not a JSON object" in body
    assert "2026.11.25" in body and "1484" in body and "kev.json" in body
    assert "未取込" in body  # epss never imported


# --------------------------------------------------------------------------------------- who reads


@pytest.mark.parametrize("role", ["csirt", "ciso", "auditor", "alice", "bob", "sam"])
def test_every_role_reads_vulnerability_intelligence(vulns, feeds, company, role):
    client = Client()
    client.force_login(company.users()[role])
    for url in (
        reverse("web:vuln-list"),
        reverse("web:vuln-detail", args=[STRUTS]),
        reverse("web:feed-status"),
    ):
        assert client.get(url).status_code == 200, url
    api = APIClient()
    api.force_authenticate(company.users()[role])
    assert api.get("/api/vulns/").json()["count"] == 4


def test_login_is_required(vulns):
    for url in (reverse("web:vuln-list"), reverse("web:vuln-detail", args=[STRUTS]), reverse("web:feed-status")):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:login")), url
    for url in ("/api/vulns/", f"/api/vulns/{STRUTS}/", "/api/feeds/"):
        assert APIClient().get(url).status_code in (401, 403), url


def test_inactive_user_reads_nothing(vulns, company):
    from ismp.apps.vulns.queries import vulnerability_list

    company.bob.is_active = False
    assert not vulnerability_list(company.bob).exists()


# ---------------------------------------------------------------------------------------------- API


@pytest.fixture
def api(company: Company) -> APIClient:
    client = APIClient()
    client.force_authenticate(company.csirt)
    return client


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=JVNDB-2017-001621", [STRUTS]),
        ("search=任意のコード", [STRUTS]),
        ("product=bash", [SHELLSHOCK]),
        ("cwe=787", [LOCAL]),
        ("kev=true&ordering=-epss", [STRUTS, SHELLSHOCK]),
        ("kev=false&ordering=published", [PYSEC, LOCAL]),
        ("exploit=false", [PYSEC]),
        ("epss_min=0.975", [STRUTS]),
        ("risk_level=3", [LOCAL]),
        ("attack_vector=NETWORK&ordering=cvss", [SHELLSHOCK, STRUTS]),
        ("published_from=2021-01-01", [LOCAL, PYSEC]),
    ],
)
def test_api_list_filters(vulns, api, query, expected):
    body = api.get(f"/api/vulns/?{query}").json()
    assert [v["vuln_id"] for v in body["results"]] == expected


def test_api_list_row(vulns, api):
    (row,) = api.get("/api/vulns/?search=CVE-2017-5638").json()["results"]
    assert row["risk_level"] == 5 and row["cvss_score"] == 10.0 and row["attack_vector"] == "NETWORK"
    assert (row["in_kev"], row["kev_added"], row["kev_due"]) == (True, "2021-11-03", "2022-05-03")
    assert row["has_exploitdb"] and row["has_metasploit"]
    assert (row["epss_score"], row["epss_percentile"]) == (0.97565, 0.99996)
    assert row["title_ja"] == STRUTS_JA and row["cwes"] == ["CWE-20"]


def test_api_detail(vulns, api):
    response = api.get(f"/api/vulns/{STRUTS}/")
    assert response.status_code == 200
    body = response.json()
    assert body["vulnerability"]["vuln_id"] == STRUTS and body["vulnerability"]["risk_level"] == 5
    assert [(s["source"], s["source_id"]) for s in body["sources"]] == [
        ("cve5", STRUTS),
        ("jvn", "JVNDB-2017-001621"),
        ("nvd", STRUTS),
    ]
    nvd = body["sources"][2]["record"]
    assert nvd["configurations"][0]["operator"] == "AND" and nvd["configurations"][0]["nodes"][1]["negate"]
    assert body["sources"][1]["record"]["titles"] == {"ja": STRUTS_JA}
    assert {(e["source"], e["reference"]) for e in body["evidence"]} == {
        ("kev", "2021.11.03"),
        ("exploitdb", "41570"),
        ("metasploit", "exploit/multi/http/struts2_content_type_ognl"),
    }
    assert body["epss"] == {"score": 0.97565, "percentile": 0.99996, "date": "2025-12-26", "previous_score": 0.9}
    # another source's id finds the same vulnerability
    assert api.get("/api/vulns/JVNDB-2017-001621/").json()["vulnerability"]["vuln_id"] == STRUTS


def test_api_unknown_vulnerability_is_a_404_problem(vulns, api):
    response = api.get("/api/vulns/CVE-1999-0000/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not-found"


def test_api_is_read_only(vulns, api):
    assert api.post("/api/vulns/", {"vuln_id": "CVE-2099-0001"}, format="json").status_code in (403, 405)
    assert api.delete(f"/api/vulns/{STRUTS}/").status_code in (403, 405)
    assert Vulnerability.objects.count() == 4


def test_api_feeds(feeds, api):
    rows = {r["source"]: r for r in api.get("/api/feeds/").json()}
    assert list(rows) == ["epss", "kev", "nvd"]
    assert rows["nvd"]["last_error"].startswith("nvdcve-1.1-2018.json.gz") and rows["nvd"]["records"] == 126553
    assert rows["kev"]["last_report"]["evidence_new"] == 3 and rows["epss"]["last_success"] is None


def test_openapi_schema_documents_the_endpoints(company, api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/vulns/{vuln_id}/" in schema["paths"] and "/api/feeds/" in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/vulns/"]["get"]["parameters"]}
    assert set(FILTER_PARAMETERS) <= names
