"""The ``ismp`` command line, in process, against the test database."""

from __future__ import annotations

import io
import json

import pytest

from ismp.apps.accounts.models import User
from ismp.apps.audit.models import AuditEntry
from ismp.apps.inventory.models import System
from ismp.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_everywhere(capsys):
    for argv in (["--help"], ["inventory", "--help"], ["inventory", "import", "--help"], ["users", "create", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    assert "import" in capsys.readouterr().out


def test_users_create_and_list(company, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    code, out, _ = run(
        capsys, "users", "create", "carol", "--role", "sysadmin", "--organisation", "OPS", "--password-stdin", "--json"
    )
    assert code == 0 and json.loads(out)["role"] == "sysadmin"
    assert User.objects.get(username="carol").check_password("a-long-enough-passphrase")
    assert AuditEntry.objects.filter(object_type="accounts.user", action="create").exists()
    code, out, _ = run(capsys, "users", "list", "--json")
    assert "carol" in {u["username"] for u in json.loads(out)}


def test_weak_password_is_refused_with_a_message(company, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    code, _, err = run(capsys, "users", "create", "dave", "--role", "auditor", "--password-stdin")
    assert code == 65 and "password" in err
    assert not User.objects.filter(username="dave").exists()


def test_import_and_export(company, capsys, tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "system,organisation,system_type,administrators,cpe\n"
        "CI server,WEB,internal,alice,cpe:2.3:a:jenkins:jenkins:2.60:*:*:*:*:*:*:*\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "inventory", "import", str(ledger), "--json")
    assert code == 0 and json.loads(out)["systems_created"] == 1
    code, out, _ = run(capsys, "inventory", "export", "--format", "json", "--as", "alice")
    assert {s["system"] for s in json.loads(out)["systems"]} == {"EC shop", "CI server"}
    code, out, _ = run(capsys, "inventory", "export", "--format", "json", "--as", "bob")
    assert {s["system"] for s in json.loads(out)["systems"]} == {"Mail gateway"}


def test_import_errors_exit_non_zero_with_line_and_field(company, capsys, tmp_path):
    ledger = tmp_path / "bad.csv"
    ledger.write_text("system,organisation,system_type,cpe\nX,WEB,internal,cpe:2.3:a:vendor\n", encoding="utf-8")
    code, _, err = run(capsys, "inventory", "import", str(ledger))
    assert code == 65
    assert "bad.csv" in err and "line 2" in err and "cpe" in err
    assert not System.objects.filter(name="X").exists()


def test_import_as_a_sysadmin_is_scoped(company, capsys, tmp_path):
    ledger = tmp_path / "x.csv"
    ledger.write_text("system,notes\nMail gateway,mine now\n", encoding="utf-8")
    code, _, err = run(capsys, "inventory", "import", str(ledger), "--as", "alice")
    assert code == 65 and "may not change" in err


def test_missing_file(company, capsys):
    code, _, err = run(capsys, "inventory", "import", "/nonexistent/ledger.csv")
    assert code == 65 and "no such file" in err


def test_organisations_are_created_listed_and_cannot_loop(company, capsys):
    from ismp.apps.accounts.models import Organisation

    code, out, _ = run(
        capsys,
        "orgs",
        "create",
        "SEC2",
        "--name",
        "セキュリティ運用部",
        "--kind",
        "department",
        "--parent",
        "HQ",
        "--json",
    )
    assert code == 0 and Organisation.objects.get(code="SEC2").parent.code == "HQ"
    assert AuditEntry.objects.filter(object_type="accounts.organisation", action="create").exists()
    code, _, err = run(capsys, "orgs", "create", "HQ", "--name", "本社", "--kind", "company", "--parent", "SEC2")
    assert code == 65 and "loop" in err
    code, _, err = run(capsys, "orgs", "create", "X", "--name", "x", "--kind", "department", "--parent", "NOPE")
    assert code == 66 and "NOPE" in err
    code, out, _ = run(capsys, "orgs", "list")
    assert "  SEC2" in out  # indented under HQ


def test_only_the_csirt_manages_organisations(company):
    from ismp.apps.accounts.services import save_organisation
    from ismp.apps.audit.services import Actor
    from ismp.errors import Forbidden

    with pytest.raises(Forbidden):
        save_organisation(Actor(company.alice, "api"), code="Z", name="z", kind="department")
