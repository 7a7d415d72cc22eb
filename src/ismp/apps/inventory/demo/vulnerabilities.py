"""The demo company's vulnerabilities and findings: real feed records (``feeds/``, see its README) imported
with the vulns service, matched with the findings service, and a few findings decided by the demo CSIRT.

It happens once: a second ``ismp demo`` finds the records, reads no file and changes nothing (it does not
undo what someone did in the demo since, nor repeat the decisions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import models

from ismp.apps.accounts.models import User
from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions
from ismp.apps.findings.choices import Confidence, FindingState, Justification
from ismp.apps.findings.models import Finding
from ismp.apps.findings.services import match_pending_changes, match_systems
from ismp.apps.vulns.choices import EvidenceSource
from ismp.apps.vulns.models import ExploitEvidence, SourceRecord, Vulnerability
from ismp.apps.vulns.services import import_feed

FEEDS = Path(__file__).with_name("feeds")
# (source, file) in the order they are imported: vulnerabilities first, then what is said about them
FILES = (
    ("nvd", "nvdcve-1.1-demo.json.gz"),
    ("cve5", "vulnrichment-demo.jsonl.gz"),
    ("kev", "kev-2025.08.25.json.gz"),
    ("epss", "epss-demo.csv.gz"),
    ("exploitdb", "exploitdb-cve_to_edbid-demo.json.gz"),
    ("metasploit", "metasploit-demo.json.gz"),
)
# the newer KEV catalogue, left for the demo's "KEV update" step (``ismp feeds import kev <file>``)
KEV_UPDATE = FEEDS / "kev-2026.08.07.json.gz"
CSIRT = "csirt"
MARKER = "CVE-2014-6271"  # in the demo's NVD file; stored: the demo feeds were imported

# (system, CVE, product): findings the demo CSIRT has looked at and found not to affect the system, with the
# VEX justification and the note they wrote
NOT_AFFECTED = (
    (
        ("社内Wiki", "CVE-2016-5387", "http_server"),
        Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
        "httpoxy は CGI 経由でのみ成立する。mod_cgi / mod_cgid を読み込んでいないこと（httpd -M）と、"
        "HTTP_PROXY を参照する CGI が無いことを確認した。",
    ),
    (
        ("公式ブログ", "CVE-2017-10384", "mysql"),
        Justification.VULNERABLE_CODE_NOT_PRESENT,
        "影響を受けるのは MySQL 5.5.57 以前。稼働中の 5.5.61 は修正済みの版（Oracle CPU 2017年10月）。",
    ),
    (
        ("Active Directory", "CVE-2011-1271", ".net_framework"),
        Justification.VULNERABLE_CODE_NOT_PRESENT,
        "MS11-044 の対象は .NET Framework 2.0 SP2 / 3.5 SP1 / 3.5.1 / 4.0。導入済みの 4.7.2 は対象外。",
    ),
)
# a low-confidence match the CSIRT checked and confirmed: MySQL 5.1.72 is older than 5.5.57
CONFIRMED = ("法人向け共用ホスティング", "CVE-2017-10384", "mysql")


@dataclass
class VulnSummary:
    vulnerabilities: int
    kev: int
    findings_open: int
    needs_confirmation: int
    not_affected: int
    imported: bool  # this run imported new records (else everything was there already)


def load_vulnerabilities(*, new_company: bool) -> VulnSummary:
    """Import the demo feeds and match every system against them, then record the CSIRT's decisions; once:
    when NVD's record of Shellshock is already stored, the feeds are not read again (re-reading them would
    cost seconds at every start and could put these records back over newer ones imported since). A company
    loaded just now into a database that has them is matched against what is there."""
    imported = not SourceRecord.objects.filter(source="nvd", source_id=MARKER).exists()
    if imported:
        for source, name in FILES:
            import_feed(source, [FEEDS / name])
        match_pending_changes()  # every imported vulnerability, and the task runner's mark moves past them
        _decide()
    elif new_company:
        match_systems()
    open_findings = Finding.objects.filter(state=FindingState.OPEN)
    return VulnSummary(
        vulnerabilities=Vulnerability.objects.count(),
        kev=ExploitEvidence.objects.filter(source=EvidenceSource.KEV).values("vuln_id").distinct().count(),
        findings_open=open_findings.count(),
        needs_confirmation=open_findings.filter(confidence=Confidence.LOW, confirmed_at__isnull=True).count(),
        not_affected=Finding.objects.filter(state=FindingState.NOT_AFFECTED).count(),
        imported=imported,
    )


def _decide() -> None:
    actor = Actor(User.objects.get(username=CSIRT), "demo", label="demo-loader")
    for finding_of, justification, note in NOT_AFFECTED:
        for finding in _open(*finding_of):
            decisions.mark_not_affected(actor, finding, justification=justification, note=note)
    for finding in _open(*CONFIRMED).filter(confidence=Confidence.LOW, confirmed_at__isnull=True):
        decisions.confirm(actor, finding)


def _open(system: str, cve: str, product: str) -> models.QuerySet[Finding]:
    return Finding.objects.filter(
        state=FindingState.OPEN,
        system__name=system,
        vulnerability__vuln_id=cve,
        component_key__contains=f":{product}:",
    )
