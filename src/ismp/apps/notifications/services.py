"""Notifying people (自動通知・警報配信): what other apps call, and the CSIRT's own actions.

``announce`` is the one entry point for automatic notifications: findings call it for new and escalated
vulnerabilities, the workflow for reminders and overdue registration periods. It stores one message per
recipient and channel, listing all of that recipient's subjects, inside the caller's transaction; sending
happens later in the task runner (``delivery.deliver_pending``), after the commit, so a mail server that
is down never rolls back the caller's work and nothing is sent for work that rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ismp.apps.accounts.choices import Role
from ismp.apps.accounts.models import Organisation, User
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor, record, snapshot
from ismp.apps.inventory.models import System
from ismp.apps.notifications import events
from ismp.apps.notifications.choices import Channel, DeliveryState, Language, PayloadFormat
from ismp.apps.notifications.delivery import DeliveryReport, deliver_pending, schedule_delivery
from ismp.apps.notifications.models import Alert, Notification, Preference, Webhook
from ismp.engines.notify import URGENCY_ORDER, highest_urgency, is_immediate, next_digest, parse_hhmm
from ismp.errors import Forbidden, InputError, NotFound

__all__ = [
    "AnnounceReport",
    "DeliveryReport",
    "Subject",
    "alert",
    "announce",
    "create_webhook",
    "delete_webhook",
    "deliver_pending",
    "mark_read",
    "retry",
    "set_preference",
]

MAX_SUBJECT = 300


@dataclass(frozen=True)
class Subject:
    """One thing a notification is about."""

    system_id: int
    vuln_id: str  # e.g. "CVE-2014-6271" (or a diagnosis result's title)
    urgency: str  # "S+", "S-", "A", "B"
    title: str = ""  # vulnerability title
    work_item_id: int | None = None
    due: dt.datetime | None = None  # the registration period's end
    url: str = ""  # path of the work item / finding page


@dataclass
class AnnounceReport:
    event: str
    recipients: int = 0  # people and webhooks with something to hear
    created: int = 0  # notifications stored (all channels)
    duplicates: int = 0  # already stored under the same dedupe key: nothing new
    immediate: bool = False
    per_channel: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Audience:
    """Who hears of what: user id → subjects, webhook → subjects."""

    users: dict[int, list[Subject]]
    webhooks: dict[int, tuple[Webhook, list[Subject]]]
    system_names: dict[int, str]


def announce(
    event: str,
    subjects: Sequence[Subject],
    *,
    dedupe: str,
    drill: bool = False,
    message: str = "",
    title: str = "",
    immediate: bool | None = None,
    now: dt.datetime | None = None,
) -> AnnounceReport:
    """Notify the administrators of exactly the subjects' systems (and, for an escalating event, the
    head of each system's organisation and every CISO): one message per recipient and channel listing all
    of their subjects. Calling again with the same ``dedupe`` key stores and sends nothing new.

    Immediate when a subject is S+ or S- (or the event is always immediate, or ``immediate`` says so);
    otherwise the mail waits for the recipient's daily digest. ``message`` and ``title`` are an alert's text.
    """
    kind = events.get(event)
    drill = drill or kind.always_drill
    report = AnnounceReport(event)
    if not subjects:
        return report
    now = now or timezone.now()
    urgent = (
        immediate if immediate is not None else kind.always_immediate or is_immediate([s.urgency for s in subjects])
    )
    report.immediate = urgent
    key = dedupe if len(dedupe) <= 200 else "sha256:" + hashlib.sha256(dedupe.encode()).hexdigest()
    audience = _audience(kind, subjects)
    people = {u.pk: u for u in User.objects.filter(pk__in=audience.users, is_active=True).only("pk", "email")}
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=people)}
    targets = [f"user:{pk}" for pk in people] + [f"webhook:{pk}" for pk in audience.webhooks]
    stored = set(
        Notification.objects.filter(event=event, dedupe_key=key, target__in=targets).values_list("target", "channel")
    )
    digest_at = parse_hhmm(settings.ISMP.notify_digest_time)
    rows: list[Notification] = []

    def add(row: Notification) -> None:
        if (row.target, row.channel) in stored:
            report.duplicates += 1
            return
        rows.append(row)
        report.per_channel[row.channel] = report.per_channel.get(row.channel, 0) + 1

    def row(target: str, channel: str, content: dict[str, Any], due: dt.datetime, **extra: Any) -> None:
        add(
            Notification(
                target=target,
                channel=channel,
                due_at=due,
                event=event,
                dedupe_key=key,
                drill=drill,
                digest=not urgent,
                created_at=now,
                **content,
                **extra,
            )
        )

    for pk, user in people.items():
        preference = preferences.get(pk)
        language = preference.language if preference else settings.LANGUAGE_CODE
        zone = preference.time_zone if preference else settings.TIME_ZONE
        content = _render(kind, audience.users[pk], audience.system_names, language, zone, drill, message, title)
        # the inbox is delivered by being stored
        row(f"user:{pk}", Channel.INBOX, content, now, recipient_id=pk, state=DeliveryState.SENT, sent_at=now)
        if user.email:
            due = now if urgent else next_digest(now, digest_at, zone)
            row(f"user:{pk}", Channel.MAIL, content, due, recipient_id=pk, address=user.email)
    zone = settings.TIME_ZONE
    for pk, (webhook, theirs) in audience.webhooks.items():
        content = _render(kind, theirs, audience.system_names, settings.LANGUAGE_CODE, zone, drill, message, title)
        due = now if urgent else next_digest(now, digest_at, zone)
        row(f"webhook:{pk}", Channel.WEBHOOK, content, due, webhook=webhook, address=webhook.url)
    report.recipients = len(people) + len(audience.webhooks)
    with transaction.atomic():
        Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        report.created = len(rows)
        if urgent and any(r.channel != Channel.INBOX for r in rows):
            schedule_delivery()
    return report


def _audience(kind: events.EventType, subjects: Sequence[Subject]) -> _Audience:
    system_ids = {s.system_id for s in subjects}
    rows = System.objects.filter(pk__in=system_ids).values_list("pk", "name", "organisation_id")
    systems = {pk: (name, org) for pk, name, org in rows}
    admins: dict[int, list[int]] = defaultdict(list)
    through = System.administrators.through.objects.filter(system_id__in=system_ids)
    for system_id, user_id in through.values_list("system_id", "user_id"):
        admins[system_id].append(user_id)
    users: dict[int, dict[Subject, None]] = defaultdict(dict)  # an ordered set per person
    for subject in subjects:
        for user_id in admins.get(subject.system_id, ()):
            users[user_id][subject] = None
    if kind.escalates:
        heads = dict(
            Organisation.objects.filter(pk__in={org for _, org in systems.values()}, head__isnull=False).values_list(
                "pk", "head_id"
            )
        )
        cisos = list(User.objects.filter(role=Role.CISO, is_active=True).values_list("pk", flat=True))
        for subject in subjects:
            head = heads.get(systems[subject.system_id][1]) if subject.system_id in systems else None
            for user_id in {*cisos, *([head] if head else [])}:
                users[user_id][subject] = None
    return _Audience(
        users={pk: list(subs) for pk, subs in users.items() if subs},
        webhooks=_webhook_audience(kind.name, subjects, {pk: org for pk, (_, org) in systems.items()}),
        system_names={pk: name for pk, (name, _) in systems.items()},
    )


def _webhook_audience(
    event: str, subjects: Sequence[Subject], system_orgs: dict[int, int]
) -> dict[int, tuple[Webhook, list[Subject]]]:
    """Each active webhook gets the subjects of its organisation's systems and its sub-organisations'
    (a company-wide webhook, all of them)."""
    hooks = [w for w in Webhook.objects.filter(active=True) if w.wants(event)]
    if not hooks:
        return {}
    parents = dict(Organisation.objects.values_list("pk", "parent_id"))

    def lineage(org: int | None) -> set[int | None]:
        seen: set[int | None] = {None}
        while org is not None and org not in seen:
            seen.add(org)
            org = parents.get(org)
        return seen

    lines = {org: lineage(org) for org in set(system_orgs.values())}
    audience: dict[int, tuple[Webhook, list[Subject]]] = {}
    for hook in hooks:
        theirs = [
            s
            for s in subjects
            if s.system_id in system_orgs and hook.organisation_id in lines[system_orgs[s.system_id]]
        ]
        if theirs:
            audience[hook.pk] = (hook, theirs)
    return audience


def _ordered(subjects: Iterable[Subject], names: dict[int, str]) -> list[Subject]:
    """Most urgent first, then by vulnerability and system; one line per (system, vulnerability)."""
    rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
    unique = {(s.system_id, s.vuln_id): s for s in subjects}
    return sorted(unique.values(), key=lambda s: (rank.get(s.urgency, 9), s.vuln_id, names.get(s.system_id, "")))


def _summary(subjects: Sequence[Subject], language: str) -> str:
    vulns = list(dict.fromkeys(s.vuln_id for s in subjects if s.vuln_id))
    if not vulns:
        count = len({s.system_id for s in subjects})
        return f"{count}件のシステム" if language == "ja" else f"{count} system(s)"
    first = next(s for s in subjects if s.vuln_id == vulns[0])
    head = f"{first.vuln_id} ({first.urgency})" if first.urgency else first.vuln_id
    if len(vulns) == 1:
        return head
    return f"{head} ほか{len(vulns) - 1}件" if language == "ja" else f"{head} and {len(vulns) - 1} more"


def site_link(path: str) -> str:
    if not path or "://" in path:
        return path
    return settings.ISMP.site_url.rstrip("/") + path


def _render(
    kind: events.EventType,
    subjects: Sequence[Subject],
    names: dict[int, str],
    language: str,
    zone: str,
    drill: bool,
    message: str,
    title: str,
) -> dict[str, Any]:
    """Subject, body and items of one recipient's message, in their language and time zone."""
    language = language if language in Language.values else Language.JA
    ordered = _ordered(subjects, names)
    items = [
        {
            "system_id": s.system_id,
            "system": names.get(s.system_id, str(s.system_id)),
            "vuln_id": s.vuln_id,
            "urgency": s.urgency,
            "title": s.title,
            "work_item_id": s.work_item_id,
            "due": s.due,
            "url": s.url,
            "link": site_link(s.url),
        }
        for s in ordered
    ]
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        body = render_to_string(
            f"notifications/messages/message.{language}.txt",
            {
                "intro": kind.intro[language],
                "message": message,
                "items": items,
                "drill": drill,
                "zone": zone,
                "inbox_url": site_link("/inbox/"),
            },
        )
    line = kind.subject[language].format(summary=_summary(ordered, language), title=title)
    subject = (events.DRILL_MARK[language] if drill else "") + events.PREFIX[language] + line
    return {
        "subject": " ".join(subject.split())[:MAX_SUBJECT],
        "body": body.strip() + "\n",
        "language": language,
        "urgency": highest_urgency([s.urgency for s in ordered]),
        "items": [item | {"due": s.due.isoformat() if s.due else None} for item, s in zip(items, ordered, strict=True)],
    }


