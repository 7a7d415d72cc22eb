"""``ismp notify``: check the mail route, list what is undelivered, and run delivery now."""

from __future__ import annotations

import argparse
from typing import Any

from ismp.cli.common import add_json, emit, setup_django


def register(sub: Any) -> None:
    group = sub.add_parser("notify", help="notifications: test mail, pending deliveries, deliver now").add_subparsers(
        dest="notify_command", metavar="COMMAND", required=True
    )
    p = group.add_parser("test", help="send a test mail through the configured backend (ISMP_MAIL_BACKEND)")
    p.add_argument("--to", required=True, metavar="ADDRESS", help="where to send it")
    p.set_defaults(handler=cmd_test)

    p = group.add_parser("pending", help="list undelivered and failed notifications (mail and webhooks)")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100; 0: all)")
    add_json(p)
    p.set_defaults(handler=cmd_pending)

    p = group.add_parser("deliver", help="send every due notification now (what the task runner does each minute)")
    add_json(p)
    p.set_defaults(handler=cmd_deliver)


def cmd_test(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.notifications.delivery import send_test_mail

    route = send_test_mail(args.to)
    print(f"test mail sent to {args.to} through the {route}")
    return 0


def cmd_pending(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.notifications.choices import DeliveryState
    from ismp.apps.notifications.models import Notification

    # the operator at the console sees every notification, as the CSIRT does
    qs = (
        Notification.objects.exclude(channel="inbox")
        .exclude(state=DeliveryState.SENT)
        .select_related("recipient", "webhook")
        .order_by("due_at", "pk")
    )
    total = qs.count()
    rows = [
        {
            "id": n.pk,
            "state": n.state,
            "channel": n.channel,
            "to": n.address,
            "event": n.event,
            "subject": n.subject,
            "due_at": n.due_at.isoformat(),
            "attempts": n.attempts,
            "last_error": n.last_error,
        }
        for n in (qs[: args.limit] if args.limit else qs)
    ]
    lines = [f"{total} undelivered notification(s)"] + [
        f"  #{r['id']} {r['state']:<7} {r['channel']:<7} {r['to']}  due {r['due_at']}  attempts {r['attempts']}"
        + (f"\n      {r['last_error']}" if r["last_error"] else "")
        for r in rows
    ]
    emit({"total": total, "notifications": rows}, args.json, "\n".join(lines))
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    setup_django()
    from huey.exceptions import TaskLockedException

    from ismp.apps.notifications.tasks import deliver_exclusively

    try:
        report = deliver_exclusively()
    except TaskLockedException:
        print("another delivery is running (the task runner's); nothing was sent twice, try again in a minute")
        return 75  # EX_TEMPFAIL
    emit(
        report.as_dict(),
        args.json,
        f"sent {report.messages_sent} message(s) carrying {report.notifications_sent} notification(s); "
        f"{report.failed_attempts} failed attempt(s), {report.gave_up} given up, "
        f"{report.deferred} waiting for the hourly limit",
    )
    return 1 if report.failed_attempts else 0
