"""The UI speaks the company's language (ISMP_LANGUAGE) until a user picks another one.

Django would otherwise follow the browser's Accept-Language, so the same page would change language
from one PC to the next; the choice made with the language switch (a cookie) still wins.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class CompanyLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
