"""Web pages of vulnerability intelligence (脆弱性情報): the search, one vulnerability with what every source
says side by side, and the health of the feeds.

Vulnerability data is public knowledge: every role reads it, but only when signed in. Each view parses its
input, calls one query and renders.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ismp.apps.vulns import queries
from ismp.apps.vulns.choices import EvidenceSource
from ismp.apps.vulns.forms import VulnFilterForm
from ismp.apps.web.views import is_htmx_partial, paginate
from ismp.errors import NotFound

VULNS_PER_PAGE = 50
CHANGE_EVENTS_SHOWN = 50

SOURCE_LABELS = {
    "nvd": "NVD",
    "cve5": "CVE (CNA)",
    "jvn": "JVN iPedia",
    "osv": "OSV",
    "debian": "Debian",
    "kev": "CISA KEV",
    "epss": "EPSS",
    "exploitdb": "Exploit-DB",
    "metasploit": "Metasploit",
}
SOURCE_PAGES = {
    "nvd": "https://nvd.nist.gov/vuln/detail/{id}",
    "cve5": "https://www.cve.org/CVERecord?id={id}",
    "osv": "https://osv.dev/vulnerability/{id}",
    "debian": "https://security-tracker.debian.org/tracker/{id}",
}
KEV_CATALOG = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog?search_api_fulltext={id}"
EXPLOIT_DB = "https://www.exploit-db.com/exploits/{id}/"
METASPLOIT_MODULE = "https://github.com/rapid7/metasploit-framework/blob/master/{path}"
# the feed report's counts, as the feed page names them (FeedReport in services.py)
REPORT_COUNTS = (
    ("records_read", _("records read")),
    ("records_new", _("new records")),
    ("records_changed", _("changed records")),
    ("records_unchanged", _("unchanged records")),
    ("vulnerabilities_new", _("new vulnerabilities")),
    ("vulnerabilities_updated", _("updated vulnerabilities")),
    ("evidence_new", _("new evidence")),
    ("epss_new", _("new EPSS scores")),
    ("epss_changed", _("changed EPSS scores")),
    ("events", _("change events")),
)


@login_required
@require_GET
def vuln_list(request: HttpRequest) -> HttpResponse:
    filters = VulnFilterForm(request.GET)
    query = filters.query()
    partial = is_htmx_partial(request)
    response = render(
        request,
        "vulns/_vuln_table.html" if partial else "vulns/vuln_list.html",
        {
            "filters": filters,
            "page": paginate(request, queries.vulnerability_list(request.user, **query), VULNS_PER_PAGE),
            "order": query["order"],
            "total": queries.vulnerabilities_for(request.user).count(),
            "partial": partial,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def vuln_detail(request: HttpRequest, vuln_id: str) -> HttpResponse:
    """One vulnerability: the merged summary, each source's record side by side, evidence, EPSS, changes.
    Another id of it (JVNDB-…, PYSEC-…, a lower-case CVE id) redirects to its own page."""
    try:
        detail = queries.vulnerability_detail(vuln_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    vuln = detail["vulnerability"]
    if vuln["vuln_id"] != vuln_id:
        return redirect("web:vuln-detail", vuln_id=vuln["vuln_id"])
    return render(
        request,
        "vulns/vuln_detail.html",
        {
            "vuln": vuln,
            "sources": [_with_short_cpes(s) for s in detail["sources"]],
            "evidence": [
                {**e, "label": _evidence_label(e["source"]), "url": evidence_page(e, vuln["vuln_id"])}
                for e in detail["evidence"]
            ],
            "epss": detail["epss"],
            "events": queries.change_events(vuln["vuln_id"], CHANGE_EVENTS_SHOWN),
        },
    )


@login_required
@require_GET
def feed_status(request: HttpRequest) -> HttpResponse:
    """One row per registered source: when it was last imported, its watermark, counts and last error."""
    feeds = [
        {
            **row,
            "label": _source_label(row["source"]),
            "counts": [(label, row["last_report"][key]) for key, label in REPORT_COUNTS if row["last_report"].get(key)],
        }
        for row in queries.feed_status()
    ]
    return render(
        request, "vulns/feed_status.html", {"feeds": feeds, "failing": sum(1 for f in feeds if f["last_error"])}
    )


# ----------------------------------------------------------------------------------- presentation

_TRAILING_ANY = re.compile(r"(?::\*)+$")


def _with_short_cpes(source: dict[str, Any]) -> dict[str, Any]:
    """A source record for the page: its label and web page, and each CPE criterion of its configurations
    also without the trailing ANY components (``cpe:2.3:a:apache:struts``), which fit a narrow column."""
    stack = [node for config in source["record"].get("configurations") or () for node in config.get("nodes") or ()]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or ())
        for match in node.get("matches") or ():
            match["short"] = _TRAILING_ANY.sub("", match.get("criteria", ""))
    return {
        **source,
        "label": _source_label(source["source"]),
        "url": source_page(source["source"], source["source_id"]),
    }


def _source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def _evidence_label(source: str) -> str:
    return str(EvidenceSource(source).label) if source in EvidenceSource.values else source


def source_page(source: str, source_id: str) -> str:
    """The source's own web page for one of its records ("" when there is none)."""
    if source == "jvn":
        year = re.match(r"JVNDB-(\d{4})-\d+$", source_id)
        return f"https://jvndb.jvn.jp/ja/contents/{year[1]}/{source_id}.html" if year else ""
    page = SOURCE_PAGES.get(source)
    return page.format(id=quote(source_id)) if page else ""


def evidence_page(evidence: dict[str, Any], vuln_id: str) -> str:
    """Where a person can check the evidence: the Exploit-DB entry, the KEV catalogue, the Metasploit module's
    source, or a web address the feed gave (http and https only: feed data is not trusted to be harmless)."""
    reference = str(evidence["reference"])
    if evidence["source"] == "exploitdb" and reference.upper().removeprefix("EDB-").isdigit():
        return EXPLOIT_DB.format(id=reference.upper().removeprefix("EDB-"))
    if evidence["source"] == "kev":
        return KEV_CATALOG.format(id=quote(vuln_id))
    details = evidence.get("details") or {}
    path = str(details.get("path") or "")
    if evidence["source"] == "metasploit" and path.startswith("modules/") and ".." not in path:
        return METASPLOIT_MODULE.format(path=quote(path))
    link = str(details.get("url") or path)
    return link if link.startswith(("https://", "http://")) else ""
