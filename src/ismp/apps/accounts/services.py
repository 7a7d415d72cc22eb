"""Use cases for users, organisations and API tokens. The only code that writes these models."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ismp.apps.accounts.choices import OrganisationKind, Role, TokenScope
from ismp.apps.accounts.models import ApiToken, Organisation, User
from ismp.apps.accounts.tokens import new_secret
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor, record, snapshot
from ismp.errors import Forbidden, InputError, NotFound

USER_AUDIT_EXCLUDE = ("password", "last_login")


def _require_csirt(actor: Actor) -> None:
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT manages users and organisations")


@transaction.atomic
def create_user(
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation_code: str = "",
    check_password: bool = True,
) -> User:
    _require_csirt(actor)
    if role not in Role.values:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(Role.values)}", field="role")
    if User.objects.filter(username=username).exists():
        raise InputError(f"user {username!r} already exists", field="username")
    organisation = None
    if organisation_code:
        organisation = Organisation.objects.filter(code=organisation_code).first()
        if organisation is None:
            raise NotFound(f"organisation {organisation_code!r} does not exist")
    user = User(
        username=username,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        organisation=organisation,
    )
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InputError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    record(actor, AuditAction.CREATE, user, None, snapshot(user, USER_AUDIT_EXCLUDE))
    return user


@transaction.atomic
def issue_token(
    actor: Actor, user: User, *, name: str, scope: str = TokenScope.READ, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it and the secret, which is never shown again."""
    if actor.user is not None and actor.user != user and not actor.user.is_csirt:
        raise Forbidden("you can only issue tokens for yourself")
    if scope not in TokenScope.values:
        raise InputError(f"unknown scope {scope!r}; expected read or write", field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise InputError("the expiry date is in the past", field="expires_at")
    secret, prefix, key_hash = new_secret()
    token = ApiToken.objects.create(
        user=user, name=name or "token", prefix=prefix, key_hash=key_hash, scope=scope, expires_at=expires_at
    )
    record(actor, AuditAction.CREATE, token, None, snapshot(token, ("key_hash",)))
    return token, secret


@transaction.atomic
def revoke_token(actor: Actor, token: ApiToken) -> None:
    if actor.user is not None and actor.user != token.user and not actor.user.is_csirt:
        raise Forbidden("you can only revoke your own tokens")
    if token.revoked_at is not None:
        return
    before = snapshot(token, ("key_hash",))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(actor, AuditAction.UPDATE, token, before, snapshot(token, ("key_hash",)))


@transaction.atomic
def save_organisation(
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    parent_code: str = "",
    name_en: str = "",
    head_username: str = "",
) -> Organisation:
    """Create the organisation ``code`` or update it; the tree may not loop."""
    _require_csirt(actor)
    if kind not in OrganisationKind.values:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(OrganisationKind.values)}", field="kind")
    organisation = Organisation.objects.filter(code=code).first()
    before = snapshot(organisation) if organisation is not None else None
    organisation = organisation or Organisation(code=code)
    parent = None
    if parent_code:
        parent = Organisation.objects.filter(code=parent_code).first()
        if parent is None:
            raise NotFound(f"parent organisation {parent_code!r} does not exist")
        ancestor: Organisation | None = parent
        while ancestor is not None:
            if ancestor.code == code:
                raise InputError(f"{parent_code!r} is inside {code!r}: the tree would loop", field="parent")
            ancestor = ancestor.parent
    head = None
    if head_username:
        head = User.objects.filter(username=head_username, is_active=True).first()
        if head is None:
            raise NotFound(f"user {head_username!r} does not exist")
    organisation.name, organisation.name_en, organisation.kind = name, name_en, kind
    organisation.parent, organisation.head = parent, head
    try:
        organisation.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InputError(" ".join(messages), field=field) from None
    organisation.save()
    action = AuditAction.CREATE if before is None else AuditAction.UPDATE
    record(actor, action, organisation, before, snapshot(organisation))
    return organisation
