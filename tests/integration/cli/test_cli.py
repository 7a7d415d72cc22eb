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