# ------------------------------------------------------------------------------------- the CSIRT's alerts


def _ids(values: Iterable[Any]) -> set[int]:
    return {int(getattr(v, "pk", v)) for v in values}


def alert(
    actor: Actor,
    *,
    organisations: Iterable[Organisation | int] = (),
    systems: Iterable[System | int] = (),
    subject: str,
    body: str,
    urgency: str,
    drill: bool = False,
) -> tuple[Alert, AnnounceReport]:
    """警報配信: the CSIRT alerts the administrators of the chosen systems and of every system of the
    chosen organisations (with their sub-organisations), at once whatever the urgency."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT issues alerts (警報配信)")
    subject, body = " ".join(subject.split()), body.strip()
    if not subject:
        raise InputError("an alert needs a subject", field="subject")
    if not body:
        raise InputError("an alert needs a body", field="body")
    if urgency not in URGENCY_ORDER:
        raise InputError(f"urgency must be one of {', '.join(URGENCY_ORDER)}", field="urgency")
    org_ids, system_ids = _ids(organisations), _ids(systems)
    chosen = set(System.objects.filter(pk__in=system_ids).values_list("pk", flat=True))
    if len(chosen) != len(system_ids):
        raise NotFound(f"system(s) {sorted(system_ids - chosen)} do not exist")
    orgs = _with_descendants(org_ids)
    chosen |= set(System.objects.filter(organisation_id__in=orgs).values_list("pk", flat=True))
    if not chosen:
        raise InputError("choose at least one organisation or system that has systems", field="systems")
    with transaction.atomic():
        issued = Alert.objects.create(
            subject=subject[:200], body=body, urgency=urgency, drill=drill, issued_by=actor.user
        )
        issued.organisations.set(org_ids)
        issued.systems.set(system_ids)
        record(actor, AuditAction.CREATE, issued, None, snapshot(issued))
        report = announce(
            "alert",
            [Subject(pk, "", urgency) for pk in sorted(chosen)],
            dedupe=f"alert:{issued.pk}",
            drill=drill,
            message=body,
            title=subject,
        )
    return issued, report


def _with_descendants(org_ids: set[int]) -> set[int]:
    known = set(Organisation.objects.filter(pk__in=org_ids).values_list("pk", flat=True))
    if len(known) != len(org_ids):
        raise NotFound(f"organisation(s) {sorted(org_ids - known)} do not exist")
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent in Organisation.objects.filter(parent__isnull=False).values_list("pk", "parent_id"):
        children[parent].append(pk)
    result, stack = set(), list(known)
    while stack:
        org = stack.pop()
        if org not in result:
            result.add(org)
            stack.extend(children[org])
    return result


# ---------------------------------------------------------------------------------- recipients' actions


def mark_read(user: Any, ids: Iterable[int] | None = None, *, now: dt.datetime | None = None) -> int:
    """Mark the user's own inbox notifications read (all of them when ``ids`` is None). Others' are
    untouched whatever the ids say. Reading is not audited: it changes nothing but the reader's view."""
    qs = Notification.objects.filter(recipient=user, channel=Channel.INBOX, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now or timezone.now())


