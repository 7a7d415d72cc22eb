"""Webhooks against a real local HTTP server: signed JSON in each format, scoped to the organisation's
systems; a server that never answers times out and is retried later."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.models import Notification
from ismp.apps.notifications.services import Subject, announce, create_webhook, deliver_pending
from ismp.engines.notify import SIGNATURE_HEADER, verify
from ismp.errors import Forbidden


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def csirt(company) -> Actor:
    return Actor(company.csirt, "web")


def test_signed_json_for_the_organisations_systems_only(company, receiver, django_capture_on_commit_callbacks):
    url, received = receiver
    ops_hook = create_webhook(
        csirt(company), name="ops chat", url=f"{url}/ops", payload_format="slack", organisation=company.ops
    )
    everything = create_webhook(csirt(company), name="soc", url=f"{url}/soc")
    create_webhook(csirt(company), name="only overdue", url=f"{url}/overdue", event_names=["workitem.overdue"])
    subjects = [Subject(company.shop.pk, "CVE-2014-6271", "S+"), Subject(company.mail.pk, "CVE-2014-6271", "S+")]
    with django_capture_on_commit_callbacks(execute=True):
        announce("finding.new", subjects, dedupe="hook:1")
    by_path = {path: (headers, body) for path, headers, body in received}
    assert set(by_path) == {"/ops", "/soc"}
    headers, body = by_path["/ops"]
    assert verify(ops_hook.secret, body, headers[SIGNATURE_HEADER])
    assert not verify(everything.secret, body, headers[SIGNATURE_HEADER])
    slack = json.loads(body)
    assert set(slack) == {"text"} and "Mail gateway" in slack["text"] and "EC shop" not in slack["text"]
    headers, body = by_path["/soc"]
    assert verify(everything.secret, body, headers[SIGNATURE_HEADER])
    generic = json.loads(body)
    assert generic["event"] == "finding.new" and generic["urgency"] == "S+" and generic["drill"] is False
    assert {item["system"] for item in generic["items"]} == {"EC shop", "Mail gateway"}
    assert AuditEntry.objects.filter(object_type="notifications.webhook", action="create").count() == 3
    assert "secret" not in json.dumps(list(AuditEntry.objects.values_list("after", flat=True)))


def test_teams_gets_a_message_card(company, receiver, django_capture_on_commit_callbacks):
    url, received = receiver
    create_webhook(csirt(company), name="teams", url=f"{url}/teams", payload_format="teams")
    with django_capture_on_commit_callbacks(execute=True):
        announce("drill", [Subject(company.shop.pk, "CVE-2014-6271", "S+")], dedupe="d:1", drill=True)
    card = json.loads(received[0][2])
    assert card["@type"] == "MessageCard" and card["title"].startswith("【訓練】")


def test_a_webhook_that_never_answers_is_retried_later(
    company, receiver, silent_server, settings, django_capture_on_commit_callbacks
):
    settings.ISMP = settings.ISMP.model_copy(update={"notify_webhook_timeout": 0.5})
    hook = create_webhook(csirt(company), name="slow", url=silent_server)
    with django_capture_on_commit_callbacks(execute=True):
        announce("finding.new", [Subject(company.shop.pk, "CVE-2014-6271", "S+")], dedupe="slow:1")
    row = Notification.objects.get(channel=Channel.WEBHOOK)
    assert row.state == DeliveryState.PENDING and row.attempts == 1 and "timed out" in row.last_error
    assert row.due_at > timezone.now()  # waits before the next attempt
    url, received = receiver
    hook.url = f"{url}/back"  # the receiver is reachable again (moved behind a working proxy)
    hook.save(update_fields=["url"])
    report = deliver_pending(now=timezone.now() + dt.timedelta(minutes=5))
    assert report.messages_sent == 1 and [path for path, _, _ in received] == ["/back"]
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT and row.attempts == 2
    assert row.delivery_attempts.filter(ok=False).count() == 1


def test_only_the_csirt_manages_webhooks(company):
    with pytest.raises(Forbidden):
        create_webhook(Actor(company.alice, "web"), name="mine", url="https://chat.example.jp/x")


def test_a_paused_webhook_gets_nothing_new_and_keeps_what_waits(company, receiver, django_capture_on_commit_callbacks):
    from ismp.apps.notifications.services import set_webhook_active

    url, received = receiver
    hook = create_webhook(csirt(company), name="paused", url=f"{url}/p")
    with django_capture_on_commit_callbacks(execute=False):  # stored, not sent yet
        announce("drill", [Subject(company.shop.pk, "CVE-2014-6271", "S+")], dedupe="p:1")
    set_webhook_active(csirt(company), hook, False)
    with django_capture_on_commit_callbacks(execute=True):
        announce("drill", [Subject(company.shop.pk, "CVE-2014-6271", "S+")], dedupe="p:2")
    row = Notification.objects.get(channel=Channel.WEBHOOK)
    assert row.dedupe_key == "p:1" and row.state == DeliveryState.PENDING and received == []
    assert deliver_pending().messages_sent == 0 and row.attempts == 0
    assert row.drill and row.subject.startswith("【訓練】")  # the drill event is always a drill
    set_webhook_active(csirt(company), hook, True)
    assert deliver_pending().messages_sent == 1 and len(received) == 1
