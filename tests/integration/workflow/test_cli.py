"""``ismp workitems`` (list, show, export, act) and ``ismp urgency`` (show, recompute), in process."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from ismp.apps.findings.models import Finding
from ismp.apps.workflow.models import VulnerabilityUrgency, WorkItem
from ismp.cli.main import main

from .test_web import items  # noqa: F401  # the shared work items


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help(capsys):
    for argv in (["workitems", "--help"], ["workitems", "act", "--help"], ["urgency", "show", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    assert "FINDING" in capsys.readouterr().out


def test_list_is_scoped_and_filtered(company, items, capsys):  # noqa: F811
    code, out, _ = run(capsys, "workitems", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 4
    code, out, _ = run(capsys, "workitems", "list", "--as", "alice", "--json")
    assert {r["system"] for r in json.loads(out)} == {"EC shop"}
    code, out, _ = run(capsys, "workitems", "list", "--overdue")
    assert code == 0 and "CVE-2016-0001" in out and "OVERDUE" in out and "CVE-2014-6271" not in out
    code, out, _ = run(capsys, "workitems", "list", "--organisation", "BIZ", "--urgency", "S+", "--json")
    assert [r["system"] for r in json.loads(out)] == ["EC shop", "Mail gateway"]
    code, out, _ = run(capsys, "workitems", "list", "--as", "bob", "--vuln", "CVE-2014-6271", "--json")
    assert [r["system"] for r in json.loads(out)] == ["Mail gateway"]


def test_act_through_the_flow_and_refusals(company, items, capsys):  # noqa: F811
    pk = str(items.shellshock.pk)
    code, out, _ = run(capsys, "workitems", "act", pk, "decide", "--needed", "yes", "--as", "alice", "--version", "1")
    assert code == 0 and "needed (version 2)" in out
    code, _, err = run(capsys, "workitems", "act", pk, "decide", "--needed", "no", "--reason", "x", "--version", "1")
    assert code == 75 and "changed by alice" in err  # Conflict
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    code, _, err = run(capsys, "workitems", "act", pk, "plan", "--planned-date", tomorrow, "--as", "alice")
    assert code == 65 and "the method (対策方法) is required" in err  # InputError
    code, _, _ = run(
        capsys, "workitems", "act", pk, "plan", "--planned-date", tomorrow, "--method", "upgrade", "--as", "alice"
    )
    assert code == 0
    code, _, err = run(capsys, "workitems", "act", pk, "approve", "--as", "alice")
    assert code == 77 and "the CSIRT or the CISO approves" in err  # Forbidden
    code, _, err = run(capsys, "workitems", "act", pk, "approve", "--as", "bob")
    assert code == 66 and "not visible to you" in err  # NotFound
    code, out, _ = run(capsys, "workitems", "act", pk, "approve", "--as", "ciso", "--json")
    assert code == 0 and json.loads(out)["state"] == "approved"
    code, out, _ = run(capsys, "workitems", "act", pk, "complete", "--evidence", "bash 4.3-p25")  # the operator
    assert code == 0 and WorkItem.objects.get(pk=items.shellshock.pk).state == "done"
    labels = list(WorkItem.objects.get(pk=items.shellshock.pk).events.values_list("actor_label", flat=True))
    assert labels[:3] == ["alice", "alice", "ciso"] and labels[3].startswith("cli:")


def test_service_stop_time_is_read_in_the_company_zone(company, items, capsys):  # noqa: F811
    pk = str(items.shellshock.pk)
    code, _, _ = run(capsys, "workitems", "act", pk, "record_stop", "--at", "2026-11-20T09:00", "--as", "sam")
    assert code == 0
    stopped = WorkItem.objects.get(pk=items.shellshock.pk).service_stopped_at
    assert stopped == dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)


def test_show(company, items, capsys):  # noqa: F811
    code, out, _ = run(capsys, "workitems", "show", str(items.shellshock.pk), "--as", "alice")
    assert code == 0 and "Stop the service at once and respond." in out and "you may: decide" in out
    code, out, _ = run(capsys, "workitems", "show", str(items.shellshock.pk), "--as", "auditor", "--json")
    assert json.loads(out)["allowed_actions"] == []
    code, _, _ = run(capsys, "workitems", "show", str(items.shellshock.pk), "--as", "bob")
    assert code == 66


def test_export_csv_xlsx_json(company, items, capsys, tmp_path):  # noqa: F811
    WorkItem.objects.filter(pk=items.shellshock.pk).update(method="=1+2")
    target = tmp_path / "items.csv"
    code, _, _ = run(capsys, "workitems", "export", "--format", "csv", "-o", str(target), "--as", "alice")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    assert {r["system"] for r in rows} == {"EC shop"} and len(rows) == 2
    assert {r["method"] for r in rows} == {"'=1+2", ""}
    target = tmp_path / "items.xlsx"
    code, _, _ = run(capsys, "workitems", "export", "--format", "xlsx", "-o", str(target), "--overdue")
    sheet = load_workbook(target).active
    values = list(sheet.values)
    assert values[0][0] == "id" and len(values) == 2 and values[1][4] == "CVE-2016-0001"
    code, out, _ = run(capsys, "workitems", "export", "--format", "json", "--urgency", "S+")
    document = json.loads(out)
    assert document["format"] == "ismp-workitems" and len(document["workitems"]) == 2
    assert document["workitems"][0]["due"].endswith("+09:00")


def _finding(system, vulnerability) -> Finding:
    component = system.components.order_by("pk").first()
    return Finding.objects.create(
        system=system,
        vulnerability=vulnerability,
        component=component,
        component_key=component.key,
        criterion="c",
        evidence="e",
        confidence="high",
    )


def test_urgency_show(company, items, capsys):  # noqa: F811
    finding = _finding(company.shop, items.shellshock.vulnerability)
    code, out, _ = run(capsys, "urgency", "show", str(finding.pk))
    assert code == 0 and "対応緊急度 (urgency) S+" in out and "in KEV → attack tool" in out
    assert "Stop the service at once" in out and f"work item {items.shellshock.pk}: new" in out
    code, out, _ = run(capsys, "urgency", "show", str(finding.pk), "--as", "alice", "--json")
    report = json.loads(out)
    assert report["work_item"]["id"] == items.shellshock.pk and report["attack_possibility"] == "remote_tool"
    assert report["work_item"]["due"].endswith("+09:00")
    code, _, err = run(capsys, "urgency", "show", str(finding.pk), "--as", "bob")
    assert code == 66 and "not visible" in err


def test_urgency_recompute(company, items, capsys):  # noqa: F811
    vulnerability = items.postfix.vulnerability
    vulnerability.risk_level, vulnerability.cvss_score, vulnerability.attack_vector = 2, 3.3, "LOCAL"
    vulnerability.save()
    code, _, err = run(capsys, "urgency", "recompute", "--all", "--as", "alice")
    assert code == 77 and "the CSIRT does" in err
    code, out, _ = run(capsys, "urgency", "recompute", "--all", "--json")
    assert code == 0 and json.loads(out)["vulnerabilities"] == 3
    assert VulnerabilityUrgency.objects.get(vulnerability=vulnerability).value == "B"
    code, out, _ = run(capsys, "urgency", "recompute")
    assert code == 0 and "0 vulnerabilities decided" in out
