"""Web pages of work items (対応状況): the list, an item with one form per action the user may take, the
CSIRT's urgency override and settings, and the emergency response board.

Each view checks access, calls a query or a service, and renders. An item outside the user's scope is a
404. An action that is refused (role, state, value) or that lost a race with someone else's change is
shown on the item's page as a message saying why, with the status 403, 400 or 409 — never a 500.
Deadlines are shown in the user's time zone (their notification preference, else the company's).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismp.apps.audit.services import Actor
from ismp.apps.inventory.queries import systems_for
from ismp.apps.tables import FORMATS as EXPORT_FORMATS
from ismp.apps.web.views import is_htmx_partial, paginate
from ismp.apps.workflow import queries, services
from ismp.apps.workflow.exporting import board_csv, work_items_download
from ismp.apps.workflow.forms import (
    ACTION_FORMS,
    KIND_LABELS,
    STATE_LABELS,
    MatrixForm,
    PolicyForm,
    StepForm,
    UrgencyOverrideForm,
    WorkItemFilterForm,
)
from ismp.apps.workflow.models import VulnerabilityUrgency, WorkItem
from ismp.engines import urgency as urgency_engine
from ismp.engines.workflow import ACTION_LABELS, Action
from ismp.errors import Conflict, Forbidden, InputError

WORK_ITEMS_PER_PAGE = 50
_STATUS = {Forbidden: 403, InputError: 400, Conflict: 409}


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "web")


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render in the user's time zone, with the labels every work-item template uses."""
    context = {
        "urgency_badges": queries.URGENCY_BADGES,
        "state_labels": {s.value: label for s, label in STATE_LABELS.items()},
        "kind_labels": {k.value: label for k, label in KIND_LABELS.items()},
        "time_zone": queries.user_time_zone(request.user),
        **context,
    }
    with timezone.override(context["time_zone"]):
        return render(request, template, context, status=status)


def _visible_item(request: HttpRequest, pk: int) -> WorkItem:
    item = queries.work_item_detail(request.user, pk)
    if item is None:
        raise Http404("no such work item in your scope")
    return item


# ------------------------------------------------------------------------------------------------ list


@login_required
@require_GET
def workitem_list(request: HttpRequest) -> HttpResponse:
    filters = WorkItemFilterForm(request.GET)
    query = filters.query()
    partial = is_htmx_partial(request)
    page = paginate(request, queries.work_item_list(request.user, **query), WORK_ITEMS_PER_PAGE)
    now = timezone.now()
    for item in page.object_list:
        item.overdue = queries.is_overdue(item, now)
    response = _render(
        request,
        "workflow/_workitem_table.html" if partial else "workflow/workitem_list.html",
        {
            "filters": filters,
            "page": page,
            "order": query["order"],
            "partial": partial,
            "export_formats": EXPORT_FORMATS,
            "can_configure": queries.can_override_urgency(request.user),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def workitem_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"unknown export format {fmt!r}")
    with timezone.override(queries.user_time_zone(request.user)):
        return work_items_download(request.user, fmt, WorkItemFilterForm(request.GET).query()["filters"])


# ---------------------------------------------------------------------------------------------- detail


@login_required
@require_GET
def workitem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible_item(request, pk))


