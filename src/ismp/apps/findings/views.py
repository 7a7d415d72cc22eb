"""Web pages of findings (検出事項): the list, the CSIRT's confirmation queue, a finding with its decision
form, exports and a system's VEX.

Each view checks access, calls a query or a decision, and renders. A finding outside the user's scope is a
404; a decision the user may not make is a 403; a decision in the wrong state is a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions, queries
from ismp.apps.findings.exporting import EXPORT_FORMATS, VEX_FORMATS, export_download, vex_download
from ismp.apps.findings.forms import FindingFilterForm, NotAffectedForm
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.queries import systems_for
from ismp.apps.web.views import is_htmx_partial, paginate
from ismp.errors import Forbidden, InputError

FINDINGS_PER_PAGE = 50
QUEUE_PER_PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "web")


def _visible_finding(request: HttpRequest, pk: int) -> Finding:
    finding = queries.finding_detail(request.user, pk)
    if finding is None:
        raise Http404("no such finding in your scope")
    return finding


@login_required
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    filters = FindingFilterForm(request.GET)
    query = filters.query()
    partial = is_htmx_partial(request)
    response = render(
        request,
        "findings/_finding_table.html" if partial else "findings/finding_list.html",
        {
            "filters": filters,
            "page": paginate(request, queries.finding_list(request.user, **query), FINDINGS_PER_PAGE),
            "order": query["order"],
            "partial": partial,
            "export_formats": EXPORT_FORMATS,
            "can_confirm": queries.can_confirm(request.user),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def confirmation_queue(request: HttpRequest) -> HttpResponse:
    """確認待ち: the CSIRT's low-confidence matches, to confirm or to mark not affected."""
    if not queries.can_confirm(request.user):
        raise PermissionDenied(_("Only the CSIRT confirms low-confidence matches."))
    return render(
        request,
        "findings/confirmation_queue.html",
        {
            "page": paginate(request, queries.confirmation_queue(request.user), QUEUE_PER_PAGE),
            "form": NotAffectedForm(),
        },
    )


@login_required
@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _visible_finding(request, pk)
    return _detail(request, finding, NotAffectedForm())


def _detail(request: HttpRequest, finding: Finding, form: NotAffectedForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "findings/finding_detail.html",
        {
            "finding": finding,
            "form": form,
            "can_decide": queries.can_decide(request.user, finding),
            "can_confirm": queries.can_confirm(request.user) and finding.needs_confirmation,
        },
        status=status,
    )


def _back(request: HttpRequest, finding: Finding) -> HttpResponse:
    """Where the action came from (the queue, the system page), else the finding's page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("web:finding-detail", pk=finding.pk)


def _decide(request: HttpRequest, finding: Finding, call: Callable[[], Any], done: str) -> HttpResponse:
    try:
        call()
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except InputError as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, done)
    return _back(request, finding)


@login_required
@require_POST
def finding_not_affected(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _visible_finding(request, pk)
    form = NotAffectedForm(request.POST)
    if not form.is_valid():
        return _detail(request, finding, form, status=400)
    return _decide(
        request,
        finding,
        lambda: decisions.mark_not_affected(
            _actor(request),
            finding,
            justification=form.cleaned_data["justification"],
            note=form.cleaned_data["note"],
        ),
        _("%(vuln)s was marked not affected on %(system)s.")
        % {"vuln": finding.vulnerability.vuln_id, "system": finding.system.name},
    )


@login_required
@require_POST
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _visible_finding(request, pk)
    return _decide(
        request,
        finding,
        lambda: decisions.reopen(_actor(request), finding),
        _("%(vuln)s is open again on %(system)s.")
        % {"vuln": finding.vulnerability.vuln_id, "system": finding.system.name},
    )


@login_required
@require_POST
def finding_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _visible_finding(request, pk)
    return _decide(
        request,
        finding,
        lambda: decisions.confirm(_actor(request), finding),
        _("%(vuln)s on %(system)s was confirmed; its administrators see it now.")
        % {"vuln": finding.vulnerability.vuln_id, "system": finding.system.name},
    )


@login_required
@require_GET
def finding_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"unknown export format {fmt!r}")
    return export_download(request.user, fmt, FindingFilterForm(request.GET).query()["filters"])


@login_required
@require_http_methods(["GET"])
def system_vex(request: HttpRequest, pk: int) -> HttpResponse:
    """One system's VEX: CycloneDX 1.6 or OpenVEX 0.2.0, of the findings the user may see."""
    system = get_object_or_404(systems_for(request.user).select_related("organisation"), pk=pk)
    fmt = request.GET.get("format", "cyclonedx")
    if fmt not in VEX_FORMATS:
        raise Http404(f"unknown VEX format {fmt!r}")
    return vex_download(request.user, system, fmt)
