"""Web pages of the dashboard besides the home page (``ismp.apps.web.views.dashboard``): report downloads."""

from __future__ import annotations

from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from ismp.apps.dashboard.reports import CONTENT_TYPES, REPORT_FORMATS, REPORT_KINDS, build_report, write_report
from ismp.errors import NotFound


@login_required
@require_GET
def report(request: HttpRequest) -> FileResponse:
    """``?kind=weekly&organisation=CODE&format=xlsx|pdf`` or ``?kind=ciso&format=…``, scoped to the user."""
    kind, fmt = request.GET.get("kind", "ciso"), request.GET.get("format", "xlsx")
    organisation = request.GET.get("organisation", "").strip()
    if kind not in REPORT_KINDS or fmt not in REPORT_FORMATS or (kind == "weekly" and not organisation):
        raise Http404("unknown report, format or missing organisation")
    try:
        built = build_report(request.user, kind, organisation=organisation)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    buffer = BytesIO()
    write_report(built, fmt, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=built.filename(fmt), content_type=CONTENT_TYPES[fmt])
