"""Mail through a real SMTP server (aiosmtpd): recipients, language, one message per administrator,
dedupe, digest, drills, the hourly limit, and a mail server that is down."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ismp.apps.inventory.models import System
from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.models import DeliveryAttempt, Notification
from ismp.apps.notifications.services import Subject, announce, deliver_pending

SHELLSHOCK = "CVE-2014-6271"


def subject(message) -> str:
    """The decoded subject (the parser keeps a space left over from the encoded word's folding)."""
    return str(message["Subject"]).strip()


@pytest.fixture
def staging(mailboxes):
    """A second system of alice's, so that Shellshock touches two of her systems."""
    system = System.objects.create(name="EC shop staging", organisation=mailboxes.web, system_type="internal")
    system.administrators.set([mailboxes.alice])
    return system


def shellshock(company, staging, urgency="S+"):
    return [
        Subject(company.shop.pk, SHELLSHOCK, urgency, title="GNU Bash remote code execution", url="/findings/1/"),
        Subject(staging.pk, SHELLSHOCK, urgency, title="GNU Bash remote code execution", url="/findings/2/"),
        Subject(company.mail.pk, SHELLSHOCK, urgency, title="GNU Bash remote code execution", url="/findings/3/"),
    ]


def test_one_mail_per_administrator_in_their_language(mailboxes, staging, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = announce("finding.new", shellshock(mailboxes, staging), dedupe="finding.new:CVE-2014-6271")
    assert report.immediate and report.recipients == 2
    assert len(smtp.inbox.messages) == 2  # not three: alice's two systems are in one mail
    [alice] = smtp.inbox.to("alice@example.jp")
    assert subject(alice).startswith("【ISMP】新たな脆弱性がシステムに影響: CVE-2014-6271 (S+)")
    body = alice.get_content()
    assert "EC shop" in body and "EC shop staging" in body and "Mail gateway" not in body
    assert "対策要否" in body
    assert alice["Auto-Submitted"] == "auto-generated"  # no vacation replies to ISMP
    [bob] = smtp.inbox.to("bob@example.jp")
    assert subject(bob) == "[ISMP] New vulnerability affects your systems: CVE-2014-6271 (S+)"
    assert "Mail gateway" in bob.get_content() and "EC shop" not in bob.get_content()
    assert smtp.inbox.to("csirt@example.jp") == [] and smtp.inbox.to("sam@example.jp") == []
    inbox = Notification.objects.filter(channel=Channel.INBOX)
    assert sorted(inbox.values_list("recipient__username", flat=True)) == ["alice", "bob"]
    assert not Notification.objects.exclude(state=DeliveryState.SENT).exists()


def test_the_same_dedupe_key_sends_nothing_new(mailboxes, staging, smtp, django_capture_on_commit_callbacks):
    subjects = shellshock(mailboxes, staging)
    with django_capture_on_commit_callbacks(execute=True):
        announce("finding.new", subjects, dedupe="finding.new:CVE-2014-6271")
    with django_capture_on_commit_callbacks(execute=True):
        again = announce("finding.new", subjects, dedupe="finding.new:CVE-2014-6271")
    assert again.created == 0 and again.duplicates == 4  # inbox and mail for alice and bob
    assert len(smtp.inbox.messages) == 2
    with django_capture_on_commit_callbacks(execute=True):
        escalated = announce("finding.escalated", subjects, dedupe="finding.escalated:CVE-2014-6271")
    assert escalated.created == 4 and len(smtp.inbox.messages) == 4


def test_lower_urgencies_wait_for_one_daily_digest(mailboxes, staging, smtp, django_capture_on_commit_callbacks):
    monday = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = announce("finding.new", shellshock(mailboxes, staging, "A"), dedupe="a:1", now=monday)
        announce("finding.new", [Subject(mailboxes.shop.pk, "CVE-2017-5638", "B")], dedupe="b:1", now=monday)
    assert not first.immediate and callbacks == []
    assert deliver_pending(now=monday + dt.timedelta(hours=10)).messages_sent == 0  # 20:00 Tokyo, 06:00 New York
    assert smtp.inbox.messages == []
    # the inbox has them already
    assert Notification.objects.filter(channel=Channel.INBOX, recipient=mailboxes.alice).count() == 2
    report = deliver_pending(now=dt.datetime(2026, 11, 23, 13, 31, tzinfo=dt.UTC))  # 08:31 in New York
    assert report.messages_sent == 1 and report.folded == 0  # bob's digest holds one notification
    [bob] = smtp.inbox.to("bob@example.jp")
    assert subject(bob) == "[ISMP] New vulnerability affects your systems: CVE-2014-6271 (A)"
    report = deliver_pending(now=dt.datetime(2026, 11, 23, 23, 31, tzinfo=dt.UTC))  # 08:31 Tuesday in Tokyo
    assert report.messages_sent == 1 and report.folded == 2  # alice's two in one digest
    [digest] = smtp.inbox.to("alice@example.jp")
    assert "ダイジェスト" in subject(digest)
    assert SHELLSHOCK in digest.get_content() and "CVE-2017-5638" in digest.get_content()
    assert deliver_pending(now=dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)).messages_sent == 0


def test_a_drill_says_so_in_the_subject(mailboxes, staging, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce("drill", shellshock(mailboxes, staging), dedupe="drill:2026-11", drill=True)
    [alice] = smtp.inbox.to("alice@example.jp")
    [bob] = smtp.inbox.to("bob@example.jp")
    assert subject(alice).startswith("【訓練】【ISMP】") and "これは対応訓練です" in alice.get_content()
    assert subject(bob).startswith("[DRILL] [ISMP]") and "response drill" in bob.get_content()
    assert Notification.objects.filter(drill=True).count() == 4


def test_due_dates_are_shown_in_the_recipients_zone(mailboxes, staging, smtp, django_capture_on_commit_callbacks):
    due = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    subjects = [
        Subject(s.pk, SHELLSHOCK, "S-", due=due, work_item_id=7, url="/workitems/7/")
        for s in (mailboxes.shop, mailboxes.mail)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        announce("workitem.reminder", subjects, dedupe="reminder:7")
    assert "登録期限: 2026-12-01 17:00（Asia/Tokyo）" in smtp.inbox.to("alice@example.jp")[0].get_content()
    assert "Register by: 2026-12-01 03:00 (America/New_York)" in smtp.inbox.to("bob@example.jp")[0].get_content()
    assert Notification.objects.filter(channel=Channel.MAIL).first().items[0]["due"] == due.isoformat()


def test_overdue_escalates_to_the_organisation_head_and_the_ciso(mailboxes, smtp, django_capture_on_commit_callbacks):
    mailboxes.web.head = mailboxes.sam
    mailboxes.web.save(update_fields=["head"])
    with django_capture_on_commit_callbacks(execute=True):
        announce("workitem.overdue", [Subject(mailboxes.shop.pk, SHELLSHOCK, "A")], dedupe="overdue:1", immediate=True)
    assert {rcpt[0] for rcpt, _ in smtp.inbox.messages} == {"alice@example.jp", "sam@example.jp", "ciso@example.jp"}


def test_beyond_the_hourly_limit_mails_fold_into_one(mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    settings.ISMP = settings.ISMP.model_copy(update={"notify_mail_per_hour": 2})
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            announce("finding.new", [Subject(mailboxes.shop.pk, f"CVE-2026-000{n}", "S+")], dedupe=f"n:{n}")
    assert len(smtp.inbox.to("alice@example.jp")) == 2
    waiting = Notification.objects.filter(channel=Channel.MAIL, state=DeliveryState.PENDING)
    assert waiting.count() == 3
    report = deliver_pending(now=timezone.now() + dt.timedelta(hours=1, minutes=1))
    assert report.messages_sent == 2 and report.folded == 2  # a free slot for one, the other for the rest
    folded = smtp.inbox.to("alice@example.jp")[-1]
    assert "まとめて送信" in subject(folded)
    assert "CVE-2026-0003" in folded.get_content() and "CVE-2026-0004" in folded.get_content()
    assert "CVE-2026-0002" not in folded.get_content()
    assert len(smtp.inbox.to("alice@example.jp")) == 4


def test_mail_server_down_keeps_everything_and_sends_each_once_when_back(
    mailboxes, staging, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        announce("finding.new", shellshock(mailboxes, staging), dedupe="down:1")
    mails = Notification.objects.filter(channel=Channel.MAIL)
    assert mails.count() == 2
    for row in mails:
        assert row.state == DeliveryState.PENDING and row.attempts == 1
        assert "unreachable" in row.last_error and "refused" in row.last_error.lower()
    assert DeliveryAttempt.objects.filter(ok=False).count() == 2
    # a task lost in a restart: this announcement's delivery never runs, the rows wait in the database
    with django_capture_on_commit_callbacks(execute=False):
        announce("finding.escalated", shellshock(mailboxes, staging), dedupe="down:2")
    assert deliver_pending().messages_sent == 0  # the first two wait for their backoff, the others fail
    smtp_down.start()
    later = timezone.now() + dt.timedelta(hours=1)
    report = deliver_pending(now=later)
    assert report.messages_sent == 4 and report.failed_attempts == 0
    assert len(smtp_down.inbox.to("alice@example.jp")) == 2 and len(smtp_down.inbox.to("bob@example.jp")) == 2
    assert deliver_pending(now=later + dt.timedelta(hours=1)).messages_sent == 0
    assert len(smtp_down.inbox.messages) == 4
    assert not Notification.objects.exclude(state=DeliveryState.SENT).exists()


def test_after_the_last_attempt_a_notification_is_failed_until_retried(
    mailboxes, smtp_down, settings, django_capture_on_commit_callbacks
):
    from ismp.apps.audit.services import Actor
    from ismp.apps.notifications.services import retry

    settings.ISMP = settings.ISMP.model_copy(update={"notify_max_attempts": 2})
    with django_capture_on_commit_callbacks(execute=True):
        announce("finding.new", [Subject(mailboxes.shop.pk, SHELLSHOCK, "S+")], dedupe="fail:1")
    report = deliver_pending(now=timezone.now() + dt.timedelta(hours=1))
    assert report.gave_up == 1
    row = Notification.objects.get(channel=Channel.MAIL)
    assert row.state == DeliveryState.FAILED and row.attempts == 2
    assert deliver_pending(now=timezone.now() + dt.timedelta(days=1)).failed_attempts == 0  # not tried again
    smtp_down.start()
    with django_capture_on_commit_callbacks(execute=True):
        assert retry(Actor(mailboxes.csirt, "web")) == 1
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT and len(smtp_down.inbox.messages) == 1


def test_nothing_is_stored_or_sent_when_the_callers_transaction_rolls_back(
    mailboxes, smtp, django_capture_on_commit_callbacks
):
    from django.db import transaction

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort), transaction.atomic():
        announce("finding.new", [Subject(mailboxes.shop.pk, SHELLSHOCK, "S+")], dedupe="rollback:1")
        assert Notification.objects.count() == 2  # stored with the caller's work…
        raise Abort
    assert Notification.objects.count() == 0 and smtp.inbox.messages == []  # …and gone with it
