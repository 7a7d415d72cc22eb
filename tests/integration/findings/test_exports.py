"""Exports of findings (JSON, CSV, XLSX) and per-system VEX, through the CLI and the functions behind the
web and API downloads: scoped by role, hostile text inert, columns as documented."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions
from ismp.apps.findings.exporting import EXPORT_COLUMNS, component_from_key, export_system_vex, write_export
from ismp.apps.findings.models import Finding
from ismp.cli.main import main

HOSTILE = '=HYPERLINK("http://evil.invalid","x")'  # conftest.py gives CVE-2099-0666 this title


def export(user, fmt: str, **filters) -> bytes:
    stream = io.BytesIO()
    write_export(user, fmt, stream, filters)
    return stream.getvalue()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(data: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["findings"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert tuple(header) == EXPORT_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_json_export_has_every_column_and_what_the_csirt_sees(company, findings):
    document = json.loads(export(company.csirt, "json"))
    assert document["format"] == "ismp-findings" and document["columns"] == list(EXPORT_COLUMNS)
    by_vuln = {row["vulnerability"]: row for row in document["findings"]}
    assert set(by_vuln) == {"CVE-2017-5638", "CVE-2099-0666", "CVE-2016-0001"}
    struts = by_vuln["CVE-2017-5638"]
    assert (struts["system"], struts["organisation"], struts["product"], struts["version"]) == (
        "EC shop",
        "WEB",
        "struts",
        "2.3.5",
    )
    assert struts["cpe"].startswith("cpe:2.3:a:apache:struts:2.3.5") and struts["confidence"] == "high"
    assert struts["confirmed"] is True and by_vuln["CVE-2099-0666"]["confirmed"] is False
    assert struts["first_seen"] and struts["last_seen"] and struts["risk_level"] == 5


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_are_scoped_to_the_user(company, findings, fmt):
    data = export(company.alice, fmt)
    rows = {"csv": csv_rows, "xlsx": xlsx_rows, "json": lambda d: json.loads(d)["findings"]}[fmt](data)
    assert [r["vulnerability"] for r in rows] == ["CVE-2017-5638"]  # not mail's, not the unconfirmed match


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_text_is_neutralised_in_spreadsheets(company, findings, fmt):
    decisions.mark_not_affected(
        Actor(company.csirt, "test"), findings.struts, justification="component_not_present", note="@SUM(1+1)\x07"
    )
    rows = (csv_rows if fmt == "csv" else xlsx_rows)(export(company.csirt, fmt))
    by_vuln = {r["vulnerability"]: r for r in rows}
    assert by_vuln["CVE-2099-0666"]["title"] == "'" + HOSTILE
    note = by_vuln["CVE-2017-5638"]["decision_note"]
    assert note.startswith("'@SUM") and (note.endswith("\x07") if fmt == "csv" else note == "'@SUM(1+1)")
    assert all(not str(v).startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v is not None)


def test_xlsx_keeps_numbers_as_numbers(company, findings):
    struts = next(r for r in xlsx_rows(export(company.csirt, "xlsx")) if r["vulnerability"] == "CVE-2017-5638")
    assert struts["risk_level"] == 5 and struts["cvss_score"] == 10.0 and struts["id"] == findings.struts.pk


def test_filters_apply_to_the_export(company, findings):
    rows = csv_rows(export(company.csirt, "csv", system="Mail gateway"))
    assert [r["vulnerability"] for r in rows] == ["CVE-2016-0001"]
    assert csv_rows(export(company.csirt, "csv", state="not_affected")) == []


def test_a_removed_component_is_still_named_from_the_finding(company, findings):
    findings.struts.component.delete()
    row = json.loads(export(company.csirt, "json", vuln="CVE-2017-5638"))["findings"][0]
    assert row["component"].startswith("cpe:2.3:a:apache:struts") and row["version"] == "2.3.5"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pkg:pypi/django@4.2.1", ("", "pkg:pypi/django@4.2.1", "django", "4.2.1")),
        ("a:acme:ledger:1.0", ("", "", "ledger", "1.0")),
        ("cpe:2.3:a:broken", ("", "", "cpe:2.3:a:broken", "")),
    ],
)
def test_component_from_key(key, expected):
    c = component_from_key(key)
    assert (c.cpe, c.purl, c.product, c.version) == expected


# ------------------------------------------------------------------------------------------------ VEX


def test_cyclonedx_vex_of_a_system_states_each_finding(company, findings):
    decisions.mark_not_affected(
        Actor(company.alice, "test"), findings.struts, justification="inline_mitigations_already_exist", note="WAF"
    )
    bom = json.loads(export_system_vex(company.csirt, company.shop, "cyclonedx"))
    refs = {c["bom-ref"] for c in bom["components"]}
    states = {v["id"]: v["analysis"] for v in bom["vulnerabilities"]}
    assert states["CVE-2017-5638"]["state"] == "not_affected"
    assert states["CVE-2017-5638"]["justification"] == "protected_by_mitigating_control"
    assert states["CVE-2017-5638"]["detail"] == "WAF"
    assert states["CVE-2099-0666"]["state"] == "in_triage"
    assert all(a["ref"] in refs for v in bom["vulnerabilities"] for a in v["affects"])


def test_vex_for_an_administrator_leaves_out_the_unconfirmed_match(company, findings):
    document = json.loads(export_system_vex(company.alice, company.shop, "openvex"))
    statements = {s["vulnerability"]["name"]: s for s in document["statements"]}
    assert set(statements) == {"CVE-2017-5638"}
    assert statements["CVE-2017-5638"]["status"] == "affected"
    assert statements["CVE-2017-5638"]["products"][0]["@id"] == findings.struts.component_key


def test_vex_leaves_out_findings_of_components_the_system_no_longer_has(company, findings):
    Finding.objects.filter(pk=findings.struts.pk).update(state="closed", closed_reason="version changed")
    findings.struts.component.delete()
    document = json.loads(export_system_vex(company.csirt, company.shop, "openvex"))
    assert {s["vulnerability"]["name"] for s in document["statements"]} == set()


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_export_to_a_file_as_a_user(company, findings, tmp_path):
    out = tmp_path / "f.xlsx"
    assert main(["findings", "export", "--format", "xlsx", "--as", "bob", "-o", str(out)]) == 0
    assert [r["vulnerability"] for r in xlsx_rows(out.read_bytes())] == ["CVE-2016-0001"]


def test_cli_export_csv_to_stdout_with_state(company, findings, capsysbinary):
    assert main(["findings", "export", "--format", "csv", "--state", "open"]) == 0
    assert len(csv_rows(capsysbinary.readouterr().out)) == 3


def test_cli_list_and_the_confirmation_queue(company, findings, capsys):
    assert main(["findings", "list", "--json", "--as", "csirt", "--needs-confirmation"]) == 0
    assert [r["vulnerability"] for r in json.loads(capsys.readouterr().out)] == ["CVE-2099-0666"]
    assert main(["findings", "list", "--json", "--as", "sam"]) == 0
    assert [r["vulnerability"] for r in json.loads(capsys.readouterr().out)] == ["CVE-2017-5638"]


def test_cli_vex_for_a_system(company, findings, capsysbinary):
    assert main(["findings", "vex", "--system", "EC shop", "--format", "openvex"]) == 0
    assert json.loads(capsysbinary.readouterr().out)["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert main(["findings", "vex", "--system", "EC shop", "--as", "bob"]) == 66


def test_cli_decide_as_a_user(company, findings, capsys):
    pk = str(findings.struts.pk)
    assert (
        main(["findings", "decide", pk, "--not-affected", "component_not_present", "--as", "bob", "--note", "x"]) == 66
    )
    assert (
        main(["findings", "decide", pk, "--not-affected", "component_not_present", "--as", "sam", "--note", "x"]) == 77
    )
    assert main(["findings", "decide", pk, "--not-affected", "component_not_present", "--as", "alice"]) == 65
    assert "note" in capsys.readouterr().err
    args = ["findings", "decide", pk, "--not-affected", "component_not_present", "--note", "gone", "--as", "alice"]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "not_affected"
    assert main(["findings", "decide", pk, "--reopen", "--as", "alice"]) == 0
    assert main(["findings", "decide", str(findings.unsure.pk), "--confirm", "--as", "csirt"]) == 0
    assert Finding.objects.get(pk=findings.unsure.pk).confirmed_by == company.csirt
