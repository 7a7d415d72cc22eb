"""A real SMTP server (aiosmtpd) on a free local port with Django's SMTP backend pointed at it, and mail
addresses for the company fixture's people (tests/integration/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received: one entry per message, as parsed mail with its envelope."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]).strip() for m in self.to(address)]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_down(settings: Any) -> Iterator[SmtpServer]:
    """Django's SMTP backend pointed at a port where nothing listens yet (``start()`` brings it up)."""
    server = SmtpServer(free_port(), Inbox())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down: SmtpServer) -> SmtpServer:
    smtp_down.start()
    return smtp_down


@pytest.fixture
def mailboxes(company: Any) -> Any:
    """Everyone gets an address; bob reads English in New York, the rest Japanese in Tokyo."""
    from ismp.apps.audit.services import Actor
    from ismp.apps.notifications.services import set_preference

    for user in company.users().values():
        user.email = f"{user.username}@example.jp"
        user.save(update_fields=["email"])
    set_preference(Actor(company.bob, "web"), language="en", time_zone="America/New_York")
    return company
