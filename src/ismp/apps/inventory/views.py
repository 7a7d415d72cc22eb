"""Web pages of the system inventory (システム台帳).

Each view checks access, calls a query or a service, and renders. Reads go through the scoped queries, so
a system the user may not see is a 404; a change the user may not make is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.findings.queries import system_findings
from ismp.apps.inventory import queries, services, suggestions
from ismp.apps.inventory.exporting import EXPORT_FORMATS, SBOM_FORMATS, export_download, sbom_download
from ismp.apps.inventory.forms import ComponentForm, ImportForm, SystemFilterForm, SystemForm
from ismp.apps.inventory.importing import ImportReport, import_inventory, max_import_bytes
from ismp.apps.inventory.models import Component, System
from ismp.apps.web.views import is_htmx_partial, paginate
from ismp.errors import Forbidden, InputError, InputErrors, IsmpError

SYSTEMS_PER_PAGE = 50
COMPONENTS_PER_PAGE = 100
IMPORT_ERRORS_SHOWN = 500
T = TypeVar("T")


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "web")


def _visible_system(request: HttpRequest, pk: int) -> System:
    """The system, or 404 when it does not exist or is outside the user's scope."""
    return get_object_or_404(queries.systems_for(request.user), pk=pk)


def _changeable_system(request: HttpRequest, pk: int) -> System:
    """The system, 404 as above, or 403 when the user may see it but not change it."""
    system = _visible_system(request, pk)
    if not queries.can_change_system(request.user, system):
        raise PermissionDenied(_("You may not change this system."))
    return system


def _run(form: BaseForm, call: Callable[[], T]) -> T | None:
    """Run a service for a valid form: an InputError becomes an error on its field, Forbidden a 403."""
    try:
        return call()
    except InputError as exc:
        form.add_error(exc.location.field if exc.location.field in form.fields else None, exc.reason)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    return None


# ------------------------------------------------------------------------------------------- systems