def _detail(
    request: HttpRequest,
    item: WorkItem,
    bound: StepForm | UrgencyOverrideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    forms: list[StepForm] = []
    for action in queries.allowed_actions(request.user, item):
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            continue
        if isinstance(bound, form_class):
            forms.append(bound)
        else:
            forms.append(form_class(initial={"version": item.version}))
    override = None
    if queries.can_override_urgency(request.user):
        override = bound if isinstance(bound, UrgencyOverrideForm) else None
        override = override or UrgencyOverrideForm(initial={"version": item.version, "urgency": item.urgency_override})
    computed = None
    if item.vulnerability_id:
        computed = VulnerabilityUrgency.objects.filter(vulnerability_id=item.vulnerability_id).first()
    return _render(
        request,
        "workflow/workitem_detail.html",
        {
            "item": item,
            "overdue": queries.is_overdue(item),
            "computed": computed,
            "standard": urgency_engine.RESPONSE_STANDARDS.get(item.urgency, ""),
            "forms": forms,
            "override": override,
            "history": queries.history(item),
            "action_labels": {a.value: label for a, label in ACTION_LABELS.items()},
        },
        status=status,
    )


@login_required
@require_POST
def workitem_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one action (the form's hidden ``action``) on the item at the version the page showed."""
    item = _visible_item(request, pk)
    try:
        action = Action(request.POST.get("action", ""))
        form_class = ACTION_FORMS[action]
    except (ValueError, KeyError):
        messages.error(request, _("Unknown action %(action)r.") % {"action": request.POST.get("action", "")})
        return _detail(request, item, status=400)
    form = form_class(request.POST)
    with timezone.override(queries.user_time_zone(request.user)):  # a stop time is typed in the user's zone
        valid = form.is_valid()
    if not valid:
        messages.error(request, _("%(action)s: correct the fields below.") % {"action": form.label})
        return _detail(request, item, form, status=400)
    try:
        services.transition(_actor(request), item, form.to_step(), version=form.cleaned_data["version"])
    except (Forbidden, InputError, Conflict) as exc:
        messages.error(request, _error_text(exc))
        # after a conflict the forms start again from the item as it is now (its new version)
        kept = None if isinstance(exc, Conflict) else form
        return _detail(request, _visible_item(request, pk), kept, status=_status(exc))
    messages.success(request, _("%(action)s: recorded.") % {"action": form.label})
    return redirect("web:workitem-detail", pk=pk)


@login_required
@require_POST
def workitem_urgency(request: HttpRequest, pk: int) -> HttpResponse:
    """The CSIRT sets (or clears) the item's urgency by hand, with a reason."""
    item = _visible_item(request, pk)
    if not queries.can_override_urgency(request.user):
        raise PermissionDenied(_("Only the CSIRT overrides an urgency."))
    form = UrgencyOverrideForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, form, status=400)
    try:
        services.override_urgency(
            _actor(request),
            item,
            form.cleaned_data["urgency"] or "",
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except (Forbidden, InputError, Conflict) as exc:
        messages.error(request, _error_text(exc))
        return _detail(request, _visible_item(request, pk), form, status=_status(exc))
    messages.success(request, _("The urgency was changed."))
    return redirect("web:workitem-detail", pk=pk)


def _status(exc: Exception) -> int:
    return next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)


def _error_text(exc: Forbidden | InputError | Conflict) -> str:
    text = exc.reason if isinstance(exc, InputError) else exc.message
    return f"{text} ({exc.hint})" if exc.hint else text


# -------------------------------------------------------------------------------------------- settings


@login_required
@require_http_methods(["GET", "POST"])
def workitem_settings(request: HttpRequest) -> HttpResponse:
    """The urgency matrix and the response policy (registration periods, deadlines); the CSIRT edits."""
    if not queries.can_override_urgency(request.user):
        raise PermissionDenied(_("Only the CSIRT changes the urgency matrix and the response policy."))
    matrix = services.current_matrix()
    policy = services.current_policy()
    which = request.POST.get("form", "")
    policy_days = {"answer_days": dict(policy.answer_days), "deadline_days": dict(policy.deadline_days)}
    matrix_form = MatrixForm(request.POST if which == "matrix" else None, matrix=matrix)
    policy_form = PolicyForm(
        request.POST if which == "policy" else None, initial={"business_days": policy.business_days}, **policy_days
    )
    status = 200
    if request.method == "POST":
        try:
            if which == "matrix" and matrix_form.is_valid():
                services.set_matrix(_actor(request), matrix_form.cells(), note=matrix_form.cleaned_data["note"])
                messages.success(request, _("The urgency matrix was changed; every urgency was recomputed."))
                return redirect("web:workitem-settings")
            if which == "policy" and policy_form.is_valid():
                services.set_policy(
                    _actor(request),
                    answer_days=policy_form.days("answer"),
                    deadline_days=policy_form.days("deadline"),
                    business_days=policy_form.cleaned_data["business_days"],
                )
                messages.success(request, _("The response policy was changed; new work items use it."))
                return redirect("web:workitem-settings")
        except (Forbidden, InputError) as exc:
            messages.error(request, _error_text(exc))
        status = 400
    return _render(
        request,
        "workflow/settings.html",
        {
            "matrix": matrix,
            "matrix_form": matrix_form,
            "policy_form": policy_form,
            "levels": urgency_engine.LEVELS,
            "standards": urgency_engine.RESPONSE_STANDARDS,
        },
        status=status,
    )


# ----------------------------------------------------------------------------------------------- board


@login_required
@require_GET
def board_index(request: HttpRequest) -> HttpResponse:
    """Vulnerabilities with open S+/S- work items, most affected first: where the board starts."""
    return _render(request, "workflow/board_index.html", {"rows": queries.board_vulnerabilities(request.user)})


@login_required
@require_GET
def board_detail(request: HttpRequest, vuln_id: str) -> HttpResponse:
    """Every affected system of one vulnerability: who answered 要否 / 予定 / 完了 and when, who has not."""
    order = request.GET.get("order", "organisation")
    board = queries.board(request.user, vuln_id, order=order)
    if board is None:
        raise Http404(f"no work items of {vuln_id} in your scope")
    zone = queries.user_time_zone(request.user)
    if request.GET.get("format") == "csv":
        with timezone.override(zone):
            return board_csv(board)
    return _render(
        request,
        "workflow/board.html",
        {"board": board, "order": order if order in queries.BOARD_ORDERS else "organisation"},
    )


# ------------------------------------------------------------------------------------------ system page


@login_required
@require_GET
def system_workitems(request: HttpRequest, pk: int) -> HttpResponse:
    """The work-items section of a system's page (loaded into it by htmx)."""
    system = get_object_or_404(systems_for(request.user), pk=pk)
    return _render(
        request,
        "workflow/_system_workitems.html",
        {"system": system, "section": queries.system_work_items(request.user, system)},
    )
