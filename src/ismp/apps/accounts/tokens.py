"""API tokens: ``ismp_<prefix>_<secret>``, sent as ``Authorization: Bearer …``; stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from ismp.apps.accounts.models import ApiToken, User

TOKEN_PREFIX = "ismp_"  # noqa: S105 (a marker, not a secret)


def new_secret() -> tuple[str, str, str]:
    """A fresh token: (full token shown once, prefix, hash to store)."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def resolve(token: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, revoked, expired or inactive user)."""
    parts = token.split("_")
    if len(parts) < 3 or not token.startswith(TOKEN_PREFIX):
        return None
    found = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if found is None or not hmac.compare_digest(found.key_hash, hash_token(token)):
        return None
    now = timezone.now()
    if found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= now):
        return None
    if not found.user.is_active:
        return None
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        token = resolve(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("invalid, expired or revoked API token")
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
