"""A system about to launch: "Portal", in development, administered by alice, owned by sam (WEB)."""

from __future__ import annotations

import datetime as dt

import pytest

from ismp.apps.inventory.models import System


@pytest.fixture
def portal(company) -> System:
    system = System.objects.create(
        name="Portal",
        organisation=company.web,
        system_type="public_web",
        lifecycle="development",
        service_owner=company.sam,
    )
    system.administrators.set([company.alice])
    return system


@pytest.fixture
def today() -> dt.date:
    from ismp.apps.controls.queries import today

    return today()
