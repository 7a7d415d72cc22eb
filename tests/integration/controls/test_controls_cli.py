"""``ismp controls``: gaps with coverage, setting a control, recording gate checks, scoped with --as."""

from __future__ import annotations

import json

from ismp.apps.audit.models import AuditEntry
from ismp.apps.controls.models import GateCheck, SystemControl
from ismp.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_set_then_gaps(company, capsys):
    code, out, _ = run(
        capsys,
        "controls",
        "set",
        "EC shop",
        "waf",
        "implemented",
        "--evidence",
        "managed rules",
        "--review-by",
        "2099-01-31",
        "--as",
        "alice",
        "--json",
    )
    assert code == 0 and json.loads(out)["review_by"] == "2099-01-31"
    assert SystemControl.objects.get(control="waf").checked_by == company.alice
    assert AuditEntry.objects.filter(object_type="controls.systemcontrol", via="cli", actor_name="alice").exists()
    code, out, _ = run(capsys, "controls", "gaps", "--json")
    report = json.loads(out)
    assert report["total"]["required"] == 18 and report["total"]["implemented"] == 1 and report["total"]["gaps"] == 17
    shop = next(s for s in report["systems"] if s["system"] == "EC shop")
    assert "waf" not in {g["control"] for g in shop["gaps"]} and len(shop["gaps"]) == 9
    code, out, _ = run(capsys, "controls", "gaps")
    assert code == 0 and "WEB" in out and "EC shop [WEB]" in out


def test_gaps_are_scoped_and_filtered(company, capsys):
    _, out, _ = run(capsys, "controls", "gaps", "--as", "bob", "--json")
    assert {s["system"] for s in json.loads(out)["systems"]} == {"Mail gateway"}
    _, out, _ = run(capsys, "controls", "gaps", "--organisation", "WEB", "--json")
    assert [o["organisation"] for o in json.loads(out)["organisations"]] == ["WEB"]


def test_a_system_outside_the_scope_is_not_found(company, capsys):
    code, _, err = run(capsys, "controls", "set", "Mail gateway", "firewall", "implemented", "--as", "alice")
    assert code == 66 and "Mail gateway" in err
    assert not SystemControl.objects.exists()


def test_gate_checks_and_refusals(company, portal, capsys):
    code, out, _ = run(
        capsys, "controls", "gate", "Portal", "design_review", "passed", "--evidence", "DR-7 minutes", "--json"
    )
    assert code == 0 and json.loads(out)["check"] == "design_review"
    code, _, err = run(capsys, "controls", "gate", "Portal", "prelaunch", "passed", "--evidence", "x", "--as", "alice")
    assert code == 77 and "service owner" in err
    assert GateCheck.objects.count() == 1
    code, _, err = run(capsys, "controls", "set", "Portal", "waf", "not_applicable")
    assert code == 65 and "does not apply" in err
