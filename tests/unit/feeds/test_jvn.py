"""JVN iPedia through the MyJVN API: the real hnd (XML) and oka (JSON) examples, fixtures, hostile input."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.jvn import JvnApiError, JvnResponse, JvnStatus, parse_response, read_records
from ismp.engines.feeds.registry import registry
from ismp.errors import InputError

JST = dt.timezone(dt.timedelta(hours=9))
# Parametrisation happens before fixtures exist; this mirrors tests/conftest.py::shared_data_dir.
EXAMPLES = (
    Path(os.environ.get("ISMP_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))
    / "vuln"
    / "jvn"
    / "examples"
)
REAL_FILES = sorted(EXAMPLES.glob("*/*")) if EXAMPLES.is_dir() else []
SUPPORTED = "getVulnDetailInfo"  # every refusal lists what is read


@pytest.fixture
def examples(shared_data: Path) -> Path:
    return shared_data / "vuln" / "jvn" / "examples"


@pytest.fixture
def jvn_fixtures(fixtures: Path) -> Path:
    return fixtures / "feeds" / "jvn"


def parse(path: Path) -> JvnResponse:
    return parse_response(path.read_bytes(), path.name)


def only(path: Path) -> VulnRecord:
    (record,) = parse(path).records
    return record


def cpe23(product: AffectedProduct) -> tuple[str, ...]:
    """The CPE 2.3 forms of a product, which hnd (2.2 URI + 2.3) and oka (2.3) share."""
    return tuple(cpe for cpe in product.cpes if cpe.startswith("cpe:2.3:") and "%" not in cpe)


def essentials(record: VulnRecord) -> dict[str, object]:
    """What the hnd and oka forms of one JVNDB entry must agree on."""
    return {
        "id": record.id,
        "aliases": record.aliases,
        "titles": record.titles,
        "descriptions": record.descriptions,
        "published": record.published,
        "modified": record.modified,
        "severity": record.severity,
        "cwes": record.cwes,
        "references": record.references,
        "cvss_v3": [m for m in record.cvss if m.version.startswith("3")],
        "affected": [(p.vendor, p.product, cpe23(p), p.versions) for p in record.affected],
    }


# --- the registered adapter ----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_registered_adapter_streams_the_records_parse_response_returns(examples: Path) -> None:
    adapter = registry.get("jvn")
    path = examples / "hnd" / "dataFeed_jvndb_detail_hnd.xml"

    assert adapter.name == "jvn"
    assert list(adapter.read(path)) == list(parse(path).records)


# --- getVulnDetailInfo, hnd (VULDEF 3.2) ------------------------------------------------------------------


@pytest.mark.shared_data
def test_detail_jvndb_2017_009608(examples: Path) -> None:
    response = parse(examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml")
    (record,) = response.records

    assert (response.format, response.method) == ("vuldef-3.2", "getVulnDetailInfo")
    assert (response.total_res, response.total_res_ret, response.first_res, response.next_start_item) == (1, 1, 1, None)
    assert record.source == "jvn"
    assert record.id == "JVNDB-2017-009608"
    assert record.aliases == ("CVE-2017-14937",)
    assert record.titles == {"ja": "エアバッグコントロールユニットにおける暗号アルゴリズムの使用に関する脆弱性"}
    assert record.descriptions == {
        "ja": "2014 年以降に製造された不特定の乗用車のエアバッグコントロールユニット (別名 pyrotechnical control unit "
        "または PCU) には、暗号アルゴリズムの使用に関する脆弱性が存在します。"
    }
    assert record.cvss == (
        CvssMetric("2.0", "AV:L/AC:M/Au:N/C:P/I:N/A:N", 1.9, "LOW", "jvndb"),
        CvssMetric("3.0", "CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N", 4.7, "MEDIUM", "jvndb"),
    )
    assert record.severity == ""
    assert record.cwes == ("CWE-327",)
    assert record.published == dt.datetime(2017, 11, 16, 15, 6, 40, tzinfo=JST)
    assert record.modified == dt.datetime(2017, 11, 16, 15, 6, 40, tzinfo=JST)
    assert record.affected == (
        AffectedProduct(vendor="PCU", product="PCU", cpes=("cpe:/h:pcu:pcu", "cpe:2.3:h:pcu:pcu:*:*:*:*:*:*:*:*")),
    )
    assert record.references == (
        Reference("http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-14937", ("advisory",)),
        Reference("https://nvd.nist.gov/vuln/detail/CVE-2017-14937", ("advisory",)),
        Reference(
            "http://www.mmt.hs-karlsruhe.de/downloads/IEEM/Schwachstellen/PCU_Vulnerability_Description_HsKA.PDF",
            ("advisory",),
        ),
    )


@pytest.mark.shared_data
def test_detail_jvndb_2018_009328(examples: Path) -> None:
    record = only(examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2018-009328.xml")
    versions = tuple(AffectedVersion(v) for v in ("7.7", "8.0", "8.1"))

    assert record.id == "JVNDB-2018-009328"
    assert record.aliases == ()  # JVN lists vendor advisories only, no CVE
    assert record.titles == {"ja": "JP1/VERITAS 製品における複数の脆弱性"}
    assert record.descriptions == {"ja": "JP1/VERITAS 製品に複数の脆弱性が存在します。"}  # trailing blanks dropped
    assert record.cvss == (
        CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH", "jvndb"),
        CvssMetric("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "jvndb"),
    )
    assert record.cwes == ("CWE-noinfo",)
    assert record.published == dt.datetime(2018, 11, 15, 16, 17, 27, tzinfo=JST)
    assert record.modified == dt.datetime(2018, 11, 20, 12, 12, 4, tzinfo=JST)
    assert record.affected == (
        AffectedProduct(
            vendor="ベリタス",
            product="Veritas NetBackup",
            cpes=("cpe:/a:veritas:netbackup", "cpe:2.3:a:veritas:netbackup:*:*:*:*:*:*:*:*"),
            versions=versions,
        ),
        AffectedProduct(
            vendor="日立",
            product="JP1/VERITAS NetBackup",
            cpes=("cpe:/a:hitachi:jp1_veritas_netbackup", "cpe:2.3:a:hitachi:jp1_veritas_netbackup:*:*:*:*:*:*:*:*"),
            versions=versions,
        ),
    )
    assert [r.tags for r in record.references] == [("vendor",)] * 4


@pytest.mark.shared_data
def test_detail_data_feed_holds_seven_entries_and_agrees_with_the_single_responses(examples: Path) -> None:
    response = parse(examples / "hnd" / "dataFeed_jvndb_detail_hnd.xml")
    by_id = {record.id: record for record in response.records}

    assert list(by_id) == [
        "JVNDB-2025-000001",
        "JVNDB-2025-000002",
        "JVNDB-2025-000003",
        "JVNDB-2017-009608",
        "JVNDB-2018-009328",
        "JVNDB-2021-002774",
        "JVNDB-2022-000097",
    ]
    assert (response.total_res, response.total_res_ret, response.first_res, response.next_start_item) == (
        2346,
        2346,
        None,
        None,
    )
    for vulinfo_id in ("JVNDB-2017-009608", "JVNDB-2018-009328"):
        assert by_id[vulinfo_id] == only(examples / "hnd" / f"getVulnDetailInfo_hnd_{vulinfo_id}.xml")
    aterm = by_id["JVNDB-2025-000002"]
    assert aterm.aliases == ("CVE-2025-0354", "CVE-2025-0355", "CVE-2025-0356")
    assert aterm.cwes == ("CWE-78", "CWE-Other", "CWE-79")
    assert aterm.descriptions["ja"].startswith(
        "日本電気株式会社が提供するAtermシリーズには、次の複数の脆弱性が存在します。<ul>"
    )
    serverprotect = by_id["JVNDB-2021-002774"]
    assert serverprotect.cvss == ()  # no Cvss element at all
    assert serverprotect.affected[0].versions[0] == AffectedVersion("for EMC Celerra 5.8 (Build 1577) 未満")
    assert "regs=jp&prodid=1317" in serverprotect.references[1].url  # &amp; decoded


# --- getVulnOverviewList, hnd (JVNRSS 3.2) ----------------------------------------------------------------


@pytest.mark.shared_data
def test_overview_list_items_and_paging(examples: Path) -> None:
    response = parse(examples / "hnd" / "getVulnOverviewList_hnd.xml")

    assert (response.format, response.method) == ("jvnrss-3.2", "getVulnOverviewList")
    assert len(response.records) == 2
    assert (response.total_res, response.total_res_ret, response.first_res) == (6, 2, 1)
    assert response.next_start_item == 3
    first, second = response.records
    assert first.id == "JVNDB-2025-002953"
    assert first.titles == {
        "ja": "WordPress 用 Sunshine Photo Cart における信頼できないデータのデシリアライゼーションに関する脆弱性"
    }
    assert first.aliases == ("CVE-2025-31084",)
    assert first.cvss == (CvssMetric("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "jvndb"),)
    assert first.cwes == ("CWE-502",)
    assert first.published == first.modified == dt.datetime(2025, 4, 4, 14, 45, 58, tzinfo=JST)
    assert first.affected == (
        AffectedProduct(
            vendor="Sunshine Photo Cart",
            product="Sunshine Photo Cart",
            cpes=(
                "cpe:/a:sunshinephotocart:sunshine_photo_cart",
                "cpe:2.3:a:sunshinephotocart:sunshine_photo_cart:*:*:*:*:*:*:*:*",
            ),
        ),
    )
    assert [r.url for r in first.references] == [
        "https://www.cve.org/CVERecord?id=CVE-2025-31084",
        "https://nvd.nist.gov/vuln/detail/CVE-2025-31084",
        "https://patchstack.com/database/wordpress/plugin/sunshine-photo-cart/vulnerability/"
        "wordpress-sunshine-photo-cart-3-4-10-php-object-injection-vulnerability?_s_id=cve",
    ]
    assert second.cvss == () and second.severity == ""
    assert second.affected[0].cpes == (
        "cpe:/a:rockwellautomation:industrial_data_center_%28idc%29_with_veeam",
        "cpe:2.3:a:rockwellautomation:industrial_data_center_\\(idc\\)_with_veeam:*:*:*:*:*:*:*:*",
    )


# --- the oka (JSON) feed agrees with hnd ----------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("vulinfo_id", "oka_file", "fmt"),
    [
        ("JVNDB-2017-009608", "getVulnDetailInfo_oka_JVNDB-2017-009608.json", "myjvn-csaf-1.0"),
        ("JVNDB-2017-009608", "getVulnDetailInfo_oka_JVNDB-2017-009608_jvnstix.json", "myjvn-stix-1.0"),
        ("JVNDB-2018-009328", "getVulnDetailInfo_oka_JVNDB-2018-009328.json", "myjvn-csaf-1.0"),
    ],
)
def test_oka_detail_agrees_with_hnd_detail(examples: Path, vulinfo_id: str, oka_file: str, fmt: str) -> None:
    hnd = only(examples / "hnd" / f"getVulnDetailInfo_hnd_{vulinfo_id}.xml")
    response = parse(examples / "oka" / oka_file)
    (oka,) = response.records

    assert response.format == fmt
    assert (response.total_res, response.total_res_ret, response.first_res) == (1, 1, 1)
    assert essentials(oka) == essentials(hnd)


@pytest.mark.shared_data
def test_oka_2017_009608_agrees_on_every_cvss_metric_and_differs_only_in_the_cpe_uri(examples: Path) -> None:
    hnd = only(examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml")
    oka = only(examples / "oka" / "getVulnDetailInfo_oka_JVNDB-2017-009608.json")

    assert oka.cvss == hnd.cvss
    assert oka.affected[0].cpes == ("cpe:2.3:h:pcu:pcu:*:*:*:*:*:*:*:*",)  # oka has no 2.2 URI


@pytest.mark.shared_data
def test_oka_2018_009328_cvss_v2_is_read_as_published_although_upstream_disagrees(examples: Path) -> None:
    # The upstream oka example gives a different v2 vector (and severity) from the hnd one for the same
    # entry; each is read as published, nothing is reconciled here.
    hnd = only(examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2018-009328.xml")
    oka = only(examples / "oka" / "getVulnDetailInfo_oka_JVNDB-2018-009328.json")

    assert hnd.cvss[0] == CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH", "jvndb")
    assert oka.cvss[0] == CvssMetric("2.0", "AV:N/AC:M/Au:N/C:N/I:P/A:N", 10.0, "CRITICAL", "jvndb")


@pytest.mark.shared_data
def test_oka_overview_list_agrees_with_hnd_where_the_examples_overlap(examples: Path) -> None:
    response = parse(examples / "oka" / "getVulnOverviewList_oka.json")
    hnd = {r.id: r for r in parse(examples / "hnd" / "getVulnOverviewList_hnd.xml").records}

    assert response.format == "myjvn-feed-1.0"
    assert [r.id for r in response.records] == ["JVNDB-2025-000000", "JVNDB-2025-002953", "JVNDB-2025-002884"]
    assert (response.total_res, response.total_res_ret, response.first_res, response.next_start_item) == (6, 4, 1, 5)
    sunshine, rockwell = response.records[1], response.records[2]
    assert essentials(sunshine) == essentials(hnd["JVNDB-2025-002953"])
    # oka writes the 2.3 CPE with the URI's %28/%29; its standard form is the one derived from hnd's URI
    assert [cpe23(p) for p in rockwell.affected] == [cpe23(p) for p in hnd["JVNDB-2025-002884"].affected]
    assert rockwell.affected[0].cpes[0] == (
        "cpe:2.3:a:rockwellautomation:industrial_data_center_%28idc%29_with_veeam:*:*:*:*:*:*:*:*"
    )


@pytest.mark.shared_data
def test_oka_csaf_reads_jvn_extension_version_ranges_and_cvss_v4(examples: Path) -> None:
    csaf = only(examples / "oka" / "getVulnDetailInfo_oka_jvncsaf.json")

    assert csaf == only(examples / "oka" / "getVulnDetailInfo_oka_jvnstix.json")
    assert csaf.id == "JVNDB-2025-000000"
    assert csaf.aliases == ("CVE-2025-0000",)
    assert [(m.version, m.base_score) for m in csaf.cvss] == [("2.0", 10.0), ("3.0", 9.8), ("4.0", 9.5)]
    (product,) = csaf.affected
    assert (product.vendor, product.product, product.purl) == (
        "東京電機大学",
        "マイジェイブイエヌ API",
        "pkg:rpm/dendai.ac.jp/myjvn_api",
    )
    assert product.cpes == (
        "cpe:2.3:a:dendai.ac.jp:myjvn_api:*:*:*:*:*:*:*:*",
        "cpe:2.3:a:dendai.ac.jp:myjvn_api:4.0.0:*:*:*:*:*:*:*",
    )
    assert product.versions == (
        AffectedVersion("8.1.2"),
        AffectedVersion("0.0.0", version_type="semver", less_than="1.0.6"),
        AffectedVersion("2.1.0", version_type="semver", less_than_or_equal="2.1.3"),
        AffectedVersion("3.1.1a", version_type="custom", less_than="3.1.1d"),
    )


# --- every real example ---------------------------------------------------------------------------------

EXPECTED: dict[str, int | tuple[int | None, str]] = {
    # file: number of records, or (line, words the InputError must contain)
    "hnd/getVulnDetailInfo_hnd_JVNDB-2017-009608.xml": 1,
    "hnd/getVulnDetailInfo_hnd_JVNDB-2018-009328.xml": 1,
    "hnd/getVulnOverviewList_hnd.xml": 2,
    "hnd/dataFeed_jvndb_detail_hnd.xml": 7,
    "hnd/dataFeed_jvndb_rss_hnd.xml": (116, "not well-formed"),
    "hnd/dataFeed_myjvn_product_hnd.xml": (None, "getVendorList or getProductList"),
    "hnd/dataFeed_myjvn_vendor_hnd.xml": (None, "getVendorList or getProductList"),
    "hnd/getVendorList_hnd.xml": (None, "getVendorList or getProductList"),
    "hnd/getProductList_hnd.xml": (None, "getVendorList or getProductList"),
    "hnd/getAlertList_hnd.xml": (None, "getAlertList"),
    "hnd/getAlertList_hnd.json": (None, "getAlertList"),
    "hnd/getStatistics_hnd_sumAll.xml": (None, "getStatistics"),
    "hnd/getStatistics_hnd_sumCvss.xml": (None, "getStatistics"),
    "hnd/getStatistics_hnd_sumCwe.xml": (None, "getStatistics"),
    "hnd/getStatistics_hnd_sumJvnDb.xml": (None, "getStatistics"),
    "oka/getVulnDetailInfo_oka_JVNDB-2017-009608.json": 1,
    "oka/getVulnDetailInfo_oka_JVNDB-2017-009608_jvnstix.json": 1,
    "oka/getVulnDetailInfo_oka_JVNDB-2018-009328.json": 1,
    "oka/getVulnDetailInfo_oka_jvncsaf.json": 1,
    "oka/getVulnDetailInfo_oka_jvnstix.json": 1,
    "oka/getVulnOverviewList_oka.json": 3,
    "oka/dataFeed_jvndb_rss_oka.json": 3,
    "oka/dataFeed_jvndb_detail_oka.json": (1377, "not valid JSON"),
    "oka/dataFeed_myjvn_product_oka.json": (143, "not valid JSON"),
    "oka/dataFeed_myjvn_product_version_oka.json": (178, "not valid JSON"),
    "oka/dataFeed_myjvn_vendor_oka.json": (None, "vendor or product list"),
    "oka/getVendorList_oka.json": (None, "vendor or product list"),
    "oka/getProductList_oka.json": (None, "vendor or product list"),
    "oka/getAlertList_oka.json": (None, "getAlertList"),
    "oka/getStatistics_oka.json": (None, "getStatistics"),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("path", REAL_FILES, ids=[f"{p.parent.name}/{p.name}" for p in REAL_FILES])
def test_every_real_example_parses_or_raises_input_error(path: Path, shared_data: Path) -> None:
    key = f"{path.parent.name}/{path.name}"
    try:
        streamed = list(read_records(path))
    except InputError as error:
        streamed_error: InputError | None = error
    else:
        streamed_error = None
    try:
        response = parse(path)
    except InputError as error:
        expected = EXPECTED[key]
        assert isinstance(expected, tuple), f"{key} should parse: {error}"
        line, words = expected
        assert words in error.reason
        assert error.location.file == path.name
        assert error.location.line == line
        assert streamed_error is not None and streamed_error.reason == error.reason
        if line is None:  # refusals say what is read instead
            assert SUPPORTED in error.reason
        return
    assert EXPECTED[key] == len(response.records)
    assert streamed_error is None and streamed == list(response.records)
    assert all(record.source == "jvn" and record.id and record.titles for record in response.records)


@pytest.mark.shared_data
def test_every_real_example_has_an_expected_outcome(examples: Path) -> None:
    assert sorted(f"{p.parent.name}/{p.name}" for p in examples.glob("*/*")) == sorted(EXPECTED)


@pytest.mark.shared_data
def test_streaming_yields_the_records_before_a_malformed_status_block(examples: Path) -> None:
    seen: list[str] = []
    with pytest.raises(InputError) as raised:
        for record in read_records(examples / "hnd" / "dataFeed_jvndb_rss_hnd.xml"):
            seen.append(record.id)

    assert seen == ["JVNDB-2023-028579", "JVNDB-2023-028578", "JVNDB-2023-028577", "JVNDB-2023-028576"]
    assert raised.value.location.line == 116


# --- fixtures: encodings, English, schema features, CSAF 2.0, error responses ----------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(("declared", "codec"), [("Shift_JIS", "cp932"), ("EUC-JP", "euc_jp")])
def test_declared_japanese_encodings_give_the_same_record(
    examples: Path, tmp_path: Path, declared: str, codec: str
) -> None:
    # re-encoded here rather than committed: the JVN iPedia text stays in ../shared/data only
    source = examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml"
    text = source.read_bytes().replace(b'encoding="UTF-8"', f'encoding="{declared}"'.encode()).decode("utf-8")
    path = tmp_path / f"getVulnDetailInfo_hnd_JVNDB-2017-009608.{codec}.xml"
    path.write_bytes(text.encode(codec))
    original = only(source)

    assert only(path) == original
    assert list(read_records(path)) == [original]


@pytest.mark.shared_data
def test_utf16_with_its_declaration_gives_the_same_record(examples: Path) -> None:
    data = (examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml").read_bytes()
    utf16 = data.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode("utf-8").encode("utf-16")

    assert parse_response(utf16, "utf16.xml").records == parse_response(data, "utf8.xml").records


def test_english_vuldef_with_ranges_statuses_and_severity_only(jvn_fixtures: Path) -> None:
    response = parse(jvn_fixtures / "vuldef-en-ranges.xml")
    (record,) = response.records

    assert record.titles == {"en": "Example Router vulnerable to OS command injection"}
    assert record.descriptions == {
        "en": "Example Router provided by Example Corp. contains an OS command injection vulnerability."
    }
    assert (record.cvss, record.severity) == ((), "High")
    assert record.cwes == ("CWE-78",)
    assert record.aliases == ("CVE-2099-0001",)
    assert record.modified == dt.datetime(2099, 1, 3, 10, 0, tzinfo=JST)  # no offset: JST
    router, lite = record.affected
    assert router.default_status == "affected"
    assert router.versions == (
        AffectedVersion("0", less_than="2.0.4"),
        AffectedVersion("0", less_than_or_equal="1.9.9"),
        AffectedVersion("3.0", less_than="3.2.1"),
        AffectedVersion("4.0"),
    )
    assert (lite.default_status, lite.versions) == ("unaffected", ())
    assert (response.total_res, response.total_res_ret, response.first_res, response.next_start_item) == (
        25,
        10,
        11,
        21,
    )


def test_plain_csaf_2_0_leaves_out_fixed_products(jvn_fixtures: Path) -> None:
    response = parse(jvn_fixtures / "csaf-2.0.json")
    (record,) = response.records

    assert (response.format, response.status) == ("csaf-2.0", None)
    assert record.id == "JVNVU#99999999"
    assert record.titles == {"en": "Example Viewer vulnerable to path traversal"}
    assert record.cvss == (CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N", 6.5, "MEDIUM", "jvndb"),)
    assert record.cwes == ("CWE-22",)
    assert record.affected == (
        AffectedProduct(
            vendor="Example Corp.",
            product="Example Viewer",
            cpes=("cpe:/a:example:viewer:1.2.0", "cpe:2.3:a:example:viewer:1.2.0:*:*:*:*:*:*:*"),
            versions=(AffectedVersion("1.2.0"),),
        ),
    )


@pytest.mark.parametrize(
    ("name", "code", "message", "method"),
    [
        ("error-response_hnd.xml", "MJ-E-0001", "パラメタ maxCountItem の値が不正です", "getVulnOverviewList"),
        ("error-response_oka.json", "MJ-E-0002", "パラメタ vulnId の値が不正です", "getVulnDetailInfo"),
    ],
)
def test_myjvn_error_response_carries_the_api_code_and_message(
    jvn_fixtures: Path, name: str, code: str, message: str, method: str
) -> None:
    with pytest.raises(JvnApiError) as raised:
        parse(jvn_fixtures / name)

    error = raised.value
    assert isinstance(error, InputError)
    assert (error.error_code, error.error_message, error.method) == (code, message, method)
    assert code in str(error) and message in str(error)


# --- hostile and broken input, generated ----------------------------------------------------------------

VULDEF_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
VULDEF_ROOT = (
    '<VULDEF-Document version="{version}" xmlns="http://jvn.jp/vuldef/" xml:lang="ja">{body}</VULDEF-Document>'
)


def vuldef(body: str, version: str = "3.2") -> bytes:
    return (VULDEF_HEAD + VULDEF_ROOT.format(version=version, body=body)).encode()


def vulinfo(data: str, vulinfo_id: str = "JVNDB-2099-000002") -> str:
    return f"<Vulinfo><VulinfoID>{vulinfo_id}</VulinfoID><VulinfoData>{data}</VulinfoData></Vulinfo>"


def read_file(tmp_path: Path, name: str, data: bytes) -> list[VulnRecord]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_records(path))


def test_billion_laughs_is_refused_as_an_xml_bomb(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?>\n<!DOCTYPE VULDEF-Document [{entities}]>\n' + VULDEF_ROOT.format(
        version="3.2", body=vulinfo("<Title>&lol9;</Title>")
    )

    with pytest.raises(InputError, match="billion laughs"):
        read_file(tmp_path, "bomb.xml", bomb.encode())


def test_external_entity_is_refused_and_the_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n' + VULDEF_ROOT.format(
        version="3.2", body=vulinfo("<Title>&xxe;</Title>")
    )

    with pytest.raises(InputError, match="XXE") as raised:
        read_file(tmp_path, "xxe.xml", xxe.encode())
    assert "TOP-SECRET-VALUE" not in str(raised.value)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["hnd/getVulnDetailInfo_hnd_JVNDB-2018-009328.xml", "hnd/getVulnOverviewList_hnd.xml"])
def test_truncated_xml_says_so_with_its_last_line(examples: Path, tmp_path: Path, name: str) -> None:
    data = (examples / name).read_bytes()
    cut = data[: len(data) // 2]

    with pytest.raises(InputError, match="looks truncated") as raised:
        read_file(tmp_path, "cut.xml", cut)
    assert raised.value.location.line == cut.count(b"\n") + 1


@pytest.mark.shared_data
def test_truncated_json_says_so(examples: Path, tmp_path: Path) -> None:
    data = (examples / "oka" / "getVulnDetailInfo_oka_JVNDB-2018-009328.json").read_bytes()

    with pytest.raises(InputError, match="looks truncated"):
        read_file(tmp_path, "cut.json", data[:3000])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b" \r\n\t ", "is empty"),
        (b"Service Unavailable", "neither XML nor JSON"),
        (b"<html><body>503</body></html>", "not a MyJVN response: the root element is html"),
        (b"[1, 2]", "top level is a list"),
        (b'{"hello": "world"}', "not a MyJVN response"),
        (b'<?xml version="1.0" encoding="x-klingon"?><a/>', 'encoding "x-klingon"'),
        (b'<?xml version="1.0" encoding="Shift_JIS"?><a>\x85\x40</a>', "not valid Shift_JIS"),
    ],
    ids=["empty", "blank", "text", "html", "json-list", "json-other", "unknown-encoding", "bad-shift_jis"],
)
def test_what_is_not_a_myjvn_response_is_refused(tmp_path: Path, data: bytes, words: str) -> None:
    with pytest.raises(InputError, match=words):
        read_file(tmp_path, "response.bin", data)
    with pytest.raises(InputError, match=words):
        parse_response(data, "response.bin")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "old", "new", "words"),
    [
        ("hnd/getVulnDetailInfo_hnd_JVNDB-2017-009608.xml", b'version="3.2"', b'version="4.0"', 'VULDEF version "4.0"'),
        ("hnd/getVulnOverviewList_hnd.xml", b"mod_sec/3.0/", b"mod_sec/4.0/", "mod_sec 4.0"),
        ("hnd/getVulnOverviewList_hnd.xml", b'version="3.3"', b'version="4.1"', 'status block of version "4.1"'),
        (
            "oka/getVulnDetailInfo_oka_JVNDB-2017-009608.json",
            b"myjvn_vuldef_1.0.csaf.json",
            b"myjvn_vuldef_2.0.csaf.json",
            '"myjvn_vuldef_2.0.csaf.json"',
        ),
        (
            "oka/getVulnDetailInfo_oka_JVNDB-2017-009608.json",
            b'"$schema": "https://jvndb.jvn.jp/schema/myjvn_vuldef_1.0.csaf.json?20250419",',
            b"",
            "",
        ),
        ("oka/getVulnOverviewList_oka.json", b"myjvn_feed_1.0.json", b"other_2.0.json", '"$schema"'),
    ],
    ids=["vuldef-4.0", "mod_sec-4.0", "status-4.1", "csaf-schema-2.0", "no-schema", "unknown-schema"],
)
def test_unknown_schema_versions_are_named(examples: Path, name: str, old: bytes, new: bytes, words: str) -> None:
    data = (examples / name).read_bytes()
    assert old in data
    changed = data.replace(old, new, 1)
    if not words:  # without $schema a CSAF document is still recognised by its shape
        assert parse_response(changed, "x.json").format == "csaf-2.1"
        return
    with pytest.raises(InputError) as raised:
        parse_response(changed, name.split("/")[1])
    assert words in raised.value.reason


def test_unknown_csaf_version_is_named() -> None:
    with pytest.raises(InputError, match='CSAF version "3.0"'):
        parse_response(b'{"document": {"csaf_version": "3.0", "tracking": {"id": "X"}}}', "x.json")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            vulinfo("<Impact><Cvss version='3.0'><Base>high</Base></Cvss></Impact>"),
            "Impact/Cvss/Base",
            "not a CVSS base score",
        ),
        (
            vulinfo("<Impact><Cvss version='3.0'><Base>11</Base></Cvss></Impact>"),
            "Impact/Cvss/Base",
            "not a CVSS base score",
        ),
        (vulinfo("<DateLastUpdated>2018-13-40</DateLastUpdated>"), "DateLastUpdated", "ISO 8601"),
        (vulinfo("<Title>x</Title>", vulinfo_id=""), "VulinfoID", "VulinfoID is missing"),
    ],
    ids=["score-word", "score-11", "bad-date", "no-id"],
)
def test_bad_vuldef_values_name_record_and_field(body: str, field: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as raised:
        parse_response(vuldef(vulinfo("<Title>fine</Title>", "JVNDB-2099-000001") + body), "bad.xml")

    assert raised.value.location.line == 2  # the second Vulinfo
    assert raised.value.location.field == field
    assert raised.value.reason.startswith("record 2 (JVNDB-2099-000002): " if field != "VulinfoID" else "record 2: ")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("document", "title"), ["JP1/VERITAS"], "document.title"),
        (
            ("vulnerabilities", 0, "metrics", 0, "content", "cvss_v3", "baseScore"),
            "nine",
            "vulnerabilities[0].metrics[0].content.cvss_v3.baseScore",
        ),
        (
            ("vulnerabilities", 0, "product_status", "known_affected"),
            {"a": 1},
            "vulnerabilities[0].product_status.known_affected",
        ),
        (("document", "tracking", "initial_release_date"), "yesterday", "document.tracking.initial_release_date"),
        (("product_tree", "branches", 1), "日立", "product_tree.branches[1]"),
    ],
    ids=["title-list", "score-word", "status-object", "bad-date", "branch-string"],
)
def test_wrongly_typed_json_names_record_and_field(
    examples: Path, path: tuple[str | int, ...], value: object, field: str
) -> None:
    document = json.loads((examples / "oka" / "getVulnDetailInfo_oka_JVNDB-2018-009328.json").read_bytes())
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value

    with pytest.raises(InputError) as raised:
        parse_response(json.dumps(document, ensure_ascii=False).encode(), "bad.json")

    assert raised.value.location.field == field
    assert raised.value.location.line == 1  # the first (only) record
    assert "record 1 (JVNDB-2018-009328)" in raised.value.reason


# --- paging ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "returned", "first", "following"),
    [
        (120, 50, 1, 51),
        (120, 50, 51, 101),
        (120, 20, 101, None),
        (0, 0, 1, None),
        (None, None, None, None),
        (10, 10, None, None),
    ],
)
def test_next_start_item(total: int | None, returned: int | None, first: int | None, following: int | None) -> None:
    status = JvnStatus(total_res=total, total_res_ret=returned, first_res=first)

    assert JvnResponse("jvnrss-3.2", (), status).next_start_item == following


# --- anything at all ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_input_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_response(data, "fuzz.bin")


@pytest.mark.shared_data
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0), flip=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255))
def test_damaged_real_responses_parse_or_raise_input_error(shared_data: Path, cut: int, flip: int, byte: int) -> None:
    folder = shared_data / "vuln" / "jvn" / "examples"
    for name in (
        "hnd/getVulnDetailInfo_hnd_JVNDB-2018-009328.xml",
        "hnd/getVulnOverviewList_hnd.xml",
        "oka/getVulnDetailInfo_oka_jvncsaf.json",
        "oka/getVulnOverviewList_oka.json",
    ):
        data = bytearray((folder / name).read_bytes())
        data[flip % len(data)] = byte
        with contextlib.suppress(InputError):
            parse_response(bytes(data[: cut % (len(data) + 1)]), name)
