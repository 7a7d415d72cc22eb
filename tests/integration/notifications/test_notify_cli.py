"""``ismp notify``: a test mail through the real SMTP server (and a clear error when it is down),
pending notifications, delivery now."""

from __future__ import annotations

import json

from ismp.apps.notifications.services import Subject, announce
from ismp.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_test_mail_arrives(smtp, capsys):
    code, out, _ = run(capsys, "notify", "test", "--to", "ops@example.jp")
    assert code == 0 and f"smtp backend via 127.0.0.1:{smtp.port}" in out
    assert smtp.inbox.subjects("ops@example.jp") == ["[ISMP] Test mail / テストメール"]


def test_test_mail_reports_the_smtp_error(smtp_down, capsys):
    code, _, err = run(capsys, "notify", "test", "--to", "ops@example.jp")
    assert code == 69
    assert "test mail to ops@example.jp failed" in err and "ConnectionRefusedError" in err


def test_pending_and_deliver(mailboxes, smtp_down, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the task never ran
        announce("finding.new", [Subject(mailboxes.shop.pk, "CVE-2014-6271", "S+")], dedupe="cli:1")
    code, out, _ = run(capsys, "notify", "pending", "--json")
    report = json.loads(out)
    assert code == 0 and report["total"] == 1 and report["notifications"][0]["to"] == "alice@example.jp"
    code, out, _ = run(capsys, "notify", "deliver")
    assert code == 1 and "1 failed attempt" in out
    code, out, _ = run(capsys, "notify", "pending")
    assert "attempts 1" in out and "refused" in out.lower()


def test_deliver_waits_for_a_running_delivery(mailboxes, smtp, capsys, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import lock_task

    from ismp.apps.notifications.tasks import LOCK

    with django_capture_on_commit_callbacks(execute=False):
        announce("finding.new", [Subject(mailboxes.shop.pk, "CVE-2014-6271", "S+")], dedupe="cli:2")
    with lock_task(LOCK):
        code, out, _ = run(capsys, "notify", "deliver")
    assert code == 75 and "another delivery is running" in out and smtp.inbox.messages == []
    code, out, _ = run(capsys, "notify", "deliver", "--json")
    assert code == 0 and json.loads(out)["messages_sent"] == 1 and len(smtp.inbox.messages) == 1
