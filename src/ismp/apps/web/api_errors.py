"""Errors as RFC 9457 problem responses: ISMP's own errors and DRF's, mapped in one place."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ismp.errors import Conflict, Forbidden, InputError, InputErrors, IsmpError, NotFound

_STATUS = {InputError: 400, InputErrors: 400, NotFound: 404, Forbidden: 403, Conflict: 409}


def problem(status_code: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status_code, "detail": detail, **extra}
    return Response(body, status=status_code, content_type="application/problem+json")


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, IsmpError):
        code = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 500)
        extra: dict[str, Any] = {"code": exc.code}
        if isinstance(exc, InputErrors):
            extra["errors"] = [e.as_dict() for e in exc.errors]
            extra["total"] = exc.total
        elif isinstance(exc, InputError):
            extra["errors"] = [exc.as_dict()]
        return problem(code, exc.code, exc.message, **extra)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(data, dict):
        return problem(400, "invalid-input", "some fields are invalid", fields=data)
    detail = data.get("detail", "") if isinstance(data, dict) else str(data)
    problem_response = problem(response.status_code, getattr(exc, "default_code", "error"), str(detail))
    for header in ("WWW-Authenticate", "Retry-After"):
        if header in response:
            problem_response[header] = response[header]
    return problem_response
