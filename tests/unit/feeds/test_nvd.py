"""NVD adapter: JSON 1.1 feeds and API 2.0 pages from ../shared/data, and hostile files made from them."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.files import DepthGuard, Refused
from ismp.engines.feeds.nvd import ApiPage, Limits, NvdAdapter, parse_api_page
from ismp.engines.feeds.registry import registry
from ismp.errors import InputError

UTC = dt.UTC
ADAPTER = NvdAdapter()


@pytest.fixture(scope="module")
def nvd(shared_data: Path) -> Path:
    return shared_data / "vuln" / "nvd"


@pytest.fixture(scope="module")
def feed_2003(nvd: Path) -> list[VulnRecord]:
    return list(ADAPTER.read(nvd / "feeds-1.1" / "nvdcve-1.1-2003.json.gz"))


@pytest.fixture(scope="module")
def feed_2014(nvd: Path) -> dict[str, VulnRecord]:
    wanted = {"CVE-2014-6271", "CVE-2014-0160"}
    return {r.id: r for r in ADAPTER.read(nvd / "feeds-1.1" / "nvdcve-1.1-2014.json.gz") if r.id in wanted}


@pytest.fixture(scope="module")
def feed_2017(nvd: Path) -> list[VulnRecord]:
    return list(ADAPTER.read(nvd / "feeds-1.1" / "nvdcve-1.1-2017.json.gz"))


@pytest.fixture(scope="module")
def raw_2003(nvd: Path) -> bytes:
    return gzip.decompress((nvd / "feeds-1.1" / "nvdcve-1.1-2003.json.gz").read_bytes())


def read(path: Path, adapter: NvdAdapter = ADAPTER) -> list[VulnRecord]:
    return list(adapter.read(path))


def matches(nodes: tuple[ConfigNode, ...]) -> Iterator[CpeMatch]:
    for node in nodes:
        yield from node.matches
        yield from matches(node.children)


def all_matches(record: VulnRecord) -> list[CpeMatch]:
    return [match for configuration in record.configurations for match in matches(configuration.nodes)]


def has_and(record: VulnRecord) -> bool:
    return any(c.operator == "AND" or any(n.operator == "AND" for n in c.nodes) for c in record.configurations)


def refusal(path: Path, adapter: NvdAdapter = ADAPTER) -> tuple[InputError, list[VulnRecord]]:
    """The InputError reading ``path`` ends with, and the records yielded before it."""
    before: list[VulnRecord] = []
    with pytest.raises(InputError) as caught:
        for record in adapter.read(path):
            before.append(record)
    assert caught.value.location.file == path.name
    return caught.value, before


def write_feed(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------- registration


def test_registered_as_nvd() -> None:
    adapter = registry.get("nvd")
    assert isinstance(adapter, NvdAdapter)
    assert adapter.name == "nvd"


# ------------------------------------------------------------------------------------- JSON 1.1


def test_shellshock_scores_dates_and_bash_range(feed_2014: dict[str, VulnRecord]) -> None:
    record = feed_2014["CVE-2014-6271"]
    assert record.source == "nvd"
    assert record.published == dt.datetime(2014, 9, 24, 18, 48, tzinfo=UTC)
    assert record.modified == dt.datetime(2025, 2, 7, 14, 15, tzinfo=UTC)
    assert not record.rejected
    assert record.descriptions["en"].startswith("GNU Bash through 4.3 processes trailing strings")
    assert record.cvss == (
        CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov", True),
        CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH", "nvd@nist.gov", True),
    )
    assert record.cwes == ("CWE-78",)
    (configuration,) = record.configurations
    assert configuration.operator == "OR" and not configuration.negate
    assert len(configuration.nodes) == 26
    assert configuration.nodes[0] == ConfigNode(
        "OR", False, (CpeMatch("cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*", version_end_including="4.3"),)
    )
    assert len(all_matches(record)) == 345
    # firmware AND the hardware it runs on (vulnerable: false)
    assert sum(node.operator == "AND" for node in configuration.nodes) == 11
    arx = next(n for n in configuration.nodes if n.operator == "AND" and "f5:arx" in n.children[0].matches[0].criteria)
    assert arx == ConfigNode(
        "AND",
        False,
        (),
        (
            ConfigNode(
                "OR", False, (CpeMatch("cpe:2.3:o:f5:arx_firmware:*:*:*:*:*:*:*:*", True, "6.0.0", "", "6.4.0"),)
            ),
            ConfigNode("OR", False, (CpeMatch("cpe:2.3:h:f5:arx:-:*:*:*:*:*:*:*", vulnerable=False),)),
        ),
    )


def test_references_listed_twice_are_kept_once(feed_2014: dict[str, VulnRecord]) -> None:
    record = feed_2014["CVE-2014-6271"]  # the feed lists 386 references, 170 distinct URLs
    assert len(record.references) == 170
    assert len({reference.url for reference in record.references}) == 170
    assert record.references[0] == Reference(
        "http://marc.info/?l=bugtraq&m=142805027510172&w=2", ("Mailing List", "Third Party Advisory")
    )


def test_heartbleed_openssl_range_with_version_end_excluding(feed_2014: dict[str, VulnRecord]) -> None:
    record = feed_2014["CVE-2014-0160"]
    assert record.cvss[0] == CvssMetric(
        "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "HIGH", "nvd@nist.gov", True
    )
    assert record.cvss[1] == CvssMetric("2.0", "AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0, "MEDIUM", "nvd@nist.gov", True)
    assert record.cwes == ("CWE-125",)
    assert record.configurations[0].nodes[0].matches == (
        CpeMatch(
            "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
            version_start_including="1.0.1",
            version_end_excluding="1.0.1g",
        ),
    )


def test_cisco_firmware_and_hardware_running_on(feed_2017: list[VulnRecord]) -> None:
    (record,) = [r for r in feed_2017 if r.id == "CVE-2017-12217"]
    assert record.configurations == (
        Configuration(
            "OR",
            False,
            (
                ConfigNode(
                    "AND",
                    False,
                    (),
                    (
                        ConfigNode("OR", False, (CpeMatch("cpe:2.3:o:cisco:asr_5500_firmware:-:*:*:*:*:*:*:*"),)),
                        ConfigNode("OR", False, (CpeMatch("cpe:2.3:h:cisco:asr_5500:-:*:*:*:*:*:*:*", False),)),
                    ),
                ),
            ),
        ),
    )


def test_whole_yearly_feed_2003(feed_2003: list[VulnRecord]) -> None:
    assert len(feed_2003) == 1553
    assert len({record.id for record in feed_2003}) == 1553
    assert sum(len(all_matches(record)) for record in feed_2003) == 10135
    assert sum(has_and(record) for record in feed_2003) == 36
    assert all(record.published is not None and record.published.tzinfo is UTC for record in feed_2003)
    assert feed_2003[0].id == "CVE-2003-0001"
    assert "NVD-CWE-Other" not in {cwe for record in feed_2003 for cwe in record.cwes}


def test_largest_yearly_feed_2017(feed_2017: list[VulnRecord]) -> None:
    assert len(feed_2017) == 17014
    assert sum(len(all_matches(record)) for record in feed_2017) == 119978
    assert sum(has_and(record) for record in feed_2017) == 2651


def test_rejected_in_1_1_by_description(nvd: Path) -> None:
    records = read(nvd / "feeds-1.1" / "nvdcve-1.1-2018.json.gz")
    assert len(records) == 16768
    rejected = [record for record in records if record.rejected]
    assert len(rejected) == 1082
    first = rejected[0]
    assert first.id == "CVE-2018-0143"
    assert first.descriptions["en"].startswith("** REJECT **")
    assert first.cvss == () and first.configurations == ()


def test_modified_and_recent_feeds(nvd: Path) -> None:
    assert len(read(nvd / "feeds-1.1" / "nvdcve-1.1-modified.json.gz")) == 2146
    assert len(read(nvd / "feeds-1.1" / "nvdcve-1.1-recent.json.gz")) == 762


def test_zip_gzip_and_plain_json_read_the_same(tmp_path: Path, raw_2003: bytes, feed_2003: list[VulnRecord]) -> None:
    plain = tmp_path / "nvdcve-1.1-2003.json"
    plain.write_bytes(raw_2003)
    zipped = tmp_path / "nvdcve-1.1-2003.json.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nvdcve-1.1-2003.json", raw_2003)
    misnamed = tmp_path / "feed.bin"  # detected by content, not by name
    misnamed.write_bytes(gzip.compress(raw_2003))
    assert read(plain) == read(zipped) == read(misnamed) == feed_2003


def test_keys_in_another_order_are_read(tmp_path: Path, raw_2003: bytes, feed_2003: list[VulnRecord]) -> None:
    # sorted keys put CVE_Items before CVE_data_version: the header is found after the records
    path = tmp_path / "sorted.json"
    path.write_text(json.dumps(json.loads(raw_2003), sort_keys=True), encoding="utf-8")
    assert read(path) == feed_2003


# ------------------------------------------------------------------------------------- API 2.0


@pytest.mark.parametrize(
    ("name", "cves", "cpe_matches", "ranged", "with_and", "rejected"),
    [
        ("nvd_api2_cves_page_startIndex0_2023-07-13.json.gz", 200, 838, 43, 1, 3),
        ("nvd_api2_cves_page_startIndex200000_2023-07-18.json.gz", 200, 705, 317, 22, 1),
        ("nvd_api2_cves_page_38.json", 38, 56, 17, 11, 0),
    ],
)
def test_api_pages(
    nvd: Path, name: str, cves: int, cpe_matches: int, ranged: int, with_and: int, rejected: int
) -> None:
    records = read(nvd / "api-2.0" / name)
    found = [match for record in records for match in all_matches(record)]
    assert len(records) == cves
    assert len(found) == cpe_matches
    bounds = ("version_start_including", "version_start_excluding", "version_end_including", "version_end_excluding")
    assert sum(any(getattr(m, bound) for bound in bounds) for m in found) == ranged
    assert sum(has_and(record) for record in records) == with_and
    assert sum(record.rejected for record in records) == rejected


def test_api_record_scores_and_and_configuration(nvd: Path) -> None:
    records = {r.id: r for r in read(nvd / "api-2.0" / "nvd_api2_cves_page_38.json")}
    ontap = records["CVE-2023-27314"]
    assert ontap.published == dt.datetime(2023, 10, 12, 19, 15, 11, 747000, tzinfo=UTC)
    assert set(ontap.descriptions) == {"en", "es"}
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert ontap.cvss == (
        CvssMetric("3.1", vector, 7.5, "HIGH", "nvd@nist.gov", True),
        CvssMetric("3.1", vector, 7.5, "HIGH", "security-alert@netapp.com", False),
    )
    assert ontap.references == (
        Reference("https://security.netapp.com/advisory/ntap-20231009-0001/", ("Vendor Advisory",)),
    )
    ibm = records["CVE-2022-22377"]
    assert ibm.configurations == (
        Configuration(
            "AND",
            False,
            (
                ConfigNode(
                    "OR",
                    False,
                    (
                        CpeMatch(
                            "cpe:2.3:a:ibm:security_verify_privilege_on-premises:*:*:*:*:*:*:*:*",
                            version_end_excluding="11.5",
                        ),
                    ),
                ),
                ConfigNode(
                    "OR",
                    False,
                    (
                        CpeMatch("cpe:2.3:o:apple:macos:-:*:*:*:*:*:*:*", False),
                        CpeMatch("cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*", False),
                    ),
                ),
            ),
        ),
    )


def test_api_v2_severity_sits_beside_cvss_data(nvd: Path) -> None:
    records = read(nvd / "api-2.0" / "nvd_api2_cves_page_startIndex0_2023-07-13.json.gz")
    v2 = [metric for record in records for metric in record.cvss if metric.version == "2.0"]
    assert len(v2) == 197
    assert all(metric.severity in {"LOW", "MEDIUM", "HIGH"} for metric in v2)


def test_parse_api_page(nvd: Path) -> None:
    data = (nvd / "api-2.0" / "nvd_api2_cves_page_startIndex0_2023-07-13.json.gz").read_bytes()
    page = parse_api_page(data)
    assert isinstance(page, ApiPage)
    assert (page.results_per_page, page.start_index, page.total_results) == (200, 0, 220273)
    assert page.timestamp == dt.datetime(2023, 7, 13, 23, 33, 19, 843000, tzinfo=UTC)
    assert len(page.records) == 200
    assert page.records[0].id.startswith("CVE-1999-")
    plain = parse_api_page(gzip.decompress(data))
    assert plain == page


def test_rejected_record_file_is_a_page_of_one(nvd: Path) -> None:
    path = nvd / "api-2.0" / "nvd_feed2_rejected_CVE-2022-0094.json"
    (record,) = read(path)
    assert record.id == "CVE-2022-0094"
    assert record.rejected
    assert record.descriptions["en"].startswith("Rejected reason: DO NOT USE THIS CANDIDATE NUMBER.")
    assert record.cvss == record.references == record.configurations == ()
    page = parse_api_page(path.read_bytes())  # its header says 27,259 per page; reported as given
    assert (page.results_per_page, page.total_results, len(page.records)) == (27259, 27259, 1)
    assert page.timestamp == dt.datetime(2025, 12, 25, 3, 0, 54, 321724, tzinfo=UTC)


def test_single_api_record_with_cvss_4(fixtures: Path) -> None:
    (record,) = read(fixtures / "feeds" / "nvd" / "CVE-2024-0012.json")
    assert record.id == "CVE-2024-0012"
    assert record.modified == dt.datetime(2024, 12, 20, 15, 47, 59, 293000, tzinfo=UTC)
    assert record.cvss[0].version == "4.0"
    assert record.cvss[0].vector.startswith("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:N/SA:N/")
    assert (record.cvss[0].base_score, record.cvss[0].severity) == (9.3, "CRITICAL")
    assert (record.cvss[0].source, record.cvss[0].primary) == ("psirt@paloaltonetworks.com", False)
    assert record.cvss[1] == CvssMetric(
        "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov", True
    )
    assert record.cwes == ("CWE-306",)  # NVD's and the CNA's, once
    found = all_matches(record)
    assert len(found) == 9
    assert found[0] == CpeMatch("cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*", True, "10.2.0", "", "", "10.2.12")
    with pytest.raises(InputError, match="not an NVD API 2.0 CVE page"):
        parse_api_page((fixtures / "feeds" / "nvd" / "CVE-2024-0012.json").read_bytes())


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("nvd_api2_cpematch_CVE-2022-32223.json.gz", "NVD_CPEMatchString"),
        ("nvd_api2_cpes_page_10000_2023-07-31.json.gz", "NVD_CPE"),
        ("nvd_api2_cvehistory_CVE-2019-1010218.json.gz", "NVD_CVEHistory"),
        ("nvd_api2_sources_page20.json.gz", "NVD_SOURCE"),
    ],
)
def test_other_nvd_apis_are_refused_by_name(nvd: Path, name: str, fmt: str) -> None:
    error, before = refusal(nvd / "api-2.0" / name)
    assert before == []
    assert error.location.field == "format"
    assert f'format "{fmt}"' in error.message and "NVD_CVE" in error.message


# ------------------------------------------------------------------------------------ hostile


def test_truncated_gzip_keeps_the_records_before_and_names_where(tmp_path: Path, nvd: Path) -> None:
    data = (nvd / "feeds-1.1" / "nvdcve-1.1-2003.json.gz").read_bytes()
    path = tmp_path / "nvdcve-1.1-2003.json.gz"
    path.write_bytes(data[: len(data) // 2])
    error, before = refusal(path)
    assert "looks truncated" in error.message
    assert 0 < len(before) < 1553
    assert error.location.line == len(before) + 1
    assert f"after record {len(before)} ({before[-1].id})" in error.message
    assert all(record.id.startswith("CVE-2003-") for record in before)


def test_truncated_json(tmp_path: Path, raw_2003: bytes) -> None:
    path = tmp_path / "cut.json"
    path.write_bytes(raw_2003[: len(raw_2003) // 3])
    error, before = refusal(path)
    assert "looks truncated: the JSON ends in record" in error.message
    assert error.location.line == len(before) + 1


def test_truncated_before_the_first_record(tmp_path: Path, raw_2003: bytes) -> None:
    error, before = refusal(write_bytes(tmp_path / "head.json", raw_2003[:120]))
    assert before == [] and error.location.line is None
    assert "looks truncated" in error.message and "before the first record" in error.message


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("document", "field", "version"),
    [
        ({"CVE_data_type": "CVE", "CVE_data_version": "5.0", "CVE_Items": []}, "CVE_data_version", '"5.0"'),
        ({"CVE_data_type": "CVE", "CVE_data_version": 4.0, "CVE_Items": []}, "CVE_data_version", "a number"),
        ({"format": "NVD_CVE", "version": "3.0", "vulnerabilities": []}, "version", '"3.0"'),
        ({"format": "NVD_CVE", "vulnerabilities": []}, "version", "no version"),
    ],
)
def test_unexpected_schema_version(tmp_path: Path, document: dict[str, Any], field: str, version: str) -> None:
    error, _ = refusal(write_feed(tmp_path / "feed.json", document))
    assert error.location.field == field
    assert version in error.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"bomFormat": "CycloneDX", "components": []}', 'top-level keys are "bomFormat", "components"'),
        (b"[1, 2, 3]", "the top level is a list"),
        (b'"CVE-2014-6271"', "the top level is a string"),
        (b'{"CVE_data_version": "4.0", "CVE_Items": {}}', 'an object, not a list, as "CVE_Items"'),
        (b'{"CVE_data_version": "4.0"}', 'has no "CVE_Items"'),
        (b"   \n", "contains no JSON"),
        (b"", "is empty"),
        (b'{"CVE_data_version": "4.0", "CVE_Items": []} trailing', "data after the end of its JSON document"),
        (b"\x00\x01 not json", "is not valid JSON"),
    ],
)
def test_not_an_nvd_feed_says_what_was_expected(tmp_path: Path, content: bytes, expected: str) -> None:
    error, _ = refusal(write_bytes(tmp_path / "other.json", content))
    assert expected in error.message
    if "top level" in expected or "top-level" in expected:
        assert "expected an NVD JSON 1.1 feed" in error.message


def test_empty_gzip_is_refused(tmp_path: Path) -> None:
    error, _ = refusal(write_bytes(tmp_path / "empty.json.gz", gzip.compress(b"")))
    assert "contains no JSON" in error.message


@pytest.mark.parametrize(
    "document",
    [
        {"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_data_version": "4.0", "CVE_Items": []},
        {
            "resultsPerPage": 0,
            "startIndex": 0,
            "totalResults": 0,
            "format": "NVD_CVE",
            "version": "2.0",
            "vulnerabilities": [],
        },
    ],
)
def test_a_feed_with_no_records_yields_nothing(tmp_path: Path, document: dict[str, Any]) -> None:
    assert read(write_feed(tmp_path / "empty-feed.json", document)) == []


def test_duplicated_records_are_both_yielded(tmp_path: Path, raw_2003: bytes) -> None:
    document = json.loads(raw_2003)
    document["CVE_Items"].append(document["CVE_Items"][0])
    records = read(write_feed(tmp_path / "dup.json", document))
    assert len(records) == 1554
    assert records[0] == records[-1]


@pytest.mark.parametrize(
    ("damage", "field", "message"),
    [
        (lambda item: item["cve"]["CVE_data_meta"].pop("ID"), "cve.CVE_data_meta.ID", "the CVE id is missing"),
        (
            lambda item: item["cve"]["CVE_data_meta"].update(ID="CVE-2003-XXXX"),
            "cve.CVE_data_meta.ID",
            "is not a CVE id",
        ),
        (lambda item: item.update(publishedDate="yesterday"), "publishedDate", "is not an ISO 8601 date"),
        (
            lambda item: item["configurations"]["nodes"][0]["cpe_match"][0].update(cpe23Uri=7),
            "configurations.nodes[0].cpe_match[0].cpe23Uri",
            "must be a string, not a number",
        ),
        (
            lambda item: item["configurations"]["nodes"][0]["cpe_match"][0].pop("vulnerable"),
            "configurations.nodes[0].cpe_match[0].vulnerable",
            "is missing",
        ),
        (
            lambda item: item["configurations"]["nodes"][0]["cpe_match"][0].update(versionEndExcluding=None),
            "configurations.nodes[0].cpe_match[0].versionEndExcluding",
            "must be a string, not null",
        ),
        (
            lambda item: item["configurations"]["nodes"][0].update(operator="XOR"),
            "configurations.nodes[0].operator",
            'must be "AND" or "OR", not "XOR"',
        ),
        (
            lambda item: item["configurations"]["nodes"][0].update(cpe_match="cpe:2.3:a:x:y:*"),
            "configurations.nodes[0].cpe_match",
            "must be a list, not a string",
        ),
        (
            lambda item: item["impact"]["baseMetricV2"]["cvssV2"].update(baseScore="high"),
            "impact.baseMetricV2.cvssV2.baseScore",
            "must be a number, not a string",
        ),
        (
            lambda item: item["cve"]["references"]["reference_data"][0].update(tags="Patch"),
            "cve.references.reference_data[0].tags",
            "must be a list of strings",
        ),
    ],
)
def test_a_damaged_record_is_named_with_its_number_id_and_field(
    tmp_path: Path, raw_2003: bytes, damage: Any, field: str, message: str
) -> None:
    document = json.loads(raw_2003)
    number = next(i for i, item in enumerate(document["CVE_Items"]) if item["configurations"]["nodes"]) + 1
    item = document["CVE_Items"][number - 1]
    cve_id = item["cve"]["CVE_data_meta"]["ID"]
    damage(item)
    error, before = refusal(write_feed(tmp_path / "damaged.json", document))
    assert len(before) == number - 1
    assert error.location.line == number
    assert error.location.field == field
    assert message in error.message
    named = f"record {number}: " if field == "cve.CVE_data_meta.ID" else f"record {number} ({cve_id}): "
    assert error.reason.startswith(named)


def test_a_record_that_is_not_an_object(tmp_path: Path) -> None:
    document = {"CVE_data_version": "4.0", "CVE_Items": ["CVE-2003-0001"]}
    error, _ = refusal(write_feed(tmp_path / "strings.json", document))
    assert error.reason == "record 1: must be a JSON object, not a string"


def test_negate_and_api_configuration_operators_are_kept(tmp_path: Path, nvd: Path) -> None:
    with gzip.open(nvd / "api-2.0" / "nvd_api2_cves_page_startIndex200000_2023-07-18.json.gz") as stream:
        page = json.load(stream)
    item = next(v for v in page["vulnerabilities"] if v["cve"].get("configurations"))
    item["cve"]["configurations"][0].update(operator="AND", negate=True)
    item["cve"]["configurations"][0]["nodes"][0]["negate"] = True
    record = read(write_feed(tmp_path / "page.json", page))[page["vulnerabilities"].index(item)]
    assert (record.configurations[0].operator, record.configurations[0].negate) == ("AND", True)
    assert record.configurations[0].nodes[0].negate is True


def test_zip_with_two_files_or_none(tmp_path: Path, raw_2003: bytes) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("nvdcve-1.1-2003.json", raw_2003)
        archive.writestr("nvdcve-1.1-2003.meta", b"sha256:00")
    error, _ = refusal(two)
    assert "2 files (nvdcve-1.1-2003.json, nvdcve-1.1-2003.meta)" in error.message
    none = tmp_path / "none.zip"
    with zipfile.ZipFile(none, "w"):
        pass
    error, _ = refusal(none)
    assert "with no file" in error.message


def test_truncated_zip(tmp_path: Path, raw_2003: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nvdcve-1.1-2003.json", raw_2003)
    error, _ = refusal(write_bytes(tmp_path / "cut.zip", buffer.getvalue()[:5000]))
    assert "not a readable zip archive" in error.message


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nvdcve-1.1-2099.json", b" " * (80 << 20))  # 80 MiB → about 80 KiB
    error, _ = refusal(path)
    assert "holds nvdcve-1.1-2099.json, which declares 80.0 MiB inflated from" in error.message
    assert "refused as a possible zip bomb" in error.message
    error, _ = refusal(path, NvdAdapter(Limits(max_bytes=1 << 20)))
    assert "refused as a possible zip bomb" in error.message


def test_gzip_bomb_of_zeros_is_refused_without_inflating_it(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    data = b"".join(compressor.compress(zeros) for _ in range(256)) + compressor.flush()  # 256 MiB → 250 KiB
    error, _ = refusal(write_bytes(tmp_path / "zeros.json.gz", data))
    assert "is not valid JSON" in error.message


def test_gzip_bomb_of_white_space_is_refused_by_ratio(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    spaces = b" " * (1 << 20)
    head = compressor.compress(b'{"CVE_data_version": "4.0", "CVE_Items": [')
    data = head + b"".join(compressor.compress(spaces) for _ in range(96)) + compressor.flush()
    error, _ = refusal(write_bytes(tmp_path / "spaces.json.gz", data))
    assert "inflates more than 200 times" in error.message and "decompression bomb" in error.message
    error, _ = refusal(write_bytes(tmp_path / "small.json.gz", data), NvdAdapter(Limits(max_bytes=8 << 20)))
    assert "inflates to more than 8.0 MiB" in error.message


def test_deep_nesting_is_refused_before_the_parser_sees_it(tmp_path: Path) -> None:
    depth = 200_000  # ijson would need about 100 GB of path strings for this
    data = b'{"CVE_data_version": "4.0", "CVE_Items": [' + b"[" * depth + b"]" * depth + b"]}"
    error, _ = refusal(write_bytes(tmp_path / "deep.json", data))
    assert "more than about 64 levels deep" in error.message


def test_nodes_nested_too_deeply_are_refused(tmp_path: Path, raw_2003: bytes) -> None:
    node: dict[str, Any] = {"operator": "OR", "cpe_match": [], "children": []}
    root = node
    for _ in range(20):  # 20 node levels: about 45 levels of JSON, under the byte-level limit
        child: dict[str, Any] = {"operator": "AND", "cpe_match": [], "children": []}
        node["children"].append(child)
        node = child
    document = json.loads(raw_2003)
    document["CVE_Items"][0]["configurations"]["nodes"] = [root]
    error, before = refusal(write_feed(tmp_path / "nodes.json", document))
    assert before == []
    assert error.location.field.startswith("configurations.nodes[0].children[0].children[0]")
    assert "nest more than 16 levels deep" in error.message


def test_memory_stays_flat_across_a_large_feed(nvd: Path) -> None:
    records = ADAPTER.read(nvd / "feeds-1.1" / "nvdcve-1.1-2016.json.gz")
    first = next(records)
    assert first.id.startswith("CVE-2016-")
    assert sum(1 for _ in records) == 10555 - 1  # a generator: nothing is collected on the way


def test_a_missing_file(tmp_path: Path) -> None:
    error, _ = refusal(tmp_path / "absent.json.gz")
    assert "cannot be read" in error.message


def test_api_page_header_must_be_counts() -> None:
    body = {
        "resultsPerPage": "many",
        "startIndex": 0,
        "totalResults": 0,
        "format": "NVD_CVE",
        "version": "2.0",
        "vulnerabilities": [],
    }
    with pytest.raises(InputError) as caught:
        parse_api_page(json.dumps(body).encode(), source="https://services.nvd.nist.gov/rest/json/cves/2.0")
    assert caught.value.location.field == "resultsPerPage"
    assert caught.value.location.file == "https://services.nvd.nist.gov/rest/json/cves/2.0"
    with pytest.raises(InputError, match="not an NVD API 2.0 CVE page"):
        parse_api_page(json.dumps({"CVE_data_version": "4.0", "CVE_Items": []}).encode())


# -------------------------------------------------------------------------------- depth guard

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner, max_size=4)
    ),
    max_leaves=40,
)


def json_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((json_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((json_depth(v) for v in value.values()), default=0)
    return 0


def guard(text: bytes, cuts: list[int], limit: int) -> DepthGuard:
    watcher = DepthGuard(limit)
    start = 0
    for cut in sorted(cuts) + [len(text)]:
        watcher.feed(text[start:cut])
        start = max(start, cut)
    return watcher


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_depth_guard_tracks_nesting_through_strings_escapes_and_chunks(value: object, cuts: list[int]) -> None:
    text = json.dumps(value).encode()
    depth = json_depth(value)
    if depth <= 4:  # within half the limit: never refused, and the depth comes back to 0
        assert guard(text, cuts, 8).depth == 0
    wrapped = b"[" * 20 + text + b"]" * 20  # deeper than twice the limit: always refused
    with pytest.raises(Refused):
        guard(wrapped, cuts, 8)


def test_depth_guard_on_a_backslash_at_a_chunk_boundary() -> None:
    text = b'["a\\\\", "b\\"[", ["c"]]'  # an escaped backslash, then an escaped quote before a bracket
    for cut in range(len(text) + 1):
        watcher = guard(text, [cut], 8)
        assert watcher.depth == 0 and not watcher._in_string
