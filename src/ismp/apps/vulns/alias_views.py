"""Web pages of the CSIRT's vendor/product aliases (/vulns/aliases/): every signed-in role reads them, only
the CSIRT adds and deletes (ismp.apps.vulns.aliases holds the use cases)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.vulns import aliases
from ismp.apps.vulns.models import ProductAlias
from ismp.errors import Forbidden, InputError


class AliasForm(forms.Form):
    alias_vendor = forms.CharField(label=gettext_lazy("alias vendor"), max_length=200)
    alias_product = forms.CharField(label=gettext_lazy("alias product"), max_length=200, required=False)
    vendor = forms.CharField(label=gettext_lazy("NVD vendor"), max_length=200)
    product = forms.CharField(label=gettext_lazy("NVD product"), max_length=200, required=False)
    note = forms.CharField(label=gettext_lazy("note"), max_length=300, required=False)


def _is_csirt(request: HttpRequest) -> bool:
    return getattr(request.user, "role", None) == Role.CSIRT


@login_required
@require_http_methods(["GET", "POST"])
def alias_list(request: HttpRequest) -> HttpResponse:
    form = AliasForm(request.POST or None)
    if request.method == "POST":
        if not _is_csirt(request):
            raise PermissionDenied(_("Only the CSIRT maintains product aliases."))
        if form.is_valid():
            try:
                alias = aliases.add_alias(Actor(request.user, "web"), form.cleaned_data)
            except InputError as exc:
                form.add_error(exc.location.field if exc.location.field in form.fields else None, exc.reason)
            else:
                messages.success(request, _("The alias %(alias)s was added.") % {"alias": alias})
                return redirect("web:alias-list")
    return render(
        request,
        "vulns/aliases.html",
        {
            "aliases": ProductAlias.objects.select_related("created_by"),
            "builtin_count": len(aliases.builtin_aliases()),
            "form": form,
            "can_change": _is_csirt(request),
        },
    )


@login_required
@require_http_methods(["POST"])
def alias_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias = get_object_or_404(ProductAlias, pk=pk)
    try:
        aliases.delete_alias(Actor(request.user, "web"), alias)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("The alias %(alias)s was deleted.") % {"alias": alias})
    return redirect("web:alias-list")
