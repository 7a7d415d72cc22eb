"""REST API of controls: ``register`` adds its view sets to the API router."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Nothing yet."""
