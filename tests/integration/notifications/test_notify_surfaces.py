"""The inbox, the CSIRT's pages and the API: each person sees only their own notifications; the CSIRT's
pages and actions refuse everyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.context_processors import unread_notifications
from ismp.apps.notifications.models import Alert, Notification, Webhook
from ismp.apps.notifications.services import Subject, announce


@pytest.fixture(autouse=True)
def english(settings) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def announced(company):
    announce("finding.new", [Subject(company.shop.pk, "CVE-2017-5638", "A")], dedupe="s:1")
    announce("finding.new", [Subject(company.mail.pk, "CVE-2016-0001", "A")], dedupe="s:2")
    return company


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_inbox_shows_only_the_readers_own(announced):
    page = web(announced.alice).get(reverse("web:inbox")).content.decode()
    assert "CVE-2017-5638" in page and "CVE-2016-0001" not in page
    page = web(announced.csirt).get(reverse("web:inbox")).content.decode()
    assert "CVE-2017-5638" not in page and "No notifications." in page


def test_mark_read_touches_only_the_readers_own(announced):
    bobs = Notification.objects.get(recipient=announced.bob, channel=Channel.INBOX)
    web(announced.alice).post(reverse("web:inbox-read"), {"id": [bobs.pk]})
    bobs.refresh_from_db()
    assert bobs.read_at is None
    alices = Notification.objects.get(recipient=announced.alice, channel=Channel.INBOX)
    request = RequestFactory().get("/")
    request.user = announced.alice
    assert unread_notifications(request)["unread_notifications"]() == 1
    web(announced.alice).post(reverse("web:inbox-read"), {"id": [alices.pk]})
    alices.refresh_from_db()
    assert alices.read_at is not None
    rendered = Template("{{ unread_notifications }}").render(Context(unread_notifications(request)))
    assert rendered == "0"


def test_preferences_change_the_language_of_the_next_message(announced):
    web(announced.alice).post(reverse("web:inbox-preferences"), {"language": "en", "time_zone": "Europe/London"})
    announce("finding.new", [Subject(announced.shop.pk, "CVE-2014-6271", "A")], dedupe="s:3")
    latest = Notification.objects.filter(recipient=announced.alice, channel=Channel.INBOX).first()
    assert latest.language == "en" and latest.subject.startswith("[ISMP] New vulnerability")


@pytest.mark.parametrize("username", ["alice", "bob", "sam", "ciso", "auditor"])
def test_csirt_pages_refuse_everyone_else(announced, username):
    client = web(announced.users()[username])
    for name in ("web:notification-list", "web:alert-issue", "web:webhook-list"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("web:notification-retry-failed")).status_code == 403
    assert client.post(reverse("web:alert-issue"), {"subject": "x", "body": "y", "urgency": "S+"}).status_code == 403


def test_csirt_sees_every_delivery_and_retries_failed_ones(announced):
    Notification.objects.filter(recipient=announced.bob).update(state=DeliveryState.FAILED, last_error="boom")
    client = web(announced.csirt)
    page = client.get(reverse("web:notification-list")).content.decode()
    assert "CVE-2017-5638" in page and "CVE-2016-0001" in page and "boom" in page and "Retry all failed" in page
    client.post(reverse("web:notification-retry-failed"))
    assert not Notification.objects.filter(state=DeliveryState.FAILED).exists()
    assert AuditEntry.objects.filter(object_type="notifications.notification", action="update").exists()


def test_csirt_issues_an_alert_from_the_form(company, mailoutbox, django_capture_on_commit_callbacks):
    company.bob.email = "bob@example.jp"
    company.bob.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        response = web(company.csirt).post(
            reverse("web:alert-issue"),
            {"subject": "Block port 445", "body": "Close SMB at the edge today.", "urgency": "A",
             "organisations": [company.ops.pk], "drill": "on"},
        )  # fmt: skip
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["bob@example.jp"]]
    # bob chose no language: the company's (English here, see the fixture above)
    assert mailoutbox[0].subject == "[DRILL] [ISMP] [ALERT] Block port 445"
    assert "Close SMB at the edge today." in mailoutbox[0].body
    assert Alert.objects.get().drill and AuditEntry.objects.filter(object_type="notifications.alert").exists()
    assert not Notification.objects.filter(recipient=company.alice).exists()


def test_webhook_form(company):
    client = web(company.csirt)
    response = client.post(
        reverse("web:webhook-list"),
        {"name": "ops chat", "url": "https://chat.example.jp/hook", "payload_format": "slack",
         "organisation": company.ops.pk, "events": ["finding.new", "alert"]},
    )  # fmt: skip
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert hook.events == ["finding.new", "alert"] and len(hook.secret) > 30
    client.post(reverse("web:webhook-toggle", args=[hook.pk]))
    hook.refresh_from_db()
    assert not hook.active
    client.post(reverse("web:webhook-delete", args=[hook.pk]))
    assert not Webhook.objects.exists()


def test_api_scopes_reads_and_marks_only_own_read(announced):
    rows = api(announced.alice).get("/api/notifications/").json()["results"]
    assert rows and {r["recipient"] for r in rows} == {"alice"}
    everyone = api(announced.csirt).get("/api/notifications/").json()["results"]
    assert {r["recipient"] for r in everyone} == {"alice", "bob"}
    bobs = Notification.objects.get(recipient=announced.bob, channel=Channel.INBOX)
    assert api(announced.alice).get(f"/api/notifications/{bobs.pk}/").status_code == 404
    assert api(announced.alice).post("/api/notifications/read/", {"ids": [bobs.pk]}, format="json").json() == {
        "marked": 0
    }
    assert api(announced.bob).post("/api/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert api(announced.bob).get("/api/notifications/?unread=true").json()["count"] == 0


def test_api_alerts_and_webhooks_are_the_csirts(announced, mailoutbox):
    payload = {"subject": "Patch now", "body": "Struts.", "urgency": "S+", "systems": [announced.shop.pk]}
    assert api(announced.alice).post("/api/alerts/", payload, format="json").status_code == 403
    assert api(announced.alice).get("/api/webhooks/").status_code == 403
    assert api(announced.ciso).get("/api/alerts/").status_code == 200
    created = api(announced.csirt).post("/api/alerts/", payload, format="json")
    assert created.status_code == 201 and created.json()["recipients"] == 1
    hook = api(announced.csirt).post(
        "/api/webhooks/", {"name": "soc", "url": "https://soc.example.jp/in", "events": ["alert"]}, format="json"
    )
    assert hook.status_code == 201 and hook.json()["secret"]
    bad = api(announced.csirt).post("/api/webhooks/", {"name": "x", "url": "https://x.example.jp", "events": ["nope"]}, format="json")  # fmt: skip
    assert bad.status_code == 400
    failed = Notification.objects.filter(recipient=announced.bob).first()
    assert api(announced.bob).post(f"/api/notifications/{failed.pk}/retry/").status_code == 403


def test_inbox_times_are_in_the_readers_zone(announced):
    row = Notification.objects.get(recipient=announced.alice, channel=Channel.INBOX)
    Notification.objects.filter(pk=row.pk).update(created_at=dt.datetime(2026, 11, 25, 23, 45, tzinfo=dt.UTC))
    assert "2026-11-26 08:45" in web(announced.alice).get(reverse("web:inbox")).content.decode()  # Asia/Tokyo
    web(announced.alice).post(reverse("web:inbox-preferences"), {"language": "en", "time_zone": "Europe/London"})
    assert "2026-11-25 23:45" in web(announced.alice).get(reverse("web:inbox")).content.decode()


def test_pages_speak_japanese(announced, settings):
    settings.LANGUAGE_CODE = "ja"
    page = web(announced.alice).get(reverse("web:inbox")).content.decode()
    assert "受信箱" in page and "すべて既読にする" in page and "通知の設定" in page
    page = web(announced.csirt).get(reverse("web:webhook-list")).content.decode()
    assert "Webhook を追加" in page and "署名" in page


def test_list_pages_cost_the_same_queries_whatever_their_length(announced):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user, name: str) -> int:
        client = web(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name)).status_code == 200
        return len(captured)

    before = (queries(announced.alice, "web:inbox"), queries(announced.csirt, "web:notification-list"))
    for n in range(10):
        announce("finding.new", [Subject(announced.shop.pk, f"CVE-2026-{n:04d}", "A")], dedupe=f"q:{n}")
    after = (queries(announced.alice, "web:inbox"), queries(announced.csirt, "web:notification-list"))
    assert after == before
