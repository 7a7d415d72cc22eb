"""Web pages of notifications: everyone's inbox (受信箱), and for the CSIRT every delivery with its state,
the alert form (警報配信) and the webhook endpoints.

Each view checks access, calls a query or a service, and renders. The CSIRT's pages refuse everyone else
with 403; the inbox shows only the reader's own notifications.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismp.apps.audit.services import Actor
from ismp.apps.notifications import queries, services
from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.forms import AlertForm, PreferenceForm, WebhookForm
from ismp.apps.web.views import paginate
from ismp.errors import InputError, IsmpError

PER_PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "web")


def _require_csirt(request: HttpRequest) -> None:
    if not queries.can_manage(request.user):
        raise PermissionDenied(_("Only the CSIRT manages notifications."))


def _zone(request: HttpRequest) -> ZoneInfo:
    """The reader's own time zone for the times on these pages (the company's when they chose none)."""
    preference = queries.preference_for(request.user)
    return ZoneInfo(preference.time_zone if preference else settings.TIME_ZONE)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    preference = queries.preference_for(request.user)
    initial = (
        {"language": preference.language, "time_zone": preference.time_zone}
        if preference
        else {"language": settings.LANGUAGE_CODE, "time_zone": settings.TIME_ZONE}
    )
    with timezone.override(_zone(request)):
        return render(
            request,
            "notifications/inbox.html",
            {
                "page": paginate(request, queries.inbox_for(request.user), PER_PAGE),
                "unread": queries.unread_count(request.user),
                "preference_form": PreferenceForm(initial=initial),
            },
        )


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification read (``id``), or all of the reader's (``all``)."""
    ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    services.mark_read(request.user, ids)
    return redirect("web:inbox")


@login_required
@require_POST
def inbox_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        services.set_preference(_actor(request), **form.cleaned_data)
        messages.success(request, _("Your notification preferences were saved."))
    else:
        messages.error(request, _("Choose a language and a time zone."))
    return redirect("web:inbox")


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    _require_csirt(request)
    state, channel = request.GET.get("state", ""), request.GET.get("channel", "")
    with timezone.override(_zone(request)):
        return render(
            request,
            "notifications/notification_list.html",
            {
                "page": paginate(request, queries.delivery_list(request.user, state=state, channel=channel), PER_PAGE),
                "state": state,
                "channel": channel,
                "states": DeliveryState.choices,
                "channels": Channel.choices,
                "failed": queries.delivery_list(request.user, state=DeliveryState.FAILED).count(),
            },
        )


@login_required
@require_POST
def notification_retry(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Retry one failed notification, or every failed one."""
    _require_csirt(request)
    count = services.retry(_actor(request), None if pk is None else [pk])
    messages.success(request, _("%(count)d notification(s) queued for delivery again.") % {"count": count})
    return redirect("web:notification-list")


@login_required
@require_http_methods(["GET", "POST"])
def alert_issue(request: HttpRequest) -> HttpResponse:
    """警報配信: the CSIRT alerts the administrators of chosen organisations' and systems' systems."""
    _require_csirt(request)
    form = AlertForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued, report = services.alert(
                _actor(request),
                organisations=list(data["organisations"]),
                systems=list(data["systems"]),
                subject=data["subject"],
                body=data["body"],
                urgency=data["urgency"],
                drill=data["drill"],
            )
        except IsmpError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Alert “%(subject)s” issued to %(count)d recipient(s).")
                % {"subject": issued.subject, "count": report.recipients},
            )
            return redirect("web:notification-list")
    return render(
        request,
        "notifications/alert_form.html",
        {"form": form, "alerts": queries.alerts_for(request.user)[:20]},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    _require_csirt(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hook = services.create_webhook(
                _actor(request),
                name=data["name"],
                url=data["url"],
                payload_format=data["payload_format"],
                organisation=data["organisation"],
                event_names=data["events"],
            )
        except InputError as exc:
            form.add_error(None, exc.reason)
        else:
            messages.success(request, _("Webhook “%(name)s” added.") % {"name": hook.name})
            return redirect("web:webhook-list")
    return render(
        request,
        "notifications/webhook_list.html",
        {"form": form, "webhooks": queries.webhooks_for(request.user)},
        status=400 if form.errors else 200,
    )


def _webhook(request: HttpRequest, pk: int) -> Any:
    _require_csirt(request)
    return get_object_or_404(queries.webhooks_for(request.user), pk=pk)


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    hook = _webhook(request, pk)
    services.set_webhook_active(_actor(request), hook, not hook.active)
    return redirect("web:webhook-list")


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    hook = _webhook(request, pk)
    services.delete_webhook(_actor(request), hook)
    messages.success(request, _("Webhook “%(name)s” removed.") % {"name": hook.name})
    return redirect("web:webhook-list")
