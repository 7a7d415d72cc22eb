"""The API's permission rule: who may read, and who may write, per view and per object.

Reading is scoped by the querysets (``for_user``); writing is decided here from the view's
``write_roles`` and, per object, from the view's ``can_change(user, obj)``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from ismp.apps.accounts.choices import TokenScope
from ismp.apps.accounts.models import ApiToken


class RolePermission(permissions.BasePermission):
    message = "your role does not allow this action"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            return bool(getattr(view, "read_allowed", lambda u: True)(user))
        if isinstance(request.auth, ApiToken) and request.auth.scope != TokenScope.WRITE:
            self.message = "this API token is read-only"
            return False
        return user.role in getattr(view, "write_roles", ())

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        can_change = getattr(view, "can_change", None)
        return bool(can_change(request.user, obj)) if can_change else True
