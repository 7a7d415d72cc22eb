"""Sending stored notifications: mail through Django's configured backend, webhooks over HTTP.

``deliver_pending`` reads what is due from the database (``state=pending, due_at <= now``), so it can be
run any number of times, by the periodic task, after a commit or from the CLI, and after a restart: what
was not sent is still pending. Each attempt is recorded (``DeliveryAttempt``) with its error; a failure
waits ``engines.notify.backoff`` before the next attempt, and after ISMP_NOTIFY_MAX_ATTEMPTS the
notification is "failed" until the CSIRT retries it.

One message per recipient: due digest notifications are combined into one mail; immediate mails beyond
ISMP_NOTIFY_MAIL_PER_HOUR in the last hour wait for a free slot and then go out folded into one mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import smtplib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from ismp.apps.notifications import events
from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.models import DeliveryAttempt, Notification
from ismp.engines.notify import (
    PAYLOADS,
    SIGNATURE_HEADER,
    MailBudget,
    WebhookMessage,
    backoff,
    highest_urgency,
    plan_immediate,
    sign,
)

MAIL_ERRORS = (smtplib.SMTPException, OSError, ValueError)  # ValueError: Django's BadHeaderError
WINDOW = dt.timedelta(hours=1)
BATCH = 20_000  # notifications a run takes at most, so a backlog after an outage is worked off in steps


@dataclass
class DeliveryReport:
    messages_sent: int = 0  # mails and webhook posts that went out
    notifications_sent: int = 0  # notifications they carried
    folded: int = 0  # notifications that went out inside a digest or a folded mail
    failed_attempts: int = 0
    gave_up: int = 0  # notifications that reached the last attempt: now "failed"
    deferred: int = 0  # waiting for a free slot of the hourly mail limit

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _Message:
    """One thing to send and the notifications it carries."""

    channel: str
    target: str
    rows: Sequence[Notification]
    subject: str
    body: str


def schedule_delivery() -> None:
    """Run delivery in the task runner once the current transaction commits (at once outside one)."""
    from ismp.apps.notifications.tasks import deliver_now

    transaction.on_commit(deliver_now)


def deliver_pending(
    now: dt.datetime | None = None,
    *,
    http: httpx.Client | None = None,
    mail: BaseEmailBackend | None = None,
    limit: int = BATCH,
) -> DeliveryReport:
    """Send due notifications, the oldest ``limit`` of them (the next run takes the rest), see the module
    docstring. ``http`` and ``mail`` default to a client with ISMP_NOTIFY_WEBHOOK_TIMEOUT and Django's
    configured mail backend. A paused webhook's notifications wait for it to be resumed."""
    now = now or timezone.now()
    report = DeliveryReport()
    due = (
        Notification.objects.filter(state=DeliveryState.PENDING, due_at__lte=now)
        .exclude(channel=Channel.INBOX)
        .exclude(channel=Channel.WEBHOOK, webhook__active=False)
        .select_related("webhook")
        .order_by("pk")[:limit]
    )
    groups: dict[tuple[str, str], list[Notification]] = defaultdict(list)
    for row in due:
        groups[(row.channel, row.target)].append(row)
    mails = _mail_messages({t: rows for (c, t), rows in groups.items() if c == Channel.MAIL}, now, report)
    hooks = [m for (c, t), rows in groups.items() if c == Channel.WEBHOOK for m in _combine(c, t, rows, report)]
    if mails:
        _send_mails(mails, now, report, mail)
    if hooks:
        client = http or httpx.Client(timeout=settings.ISMP.notify_webhook_timeout, follow_redirects=False)
        try:
            for message in hooks:
                _record(message, now, _post(client, message), report)
        finally:
            if http is None:
                client.close()
    return report


def _mail_messages(groups: dict[str, list[Notification]], now: dt.datetime, report: DeliveryReport) -> list[_Message]:
    """Digests combined; immediate mails within the hourly limit one by one, the rest folded or deferred."""
    limit = settings.ISMP.notify_mail_per_hour
    sent: dict[str, list[dt.datetime]] = defaultdict(list)
    waiting = [t for t, rows in groups.items() if any(not r.digest for r in rows)]
    for target, at in DeliveryAttempt.objects.filter(
        channel=Channel.MAIL, target__in=waiting, ok=True, at__gt=now - WINDOW
    ).values_list("target", "at"):
        sent[target].append(at)
    messages: list[_Message] = []
    for target, rows in groups.items():
        digest = [r for r in rows if r.digest]
        immediate = [r for r in rows if not r.digest]
        messages.extend(_combine(Channel.MAIL, target, digest, report))
        if not immediate:
            continue
        budget = MailBudget(sent[target], limit)
        singles, fold = plan_immediate(len(immediate), budget)
        messages.extend(_single(Channel.MAIL, target, r) for r in immediate[:singles])
        rest = immediate[singles:]
        if fold:
            messages.append(_folded(Channel.MAIL, target, rest, "folded"))
            report.folded += len(rest)
        elif rest:
            slot = budget.next_slot() or now
            Notification.objects.filter(pk__in=[r.pk for r in rest]).update(due_at=slot)
            report.deferred += len(rest)
    return messages


def _combine(channel: str, target: str, rows: list[Notification], report: DeliveryReport) -> list[_Message]:
    """Digest rows go out as one message; immediate ones (webhooks) one by one."""
    digest = [r for r in rows if r.digest]
    messages = [_single(channel, target, r) for r in rows if not r.digest]
    if len(digest) == 1:
        messages.append(_single(channel, target, digest[0]))
    elif digest:
        messages.append(_folded(channel, target, digest, "digest"))
        report.folded += len(digest)
    return messages


