"""Web pages of controls (適用基準): company-wide gaps and coverage, a system's controls and pre-launch
gates, the baseline editor (CSIRT) and the CISO's gate exception queue.

Each view checks access, calls a query or a service, and renders. A system outside the user's scope is a
404; an action the user may not take is a 403; a refused value is a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismp.apps.accounts.models import Organisation
from ismp.apps.audit.services import Actor
from ismp.apps.controls import queries, services
from ismp.apps.controls.choices import GAP_LABELS
from ismp.apps.controls.forms import (
    BaselineForm,
    ControlStatusForm,
    ExceptionDecisionForm,
    ExceptionRequestForm,
    GateCheckForm,
)
from ismp.apps.inventory.choices import SystemType
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.apps.web.views import paginate
from ismp.engines.controls import CONTROL_NAMES, GATE_NAMES, SYSTEM_TYPES, Control, GateKind, launch_blockers
from ismp.errors import Forbidden, InputError

SYSTEMS_PER_PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "web")


def _visible_system(request: HttpRequest, pk: int) -> System:
    return get_object_or_404(systems_for(request.user).select_related("organisation", "service_owner"), pk=pk)


def _run(request: HttpRequest, call: Callable[[], Any], done: str) -> None:
    """Run a service: success and refusals become messages; Forbidden a 403."""
    try:
        call()
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except InputError as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, done)


def _form_errors(request: HttpRequest, form: Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


# ------------------------------------------------------------------------------------ company-wide


@login_required
@require_GET
def gaps(request: HttpRequest) -> HttpResponse:
    """/controls/: coverage per organisation and the systems with gaps, most gaps first."""
    organisation = request.GET.get("organisation", "")
    systems = queries.assessed_systems(request.user, organisation=organisation)
    page = paginate(request, queries.systems_with_gaps(systems), SYSTEMS_PER_PAGE)
    evaluated = queries.gaps_by_system(list(page.object_list))
    rows = [(s, evaluated[s.pk]) for s in page.object_list]
    return render(
        request,
        "controls/gaps.html",
        {
            "coverage": queries.coverage(systems),
            "page": page,
            "rows": rows,
            "names": _names(),
            "gap_labels": {reason.value: label for reason, label in GAP_LABELS.items()},
            "organisation": organisation,
            "organisations": Organisation.objects.order_by("code"),
            "baseline": queries.current_baseline(),
            "pending": queries.pending_exceptions(request.user).count(),
        },
    )


def _names() -> dict[str, str]:
    return {c.value: f"{CONTROL_NAMES[c][1]} ({CONTROL_NAMES[c][0]})" for c in Control}


# ------------------------------------------------------------------------------------ one system


@login_required
@require_GET
def system_controls(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    result, rows = queries.system_controls(system)
    states = queries.gate_states([system.pk])[system.pk]
    user = request.user
    return render(
        request,
        "controls/system_controls.html",
        {
            "system": system,
            "result": result,
            "rows": rows,
            "names": _names(),
            "gates": [(GATE_NAMES[k], states.results.get(k)) for k in GateKind],
            "blockers": launch_blockers(states, queries.today()),
            "checks": queries.gate_checks_for(user).filter(system=system).order_by("-performed_on", "-pk"),
            "exceptions": queries.exceptions_for(user).filter(system=system),
            "today": queries.today(),
            "can_set": queries.can_set_controls(user, system),
            "can_record_gate": queries.can_record_gate(user, system),
            "can_request": queries.can_request_exception(user, system),
            "can_decide": queries.can_decide_exception(user),
            "status_form": ControlStatusForm(),
            "gate_form": GateCheckForm(),
            "exception_form": ExceptionRequestForm(),
        },
    )


@login_required
@require_POST
def control_set(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    form = ControlStatusForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _run(
            request,
            lambda: services.set_control(
                _actor(request),
                system,
                data["control"],
                data["status"],
                reason=data["reason"],
                evidence=data["evidence"],
                reference=data["reference"],
                evidence_file=data["evidence_file"],
                review_by=data["review_by"],
            ),
            _("%(control)s on %(system)s was recorded.") % {"control": _names()[data["control"]], "system": system},
        )
    return redirect("web:system-controls", pk=system.pk)


@login_required
@require_POST
def gate_check(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    form = GateCheckForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _run(
            request,
            lambda: services.record_gate_check(
                _actor(request),
                system,
                data["kind"],
                data["result"],
                evidence=data["evidence"],
                reference=data["reference"],
                performed_on=data["performed_on"],
            ),
            _("The check of %(system)s was recorded.") % {"system": system},
        )
    return redirect("web:system-controls", pk=system.pk)


@login_required
@require_POST
def exception_request(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    form = ExceptionRequestForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _run(
            request,
            lambda: services.request_exception(
                _actor(request), system, reason=data["reason"], expires_on=data["expires_on"]
            ),
            _("The exception for %(system)s was requested; the CISO decides.") % {"system": system},
        )
    return redirect("web:system-controls", pk=system.pk)


# ------------------------------------------------------------------------------------ exceptions


@login_required
@require_GET
def exception_list(request: HttpRequest) -> HttpResponse:
    """Gate exceptions the user may see; the pending ones first, with the CISO's decision forms."""
    visible = queries.exceptions_for(request.user)
    return render(
        request,
        "controls/exceptions.html",
        {
            "pending": queries.pending_exceptions(request.user),
            "lapsed": queries.lapsed_exceptions(request.user),
            "decided": visible.exclude(state="pending").order_by("-decided_at", "-pk")[:100],
            "can_decide": queries.can_decide_exception(request.user),
            "today": queries.today(),
        },
    )


@login_required
@require_POST
def exception_decide(request: HttpRequest, pk: int) -> HttpResponse:
    exception = get_object_or_404(queries.exceptions_for(request.user), pk=pk)
    form = ExceptionDecisionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        approve = form.cleaned_data["decision"] == "approve"
        if approve:
            done = _("The exception for %(system)s was approved.")
        else:
            done = _("The exception for %(system)s was refused.")
        _run(
            request,
            lambda: services.decide_exception(
                _actor(request), exception, approve=approve, note=form.cleaned_data["note"]
            ),
            done % {"system": exception.system},
        )
    return redirect("web:controls-exceptions")


# ------------------------------------------------------------------------------------ baseline


@login_required
@require_http_methods(["GET", "POST"])
def baseline(request: HttpRequest) -> HttpResponse:
    """The baseline (適用基準): a table of system types × controls; the CSIRT saves a new version."""
    current = queries.current_baseline()
    can_edit = queries.can_edit_baseline(request.user)
    form = BaselineForm(request.POST or None, baseline=current)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only the CSIRT edits the control baseline."))
        if form.is_valid():
            try:
                saved = services.save_baseline(_actor(request), form.requirements(), note=form.cleaned_data["note"])
            except InputError as exc:
                messages.error(request, exc.reason)
            else:
                messages.success(request, _("Baseline version %(version)s was saved.") % {"version": saved.version})
                return redirect("web:controls-baseline")
    grid = [
        (system_type, [(c.value, form[f"{system_type}:{c.value}"]) for c in Control]) for system_type in SYSTEM_TYPES
    ]
    return render(
        request,
        "controls/baseline.html",
        {
            "baseline": current,
            "form": form,
            "grid": grid,
            "controls": [(c.value, CONTROL_NAMES[c]) for c in Control],
            "type_names": dict(SystemType.choices),
            "history": queries.baseline_history()[:20],
            "can_edit": can_edit,
        },
    )
