"""Pages of the web interface that belong to no single domain: dashboard, organisations, API tokens, health.

Login and logout are Django's own views (see urls.py); axes throttles the login form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismp.apps.accounts import services as account_services
from ismp.apps.accounts.choices import TokenScope
from ismp.apps.accounts.models import ApiToken, Organisation, User
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.queries import systems_for
from ismp.errors import Forbidden, InputError, NotFound

# ---------------------------------------------------------------------------------------- pagination


class ListPage(Page):  # type: ignore[type-arg]
    """A page of a list that knows which page links to show (web/_pagination.html)."""

    @property
    def page_links(self) -> Iterable[int | str]:
        """The page numbers to link to, elided: 1 … 4 5 [6] 7 8 … 20."""
        return self.paginator.get_elided_page_range(self.number, on_each_side=2, on_ends=1)


class ListPaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, handing out ListPage (``_get_page`` is its documented hook for that)."""

    def _get_page(self, *args: Any, **kwargs: Any) -> ListPage:
        return ListPage(*args, **kwargs)


def is_htmx_partial(request: HttpRequest) -> bool:
    """An htmx request for a fragment (not a history restore, which needs the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def paginate(request: HttpRequest, object_list: Any, per_page: int) -> ListPage:
    """The page of ``object_list`` that ``?page=`` asks for (a bad number gives the first or last page)."""
    return cast(ListPage, ListPaginator(object_list, per_page).get_page(request.GET.get("page")))


# -------------------------------------------------------------------------------------------- health


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers and `ismp serve`: no login, no database."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


# ----------------------------------------------------------------------------------------- dashboard


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The bottom line (ボトムラインの可視化): for the CSIRT, the CISO and auditors the whole company or one
    organisation (``?organisation=CODE``, descendants included) or system (``?system=ID``); for an
    administrator the summary of their own systems' work items. See ``ismp.apps.dashboard.queries``."""
    from ismp.apps.dashboard.charts import trend_chart
    from ismp.apps.dashboard.queries import summary

    user: Any = request.user
    try:
        data = summary(
            user, organisation=request.GET.get("organisation", "").strip(), system=request.GET.get("system") or None
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "web/dashboard.html",
        {"summary": data, "chart": trend_chart(data.trend), "reports": user.sees_everything},
    )


# ------------------------------------------------------------------------------------- organisations


def _tree(organisations: Sequence[Organisation]) -> list[tuple[Organisation, int]]:
    """Organisations in depth-first order with their depth (company 0, division 1, department 2 …)."""
    children: dict[int | None, list[Organisation]] = {}
    for org in organisations:
        children.setdefault(org.parent_id, []).append(org)
    ordered: list[tuple[Organisation, int]] = []
    stack = [(org, 0) for org in reversed(children.get(None, []))]
    while stack:
        org, depth = stack.pop()
        ordered.append((org, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(org.pk, [])))
    return ordered


@login_required
@require_GET
def organisations(request: HttpRequest) -> HttpResponse:
    """The organisation tree (company → division → department) with the systems of each in the user's scope."""
    orgs = list(
        Organisation.objects.select_related("head")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("code")
    )
    system_counts = dict(systems_for(request.user).order_by().values_list("organisation_id").annotate(n=Count("pk")))
    return render(
        request,
        "web/organisations.html",
        {
            "rows": [(org, depth, system_counts.get(org.pk, 0)) for org, depth in _tree(orgs)],
        },
    )


# ---------------------------------------------------------------------------------------- API tokens


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("name"),
        max_length=100,
        help_text=gettext_lazy('What the token is for, e.g. "nightly SBOM upload from CI".'),
    )
    scope = forms.ChoiceField(label=gettext_lazy("scope"), choices=TokenScope.choices, initial=TokenScope.READ)
    expires_on = forms.DateField(
        label=gettext_lazy("expires"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Leave empty for a token that does not expire."),
    )

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in the current time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """Your API tokens. A new token's secret is shown once, in the response to its creation, and never stored."""
    user = cast(User, request.user)  # login_required
    form = TokenForm(request.POST or None)
    secret = None
    if form.is_bound and form.is_valid():
        try:
            _token, secret = account_services.issue_token(
                Actor(user, "web"),
                user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
            )
        except InputError as exc:
            form.add_error("expires_on" if exc.location.field == "expires_at" else None, exc.reason)
        else:
            form = TokenForm()
    return render(
        request,
        "web/tokens.html",
        {
            "form": form,
            "secret": secret,
            "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk)
    try:
        account_services.revoke_token(Actor(request.user, "web"), token)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("web:tokens")