def set_preference(actor: Actor, *, language: str, time_zone: str) -> Preference:
    """The actor's own language and time zone for notifications."""
    if language not in Language.values:
        raise InputError(f"language must be one of {', '.join(Language.values)}", field="language")
    if time_zone not in available_timezones():
        raise InputError(f"unknown time zone {time_zone!r} (e.g. Asia/Tokyo)", field="time_zone")
    with transaction.atomic():
        preference = Preference.objects.filter(user=actor.user).first()
        before = snapshot(preference) if preference else None
        preference = preference or Preference(user=actor.user)
        preference.language, preference.time_zone = language, time_zone
        preference.save()
        record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, preference, before, snapshot(preference))
    return preference


# --------------------------------------------------------------------------------- the CSIRT's delivery


def _require_csirt(actor: Actor, what: str) -> None:
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden(f"only the CSIRT {what}")


def retry(actor: Actor, ids: Iterable[int] | None = None) -> int:
    """Put failed notifications (all, or those of ``ids``) back in the queue with a fresh count of
    attempts; delivery runs after the commit."""
    _require_csirt(actor, "retries failed notifications")
    qs = Notification.objects.filter(state=DeliveryState.FAILED)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    with transaction.atomic():
        rows = list(qs.select_for_update())
        now = timezone.now()
        for row in rows:
            before = snapshot(row, exclude=("body", "items"))
            row.state, row.attempts, row.due_at = DeliveryState.PENDING, 0, now
            row.save(update_fields=["state", "attempts", "due_at"])
            record(actor, AuditAction.UPDATE, row, before, snapshot(row, exclude=("body", "items")))
        if rows:
            schedule_delivery()
    return len(rows)


