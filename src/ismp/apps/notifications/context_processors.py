"""``unread_notifications`` for every template (the navigation's inbox badge).

A callable, so the count query runs only on pages whose template shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from ismp.apps.notifications.queries import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    user = getattr(request, "user", None)
    return {"unread_notifications": lambda: unread_count(user)}
