"""Every source, through the service: a damaged copy of a real file is refused with an error naming the
file, nothing of it is stored, what was there stays, and the good file then imports."""

from __future__ import annotations

import pytest

from ismp.apps.vulns.models import ChangeEvent, EpssScore, ExploitEvidence, SourceRecord, Vulnerability
from ismp.apps.vulns.services import import_feed
from ismp.errors import IsmpError

# source → a real file (relative to ../shared/data/vuln), damaged by cutting it in half
REAL_FILES = {
    "nvd": "nvd/feeds-1.1/nvdcve-1.1-2003.json.gz",
    "cve5": "cisa-vulnrichment/raw/CVE-2023-34362.json",
    "jvn": "jvn/examples/hnd/getVulnDetailInfo_hnd_JVNDB-2017-009608.xml",
    "kev": "cisa-kev/known_exploited_vulnerabilities.json",
    "epss": "epss/by-year/CVE_2014_EPSS.csv.gz",
    "exploitdb": "exploitdb/cve_to_edbid.json.gz",
    "metasploit": "metasploit/metasploit_cve_to_module.json.gz",
    "osv": "osv-pypi/pypi_advisories.osv.jsonl.gz",
}


def stored() -> tuple[int, ...]:
    return (
        Vulnerability.objects.count(),
        SourceRecord.objects.count(),
        ExploitEvidence.objects.count(),
        EpssScore.objects.count(),
        ChangeEvent.objects.count(),
    )


@pytest.mark.parametrize("source", sorted(REAL_FILES))
def test_a_damaged_file_changes_nothing_and_the_good_one_imports(db, shared_data, tmp_path, source):
    import_feed(
        "kev", [shared_data / "vuln" / "cisa-kev" / "known_exploited_vulnerabilities.csv"]
    )  # data already there
    before = stored()
    real = shared_data / "vuln" / REAL_FILES[source]
    data = real.read_bytes()
    damaged = tmp_path / f"damaged-{real.name}"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(IsmpError) as caught:
        import_feed(source, [damaged])
    assert damaged.name in str(caught.value)
    assert stored() == before
    report = import_feed(source, [real])
    assert report.records_read > 0


def test_a_malformed_debian_advisory_line_names_its_line(db, shared_data, tmp_path):
    lines = (shared_data / "vuln" / "debian-security-tracker" / "DSA_list.txt").read_text().splitlines()[:40]
    lines[20] = "this is not an advisory line"
    damaged = tmp_path / "DSA_list.txt"
    damaged.write_text("\n".join(lines) + "\n")
    with pytest.raises(IsmpError) as caught:
        import_feed("debian", [damaged])
    assert "DSA_list.txt" in str(caught.value) and "line 21" in str(caught.value)
    assert SourceRecord.objects.count() == 0