@login_required
@require_GET
def system_list(request: HttpRequest) -> HttpResponse:
    filters = SystemFilterForm(request.GET)
    query = filters.query()
    partial = is_htmx_partial(request)
    response = render(
        request,
        "inventory/_system_table.html" if partial else "inventory/system_list.html",
        {
            "filters": filters,
            "page": paginate(request, queries.system_list(request.user, **query), SYSTEMS_PER_PAGE),
            "order": query["order"],
            "total": queries.systems_for(request.user).count(),
            "can_create": queries.can_create_system(request.user),
            "partial": partial,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def system_sbom(request: HttpRequest, pk: int) -> HttpResponse:
    """One system's components as a CycloneDX or SPDX SBOM."""
    system = get_object_or_404(queries.systems_for(request.user), pk=pk)
    fmt = request.GET.get("format", "cyclonedx-json")
    if fmt not in SBOM_FORMATS:
        raise Http404(f"unknown SBOM format {fmt!r}")
    return sbom_download(system, fmt)


@login_required
@require_GET
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    system = get_object_or_404(
        queries.systems_for(request.user)
        .select_related("organisation", "service_owner")
        .prefetch_related("administrators"),
        pk=pk,
    )
    components = system.components.order_by("part", "vendor", "product", "version", "pk")
    return render(
        request,
        "inventory/system_detail.html",
        {
            "system": system,
            "components": paginate(request, components, COMPONENTS_PER_PAGE),
            "can_change": queries.can_change_system(request.user, system),
            "system_findings": system_findings(request.user, system),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_create(request: HttpRequest) -> HttpResponse:
    if not queries.can_create_system(request.user):
        raise PermissionDenied(_("Your role may not register systems."))
    user: Any = request.user
    mine = [user] if user.role == Role.SYSADMIN else []  # a system administrator registers his own systems
    form = SystemForm(request.POST or None, initial={"organisation": user.organisation, "administrators": mine})
    if form.is_bound and form.is_valid():
        system = _run(
            form,
            lambda: services.save_system(
                _actor(request), form.system_data(), administrators=form.administrators_data()
            ),
        )
        if system is not None:
            messages.success(request, _("The system %(name)s was registered.") % {"name": system.name})
            return redirect("web:system-detail", pk=system.pk)
    return render(request, "inventory/system_form.html", {"form": form, "system": None})


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, pk: int) -> HttpResponse:
    system = _changeable_system(request, pk)
    form = SystemForm(request.POST or None, instance=system)
    if form.is_bound and form.is_valid():
        saved = _run(
            form,
            lambda: services.save_system(
                _actor(request), form.system_data(), administrators=form.administrators_data(), system=system
            ),
        )
        if saved is not None:
            messages.success(request, _("The system %(name)s was saved.") % {"name": saved.name})
            return redirect("web:system-detail", pk=saved.pk)
    return render(request, "inventory/system_form.html", {"form": form, "system": system})


@login_required
@require_http_methods(["GET", "POST"])
def system_delete(request: HttpRequest, pk: int) -> HttpResponse:
    system = _changeable_system(request, pk)
    if request.method == "POST":
        name = system.name
        services.delete_system(_actor(request), system)
        messages.success(request, _("The system %(name)s was deleted.") % {"name": name})
        return redirect("web:system-list")
    return render(
        request,
        "inventory/system_confirm_delete.html",
        {
            "system": system,
            "component_count": system.components.count(),
        },
    )


# ---------------------------------------------------------------------------------------- components


@login_required
@require_http_methods(["GET", "POST"])
def component_create(request: HttpRequest, pk: int) -> HttpResponse:
    system = _changeable_system(request, pk)
    form = ComponentForm(request.POST or None)
    if form.is_bound and form.is_valid():
        component = _run(form, lambda: services.save_component(_actor(request), system, form.component_data()))
        if component is not None:
            messages.success(request, _("The component %(name)s was added.") % {"name": component})
            return redirect("web:system-detail", pk=system.pk)
    return render(request, "inventory/component_form.html", {"form": form, "system": system, "component": None})


def _component(system: System, component_pk: int) -> Component:
    return get_object_or_404(system.components.all(), pk=component_pk)


@login_required
@require_http_methods(["GET", "POST"])
def component_edit(request: HttpRequest, pk: int, component_pk: int) -> HttpResponse:
    system = _changeable_system(request, pk)
    component = _component(system, component_pk)
    form = ComponentForm(request.POST or None, instance=component)
    if form.is_bound and form.is_valid():
        saved = _run(
            form, lambda: services.save_component(_actor(request), system, form.component_data(), component=component)
        )
        if saved is not None:
            messages.success(request, _("The component %(name)s was saved.") % {"name": saved})
            return redirect("web:system-detail", pk=system.pk)
    return render(request, "inventory/component_form.html", {"form": form, "system": system, "component": component})


@login_required
@require_http_methods(["GET", "POST"])
def component_delete(request: HttpRequest, pk: int, component_pk: int) -> HttpResponse:
    system = _changeable_system(request, pk)
    component = _component(system, component_pk)
    if request.method == "POST":
        services.delete_component(_actor(request), component)
        messages.success(request, _("The component %(name)s was deleted.") % {"name": component})
        return redirect("web:system-detail", pk=system.pk)
    return render(request, "inventory/component_confirm_delete.html", {"system": system, "component": component})


# ---------------------------------------------------------------------------------- import and export


@login_required
@require_http_methods(["GET", "POST"])
def inventory_import(request: HttpRequest) -> HttpResponse:
    """取込/出力: import a ledger or an SBOM (writers only), export what the user may see."""
    can_import = queries.can_create_system(request.user)
    if request.method == "POST" and not can_import:
        raise PermissionDenied(_("Your role may not change the inventory."))
    form = ImportForm(request.POST or None, request.FILES or None, systems=queries.systems_for(request.user))
    report: ImportReport | None = None
    failure: InputErrors | None = None
    if form.is_bound and form.is_valid():
        report, failure = _import(request, form)
    return render(
        request,
        "inventory/transfer.html",
        {
            "form": form,
            "can_import": can_import,
            "report": report,
            "failure": failure,
            "errors_shown": failure.errors[:IMPORT_ERRORS_SHOWN] if failure else [],
            "export_formats": EXPORT_FORMATS,
            "max_import_mb": max_import_bytes() // (1024 * 1024),
        },
    )


def _import(request: HttpRequest, form: ImportForm) -> tuple[ImportReport | None, InputErrors | None]:
    upload = form.cleaned_data["file"]
    if upload.size is not None and upload.size > max_import_bytes():
        form.add_error("file", _("The file is larger than %(mb)d MB.") % {"mb": max_import_bytes() // 2**20})
        return None, None
    system = form.cleaned_data.get("system")
    try:
        report = import_inventory(
            _actor(request), upload.read(), upload.name or "upload", system_name=system.name if system else None
        )
    except InputErrors as exc:
        return None, exc
    except InputError as exc:
        return None, InputErrors([exc])
    except IsmpError as exc:  # NotFound, Forbidden: about the whole file, not one line of it
        form.add_error(None, exc.message)
        return None, None
    return report, None


@login_required
@require_GET
def inventory_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"unknown export format {fmt!r}")
    return export_download(request.user, fmt)


# ---------------------------------------------------------------------------------- CPE suggestions


@login_required
@require_GET
def system_cpe_suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    """The card of components without a CPE and their suggested CPEs (loaded into the system page)."""
    system = _visible_system(request, pk)
    return render(
        request,
        "inventory/_cpe_suggestions.html",
        {
            "system": system,
            "cpe_suggestions": suggestions.system_suggestions(system),
            "without_cpe": suggestions.components_without_cpe(system).count(),
            "can_change": queries.can_change_system(request.user, system),
        },
    )


@login_required
@require_http_methods(["POST"])
def cpe_suggestion_apply(request: HttpRequest, pk: int, component_pk: int) -> HttpResponse:
    """Give a component the suggested CPE a person chose (audited, like any component change)."""
    system = _changeable_system(request, pk)
    component = _component(system, component_pk)
    try:
        saved = suggestions.accept_suggestion(component, request.POST.get("cpe", ""), _actor(request))
    except InputError as exc:
        messages.error(request, exc.message)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    else:
        messages.success(request, _("%(name)s now has the CPE %(cpe)s.") % {"name": saved, "cpe": saved.cpe})
    return redirect("web:system-detail", pk=system.pk)
