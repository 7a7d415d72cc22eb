"""Importing real feed files through the service: provenance, evidence, change events, idempotence and
atomicity (a bad file changes nothing; the next run finishes the job)."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from ismp.apps.vulns.models import ChangeEvent, EpssScore, ExploitEvidence, FeedState, SourceRecord, Vulnerability
from ismp.apps.vulns.queries import vulnerability_detail
from ismp.apps.vulns.services import import_feed
from ismp.errors import InputError, IsmpError


@pytest.fixture
def vuln(shared_data):
    return shared_data / "vuln"


def state():
    return (
        Vulnerability.objects.count(),
        SourceRecord.objects.count(),
        ExploitEvidence.objects.count(),
        ChangeEvent.objects.count(),
        sorted(SourceRecord.objects.values_list("source_id", "digest")),
    )


def test_cve5_record_with_cisa_adp(db, vuln):
    report = import_feed("cve5", [vuln / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json"])
    assert report.records_new == 1 and report.vulnerabilities_new == 1
    v = Vulnerability.objects.get(vuln_id="CVE-2024-23897")
    assert (v.ssvc_exploitation, v.ssvc_automatable, v.ssvc_technical_impact) == ("active", "yes", "total")
    assert (v.cvss_version, v.cvss_score, v.attack_vector, v.risk_level) == ("3.1", 9.8, "NETWORK", 5)
    kinds = set(ChangeEvent.objects.filter(vuln_id="CVE-2024-23897").values_list("kind", flat=True))
    assert kinds == {"new_vulnerability", "applicability_changed", "exploit_published"}  # SSVC: active


def test_reimport_writes_nothing(db, vuln):
    files = [vuln / "cisa-vulnrichment" / "raw" / name for name in ("CVE-2023-34362.json", "CVE-2023-44487.json")]
    import_feed("cve5", files)
    before = state()
    again = import_feed("cve5", files)
    assert (again.records_new, again.records_changed, again.records_unchanged, again.events) == (0, 0, 2, 0)
    assert state() == before


def test_kev_then_a_newer_catalogue_adds_only_what_is_new(db, vuln):
    first = import_feed("kev", [vuln / "cisa-kev" / "known_exploited_vulnerabilities.json"])
    assert first.evidence_new == 1404 and ChangeEvent.objects.filter(kind="added_to_kev").count() == 1404
    second = import_feed("kev", [vuln / "cisa-kev" / "known_exploited_vulnerabilities_2026-08-07.json.gz"])
    assert second.evidence_new == 1662 - 1404
    assert ExploitEvidence.objects.filter(source="kev").count() == 1662
    assert ChangeEvent.objects.filter(kind="added_to_kev").count() == 1662
    shellshock = ExploitEvidence.objects.get(vuln_id="CVE-2014-6271", source="kev")
    assert str(shellshock.date) == "2022-01-28" and shellshock.details["catalogVersion"] == "2026.08.07"
    assert FeedState.objects.get(source="kev").records == 1662


def test_jvn_and_cve_records_merge_with_provenance(db, vuln):
    import_feed("jvn", [vuln / "jvn" / "examples" / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml"])
    jvn_record = SourceRecord.objects.get(source="jvn")
    cve_ids = [v.vuln_id for v in jvn_record.vulnerabilities.all()]
    assert cve_ids and all(c.startswith("CVE-") for c in cve_ids)
    detail = vulnerability_detail("JVNDB-2017-009608")
    assert detail["vulnerability"]["title_ja"]
    assert [s["source"] for s in detail["sources"]] == ["jvn"]


def test_a_truncated_file_changes_nothing_and_the_next_run_finishes(db, vuln, tmp_path):
    good = vuln / "cisa-vulnrichment" / "raw" / "CVE-2023-34362.json"
    import_feed("cve5", [good])
    before = state()
    with gzip.open(vuln / "cisa-vulnrichment" / "vulnrichment_1999-2022.jsonl.gz", "rt") as handle:
        lines = [next(handle).rstrip("\n") for _ in range(300)]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines[:299]) + "\n" + lines[299][: len(lines[299]) // 2], encoding="utf-8")
    with pytest.raises(IsmpError) as caught:
        import_feed("cve5", [broken])
    assert "broken.jsonl" in str(caught.value)
    assert state() == before
    assert "broken.jsonl" in FeedState.objects.get(source="cve5").last_error
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_feed("cve5", [fixed])
    assert report.records_new == 300 and FeedState.objects.get(source="cve5").last_error == ""


def test_duplicated_records_in_a_file_keep_the_latest(db, vuln, tmp_path):
    record = json.loads((vuln / "cisa-vulnrichment" / "raw" / "CVE-2023-44487.json").read_text())
    older = json.loads(json.dumps(record))
    older["cveMetadata"]["dateUpdated"] = "2020-01-01T00:00:00.000Z"
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(older) + "\n", encoding="utf-8")
    report = import_feed("cve5", [path])
    assert report.records_read == 2 and SourceRecord.objects.count() == 1
    assert SourceRecord.objects.get().modified.year > 2020


def test_epss_jump_is_an_event(db, tmp_path):
    day1 = tmp_path / "epss-1.csv"
    day1.write_text(
        "#model_version:v2025.03.14,score_date:2025-12-25T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2014-6271,0.50000,0.90000\nCVE-2017-5638,0.90000,0.99000\n",
        encoding="utf-8",
    )
    day2 = tmp_path / "epss-2.csv"
    day2.write_text(
        "#model_version:v2025.03.14,score_date:2025-12-26T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2014-6271,0.97000,0.99900\nCVE-2017-5638,0.91000,0.99100\n",
        encoding="utf-8",
    )
    import_feed("epss", [day1])
    report = import_feed("epss", [day2])
    assert report.epss_changed == 2
    jumps = ChangeEvent.objects.filter(kind="epss_jump")
    assert [e.vuln_id for e in jumps] == ["CVE-2014-6271"] and jumps[0].details["before"] == 0.5
    assert EpssScore.objects.get(vuln_id="CVE-2014-6271").previous_score == 0.5


def test_unknown_source_and_missing_file_are_named(db, tmp_path):
    with pytest.raises(InputError, match='unknown feed "nope"'):
        import_feed("nope", [tmp_path / "x"])
    with pytest.raises(InputError, match="no such file"):
        import_feed("kev", [tmp_path / "missing.json"])


def test_cli_feeds_import_status_and_show(db, vuln, capsys):
    from ismp.cli.main import main

    assert (
        main(["feeds", "import", "kev", str(vuln / "cisa-kev" / "known_exploited_vulnerabilities.csv"), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["evidence_new"] == 1404
    assert main(["feeds", "import", "cve5", str(vuln / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json")]) == 0
    capsys.readouterr()
    assert main(["feeds", "status", "--json"]) == 0
    status = {row["source"]: row for row in json.loads(capsys.readouterr().out)}
    assert status["kev"]["records"] == 1404 and status["nvd"]["last_success"] is None
    assert main(["vulns", "show", "CVE-2024-23897", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["vulnerability"]["risk_level"] == 5 and shown["evidence"][0]["source"] == "kev"
    assert main(["vulns", "show", "CVE-1999-99999"]) == 66


def test_cisa_ssvc_poc_or_active_is_exploit_evidence(db, vuln):
    import_feed("cve5", [vuln / "cisa-vulnrichment" / "raw" / "CVE-2024-23897.json"])
    evidence = ExploitEvidence.objects.get(vuln_id="CVE-2024-23897", source="ssvc")
    assert evidence.details["exploitation"] == "active"


def test_analyst_evidence_is_for_the_csirt_audited_and_announced(company):
    from rest_framework.test import APIClient

    from ismp.apps.audit.models import AuditEntry

    for user, expected in ((company.alice, 403), (company.auditor, 403), (company.csirt, 201)):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            "/api/vulns/CVE-2014-6271/evidence/",
            {"reference": "https://intranet.example.jp/incident/42", "note": "PoC used against us"},
            format="json",
        )
        assert response.status_code == expected, response.content
    # the vulnerability's own record is not loaded: evidence is recorded by its id all the same
    from ismp.cli.main import main

    assert (
        main(["vulns", "evidence", "CVE-2014-6271", "--reference", "ticket-42", "--note", "seen", "--as", "csirt"]) == 0
    )
    assert main(["vulns", "evidence", "CVE-2014-6271", "--reference", "x", "--as", "alice"]) == 77
    evidence = ExploitEvidence.objects.get(vuln_id="CVE-2014-6271", source="analyst", reference="ticket-42")
    assert evidence.details["by"] == "csirt"
    assert AuditEntry.objects.filter(object_type="vulns.exploitevidence").exists()
    assert ChangeEvent.objects.filter(vuln_id="CVE-2014-6271", kind="exploit_published", source="analyst").exists()


def test_an_offline_load_starts_the_online_updates_where_its_data_ends(db, vuln):
    import_feed("nvd", [vuln / "nvd" / "feeds-1.1" / "nvdcve-1.1-2003.json.gz"])
    newest = max(SourceRecord.objects.filter(source="nvd").values_list("modified", flat=True))
    watermark = FeedState.objects.get(source="nvd").watermark
    assert watermark == newest.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # a watermark already set (by online updates) is left alone
    FeedState.objects.filter(source="nvd").update(watermark="2099-01-01T00:00:00Z")
    import_feed("nvd", [vuln / "nvd" / "feeds-1.1" / "nvdcve-1.1-2003.json.gz"])
    assert FeedState.objects.get(source="nvd").watermark == "2099-01-01T00:00:00Z"
    # files of a source whose watermark is a download's version leave it empty
    import_feed("kev", [vuln / "cisa-kev" / "known_exploited_vulnerabilities.json"])
    assert FeedState.objects.get(source="kev").watermark == ""
