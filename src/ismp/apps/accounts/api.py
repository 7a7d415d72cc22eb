"""REST API for organisations, users and the caller's own API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ismp.apps.accounts import services
from ismp.apps.accounts.choices import Role
from ismp.apps.accounts.models import ApiToken, Organisation, User
from ismp.apps.audit.services import Actor


def request_user(request: Request) -> User:
    """The authenticated user of an API request (the permission class has refused anonymous ones)."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    parent: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", read_only=True
    )

    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "name_en", "kind", "parent"]


class UserSerializer(serializers.ModelSerializer[User]):
    organisation: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "role", "organisation", "is_active"]


class TokenSerializer(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet[Organisation]):
    """The organisation tree (company → division → department)."""

    serializer_class = OrganisationSerializer
    queryset = Organisation.objects.select_related("parent").all()


class UserViewSet(viewsets.ReadOnlyModelViewSet[User]):
    """Users: all of them for CSIRT, CISO and auditors; yourself otherwise."""

    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[User]:
        user = request_user(self.request)
        qs = User.objects.select_related("organisation").order_by("username")
        return qs if user.sees_everything else qs.filter(pk=user.pk)


class TokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[ApiToken]
):
    """Your API tokens. Creating one returns its secret once; deleting one revokes it."""

    serializer_class = TokenSerializer
    write_roles = tuple(Role.values)

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=request_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = TokenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, secret = services.issue_token(
            Actor(request.user, "api"),
            request_user(request),
            name=form.validated_data["name"],
            scope=form.validated_data.get("scope", "read"),
            expires_at=form.validated_data.get("expires_at"),
        )
        return Response(TokenSerializer(token).data | {"token": secret}, status=201)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(Actor(self.request.user, "api"), instance)
