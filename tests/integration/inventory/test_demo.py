"""The demo company (``ismp demo``): its inventory, the real vulnerability records shipped with it, the
findings they give (the emergency-board cases of its README among them), the CSIRT's decisions, and that
loading it again changes nothing. Needs no ../shared/data: everything comes from the package."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ismp.apps.audit.models import AuditEntry
from ismp.apps.findings.choices import Confidence, FindingState
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.demo import DEMO_FILE, load_demo
from ismp.apps.inventory.demo.vulnerabilities import FEEDS, FILES, KEV_UPDATE
from ismp.apps.vulns.models import EpssScore, ExploitEvidence, FeedState, SourceRecord, Vulnerability

# the systems the demo README lists for each emergency-board case (retired systems included)
FAMOUS = {
    "CVE-2014-6271": {  # Shellshock: bash ≤ 4.3, RHEL 5/6/7, BIG-IP 11.6.0
        "青葉オンラインショップ",
        "会員マイページ",
        "法人向け共用ホスティング",
        "監視代行サービス基盤",
        "ISP権威DNS",
        "ネットワーク監視システム",
        "メールゲートウェイ",
        "社内DNS・DHCP",
        "ロードバランサ",
        "勤怠管理システム",
        "関西支社 ファイルサーバ",
        "旧ホスティング基盤",
        "社外向けWebサーバ（旧）",
        "旧CIサーバ",
    },
    "CVE-2014-0160": {  # Heartbleed: OpenSSL 1.0.1 ≤ v < 1.0.1g, Debian 8
        "青葉オンラインショップ",
        "会員マイページ",
        "法人向け共用ホスティング",
        "法人向けメールホスティング",
        "ISP会員メール",
        "ISP Webメール",
        "メールゲートウェイ",
        "社外向けWebサーバ（旧）",
    },
    "CVE-2017-5638": {  # Struts S2-045: Struts 2.3.x < 2.3.32, 2.5.x < 2.5.10.1, WebLogic
        "青葉オンラインショップ",
        "ポイント管理システム",
        "法人受発注ポータル AobaBiz",
        "勤怠管理システム",
        "会計システム",
        "設備管理データベース",
        "人事システム",
    },
}


@pytest.fixture
def no_shared_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo must not need ../shared/data."""
    monkeypatch.setenv("ISMP_SHARED_DATA", str(tmp_path / "absent"))


@pytest.mark.django_db
def test_demo_has_findings_for_the_famous_cases_on_the_systems_that_have_them(no_shared_data):
    summary = load_demo()

    for cve, systems in FAMOUS.items():
        found = set(Finding.objects.filter(vulnerability__vuln_id=cve).values_list("system__name", flat=True))
        assert found == systems, cve
    shellshock = Finding.objects.filter(vulnerability__vuln_id="CVE-2014-6271", component_key__contains=":bash:")
    assert shellshock.filter(confidence=Confidence.HIGH).count() == shellshock.count() > 0
    assert summary.vulns.imported
    assert summary.vulns.vulnerabilities == Vulnerability.objects.count() > 2000
    assert summary.vulns.findings_open == Finding.objects.filter(state=FindingState.OPEN).count() > 0


@pytest.mark.django_db
def test_demo_has_kev_epss_exploits_and_ssvc_for_shellshock(no_shared_data):
    load_demo()

    kev = ExploitEvidence.objects.get(vuln_id="CVE-2014-6271", source="kev")
    assert "Bash" in kev.name
    assert kev.date is not None and kev.due is not None
    assert ExploitEvidence.objects.filter(vuln_id="CVE-2014-6271", source="exploitdb").exists()
    assert ExploitEvidence.objects.filter(vuln_id="CVE-2014-6271", source="metasploit").exists()
    assert EpssScore.objects.get(vuln_id="CVE-2014-0160").score > 0.5
    assert SourceRecord.objects.filter(source="cve5").exists()
    assert Vulnerability.objects.exclude(ssvc_exploitation="").filter(findings__isnull=False).exists()


@pytest.mark.django_db
def test_demo_shows_every_decision_state(no_shared_data):
    summary = load_demo()

    not_affected = Finding.objects.filter(state=FindingState.NOT_AFFECTED)
    assert summary.vulns.not_affected == not_affected.count() >= 2
    assert all(f.justification and f.decision_note and f.decided_by.username == "csirt" for f in not_affected)
    confirmed = Finding.objects.get(confirmed_at__isnull=False)
    assert (confirmed.system.name, confirmed.vulnerability.vuln_id) == ("法人向け共用ホスティング", "CVE-2017-10384")
    assert confirmed.confirmed_by.username == "csirt" and confirmed.confidence == Confidence.LOW
    waiting = Finding.objects.filter(state=FindingState.OPEN, confidence=Confidence.LOW, confirmed_at__isnull=True)
    assert summary.vulns.needs_confirmation == waiting.count() > 0
    decided = AuditEntry.objects.filter(object_type="findings.finding", actor_name="csirt")
    assert decided.count() == not_affected.count() + 1


@pytest.mark.django_db
def test_demo_loaded_twice_imports_nothing_and_changes_no_finding(no_shared_data):
    load_demo()
    findings = list(Finding.objects.order_by("pk").values())
    counts = _counts()
    feeds = list(FeedState.objects.order_by("source").values())

    again = load_demo()

    assert again.already_loaded and not again.vulns.imported
    assert list(Finding.objects.order_by("pk").values()) == findings
    assert _counts() == counts
    assert list(FeedState.objects.order_by("source").values()) == feeds


def _counts() -> dict[str, int]:
    return {
        "records": SourceRecord.objects.count(),
        "vulnerabilities": Vulnerability.objects.count(),
        "evidence": ExploitEvidence.objects.count(),
        "epss": EpssScore.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_demo_feeds_are_small_documented_and_shipped():
    files = sorted(p.name for p in FEEDS.glob("*.gz"))
    assert sorted([name for _, name in FILES] + [KEV_UPDATE.name]) == files
    assert sum((FEEDS / name).stat().st_size for name in files) <= 2_000_000
    readme = (FEEDS / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in files)
    assert "scripts/demo-feeds" in readme
    pyproject = (Path(DEMO_FILE).parents[5] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"apps/inventory/demo/feeds/*"' in pyproject


def test_demo_nvd_feed_holds_the_famous_cases_unchanged():
    with gzip.open(FEEDS / "nvdcve-1.1-demo.json.gz", "rt", encoding="utf-8") as f:
        feed = json.load(f)
    ids = [item["cve"]["CVE_data_meta"]["ID"] for item in feed["CVE_Items"]]
    assert set(FAMOUS) <= set(ids)
    assert int(feed["CVE_data_numberOfCVEs"]) == len(ids) == len(set(ids))
