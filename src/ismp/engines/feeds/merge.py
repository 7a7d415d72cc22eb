"""One merged view of a vulnerability from what every source says about it.

Each source's record is kept as it came (provenance); this computes the summary ISMP shows and triages
on: titles and descriptions (English and Japanese), the CVSS score that counts, the attack vector, the
risk level, CWEs, dates and the CISA SSVC decision. Rules, in order of preference:

- CVSS: the newest CVSS version wins (4.0 > 3.1 > 3.0 > 2.0); within a version, NVD's primary score,
  then the CNA's (CVE JSON 5), then CISA-ADP's, then JVN's, then the rest.
- English text: CVE JSON 5 (the CNA's words), then NVD, then OSV, then the others; Japanese from JVN.
- Rejected when NVD or the CVE record says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ismp.engines.feeds.base import CvssMetric, VulnRecord
from ismp.engines.severity import attack_vector, risk_level, risk_level_from_word

_VERSION_RANK = {"4.0": 0, "3.1": 1, "3.0": 2, "2.0": 3}
# Debian's advisory headers ("bash - security update") are not titles of the vulnerability
_TEXT_SOURCES = ("cve5", "nvd", "osv", "jvn")
_SCORE_SOURCES = ("nvd", "cve5", "cve5-adp", "jvn")


def vulnerability_ids(record: VulnRecord) -> tuple[str, ...]:
    """The ids of the vulnerabilities a record speaks about: its CVE ids, else its own id."""
    own = (record.id,) if record.id.startswith("CVE-") else ()
    cves = tuple(dict.fromkeys(own + tuple(a for a in record.aliases if a.startswith("CVE-"))))
    return cves or (record.id,)


@dataclass(frozen=True, slots=True)
class MergedVulnerability:
    vuln_id: str
    aliases: tuple[str, ...]
    title: str
    title_ja: str
    description: str
    description_ja: str
    published: dt.datetime | None
    modified: dt.datetime | None
    rejected: bool
    cvss: CvssMetric | None
    attack_vector: str
    risk_level: int
    severity_basis: str  # why the risk level is what it is, e.g. "CVSS 3.1 9.8 (nvd@nist.gov) → 5"
    cwes: tuple[str, ...]
    ssvc_exploitation: str
    ssvc_automatable: str
    ssvc_technical_impact: str
    sources: tuple[str, ...]


def _score_rank(record: VulnRecord, metric: CvssMetric) -> tuple[int, int, int]:
    source = record.source
    if source == "cve5" and metric.source.upper().startswith("CISA"):
        source = "cve5-adp"
    rank = _SCORE_SOURCES.index(source) if source in _SCORE_SOURCES else len(_SCORE_SOURCES)
    return (_VERSION_RANK.get(metric.version, 9), rank, 0 if metric.primary else 1)


def best_cvss(records: Iterable[VulnRecord]) -> CvssMetric | None:
    """The score that counts; a published score beats a bare vector (OSV publishes vectors only)."""
    candidates = [(r, m) for r in records for m in r.cvss]
    scored = [(_score_rank(r, m), m) for r, m in candidates if m.base_score > 0]
    scored = scored or [(_score_rank(r, m), m) for r, m in candidates if m.vector]
    return min(scored, key=lambda pair: pair[0])[1] if scored else None


def _text(records: Sequence[VulnRecord], language: str, titles: bool) -> str:
    for source in _TEXT_SOURCES:
        for record in records:
            if record.source == source:
                text = (record.titles if titles else record.descriptions).get(language, "")
                if text:
                    return text
    return ""


def merge(vuln_id: str, records: Sequence[VulnRecord]) -> MergedVulnerability:
    """The summary of ``records`` (all about ``vuln_id``, from any sources)."""
    cvss = best_cvss(records)
    if cvss is not None and cvss.base_score > 0:
        level, basis = risk_level(cvss.base_score), f"CVSS {cvss.version} {cvss.base_score:g}"
        basis += f" ({cvss.source})" if cvss.source else ""
    else:
        words = [r.severity for r in records if r.severity]
        level = max((risk_level_from_word(w) for w in words), default=1)
        basis = f"severity {words[0]!r}" if words else "no severity published"
    aliases = sorted({a for r in records for a in (r.id, *r.aliases)} - {vuln_id})
    published = [r.published for r in records if r.published]
    modified = [r.modified for r in records if r.modified]
    ssvc = next((r for r in records if r.ssvc_exploitation or r.ssvc_automatable), None)
    return MergedVulnerability(
        vuln_id=vuln_id,
        aliases=tuple(aliases),
        title=_text(records, "en", titles=True),
        title_ja=_text(records, "ja", titles=True),
        description=_text(records, "en", titles=False),
        description_ja=_text(records, "ja", titles=False),
        published=min(published) if published else None,
        modified=max(modified) if modified else None,
        rejected=any(r.rejected for r in records if r.source in ("nvd", "cve5")),
        cvss=cvss,
        attack_vector=attack_vector(cvss.vector) if cvss else "",
        risk_level=level,
        severity_basis=f"{basis} → {level}",
        cwes=tuple(sorted({c for r in records for c in r.cwes})),
        ssvc_exploitation=ssvc.ssvc_exploitation if ssvc else "",
        ssvc_automatable=ssvc.ssvc_automatable if ssvc else "",
        ssvc_technical_impact=ssvc.ssvc_technical_impact if ssvc else "",
        sources=tuple(sorted({r.source for r in records})),
    )
