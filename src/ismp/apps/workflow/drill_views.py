"""Web pages of response drills (対応訓練): the drills with their counts and the CSIRT's form to start one, and
one drill's scenario and per-organisation report with the CSIRT's "end drill" button.

The CSIRT, the CISO and auditors read; only the CSIRT starts and ends (``drills.start_drill`` and
``drills.end_drill`` refuse anyone else). Other roles get a 403, an unknown drill a 404, like the rest of
the app; a refused start or end is shown as a message with the status 400 or 403.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ismp.apps.accounts.models import Organisation
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.models import System
from ismp.apps.workflow import drills, queries
from ismp.apps.workflow.models import Drill
from ismp.engines.urgency import URGENCIES
from ismp.errors import Forbidden, InputError


def drills_with_counts() -> QuerySet[Drill]:
    """The drills, newest first, each with its systems, answered (対策要否 registered) and completed (完了)."""
    return Drill.objects.annotate(
        systems=Count("work_items"),
        answered=Count("work_items", filter=Q(work_items__answered_at__isnull=False)),
        completed=Count("work_items", filter=Q(work_items__completed_on__isnull=False)),
    ).order_by("-started_at", "-pk")


def reads_drills(user: Any) -> bool:
    """Drills concern the whole company: the CSIRT, the CISO and auditors (``sees_everything``) read them."""
    return bool(user.is_authenticated and user.sees_everything)


class DrillForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    vuln_title = forms.CharField(label=gettext_lazy("Simulated vulnerability (模擬脆弱性)"), max_length=300)
    description = forms.CharField(
        label=gettext_lazy("Scenario (シナリオ)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency (対応緊急度)"), choices=[(u, u) for u in URGENCIES])
    organisations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Organisations"),
        queryset=Organisation.objects.order_by("code"),
        to_field_name="code",
        required=False,
        help_text=gettext_lazy("Every system of these organisations and of those below them takes part."),
    )
    systems = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Systems"),
        queryset=System.objects.select_related("organisation").order_by("organisation__code", "name"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("organisations") and not data.get("systems"):
            raise forms.ValidationError(_("Choose at least one organisation or system to take part."))
        return data

    def system_ids(self) -> list[int]:
        data = self.cleaned_data
        return drills.participant_system_ids((o.code for o in data["organisations"]), (s.pk for s in data["systems"]))


def _require_reader(request: HttpRequest) -> None:
    if not reads_drills(request.user):
        raise PermissionDenied(_("Response drills are read by the CSIRT, the CISO and auditors."))


def _error_text(exc: Forbidden | InputError) -> str:
    text = exc.reason if isinstance(exc, InputError) else exc.message
    return f"{text} ({exc.hint})" if exc.hint else text


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    zone = queries.user_time_zone(request.user)
    with timezone.override(zone):
        return render(request, template, {"time_zone": zone, **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def drill_list(request: HttpRequest) -> HttpResponse:
    """The drills with their counts; the CSIRT starts one with the form below them."""
    _require_reader(request)
    can_run = bool(request.user.is_csirt)  # type: ignore[union-attr]
    form = DrillForm(request.POST if request.method == "POST" else None) if can_run else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Only the CSIRT starts response drills."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                drill = drills.start_drill(
                    Actor(request.user, "web"),
                    name=data["name"],
                    vuln_title=data["vuln_title"],
                    urgency=data["urgency"],
                    system_ids=form.system_ids(),
                    description=data["description"],
                )
            except (Forbidden, InputError) as exc:
                messages.error(request, _error_text(exc))
                status = 403 if isinstance(exc, Forbidden) else 400
            else:
                messages.success(
                    request,
                    _("The drill %(name)s started for %(count)d systems.")
                    % {"name": drill.name, "count": drill.work_items.count()},
                )
                return redirect("web:drill-detail", pk=drill.pk)
        else:
            status = 400
    return _render(request, "workflow/drill_list.html", {"drills": drills_with_counts(), "form": form}, status=status)


@login_required
@require_http_methods(["GET"])
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The scenario and each organisation's answers: how many, how fast, who has not answered."""
    _require_reader(request)
    drill = get_object_or_404(drills_with_counts().select_related("started_by"), pk=pk)
    report = [result.as_dict() for result in drills.drill_report(drill)]
    can_end = bool(request.user.is_csirt) and drill.ended_at is None  # type: ignore[union-attr]
    return _render(request, "workflow/drill_detail.html", {"drill": drill, "report": report, "can_end": can_end})


@login_required
@require_POST
def drill_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End the drill (CSIRT): its open items are closed, so no reminder or escalation follows."""
    _require_reader(request)
    drill = get_object_or_404(Drill, pk=pk)
    try:
        drills.end_drill(Actor(request.user, "web"), drill)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except InputError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The drill %(name)s ended; its open items were closed.") % {"name": drill.name})
    return redirect("web:drill-detail", pk=drill.pk)
