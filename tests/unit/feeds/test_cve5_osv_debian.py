"""The cve5, osv and debian feed adapters on the real data in ../shared/data/vuln, on the real OSV
samples in tests/fixtures/feeds/cve5_osv_debian (see its README), and on hostile input made here."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.cve5 import Cve5Adapter
from ismp.engines.feeds.debian import DebianAdapter, ecosystem_of
from ismp.engines.feeds.files import Limits
from ismp.engines.feeds.osv import OsvAdapter, split_ecosystem
from ismp.engines.feeds.registry import registry
from ismp.errors import InputError

HERE = Path(__file__).resolve().parents[2] / "fixtures" / "feeds" / "cve5_osv_debian"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def error_of(adapter: object, path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        list(adapter.read(path))  # type: ignore[attr-defined]
    return caught.value


# ------------------------------------------------------------------------------------------ registry


def test_the_three_adapters_are_registered_by_name():
    names = registry.names()
    assert {"cve5", "osv", "debian"} <= set(names)
    assert registry.get("cve5").name == "cve5"
    assert registry.get("osv").name == "osv"
    assert registry.get("debian").name == "debian"


# ---------------------------------------------------------------------------------------------- cve5


@dataclass
class Vulnrichment:
    counts: dict[str, int]
    rejected: int
    with_ssvc: int
    exploitation: Counter[str]
    data_versions_5_0: int
    seconds: float
    picked: dict[str, VulnRecord] = field(default_factory=dict)


@pytest.fixture(scope="module")
def vulnrichment(shared_data: Path) -> Vulnrichment:
    """Every record of the three Vulnrichment files, read once (about 44,000 records)."""
    folder = shared_data / "vuln" / "cisa-vulnrichment"
    wanted = {path.stem for path in (folder / "raw").glob("CVE-*.json")} | {"CVE-2024-0263", "CVE-2024-26024"}
    counts: dict[str, int] = {}
    rejected = with_ssvc = 0
    exploitation: Counter[str] = Counter()
    picked: dict[str, VulnRecord] = {}
    started = time.perf_counter()
    for path in sorted(folder.glob("vulnrichment_*.jsonl.gz")):
        counts[path.name] = 0
        for record in Cve5Adapter().read(path):
            counts[path.name] += 1
            rejected += record.rejected
            with_ssvc += bool(record.ssvc_exploitation)
            exploitation[record.ssvc_exploitation] += 1
            if record.id in wanted:
                picked[record.id] = record
    seconds = time.perf_counter() - started
    print(f"\nvulnrichment: {sum(counts.values()):,} records parsed in {seconds:.2f} s")
    # dataVersion 5.0 records are counted from the raw JSON, to prove they were read, not skipped
    versions: Counter[str] = Counter()
    for path in sorted(folder.glob("vulnrichment_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            versions.update(line[line.rindex('"dataVersion"') :].split('"')[3] for line in lines)
    return Vulnrichment(counts, rejected, with_ssvc, exploitation, versions["5.0"], seconds, picked)


def test_vulnrichment_record_counts(vulnrichment: Vulnrichment):
    assert vulnrichment.counts == {
        "vulnrichment_1999-2022.jsonl.gz": 8_126,
        "vulnrichment_2023.jsonl.gz": 12_027,
        "vulnrichment_2024.jsonl.gz": 23_974,
    }
    assert vulnrichment.rejected == 104
    assert vulnrichment.with_ssvc == 44_023  # every PUBLISHED record carries CISA-ADP's SSVC decision
    assert set(vulnrichment.exploitation) == {"", "none", "poc", "active"}  # "Active", "PoC" lower-cased
    assert vulnrichment.data_versions_5_0 == 28  # read like 5.1


def test_the_raw_files_and_their_jsonl_lines_give_the_same_records(shared_data: Path, vulnrichment: Vulnrichment):
    raw = shared_data / "vuln" / "cisa-vulnrichment" / "raw"
    from_files = {record.id: record for record in Cve5Adapter().read(raw)}
    assert list(from_files) == ["CVE-2023-34362", "CVE-2023-44487", "CVE-2024-23897"]  # sorted walk
    assert from_files == {cve: vulnrichment.picked[cve] for cve in from_files}


def test_cve_2024_23897_jenkins(shared_data: Path):
    [record] = Cve5Adapter().read(shared_data / "vuln" / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json")
    assert record.source == "cve5"
    assert record.id == "CVE-2024-23897"
    assert record.published == dt.datetime(2024, 1, 24, 17, 52, 22, 842000, tzinfo=UTC)
    assert record.modified == dt.datetime(2024, 8, 19, 16, 20, 22, 425000, tzinfo=UTC)
    assert not record.rejected
    assert record.titles == {}  # the CNA gave no title
    assert record.descriptions["en"].startswith("Jenkins 2.441 and earlier, LTS 2.426.2 and earlier")
    assert (record.ssvc_exploitation, record.ssvc_automatable, record.ssvc_technical_impact) == (
        "active",
        "yes",  # published as "Yes"
        "total",
    )
    assert record.cvss == (
        CvssMetric(
            version="3.1",
            vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            base_score=9.8,
            severity="CRITICAL",
            source="CISA-ADP",
            primary=False,
        ),
    )
    assert record.cwes == ("CWE-27",)  # from the CISA-ADP container
    assert len(record.references) == 6  # 5 of the CNA, 1 more from the CVE Program container
    assert record.references[0] == Reference(
        url="https://www.jenkins.io/security/advisory/2024-01-24/#SECURITY-3314", tags=("vendor-advisory",)
    )
    cna, adp = record.affected
    assert (cna.vendor, cna.product, cna.cpes, cna.default_status) == ("Jenkins Project", "Jenkins", (), "affected")
    assert cna.versions[2] == AffectedVersion(
        version="2.426.3", status="unaffected", version_type="maven", less_than="2.426.*"
    )
    assert (adp.vendor, adp.product) == ("jenkins", "jenkins")
    assert adp.cpes == ("cpe:2.3:a:jenkins:jenkins:*:*:*:*:*:*:*:*",)
    assert adp.versions[1] == AffectedVersion(version="2.442", status="unaffected", version_type="maven", less_than="*")


def test_cna_metrics_of_every_cvss_version(vulnrichment: Vulnrichment):
    vuldb = vulnrichment.picked["CVE-2024-0263"]
    assert vuldb.titles == {"en": "ACME Ultra Mini HTTPd HTTP GET Request denial of service"}
    assert set(vuldb.descriptions) == {"en", "de"}
    assert vuldb.cvss == (
        CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3, "MEDIUM", "VulDB", True),
        CvssMetric("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3, "MEDIUM", "VulDB", True),
        CvssMetric("2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:P", 5.0, "", "VulDB", True),  # 2.0 has no baseSeverity
    )
    assert vuldb.cwes == ("CWE-404",)
    assert (vuldb.ssvc_exploitation, vuldb.ssvc_automatable, vuldb.ssvc_technical_impact) == ("poc", "yes", "partial")
    assert vuldb.affected == (
        AffectedProduct(vendor="ACME", product="Ultra Mini HTTPd", versions=(AffectedVersion(version="1.21"),)),
    )
    subnet = vulnrichment.picked["CVE-2024-26024"]
    assert [(m.version, m.base_score, m.severity, m.source) for m in subnet.cvss] == [
        ("3.1", 8.4, "HIGH", "icscert"),
        ("4.0", 8.6, "HIGH", "icscert"),
    ]
    cna, adp = subnet.affected
    assert (cna.default_status, cna.versions) == (
        "unaffected",
        (AffectedVersion(version="0", version_type="custom", less_than_or_equal="2.23.10"),),
    )
    assert adp.cpes == ("cpe:2.3:a:subnet:substation_server:*:*:*:*:*:*:*:*",)
    assert adp.versions == (AffectedVersion(version="0", version_type="custom", less_than_or_equal="*"),)
    assert subnet.cwes == ("CWE-1357",)


def cvelist_tree(shared_data: Path, root: Path) -> Path:
    """A cvelistV5 layout (cves/<year>/<nnxxx>/CVE-*.json) of the three raw files, with the files a
    real checkout has beside them."""
    raw = shared_data / "vuln" / "cisa-vulnrichment" / "raw"
    for name, folder in [
        ("CVE-2024-23897.json", "cves/2024/23xxx"),
        ("CVE-2023-44487.json", "cves/2023/44xxx"),
        ("CVE-2023-34362.json", "cves/2023/34xxx"),
    ]:
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(raw / name, root / folder / name)
    write(root / "cves" / "delta.json", '{"numberOfChanges": 0}')
    write(root / "cves" / "deltaLog.json", "[]")
    write(root / "README.md", "# cvelistV5\n")
    write(root / ".git" / "CVE-2000-0001.json", "not read")
    return root


def test_a_cvelist_tree_and_its_zip_are_read_in_sorted_order(shared_data: Path, tmp_path: Path):
    tree = cvelist_tree(shared_data, tmp_path / "cvelistV5-main")
    ids = [record.id for record in Cve5Adapter().read(tree)]
    assert ids == ["CVE-2023-34362", "CVE-2023-44487", "CVE-2024-23897"]
    archive = tmp_path / "cvelistV5.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(tree.rglob("*"), reverse=True):  # stored out of order on purpose
            if path.is_file() and ".git" not in path.parts:
                out.write(path, path.relative_to(tmp_path).as_posix())
    assert [record.id for record in Cve5Adapter().read(archive)] == ids
    assert list(Cve5Adapter().read(archive)) == list(Cve5Adapter().read(tree))


def test_a_plain_jsonl_of_records_is_read(shared_data: Path, tmp_path: Path):
    raw = shared_data / "vuln" / "cisa-vulnrichment" / "raw"
    lines = [json.dumps(json.loads(path.read_text())) for path in sorted(raw.glob("*.json"))]
    path = write(tmp_path / "three.jsonl", "\n".join(lines) + "\n\n")
    assert [r.id for r in Cve5Adapter().read(path)] == ["CVE-2023-34362", "CVE-2023-44487", "CVE-2024-23897"]


def minimal_cve(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2099-0001", "state": "PUBLISHED", "datePublished": "2099-01-01T00:00:00"},
        "containers": {"cna": {"providerMetadata": {"shortName": "example"}, "descriptions": []}},
    }
    record.update(changes)
    return record


def test_a_rejected_record_keeps_its_reason(tmp_path: Path):
    record = minimal_cve(
        cveMetadata={"cveId": "CVE-2099-0002", "state": "REJECTED", "dateRejected": "2099-02-01T00:00:00Z"},
        containers={"cna": {"rejectedReasons": [{"lang": "en-US", "value": "Duplicate of CVE-2099-0001."}]}},
    )
    [parsed] = Cve5Adapter().read(write(tmp_path / "CVE-2099-0002.json", json.dumps(record)))
    assert parsed.rejected
    assert parsed.descriptions == {"en": "Duplicate of CVE-2099-0001."}
    assert parsed.published is None
    assert parsed.modified == dt.datetime(2099, 2, 1, tzinfo=UTC)


def test_naive_dates_are_utc_and_collection_urls_become_ecosystems(tmp_path: Path):
    record = minimal_cve(
        containers={
            "cna": {
                "title": "Example",
                "descriptions": [{"lang": "en", "value": "One."}, {"lang": "de", "value": "Eins."}],
                "affected": [
                    {"collectionURL": "https://pypi.org", "packageName": "example", "defaultStatus": "unaffected"},
                    {"collectionURL": "https://wordpress.org/plugins", "packageName": "akismet"},
                ],
                "problemTypes": [{"descriptions": [{"lang": "en", "description": "CWE-79 Cross-site Scripting"}]}],
            }
        }
    )
    [parsed] = Cve5Adapter().read(write(tmp_path / "CVE-2099-0001.json", json.dumps(record)))
    assert parsed.published == dt.datetime(2099, 1, 1, tzinfo=UTC)
    assert parsed.titles == {"en": "Example"}
    assert parsed.descriptions == {"en": "One.", "de": "Eins."}
    assert parsed.cwes == ("CWE-79",)
    assert [(a.package_name, a.ecosystem) for a in parsed.affected] == [
        ("example", "PyPI"),
        ("akismet", "https://wordpress.org/plugins"),
    ]


@pytest.mark.parametrize("version", ["4.0", "6.0", 6])
def test_another_major_version_is_refused_by_name(tmp_path: Path, version: object):
    error = error_of(
        Cve5Adapter(), write(tmp_path / "CVE-2099-0001.json", json.dumps(minimal_cve(dataVersion=version)))
    )
    assert f'CVE JSON version "{version}" is not supported' in error.reason
    assert error.location.field == "dataVersion"
    assert error.location.file.endswith("CVE-2099-0001.json")


def test_not_a_cve_record(shared_data: Path):
    error = error_of(Cve5Adapter(), shared_data / "vuln" / "osv-pypi" / "raw" / "requests__PYSEC-2023-74.yaml")
    assert "is not valid JSON" in error.reason  # a YAML file is not JSON at all
    error = error_of(Cve5Adapter(), HERE / "osv" / "GO-2020-0001.json")
    assert 'is not a CVE JSON 5 record: "dataType" is missing' in error.reason


def test_hostile_cve5_files(shared_data: Path, tmp_path: Path):
    good = (shared_data / "vuln" / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json").read_bytes()

    error = error_of(Cve5Adapter(), write(tmp_path / "cut.json", good[: len(good) // 2]))
    assert error.location.file.endswith("cut.json") and "truncated?" in error.reason and error.location.line

    assert "is empty" in error_of(Cve5Adapter(), write(tmp_path / "empty.json", "")).reason
    assert "is empty" in error_of(Cve5Adapter(), write(tmp_path / "blank.json", " \n\t\n")).reason
    assert "holds no CVE JSON 5 records" in error_of(Cve5Adapter(), write(tmp_path / "empty.jsonl", "\n\n")).reason
    assert "no such file or directory" in error_of(Cve5Adapter(), tmp_path / "nothing.json").reason

    (tmp_path / "emptydir").mkdir()
    assert "holds no CVE JSON 5 records" in error_of(Cve5Adapter(), tmp_path / "emptydir").reason

    error = error_of(Cve5Adapter(), write(tmp_path / "list.json", "[1, 2]"))
    assert "the top level is a list" in error.reason

    line = json.dumps(json.loads(good))
    error = error_of(Cve5Adapter(), write(tmp_path / "three.jsonl", f"{line}\n{line}\n{line[:-9]}\n"))
    assert error.location.line == 3 and error.reason.startswith("is not valid JSON")

    wrong = json.loads(good)
    wrong["containers"]["cna"]["affected"][0]["versions"][1]["lessThan"] = 2.5
    error = error_of(Cve5Adapter(), write(tmp_path / "wrong.json", json.dumps(wrong)))
    assert error.location.field == "containers.cna.affected[0].versions[1].lessThan"
    assert "expected a string, found the number 2.5" in error.reason

    deep = error_of(Cve5Adapter(), write(tmp_path / "deep.json", "[" * 200_000 + "]" * 200_000))
    assert (
        deep.location.file.endswith("deep.json")
        and "is not JSON that can be read safely (RecursionError" in deep.reason
    )


def test_truncated_and_corrupt_gzip(shared_data: Path, tmp_path: Path):
    source = shared_data / "vuln" / "cisa-vulnrichment" / "vulnrichment_1999-2022.jsonl.gz"
    data = source.read_bytes()
    cut = write(tmp_path / "cut.jsonl.gz", data[: len(data) // 3])
    with pytest.raises(InputError) as caught:
        list(Cve5Adapter().read(cut))
    assert caught.value.location.file.endswith("cut.jsonl.gz")
    assert "truncated" in caught.value.reason
    corrupt = write(tmp_path / "corrupt.jsonl.gz", data[:1000] + bytes(500) + data[1500:3000])
    assert "truncated or corrupt" in error_of(Cve5Adapter(), corrupt).reason


def test_zip_bombs_are_refused_before_inflating(tmp_path: Path):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("cves/2024/0xxx/CVE-2024-0001.json", b" " * (65 * 1024**2))  # 65 MiB of spaces
    error = error_of(Cve5Adapter(), big)
    assert error.location.file.endswith("big.zip!cves/2024/0xxx/CVE-2024-0001.json")
    assert "refused as a possible zip bomb" in error.reason

    dense = tmp_path / "dense.zip"
    with zipfile.ZipFile(dense, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("CVE-2024-0002.json", b"0" * (8 * 1024**2))  # 8 MiB → about 8 KiB
    assert "inflates" in error_of(Cve5Adapter(), dense).reason

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as out:
        for n in range(10):
            out.writestr(f"CVE-2024-{n:04d}.json", json.dumps(minimal_cve()))
    error = error_of(Cve5Adapter(Limits(max_total_bytes=1000)), many)
    assert "members add up to" in error.reason and error.location.file.endswith("many.zip")

    outer = tmp_path / "2024-10-24_all_CVEs_at_midnight.zip.zip"
    with zipfile.ZipFile(outer, "w") as out:
        out.write(many, "cves.zip")
    assert "holds another zip (cves.zip) rather than records" in error_of(Cve5Adapter(), outer).reason

    assert "not a readable zip" in error_of(Cve5Adapter(), write(tmp_path / "broken.zip", b"PK\x03\x04broken")).reason


def test_gzip_bombs_and_endless_lines_are_refused(tmp_path: Path):
    spaces = write(tmp_path / "spaces.jsonl.gz", gzip.compress((b" " * 8191 + b"\n") * 5 * 1024))  # 40 MiB
    error = error_of(Cve5Adapter(), spaces)
    assert "refused as a possible decompression bomb" in error.reason and error.location.line
    newlines = write(tmp_path / "newlines.jsonl", b"\n" * 20_000)
    assert "blank lines in a row" in error_of(Cve5Adapter(), newlines).reason
    long = write(tmp_path / "long.jsonl", "x" * 5000 + "\n")
    error = error_of(Cve5Adapter(Limits(max_document_bytes=1000)), long)
    assert error.location.line == 1 and error.reason.startswith("the line is longer than 1,000 bytes")


# ----------------------------------------------------------------------------------------------- osv


@pytest.fixture(scope="module")
def pypi(shared_data: Path) -> dict[str, VulnRecord]:
    records = list(OsvAdapter().read(shared_data / "vuln" / "osv-pypi" / "pypi_advisories.osv.jsonl.gz"))
    assert len(records) == len({r.id for r in records})
    return {record.id: record for record in records}


def test_osv_pypi_counts(pypi: dict[str, VulnRecord]):
    assert len(pypi) == 2_658
    assert sum(record.rejected for record in pypi.values()) == 10
    assert sum(1 for r in pypi.values() if r.aliases and r.aliases[0].startswith("CVE-")) == 2_645
    assert {a.ecosystem for r in pypi.values() for a in r.affected} == {"PyPI"}
    assert len({a.package_name for r in pypi.values() for a in r.affected}) == 662
    assert all(r.source == "osv" and r.id.startswith("PYSEC-") for r in pypi.values())


def test_requests_pysec_2023_74_from_yaml(shared_data: Path, pypi: dict[str, VulnRecord]):
    [record] = OsvAdapter().read(shared_data / "vuln" / "osv-pypi" / "raw" / "requests__PYSEC-2023-74.yaml")
    assert record == pypi["PYSEC-2023-74"]  # the YAML file and its JSON Lines copy agree
    assert record.aliases == ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q")
    assert record.published == dt.datetime(2023, 5, 26, 18, 15, tzinfo=UTC)
    assert record.modified == dt.datetime(2023, 6, 5, 1, 13, 0, 534973, tzinfo=UTC)
    assert record.descriptions["en"].startswith("Requests is a HTTP library. Since Requests 2.3.0")
    assert record.titles == {} and record.cvss == () and not record.rejected
    assert record.references[0] == Reference(
        url="https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q", tags=("ADVISORY",)
    )
    [affected] = record.affected
    assert (affected.package_name, affected.ecosystem, affected.purl) == ("requests", "PyPI", "pkg:pypi/requests")
    explicit = [v for v in affected.versions if not v.version_type]
    assert len(explicit) == 66
    assert explicit[0] == AffectedVersion(version="2.10.0") and explicit[-1] == AffectedVersion(version="2.9.2")
    assert [v for v in affected.versions if v.version_type] == [
        AffectedVersion(version="0", version_type="git", less_than="74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"),
        AffectedVersion(version="2.3.0", version_type="ecosystem", less_than="2.31.0"),
    ]


def test_several_introduced_fixed_pairs_stay_separate(pypi: dict[str, VulnRecord]):
    record = pypi["PYSEC-2014-19"]  # django, CVE-2014-1418
    assert record.aliases == ("CVE-2014-1418",)
    ranges = [(v.version, v.less_than) for a in record.affected for v in a.versions if v.version_type == "ecosystem"]
    assert ranges == [("1.4", "1.4.13"), ("1.5", "1.5.8"), ("1.6", "1.6.5"), ("1.7a0", "1.7b4")]


def test_withdrawn_last_affected_and_open_ended(pypi: dict[str, VulnRecord]):
    assert pypi["PYSEC-2023-73"].rejected
    assert {r.id for r in pypi.values() if r.rejected} >= {"PYSEC-2020-221", "PYSEC-2022-43059"}
    [last] = [v for a in pypi["PYSEC-2022-42969"].affected for v in a.versions if v.less_than_or_equal]
    assert last == AffectedVersion(version="0", version_type="ecosystem", less_than_or_equal="1.11.0")
    assert AffectedVersion(version="0", version_type="ecosystem", less_than="*") in [
        v for a in pypi["PYSEC-2018-109"].affected for v in a.versions
    ]


def test_real_records_of_other_ecosystems():
    records = {record.id: record for record in OsvAdapter().read(HERE / "osv")}
    assert list(records) == [  # sorted by file name
        "ALBA-2019:3336",
        "DSA-3029-1",
        "GHSA-jf85-cpcp-j695",
        "GHSA-jfh8-c2jp-5v3q",
        "GO-2020-0001",
        "CVE-2009-3560",
    ]
    go = records["GO-2020-0001"]
    assert go.aliases == ("CVE-2020-36567", "GHSA-6vm3-jj99-7229")
    assert go.modified == dt.datetime(1, 1, 1, tzinfo=UTC)
    assert go.affected == (
        AffectedProduct(
            package_name="github.com/gin-gonic/gin",
            ecosystem="Go",
            versions=(AffectedVersion(version="0", version_type="semver", less_than="1.6.0"),),
        ),
    )
    lodash = records["GHSA-jf85-cpcp-j695"]
    assert [(a.package_name, a.ecosystem, a.versions[0].less_than) for a in lodash.affected] == [
        ("lodash", "npm", "4.17.12"),
        ("lodash-es", "npm", "4.17.14"),
        ("lodash-amd", "npm", "4.17.13"),
        ("lodash.defaultsdeep", "npm", "4.6.1"),
    ]
    assert lodash.cvss == (
        CvssMetric(version="3.1", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", base_score=0.0, primary=False),
    )
    assert (lodash.severity, lodash.cwes, lodash.titles) == (
        "CRITICAL",
        ("CWE-1321", "CWE-20"),
        {"en": "Prototype Pollution in lodash"},
    )
    log4j = records["GHSA-jfh8-c2jp-5v3q"]
    assert [a.versions for a in log4j.affected][3:] == [
        (AffectedVersion(version="0", version_type="ecosystem", less_than_or_equal="1.2.1.2-jre17"),),
        (AffectedVersion(version="6.3.2.1"),),
        (AffectedVersion(version="2.6.3-CUSTOM"),),
    ]
    assert {a.ecosystem for a in log4j.affected} == {"Maven"}
    debian = records["DSA-3029-1"]
    assert debian.modified is None and debian.aliases == ("CVE-2014-3616",)
    assert (debian.affected[0].ecosystem, debian.affected[0].versions[0].less_than) == ("Debian:7", "1.2.1-2.2+wheezy3")
    alma = records["ALBA-2019:3336"]
    assert (alma.affected[0].ecosystem, alma.affected[0].package_name) == ("AlmaLinux:8", "nss-altfiles")
    ubuntu = records["CVE-2009-3560"]
    assert [a.ecosystem for a in ubuntu.affected] == [
        "Ubuntu:Pro:14.04:LTS",
        "Ubuntu:20.04:LTS",
        "Ubuntu:22.04:LTS",
        "Ubuntu:24.04:LTS",
    ]
    assert ubuntu.affected[0].versions[-1] == AffectedVersion(version="0", version_type="ecosystem", less_than="*")
    assert ubuntu.affected[1].purl == "pkg:deb/ubuntu/coin3@4.0.0+ds-1build1?arch=src?distro=focal"
    assert ubuntu.affected[1].versions == (
        AffectedVersion(version="4.0.0~CMake~6f54f1602475+ds1-3"),
        AffectedVersion(version="0", version_type="ecosystem", less_than="4.0.0+ds-1build1"),
    )


def test_an_all_zip_dump_reads_like_the_directory(tmp_path: Path):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted((HERE / "osv").glob("*.json")):
            out.write(path, path.name)
    assert list(OsvAdapter().read(archive)) == list(OsvAdapter().read(HERE / "osv"))


@pytest.mark.parametrize(
    ("ecosystem", "base", "release"),
    [
        ("Alpine:v3.18", "Alpine", "v3.18"),
        ("Red Hat:enterprise_linux:9::appstream", "Red Hat", "enterprise_linux:9::appstream"),
        ("Rocky Linux:9", "Rocky Linux", "9"),
        ("AlmaLinux:8", "AlmaLinux", "8"),
        ("Debian:12", "Debian", "12"),
        ("Ubuntu:22.04:LTS", "Ubuntu", "22.04:LTS"),
        ("PyPI", "PyPI", ""),
    ],
)
def test_distribution_ecosystems_keep_their_release(tmp_path: Path, ecosystem: str, base: str, release: str):
    """Records in the shape Alpine, Red Hat and Rocky publish (constructed here: no real sample of
    these three is stored); their CVE ids come in ``upstream``, not ``aliases``."""
    record = {
        "schema_version": "1.7.0",
        "id": "TEST-2024-0001",
        "modified": "2024-06-01T00:00:00Z",
        "upstream": ["CVE-2024-0002", "CVE-2024-0001"],
        "related": ["TEST-2024-0002"],
        "severity": [{"type": "Ubuntu", "score": "medium"}],
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]}],
            }
        ],
    }
    [parsed] = OsvAdapter().read(write(tmp_path / "TEST-2024-0001.json", json.dumps(record)))
    assert parsed.aliases == ("CVE-2024-0002", "CVE-2024-0001")
    assert parsed.severity == "MEDIUM"
    assert parsed.affected[0].ecosystem == ecosystem
    assert split_ecosystem(parsed.affected[0].ecosystem) == (base, release)


def test_hostile_osv_yaml(tmp_path: Path):
    evil = write(tmp_path / "evil.yaml", 'id: PYSEC-0\nmodified: !!python/object/apply:os.system ["touch pwned"]\n')
    error = error_of(OsvAdapter(), evil)
    assert "uses a YAML tag that is not plain data" in error.reason
    assert "python/object/apply:os.system" in error.reason
    assert (error.location.file, error.location.line) == (str(evil), 2)
    assert not (tmp_path / "pwned").exists()

    laughs = "id: PYSEC-0\nmodified: x\na: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\n"
    error = error_of(OsvAdapter(), write(tmp_path / "laughs.yml", laughs))
    assert "uses a YAML alias (*a)" in error.reason and error.location.line == 4

    error = error_of(OsvAdapter(), write(tmp_path / "broken.yaml", "id: PYSEC-0\naffected: [\n  - x: y\n"))
    assert error.reason.startswith("is not valid YAML") and error.location.line

    unquoted = "id: PYSEC-0\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {name: a, ecosystem: PyPI}\n  versions: [1.10]\n"
    error = error_of(OsvAdapter(), write(tmp_path / "float.yaml", unquoted))
    assert error.location.field == "affected[0].versions[0]" and "found the number 1.1" in error.reason

    [dated] = OsvAdapter().read(write(tmp_path / "dated.yaml", "id: PYSEC-0\nmodified: 2024-01-01T00:00:00Z\n"))
    assert dated.modified == dt.datetime(2024, 1, 1, tzinfo=UTC)  # a YAML timestamp, not a string


def test_hostile_osv_json(shared_data: Path, tmp_path: Path):
    error = error_of(
        OsvAdapter(),
        write(tmp_path / "v2.json", '{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "schema_version": "2.0.0"}'),
    )
    assert 'OSV schema version "2.0.0" is not supported' in error.reason and error.location.field == "schema_version"

    error = error_of(OsvAdapter(), shared_data / "vuln" / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json")
    assert "is a CVE JSON 5 record, not an OSV record" in error.reason

    error = error_of(OsvAdapter(), write(tmp_path / "bom.json", '{"bomFormat": "CycloneDX"}'))
    assert "is not an OSV record" in error.reason

    good = '{"id": "X-1", "modified": "2024-01-01T00:00:00Z"}'
    error = error_of(OsvAdapter(), write(tmp_path / "two.jsonl", f'{good}\n{{"id": "X-2", "modified": 3\n'))
    assert error.location.line == 2 and "truncated?" in error.reason

    bad_range = {
        "id": "X-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"broken": "1"}]}]}],
    }
    error = error_of(OsvAdapter(), write(tmp_path / "range.json", json.dumps(bad_range)))
    assert error.location.field == "affected[0].ranges[0].events[1]"

    assert "is empty" in error_of(OsvAdapter(), write(tmp_path / "empty.yaml", "")).reason
    assert (
        "holds no OSV records" in error_of(OsvAdapter(), write(tmp_path / "empty.jsonl.gz", gzip.compress(b""))).reason
    )


# -------------------------------------------------------------------------------------------- debian


@pytest.fixture(scope="module")
def dsa(shared_data: Path) -> list[VulnRecord]:
    return list(DebianAdapter().read(shared_data / "vuln" / "debian-security-tracker" / "DSA_list.txt"))


def test_dsa_and_dla_counts(shared_data: Path, dsa: list[VulnRecord]):
    assert len(dsa) == 5_406
    assert dsa[0].id == "DSA-5380-1" and dsa[-1].id == "DSA-135"
    # 14,770 CVE ids appear in the file; 3 of them only in NOTE lines, which are commentary
    assert len({cve for record in dsa for cve in record.aliases}) == 14_767
    dla = list(DebianAdapter().read(shared_data / "vuln" / "debian-security-tracker" / "DLA_list.txt"))
    assert len(dla) == 3_534
    assert len({cve for record in dla for cve in record.aliases}) == 8_690
    assert all(r.source == "debian" for r in dsa + dla)


def test_shellshock_dsa_3032_1(dsa: list[VulnRecord]):
    [record] = [r for r in dsa if r.id == "DSA-3032-1"]
    assert record == VulnRecord(
        source="debian",
        id="DSA-3032-1",
        aliases=("CVE-2014-6271",),
        published=dt.datetime(2014, 9, 24, tzinfo=UTC),
        titles={"en": "bash - security update"},
        references=(Reference(url="https://security-tracker.debian.org/tracker/DSA-3032-1"),),
        affected=(  # in this snapshot only wheezy; squeeze was fixed by DLA-59-1
            AffectedProduct(
                package_name="bash",
                ecosystem="Debian:7",
                default_status="affected",
                fixed_version="4.2+dfsg-0.1+deb7u1",
            ),
        ),
    )


def test_a_dsa_with_several_releases_and_packages(dsa: list[VulnRecord]):
    [squid] = [r for r in dsa if r.id == "DSA-1991-1"]
    assert squid.titles == {"en": "squid squid3 - denial of service"}
    assert squid.aliases == ("CVE-2009-2855", "CVE-2010-0308")
    assert [(a.package_name, a.ecosystem, a.fixed_version) for a in squid.affected] == [
        ("squid3", "Debian:4.0", "3.0.PRE5-5+etch2"),
        ("squid", "Debian:4.0", "2.6.5-6etch5"),
        ("squid", "Debian:5.0", "2.7.STABLE3-4.1lenny1"),
        ("squid3", "Debian:5.0", "3.0.STABLE8-3+lenny3"),
    ]
    [vlc] = [r for r in dsa if r.id == "DSA-2218-1"]
    assert [(a.ecosystem, a.default_status, a.fixed_version) for a in vlc.affected] == [
        ("Debian:5.0", "unaffected", ""),  # [lenny] - vlc <not-affected> (Vulnerable code not present)
        ("Debian:6.0", "affected", "1.1.3-1squeeze5"),
    ]
    [awstats] = [r for r in dsa if r.id == "DSA-892-1"]
    assert awstats.severity == "medium"  # (bug #322591; bug #334833; bug #336137; medium)
    [old] = [r for r in dsa if r.id == "DSA-135"]
    assert old.titles == {"en": "libapache-mod-ssl -- buffer overflow / DoS"}
    assert old.affected[0].ecosystem == "Debian:3.0"
    [notice] = [r for r in dsa if r.id == "DSA-4205-1"]
    assert (notice.titles, notice.aliases, notice.affected) == ({"en": "jessie end-of-life"}, (), ())


def test_release_names(dsa: list[VulnRecord]):
    assert Counter(a.ecosystem for r in dsa for a in r.affected) == {
        "Debian:3.0": 852,  # woody
        "Debian:3.1": 712,  # sarge
        "Debian:4.0": 678,  # etch
        "Debian:5.0": 588,  # lenny
        "Debian:6.0": 674,  # squeeze
        "Debian:7": 813,  # wheezy
        "Debian:8": 898,  # jessie
        "Debian:9": 740,  # stretch
        "Debian:10": 623,  # buster
        "Debian:11": 410,  # bullseye
    }
    assert Counter(a.default_status for r in dsa for a in r.affected) == {"affected": 6_933, "unaffected": 55}
    assert ecosystem_of("bookworm") == "Debian:12"
    assert ecosystem_of("sid") == "Debian:unstable"
    assert ecosystem_of("duke-security") == "Debian:duke-security"  # unknown: kept


def test_tracker_json_export(shared_data: Path):
    records = {
        r.id: r
        for r in DebianAdapter().read(shared_data / "vuln" / "debian-security-tracker" / "tracker_json_excerpt.json")
    }
    assert list(records) == [
        "CVE-2014-8242",
        "CVE-2009-1382",
        "CVE-2009-2459",
        "TEMP-0000000-A2EB44",
        "CVE-2021-37231",
        "CVE-2021-37232",
    ]
    mimetex = records["CVE-2009-1382"]
    assert mimetex.descriptions == {"en": "Multiple stack-based buffer overflows in mimetex.cgi in mimeTeX"}
    assert mimetex.severity == "medium"
    assert mimetex.affected == (
        AffectedProduct(
            package_name="mimetex", ecosystem="Debian:9", default_status="affected", fixed_version="1.50-1.1"
        ),
        AffectedProduct(
            package_name="mimetex", ecosystem="Debian:10", default_status="affected", fixed_version="1.50-1.1"
        ),
    )
    assert Reference(url="https://bugs.debian.org/537254", tags=("debianbug",)) in mimetex.references
    librsync = records["CVE-2014-8242"]
    assert [(a.ecosystem, a.default_status, a.fixed_version) for a in librsync.affected] == [
        ("Debian:8", "affected", ""),
        ("Debian:10", "affected", ""),
    ]
    assert librsync.severity == "low"
    atomic = records["CVE-2021-37231"]
    assert [(a.ecosystem, a.fixed_version) for a in atomic.affected] == [
        ("Debian:12", "20210715.151551.e7ad03a-1"),
        ("Debian:11", ""),
        ("Debian:10", ""),
        ("Debian:unstable", "20210715.151551.e7ad03a-1"),
        ("Debian:9", ""),
    ]
    assert atomic.severity == ""  # "not yet assigned"


def test_a_cve_under_several_packages_is_one_record(tmp_path: Path):
    export = {
        "openssl": {
            "CVE-2024-0001": {
                "description": "d",
                "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.1", "urgency": "low"}},
            }
        },
        "openssl1.0": {
            "CVE-2024-0001": {"releases": {"buster": {"status": "resolved", "fixed_version": "0", "urgency": "high"}}}
        },
    }
    [record] = DebianAdapter().read(write(tmp_path / "export.json", json.dumps(export)))
    assert record.severity == "high"
    assert [(a.package_name, a.ecosystem, a.default_status, a.fixed_version) for a in record.affected] == [
        ("openssl", "Debian:12", "affected", "3.0.1"),
        ("openssl1.0", "Debian:10", "unaffected", ""),  # the tracker's "0": never affected
    ]


def test_a_gzip_dsa_list_streams_the_same(shared_data: Path, dsa: list[VulnRecord], tmp_path: Path):
    text = (shared_data / "vuln" / "debian-security-tracker" / "DSA_list.txt").read_bytes()
    assert list(DebianAdapter().read(write(tmp_path / "list.gz", gzip.compress(text)))) == dsa


LIST = "[24 Sep 2014] DSA-3032-1 bash - security update\n\t{CVE-2014-6271}\n\t[wheezy] - bash 4.2+dfsg-0.1+deb7u1\n"


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (LIST + "[32 Sep 2014] DSA-3033-1 nss - security update\n", 4, "date", '"32 Sep 2014" is not a date'),
        (LIST + "[24 Foo 2014] DSA-3033-1 nss - security update\n", 4, "date", "is not a date"),
        (LIST + "DSA-3033-1 nss - security update\n", 4, "", "is not an advisory header"),
        (LIST + "\t[wheezy] bash 4.2\n", 4, "", 'is not a "{CVE-…}" list'),
        (LIST + "\t{CVE-2014-6271\n", 4, "", 'is not a "{CVE-…}" list'),
        (LIST + "\t[wheezy] - bash <fixed-soon>\n", 4, "version", "is not a version or a known marker"),
        ("\t[wheezy] - bash 4.2\n" + LIST, 1, "", "before the first advisory header"),
        (LIST.replace("bash - security", "bash \xff security"), 1, "", "is not UTF-8"),
    ],
)
def test_malformed_dsa_lines_are_named_by_line(tmp_path: Path, text: str, line: int, field: str, message: str):
    path = write(tmp_path / "list", text.encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    error = error_of(DebianAdapter(), path)
    assert (error.location.file, error.location.line, error.location.field) == (str(path), line, field)
    assert message in error.reason


def test_deeply_nested_tracker_json_is_refused_quickly(tmp_path: Path):
    depth = 100_000  # ijson's memory grows with the square of the depth: this would cost it tens of GB
    path = write(tmp_path / "deep.json", '{"openssl": {"CVE-2024-0001": ' + "[" * depth + "]" * depth + "}}")
    started = time.perf_counter()
    error = error_of(DebianAdapter(), path)
    assert "more than about 64 levels deep; refused" in error.reason and error.location.file.endswith("deep.json")
    assert time.perf_counter() - started < 5


def test_hostile_debian_inputs(tmp_path: Path):
    assert "is empty" in error_of(DebianAdapter(), write(tmp_path / "empty", "\n \n")).reason
    assert "is a directory" in error_of(DebianAdapter(), tmp_path).reason
    assert "starts with 'C'" in error_of(DebianAdapter(), write(tmp_path / "csv", "CVE,package\n")).reason
    error = error_of(
        DebianAdapter(), write(tmp_path / "cut.json", '{"openssl": {"CVE-2024-0001": {"releases": {"bookworm": {"sta')
    )
    assert "is not valid JSON" in error.reason and error.location.file.endswith("cut.json")
    error = error_of(DebianAdapter(), write(tmp_path / "list.json", '{"openssl": ["CVE-2024-0001"]}'))
    assert (error.location.line, error.location.field) == (1, "openssl") and "found a list" in error.reason
    error = error_of(
        DebianAdapter(), write(tmp_path / "status.json", '{"a": {"CVE-1": {"releases": {"sid": {"status": "maybe"}}}}}')
    )
    assert error.location.field == "a.CVE-1.releases.sid.status"
    big = write(tmp_path / "big.json", '{"a": {"CVE-1": {"description": "' + "x" * 5000 + '"}}}')
    assert "larger than 1,000 bytes" in error_of(DebianAdapter(Limits(max_document_bytes=1000)), big).reason
