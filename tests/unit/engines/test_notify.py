"""Pure delivery rules: urgency, digest time across zones and DST, backoff, the hourly mail budget, and
webhook payloads and signatures."""

from __future__ import annotations

import datetime as dt

import pytest

from ismp.engines.notify import (
    PAYLOADS,
    MailBudget,
    WebhookMessage,
    backoff,
    highest_urgency,
    is_immediate,
    next_digest,
    payload_format,
    plan_immediate,
    sign,
    verify,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("urgencies", "immediate"), [(["B", "S-"], True), (["S+"], True), (["A", "B"], False), ([], False)]
)
def test_only_s_plus_and_s_minus_are_immediate(urgencies, immediate):
    assert is_immediate(urgencies) is immediate


def test_highest_urgency():
    assert highest_urgency(["B", "A", "S-"]) == "S-" and highest_urgency(["", "?", "B"]) == "B"
    assert highest_urgency([]) == ""


def test_next_digest_is_the_next_local_time():
    at = dt.time(8, 30)
    # 07:00 in Tokyo: today at 08:30 Tokyo = 23:30 UTC the day before
    assert next_digest(dt.datetime(2026, 11, 23, 22, 0, tzinfo=UTC), at, "Asia/Tokyo") == dt.datetime(
        2026, 11, 23, 23, 30, tzinfo=UTC
    )
    # exactly at 08:30: tomorrow
    assert next_digest(dt.datetime(2026, 11, 23, 23, 30, tzinfo=UTC), at, "Asia/Tokyo") == dt.datetime(
        2026, 11, 24, 23, 30, tzinfo=UTC
    )


def test_next_digest_follows_daylight_saving_time():
    at = dt.time(8, 30)
    # New York leaves DST on 2026-11-01: 08:30 EDT is 12:30 UTC, 08:30 EST is 13:30 UTC
    assert next_digest(dt.datetime(2026, 10, 31, 13, 0, tzinfo=UTC), at, "America/New_York") == dt.datetime(
        2026, 11, 1, 13, 30, tzinfo=UTC
    )


def test_backoff_grows_and_is_capped():
    waits = [backoff(n) for n in range(1, 12)]
    assert waits[0] == dt.timedelta(minutes=1) and waits[3] == dt.timedelta(minutes=8)
    assert waits == sorted(waits) and waits[-1] == dt.timedelta(hours=6)


def test_mail_budget_and_plan():
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    sent = [now - dt.timedelta(minutes=50), now - dt.timedelta(minutes=10)]
    full = MailBudget(sent, limit=2)
    assert full.left == 0 and full.next_slot() == now + dt.timedelta(minutes=10)
    assert plan_immediate(3, full) == (0, False)
    assert plan_immediate(1, MailBudget(sent, limit=3)) == (1, False)
    assert plan_immediate(4, MailBudget(sent, limit=3)) == (0, True)  # one slot: everything in one mail
    assert plan_immediate(5, MailBudget([], limit=3)) == (2, True)
    assert MailBudget([], limit=1).next_slot() is None


def test_signature_is_hmac_sha256_of_the_body():
    # the value GitHub documents for secret "It's a Secret to Everybody" and body "Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign("It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify("It's a Secret to Everybody", b"Hello, World!", expected)
    assert not verify("another secret", b"Hello, World!", expected)


def test_payload_formats():
    message = WebhookMessage("finding.new", "[ISMP] x", "line 1\nline 2", urgency="S+", items=[{"system": "a"}])
    assert PAYLOADS["slack"](message) == {"text": "*[ISMP] x*\nline 1\nline 2"}
    assert PAYLOADS["json"](message)["items"] == [{"system": "a"}]
    assert PAYLOADS["teams"](message)["text"] == "line 1  \nline 2"
    with pytest.raises(ValueError, match="registered already"):
        payload_format("slack")(lambda m: {})