def create_webhook(
    actor: Actor,
    *,
    name: str,
    url: str,
    payload_format: str = PayloadFormat.JSON,
    organisation: Organisation | None = None,
    event_names: Sequence[str] = (),
) -> Webhook:
    """A new webhook endpoint with a fresh signing secret (shown to the CSIRT on its page)."""
    _require_csirt(actor, "manages webhooks")
    if not url.startswith(("https://", "http://")):
        raise InputError("a webhook URL starts with https:// (or http:// inside the company)", field="url")
    if payload_format not in PayloadFormat.values:
        raise InputError(f"payload format must be one of {', '.join(PayloadFormat.values)}", field="payload_format")
    unknown = sorted(set(event_names) - set(events.EVENTS))
    if unknown:
        raise InputError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(events.EVENTS)}", field="events")
    if Webhook.objects.filter(name=name).exists():
        raise InputError(f"a webhook named {name!r} exists already", field="name")
    with transaction.atomic():
        hook = Webhook.objects.create(
            name=name,
            url=url,
            payload_format=payload_format,
            organisation=organisation,
            events=list(event_names),
            secret=secrets.token_urlsafe(32),
        )
        record(actor, AuditAction.CREATE, hook, None, snapshot(hook, exclude=("secret",)))
    return hook


def set_webhook_active(actor: Actor, hook: Webhook, active: bool) -> Webhook:
    _require_csirt(actor, "manages webhooks")
    with transaction.atomic():
        before = snapshot(hook, exclude=("secret",))
        hook.active = active
        hook.save(update_fields=["active"])
        record(actor, AuditAction.UPDATE, hook, before, snapshot(hook, exclude=("secret",)))
    return hook


def delete_webhook(actor: Actor, hook: Webhook) -> None:
    """Remove an endpoint and the notifications addressed to it."""
    _require_csirt(actor, "manages webhooks")
    with transaction.atomic():
        before = snapshot(hook, exclude=("secret",))
        record(actor, AuditAction.DELETE, hook, before, None)
        hook.delete()