def _single(channel: str, target: str, row: Notification) -> _Message:
    return _Message(channel, target, [row], row.subject, row.body)


FOLDED_SUBJECT = {
    "digest": {"ja": "本日の通知 {count}件（ダイジェスト）", "en": "Today's notifications: {count} (digest)"},
    "folded": {"ja": "通知 {count}件（まとめて送信）", "en": "{count} notifications (sent together)"},
}
FOLDED_INTRO = {
    "digest": {"ja": "この1日の通知をまとめてお送りします。", "en": "The notifications of the day, in one message."},
    "folded": {
        "ja": "短時間に多数の通知があったため、まとめてお送りします。",
        "en": "Many notifications came in a short time; here they are in one message.",
    },
}


def _folded(channel: str, target: str, rows: list[Notification], kind: str) -> _Message:
    language = rows[0].language
    subject = FOLDED_SUBJECT[kind][language].format(count=len(rows))
    drill = events.DRILL_MARK[language] if all(r.drill for r in rows) else ""
    body = render_to_string(
        f"notifications/messages/combined.{language}.txt",
        {"intro": FOLDED_INTRO[kind][language], "notifications": rows},
    )
    return _Message(channel, target, rows, drill + events.PREFIX[language] + subject, body)


def _send_mails(
    messages: list[_Message], now: dt.datetime, report: DeliveryReport, mail: BaseEmailBackend | None
) -> None:
    """One connection for the whole run; when it cannot be opened every mail records that error."""
    connection = mail or get_connection(fail_silently=False)
    try:
        connection.open()
    except MAIL_ERRORS as exc:
        error = f"mail server unreachable: {_describe(exc)}"
        for message in messages:
            _record(message, now, error, report)
        return
    try:
        for message in messages:
            email = EmailMessage(
                message.subject,
                message.body,
                settings.DEFAULT_FROM_EMAIL,
                [message.rows[0].address],
                # RFC 3834: no vacation auto-replies back to ISMP
                headers={"Auto-Submitted": "auto-generated", "X-ISMP-Notifications": _ids(message)},
            )
            try:
                error = "" if connection.send_messages([email]) == 1 else "the mail backend did not send the message"
            except MAIL_ERRORS as exc:
                error = _describe(exc)
            _record(message, now, error, report)
    finally:
        with contextlib.suppress(*MAIL_ERRORS):  # the server went away: each mail's outcome is recorded already
            connection.close()


def _ids(message: _Message) -> str:
    return ",".join(str(r.pk) for r in message.rows)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]


def _post(client: httpx.Client, message: _Message) -> str:
    """POST one webhook message; "" on a 2xx answer, otherwise the error to record."""
    hook = message.rows[0].webhook
    if hook is None:
        return "the webhook was removed"
    format_payload: Callable[[WebhookMessage], dict[str, object]] = PAYLOADS[hook.payload_format]
    payload = format_payload(
        WebhookMessage(
            event=message.rows[0].event if len(message.rows) == 1 else "digest",
            subject=message.subject,
            text=message.body,
            drill=all(r.drill for r in message.rows),
            urgency=highest_urgency([r.urgency for r in message.rows]),
            items=[item for r in message.rows for item in r.items],
            delivery_id=_ids(message),
        )
    )
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(hook.secret, body),
        "X-ISMP-Event": message.rows[0].event,
    }
    try:
        response = client.post(hook.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return f"timed out after {settings.ISMP.notify_webhook_timeout:g} s"
    except httpx.HTTPError as exc:
        return _describe(exc)
    if response.is_success:
        return ""
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _record(message: _Message, now: dt.datetime, error: str, report: DeliveryReport) -> None:
    """Store the attempt and move its notifications on: sent, or pending again later, or failed."""
    ids = [r.pk for r in message.rows]
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.create(
            at=now, channel=message.channel, target=message.target, ok=not error, error=error
        )
        attempt.notifications.add(*ids)
        if not error:
            Notification.objects.filter(pk__in=ids).update(
                state=DeliveryState.SENT, sent_at=now, attempts=F("attempts") + 1, last_error=""
            )
            report.messages_sent += 1
            report.notifications_sent += len(ids)
            return
        report.failed_attempts += 1
        limit = settings.ISMP.notify_max_attempts
        for row in message.rows:
            row.attempts += 1
            row.last_error = error
            if row.attempts >= limit:
                row.state = DeliveryState.FAILED
                report.gave_up += 1
            else:
                row.due_at = now + backoff(row.attempts)
            row.save(update_fields=["attempts", "last_error", "state", "due_at"])


def send_test_mail(to: str) -> str:
    """Send one test mail through the configured backend; returns a description of the route taken.
    Raises ``DeliveryError`` with the server's own words when it fails."""
    from ismp.apps.notifications.errors import DeliveryError

    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    route = f"{backend} backend" + (f" via {settings.EMAIL_HOST}:{settings.EMAIL_PORT}" if backend == "smtp" else "")
    email = EmailMessage(
        "[ISMP] Test mail / テストメール",
        "ISMP can send mail through this server.\nISMP からこのサーバ経由でメールを送信できます。\n",
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
    try:
        sent = get_connection(fail_silently=False).send_messages([email])
    except MAIL_ERRORS as exc:
        raise DeliveryError(f"the test mail to {to} failed through the {route}: {_describe(exc)}") from exc
    if sent != 1:
        raise DeliveryError(f"the {route} did not send the test mail to {to}")
    return route
