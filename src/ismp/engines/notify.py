"""Pure rules of notification delivery: urgency, digest timing, retry backoff, the hourly mail limit,
webhook payloads and their signature. No Django here; ``ismp.apps.notifications`` persists and sends.

Webhook payload formats are a registry (``PAYLOADS``): a chat tool's format is one function that turns a
``WebhookMessage`` into JSON-ready data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

IMMEDIATE_URGENCIES = frozenset({"S+", "S-"})
URGENCY_ORDER = ("S+", "S-", "A", "B")
SIGNATURE_HEADER = "X-ISMP-Signature"


def is_immediate(urgencies: Sequence[str]) -> bool:
    """S+ and S- ask for action at once (DESIGN.md, response standards); A and B wait for the digest."""
    return any(u in IMMEDIATE_URGENCIES for u in urgencies)


def highest_urgency(urgencies: Sequence[str]) -> str:
    """The most urgent of ``urgencies`` (unknown values rank last); empty gives ""."""
    known = [u for u in urgencies if u]
    if not known:
        return ""
    return min(known, key=lambda u: URGENCY_ORDER.index(u) if u in URGENCY_ORDER else len(URGENCY_ORDER))


def parse_hhmm(value: str) -> dt.time:
    hour, _, minute = value.partition(":")
    return dt.time(int(hour), int(minute))


def next_digest(now: dt.datetime, at: dt.time, zone: str) -> dt.datetime:
    """The next time (UTC) the clock in ``zone`` shows ``at``, strictly after ``now`` (aware)."""
    local = now.astimezone(ZoneInfo(zone))
    candidate = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (candidate + dt.timedelta(days=1)).replace(hour=at.hour, minute=at.minute)
    return candidate.astimezone(dt.UTC)


def backoff(attempts: int, *, base: dt.timedelta = dt.timedelta(minutes=1)) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, … minutes, at most 6 hours, so a mail server that is
    down for a night is tried a few times an hour, not thousands of times."""
    wait: dt.timedelta = base * (2 ** max(attempts - 1, 0))
    return min(wait, dt.timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class MailBudget:
    """How many immediate mails one recipient may still get this hour, and when the next slot frees."""

    sent_in_window: Sequence[dt.datetime]  # when the mails of the last hour were sent
    limit: int
    window: dt.timedelta = dt.timedelta(hours=1)

    @property
    def left(self) -> int:
        return max(self.limit - len(self.sent_in_window), 0)

    def next_slot(self) -> dt.datetime | None:
        """When a slot frees (the oldest mail leaves the window), or None if one is free already."""
        if self.left or not self.sent_in_window:
            return None
        return min(self.sent_in_window) + self.window


def plan_immediate(count: int, budget: MailBudget) -> tuple[int, bool]:
    """How ``count`` waiting immediate mails go out: (mails sent one by one, whether the rest is folded into
    one more mail). Nothing goes out when no slot is left; the caller waits for ``budget.next_slot()``."""
    left = budget.left
    if count <= left:
        return count, False
    if left == 0:
        return 0, False
    return left - 1, True


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the exact body bytes, as
    GitHub signs its webhooks, so receivers can reuse their verification code."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    event: str
    subject: str
    text: str
    drill: bool = False
    urgency: str = ""
    items: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    delivery_id: str = ""


PayloadFormat = Callable[[WebhookMessage], dict[str, Any]]
PAYLOADS: dict[str, PayloadFormat] = {}


def payload_format(name: str) -> Callable[[PayloadFormat], PayloadFormat]:
    """Register a webhook payload format under ``name``; a second registration of a name is refused."""

    def add(function: PayloadFormat) -> PayloadFormat:
        if name in PAYLOADS:
            raise ValueError(f"webhook payload format {name!r} is registered already")
        PAYLOADS[name] = function
        return function

    return add


@payload_format("json")
def generic_payload(message: WebhookMessage) -> dict[str, Any]:
    """Everything, for receivers that read the fields (ticketing, SOAR)."""
    return {
        "id": message.delivery_id,
        "event": message.event,
        "drill": message.drill,
        "urgency": message.urgency,
        "subject": message.subject,
        "text": message.text,
        "items": [dict(item) for item in message.items],
    }


@payload_format("slack")
def slack_payload(message: WebhookMessage) -> dict[str, Any]:
    """Slack incoming webhooks (and Mattermost, Rocket.Chat): ``{"text": …}``."""
    return {"text": f"*{message.subject}*\n{message.text}"}


@payload_format("teams")
def teams_payload(message: WebhookMessage) -> dict[str, Any]:
    """Microsoft Teams incoming webhooks: a MessageCard."""
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject,
        "themeColor": "C0392B" if message.urgency in IMMEDIATE_URGENCIES else "2E86C1",
        "title": message.subject,
        "text": message.text.replace("\n", "  \n"),
    }
