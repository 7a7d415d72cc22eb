"""Merging what sources say about one vulnerability into the record ISMP triages on."""

from __future__ import annotations

import datetime as dt

from ismp.engines.feeds.base import CvssMetric, VulnRecord
from ismp.engines.feeds.merge import best_cvss, merge, vulnerability_ids

NVD = VulnRecord(
    source="nvd",
    id="CVE-2014-6271",
    descriptions={"en": "GNU Bash through 4.3 …"},
    published=dt.datetime(2014, 9, 24, 18, 48, tzinfo=dt.UTC),
    cvss=(
        CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH", "nvd@nist.gov"),
        CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov"),
    ),
    cwes=("CWE-78",),
)
JVN = VulnRecord(
    source="jvn",
    id="JVNDB-2014-000126",
    aliases=("CVE-2014-6271",),
    titles={"ja": "GNU bash に任意のコードが実行される脆弱性"},
    cvss=(CvssMetric("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, source="jvndb"),),
)
OSV = VulnRecord(
    source="osv",
    id="GHSA-x",
    aliases=("CVE-2014-6271",),
    cvss=(CvssMetric("3.1", "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 0.0),),
    severity="HIGH",
)
DSA = VulnRecord(source="debian", id="DSA-3032-1", aliases=("CVE-2014-6271",), titles={"en": "bash - security update"})


def test_newest_cvss_version_from_nvd_wins_and_explains_the_level():
    merged = merge("CVE-2014-6271", [JVN, NVD, OSV, DSA])
    assert merged.cvss is not None and (merged.cvss.version, merged.cvss.base_score) == ("3.1", 9.8)
    assert merged.attack_vector == "NETWORK" and merged.risk_level == 5
    assert merged.severity_basis == "CVSS 3.1 9.8 (nvd@nist.gov) → 5"
    assert merged.title_ja.startswith("GNU bash") and merged.description.startswith("GNU Bash")
    assert merged.title == ""  # a Debian advisory header is not the vulnerability's title
    assert merged.sources == ("debian", "jvn", "nvd", "osv")
    assert set(merged.aliases) == {"JVNDB-2014-000126", "GHSA-x", "DSA-3032-1"}


def test_a_bare_vector_never_beats_a_score():
    assert best_cvss([OSV, JVN]) == JVN.cvss[0]
    assert best_cvss([OSV]) == OSV.cvss[0]


def test_without_any_score_the_severity_word_sets_the_level():
    merged = merge("CVE-2099-0001", [VulnRecord(source="osv", id="GHSA-y", severity="moderate")])
    assert merged.risk_level == 3 and "moderate" in merged.severity_basis


def test_records_attach_to_their_cves():
    assert vulnerability_ids(DSA) == ("CVE-2014-6271",)
    assert vulnerability_ids(VulnRecord(source="jvn", id="JVNDB-2020-1")) == ("JVNDB-2020-1",)
