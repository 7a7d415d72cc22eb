"""The bottom line (ボトムライン) on a small hand-built company: counts, scoping, drill-down, links, reports,
API, CLI and a query count that does not grow with the data."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from ismp.apps.accounts.models import Organisation
from ismp.apps.dashboard.queries import summary
from ismp.apps.dashboard.reports import build_report, sections, write_report
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import System
from ismp.apps.vulns.models import Vulnerability
from ismp.apps.workflow.models import Drill, WorkItem
from ismp.cli.main import main

NOW = timezone.now()
DAY = dt.timedelta(days=1)


def vuln(vuln_id: str, level: int) -> Vulnerability:
    return Vulnerability.objects.create(vuln_id=vuln_id, risk_level=level)


def item(
    system: System, urgency: str, state: str, *, vulnerability: Vulnerability | None = None, **fields: Any
) -> WorkItem:
    values: dict[str, Any] = {
        "kind": "security_info" if vulnerability else "diagnosis",
        "title": "" if vulnerability else "found by a scan",
        "answer_due": NOW + 3 * DAY,
        "due": NOW + 10 * DAY,
        **fields,
    }
    return WorkItem.objects.create(system=system, vulnerability=vulnerability, urgency=urgency, state=state, **values)


@dataclass
class Estate:
    company: Any
    intranet: System


@pytest.fixture
def estate(company) -> Estate:
    """shop (WEB, alice): S+ overdue, A open, B done; mail (OPS, bob): S- past its registration period,
    B accepted; intranet (HQ itself): A overdue diagnosis without a vulnerability; plus a drill item."""
    intranet = System.objects.create(name="Intranet", organisation=company.hq, system_type="internal")
    item(company.shop, "S+", "needed", vulnerability=vuln("CVE-2017-5638", 5), due=NOW - DAY)
    item(company.shop, "A", "planned", vulnerability=vuln("CVE-2020-0004", 4))
    item(
        company.shop,
        "B",
        "done",
        vulnerability=vuln("CVE-2020-0002", 2),
        opened_at=NOW - 21 * DAY,
        completed_on=timezone.localdate(NOW),
    )
    item(company.mail, "S-", "new", vulnerability=vuln("CVE-2014-6271", 5), answer_due=NOW - DAY)
    item(company.mail, "B", "accepted", vulnerability=vuln("CVE-2020-0003", 3))
    item(intranet, "A", "needed", due=NOW - 2 * DAY)
    drill = Drill.objects.create(name="drill", vuln_title="simulated", urgency="S+")
    item(company.shop, "S+", "new", title="drill", drill=drill, due=NOW - DAY, answer_due=NOW - DAY)
    return Estate(company, intranet)


def counts(group: Any) -> tuple[int, int, int, int]:
    c = group.counts
    return (c.open, c.overdue, c.severe, c.done)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------------------------------- counts


def test_company_counts_by_urgency_and_risk_level(estate):
    data = summary(estate.company.ciso)
    assert counts(data.total) == (4, 3, 2, 1)  # the drill's overdue S+ is not counted
    assert {g.key: counts(g) for g in data.by_urgency} == {
        "S+": (1, 1, 1, 0),
        "S-": (1, 1, 1, 0),
        "A": (2, 1, 0, 0),
        "B": (0, 0, 0, 1),
    }
    assert {g.key: counts(g) for g in data.by_risk} == {
        "5": (2, 2, 2, 0),
        "4": (1, 0, 0, 0),
        "3": (0, 0, 0, 0),  # accepted: neither open nor completed
        "2": (0, 0, 0, 1),
        "1": (0, 0, 0, 0),
        "-": (1, 1, 0, 0),  # a diagnosis result without a known vulnerability
    }


def test_furthest_behind_come_first(estate):
    data = summary(estate.company.csirt)
    assert [(g.key, counts(g)) for g in data.organisations] == [
        ("BIZ", (3, 2, 2, 1)),  # WEB and OPS below it
        ("HQ", (1, 1, 0, 0)),  # the company's own systems
        ("SEC", (0, 0, 0, 0)),
    ]
    assert [g.label for g in data.systems] == ["EC shop", "Mail gateway", "Intranet"]


def test_organisation_drill_down_includes_descendants(estate):
    data = summary(estate.company.ciso, organisation="BIZ")
    assert counts(data.total) == (3, 2, 2, 1)
    assert [(g.key, counts(g)) for g in data.organisations] == [("WEB", (2, 1, 1, 1)), ("OPS", (1, 1, 1, 0))]
    assert [g.label for g in data.systems] == ["EC shop", "Mail gateway"]
    assert [o.code for o in data.scope.path] == ["HQ", "BIZ"]
    leaf = summary(estate.company.ciso, organisation="OPS")
    assert counts(leaf.total) == (1, 1, 1, 0) and leaf.organisations[0].key == "OPS"


def test_one_system(estate):
    data = summary(estate.company.ciso, system=estate.company.mail.pk)
    assert counts(data.total) == (1, 1, 1, 0)
    assert data.organisations == [] and [i.system_id for i in data.upcoming] == [estate.company.mail.pk]


def test_trend_counts_this_weeks_opened_and_completed(estate):
    trend = summary(estate.company.ciso).trend
    assert len(trend) == 12 and trend[-1].start.weekday() == 0
    assert (trend[-1].opened, trend[-1].completed) == (5, 1)
    assert sum(w.opened for w in trend) == 6  # the item opened three weeks ago included


def test_findings_and_coverage_are_counted(estate):
    company = estate.company
    Finding.objects.create(
        system=company.shop,
        vulnerability=Vulnerability.objects.get(vuln_id="CVE-2017-5638"),
        component_key="x",
        criterion="x",
        confidence="high",
        evidence="x",
    )
    System.objects.create(name="Old shop", organisation=company.web, system_type="public_web", lifecycle="retired")
    data = summary(company.ciso, organisation="WEB")
    assert data.findings == {"open": 1}
    assert data.coverage.total.systems == 1 and data.coverage.total.required > 0  # the retired one needs none
    body = client_for(company.ciso).get(reverse("web:dashboard"), {"organisation": "WEB"}).content.decode()
    gaps = f"{reverse('web:controls-gaps')}?organisation=WEB"
    assert f'href="{gaps}"' in body
    assert client_for(company.ciso).get(gaps).status_code == 200


# ------------------------------------------------------------------------------------------- scope


def test_administrator_sees_only_his_systems(estate):
    alice = estate.company.alice
    data = summary(alice)
    assert counts(data.total) == (2, 1, 1, 1)
    assert [g.label for g in data.systems] == ["EC shop"]
    assert {i.system_id for i in data.upcoming} == {estate.company.shop.pk}
    body = client_for(alice).get(reverse("web:dashboard")).content.decode()
    assert "EC shop" in body and "Mail gateway" not in body and "Intranet" not in body
    assert "My work items" in body


def test_administrator_cannot_open_another_system_or_unknown_organisation(estate):
    alice = client_for(estate.company.alice)
    assert alice.get(reverse("web:dashboard"), {"system": estate.company.mail.pk}).status_code == 404
    assert alice.get(reverse("web:dashboard"), {"organisation": "NOPE"}).status_code == 404
    # an organisation is fine, but narrowed to her systems
    response = alice.get(reverse("web:dashboard"), {"organisation": "BIZ"})
    assert response.status_code == 200 and counts(response.context["summary"].total) == (2, 1, 1, 1)


def test_page_renders_for_every_role_and_scope(estate):
    company = estate.company
    for user in company.users().values():
        for params in ({}, {"organisation": "BIZ"}):
            response = client_for(user).get(reverse("web:dashboard"), params)
            assert response.status_code == 200, (user, params)
    response = client_for(company.ciso).get(reverse("web:dashboard"), {"system": company.shop.pk})
    assert response.status_code == 200 and b"<svg" in response.content


# ------------------------------------------------------------------------------------------- links


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_numbers_link_to_the_lists_behind_them(estate):
    data = summary(estate.company.ciso, organisation="BIZ")
    assert _query(data.total.links["overdue"]) == {"organisation": ["BIZ"], "overdue": ["1"]}
    assert _query(data.total.links["open"]) == {"organisation": ["BIZ"], "state": ["open"]}
    assert _query(data.total.links["done"]) == {"organisation": ["BIZ"], "state": ["done"]}
    s_plus = next(g for g in data.by_urgency if g.key == "S+")
    assert _query(s_plus.links["overdue"]) == {"organisation": ["BIZ"], "urgency": ["S+"], "overdue": ["1"]}
    assert next(g for g in data.by_urgency if g.key == "B").links["severe"] is None
    web = data.organisations[0]
    assert _query(web.links["open"]) == {"organisation": ["WEB"], "state": ["open"]}
    shop = data.systems[0]
    assert _query(shop.links["overdue"]) == {"system": [str(estate.company.shop.pk)], "overdue": ["1"]}
    assert _query(data.findings_links["open"]) == {"organisation": ["BIZ"], "state": ["open"]}


def test_links_resolve_to_lists_that_filter_the_same_way(estate):
    """Every link on the page leads to a page that answers 200; the findings list (and the work-items list,
    where installed) shows the filter the link asked for."""
    csirt = client_for(estate.company.csirt)
    data = summary(estate.company.csirt, organisation="BIZ")
    findings = csirt.get(data.findings_links["open"])
    assert findings.status_code == 200
    overdue = data.total.links["overdue"]
    path = urlsplit(overdue).path
    try:
        resolve(path)
    except Resolver404:
        pytest.skip("the work-items list is not installed yet")
    response = csirt.get(overdue)
    assert response.status_code == 200
    body = response.content.decode()
    assert "EC shop" in body and "Mail gateway" in body and "Intranet" not in body


def test_organisation_rows_drill_down(estate):
    body = client_for(estate.company.ciso).get(reverse("web:dashboard")).content.decode()
    assert f'href="{reverse("web:dashboard")}?organisation=BIZ"' in body


# ------------------------------------------------------------------------------------------ reports


def test_xlsx_reports_are_readable_and_formula_safe(estate):
    company = estate.company
    evil = System.objects.create(name='=HYPERLINK("http://x")', organisation=company.web, system_type="internal")
    item(evil, "A", "needed", due=NOW - DAY)
    for kind, organisation in (("ciso", ""), ("weekly", "BIZ")):
        buffer = io.BytesIO()
        write_report(build_report(company.ciso, kind, organisation=organisation), "xlsx", buffer)
        book = load_workbook(io.BytesIO(buffer.getvalue()))
        urgency = {row[0]: row[1:] for row in book["By urgency"].iter_rows(values_only=True) if row[0] in ("S+", "B")}
        assert urgency["S+"] == (1, 1, 1, 0)  # severe, overdue, open, completed
        systems = [row[0] for row in book["Systems furthest behind"].iter_rows(values_only=True)]
        assert '\'=HYPERLINK("http://x")' in systems and '=HYPERLINK("http://x")' not in systems
    assert book["Total"]["A1"].value.startswith("Weekly status: BIZ")
    assert [row[0] for row in book["Total"].iter_rows(values_only=True)][-1] == "事業本部"  # the scope, in Japanese


def test_pdf_reports_are_pdf_with_english_names(estate):
    Organisation.objects.filter(code="BIZ").update(name_en="Business division")
    for kind, organisation in (("ciso", ""), ("weekly", "BIZ")):
        buffer = io.BytesIO()
        report = build_report(estate.company.ciso, kind, organisation=organisation)
        write_report(report, "pdf", buffer)
        assert buffer.getvalue().startswith(b"%PDF") and len(buffer.getvalue()) > 1000
    assert report.title == "Weekly status: Business division (BIZ)"
    tables = {title: rows for title, _header, rows in sections(report, english=True)}
    assert tables["Total"][0][0] == "Business division"
    assert [row[0] for row in tables["Organisations furthest behind"]] == ["WEB", "OPS"]  # no English name: the code
    for rows in tables.values():
        for row in rows:
            str(row).encode("latin-1")  # what the PDF core font can draw


def test_report_download(estate):
    ciso = client_for(estate.company.ciso)
    response = ciso.get(reverse("web:dashboard-report"), {"kind": "weekly", "organisation": "OPS", "format": "pdf"})
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    response = ciso.get(reverse("web:dashboard-report"), {"kind": "weekly", "format": "pdf"})
    assert response.status_code == 404


def test_cli_reports(estate, tmp_path, capsys):
    out = tmp_path / "weekly.xlsx"
    assert main(["report", "weekly", "--organisation", "BIZ", "--format", "xlsx", "-o", str(out)]) == 0
    assert load_workbook(out)["Total"].max_row >= 5
    pdf = tmp_path / "ciso.pdf"
    assert main(["report", "ciso", "--format", "pdf", "-o", str(pdf), "--as", "alice"]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["report", "weekly", "--organisation", "NOPE", "-o", str(out)]) != 0
    assert "NOPE" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- API


def test_api_is_scoped(estate):
    api = APIClient()
    api.force_authenticate(estate.company.bob)
    body = api.get("/api/dashboard/").json()
    assert body["total"] == {"open": 1, "overdue": 1, "severe": 1, "done": 0}
    assert [s["label"] for s in body["systems"]] == ["Mail gateway"]
    api.force_authenticate(estate.company.auditor)
    body = api.get("/api/dashboard/", {"organisation": "WEB"}).json()
    assert body["scope"]["organisation"] == "WEB" and body["total"]["open"] == 2
    assert api.get("/api/dashboard/", {"organisation": "NOPE"}).status_code == 404
    assert APIClient().get("/api/dashboard/").status_code in (401, 403)


# ------------------------------------------------------------------------------------- query count


def _grow(company: Any, n: int) -> None:
    """More organisations, systems and work items of every kind."""
    div = Organisation.objects.create(code="DIV2", name="第二事業本部", kind="division", parent=company.hq)
    levels = [vuln(f"CVE-2099-{i:04d}", 1 + i % 5) for i in range(n)]
    for i in range(n):
        dept = Organisation.objects.create(code=f"D{i}", name=f"部{i}", kind="department", parent=div)
        system = System.objects.create(name=f"sys{i}", organisation=dept, system_type="internal")
        system.administrators.add(company.alice)
        for j, (urgency, state) in enumerate((("S+", "new"), ("A", "done"), ("B", "needed"))):
            item(
                system,
                urgency,
                state,
                vulnerability=levels[(i + j) % n],
                due=NOW - DAY if j else NOW + DAY,
                completed_on=timezone.localdate(NOW) if state == "done" else None,
            )


@pytest.mark.parametrize("username", ["ciso", "alice"])
def test_page_makes_the_same_number_of_queries_whatever_the_size(estate, username, django_assert_num_queries):
    company = estate.company
    user = company.users()[username]
    client = client_for(user)
    url = reverse("web:dashboard")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
        assert client.get(url, {"organisation": "HQ"}).status_code == 200
    _grow(company, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
        assert client.get(url, {"organisation": "HQ"}).status_code == 200
    assert len(summary(user).systems) > 1


# ------------------------------------------------------------------------------------------ roll-up


def _figures(data: Any) -> dict[str, Any]:
    body = data.as_dict()
    return {
        k: body[k] for k in ("total", "by_urgency", "by_risk_level", "organisations", "systems", "trend", "findings")
    }


@pytest.mark.parametrize(
    ("username", "params"),
    [
        ("ciso", {}),
        ("ciso", {"organisation": "BIZ"}),
        ("auditor", {"organisation": "OPS"}),
        ("csirt", {"system": "shop"}),
        ("alice", {}),
        ("alice", {"organisation": "HQ"}),
    ],
)
def test_rollup_gives_the_live_figures(estate, username, params):
    from ismp.apps.dashboard.services import refresh

    company = estate.company
    Finding.objects.create(
        system=company.shop,
        vulnerability=Vulnerability.objects.get(vuln_id="CVE-2020-0004"),
        component_key="x",
        criterion="x",
        confidence="low",  # unconfirmed: only the roles that see everything count it
        evidence="x",
    )
    report = refresh(NOW)
    assert report.cells > 0 and report.weeks > 0 and report.findings == 1
    user = company.users()[username]
    if params.get("system") == "shop":
        params = {"system": company.shop.pk}
    live = summary(user, now=NOW, source="live", **params)
    rolled = summary(user, now=NOW, source="rollup", **params)
    assert rolled.rollup and not live.rollup
    assert _figures(rolled) == _figures(live)
    assert counts(rolled.total) != (0, 0, 0, 0)


def test_large_scopes_read_a_fresh_rollup_and_small_ones_stay_live(estate, monkeypatch):
    from ismp.apps.dashboard.services import refresh

    ciso = estate.company.ciso
    monkeypatch.setattr("ismp.apps.dashboard.queries.LIVE_SYSTEMS", 2)
    assert not summary(ciso).rollup  # no roll-up yet: counted live
    refresh(NOW)
    assert summary(ciso, now=NOW).rollup  # 3 systems > 2
    assert not summary(ciso, now=NOW, organisation="WEB").rollup  # 1 system
    assert not summary(ciso, now=NOW + dt.timedelta(hours=1)).rollup  # the roll-up is too old
    # a change shows in the roll-up after its next refresh (the task runs every five minutes)
    WorkItem.objects.filter(system=estate.intranet).update(state="done", completed_on=timezone.localdate(NOW))
    assert counts(summary(ciso, now=NOW).total) == (4, 3, 2, 1)
    refresh(NOW)
    assert counts(summary(ciso, now=NOW).total) == (3, 2, 2, 2)


def test_rollup_page_makes_the_same_number_of_queries_whatever_the_size(estate, monkeypatch, django_assert_num_queries):
    from ismp.apps.dashboard.services import refresh

    monkeypatch.setattr("ismp.apps.dashboard.queries.LIVE_SYSTEMS", 0)
    client = client_for(estate.company.ciso)
    refresh()
    with CaptureQueriesContext(connection) as small:
        response = client.get(reverse("web:dashboard"))
    assert response.context["summary"].rollup and b"refreshed every five minutes" in response.content
    _grow(estate.company, 12)
    refresh()
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("web:dashboard"))
    assert len(response.context["summary"].systems) > 3


def test_task_runner_refreshes_the_rollup(estate):
    from ismp.apps.dashboard.models import Refresh
    from ismp.apps.dashboard.tasks import refresh_rollup

    refresh_rollup()  # Huey in immediate mode runs it now
    assert Refresh.objects.get().refreshed_at <= timezone.now()
    assert summary(estate.company.ciso, source="rollup").total.counts.open == 4


def test_trend_chart_scales_to_the_busiest_week():
    from ismp.apps.dashboard.charts import trend_chart
    from ismp.apps.dashboard.values import Week

    monday = dt.date(2026, 1, 5)
    chart = trend_chart([Week(monday, 0, 0), Week(monday + dt.timedelta(weeks=1), 20, 7)])
    opened = [b for b in chart.bars if b.series == "opened"]
    assert [b.value for b in opened] == [0, 20] and opened[1].height == chart.baseline  # 20 is the top
    assert [value for _y, value in chart.scale] == [0, 10, 20]
    assert chart.labels[1][1] == "01-12"
