"""Web pages of the audit trail (監査ログ): read-only, for the roles that may read it (CSIRT, CISO, auditor)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ismp.apps.audit.models import AuditAction, AuditEntry
from ismp.apps.audit.queries import AUDIT_COLUMNS, AUDIT_FILTERS, audit_entries_for
from ismp.apps.web.views import paginate
from ismp.engines.inventory.ledger import neutralise

ENTRIES_PER_PAGE = 50


def _object_type_choices() -> list[tuple[str, str]]:
    """The models whose changes are audited, as (label, verbose name), after "All"."""
    return [("", _("All"))] + [
        (model._meta.label_lower, str(model._meta.verbose_name))
        for model in apps.get_models()
        if model.__module__.startswith("ismp.") and model is not AuditEntry
    ]


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(required=False, label=gettext_lazy("object type"), choices=_object_type_choices)
    object_id = forms.CharField(required=False, label=gettext_lazy("object id"), max_length=64)
    actor = forms.CharField(required=False, label=gettext_lazy("actor"), max_length=150)
    action = forms.ChoiceField(
        required=False, label=gettext_lazy("action"), choices=[("", gettext_lazy("All")), *AuditAction.choices]
    )

    def filters(self) -> dict[str, str]:
        """The valid filters for ``audit_entries_for``; an invalid one filters nothing."""
        self.is_valid()
        return {name: str(self.cleaned_data.get(name) or "").strip() for name in AUDIT_FILTERS}


def _require_reader(request: HttpRequest) -> None:
    if not getattr(request.user, "reads_audit_trail", False):
        raise PermissionDenied(_("Your role may not read the audit trail."))


def _changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    before, after = entry.before or {}, entry.after or {}
    return [(name, before.get(name), after.get(name)) for name in entry.changed_fields()]


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    filters = AuditFilterForm(request.GET)
    page = paginate(request, audit_entries_for(request.user, filters.filters()), ENTRIES_PER_PAGE)
    return render(
        request,
        "audit/audit_list.html",
        {
            "filters": filters,
            "page": page,
            "rows": [(entry, _changes(entry)) for entry in page],
        },
    )


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def audit_csv_lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The audit trail as CSV lines (UTF-8 with BOM, for spreadsheet programs), every cell neutralised
    against formula injection: a value such as ``=HYPERLINK(…)`` must stay text when opened."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        yield writer.writerow([neutralise(_cell(value)) for value in row])


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse | HttpResponse:
    _require_reader(request)
    filters = AuditFilterForm(request.GET)
    rows = audit_entries_for(request.user, filters.filters()).values_list(*AUDIT_COLUMNS).iterator(chunk_size=2000)
    response = StreamingHttpResponse(audit_csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ismp-audit-{stamp}.csv"'
    return response
