"""SBOMs attached to a system, from the real samples in ../shared/data/scans."""

from __future__ import annotations

import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import Component
from ismp.errors import InputError, InputErrors, NotFound

OPERATOR = Actor(None, "test", label="operator")


def sbom_files(shared_data, folder):
    return sorted(p for p in (shared_data / "scans" / folder).iterdir() if p.is_file() and p.suffix != ".md")


@pytest.mark.parametrize("folder", ["cyclonedx", "spdx"])
def test_every_real_sbom_imports_or_is_refused_cleanly(company, shared_data, folder):
    imported = 0
    for path in sbom_files(shared_data, folder):
        before = Component.objects.count()
        try:
            report = import_inventory(OPERATOR, path.read_bytes(), path.name, system_name="EC shop")
        except (InputError, InputErrors) as exc:
            assert path.name in str(exc) or "line" in str(exc)
            assert Component.objects.count() == before
            continue
        imported += 1
        sbom = Component.objects.filter(system=company.shop, source="sbom").count()
        assert sbom == report.components_created + report.components_unchanged
    assert imported >= 5


def test_sbom_reimport_is_idempotent_and_replaces(company, shared_data):
    path = next(
        p
        for p in sbom_files(shared_data, "cyclonedx")
        if p.name.endswith(".json") and b'"components"' in p.read_bytes() and b"purl" in p.read_bytes()
    )
    first = import_inventory(OPERATOR, path.read_bytes(), path.name, system_name="EC shop")
    assert first.components_created > 0
    second = import_inventory(OPERATOR, path.read_bytes(), path.name, system_name="EC shop")
    assert second.components_created == 0 and second.components_unchanged == first.components_created
    # the manual/ledger components of the system are left alone
    assert company.shop.components.filter(product="struts").exists()


def test_sbom_needs_an_existing_system(company, shared_data):
    path = sbom_files(shared_data, "cyclonedx")[0]
    with pytest.raises((NotFound, InputError, InputErrors)):
        import_inventory(OPERATOR, path.read_bytes(), path.name, system_name="no such system")


def test_a_system_outside_the_scope_does_not_exist_for_an_sbom(company, shared_data):
    path = next(p for p in sbom_files(shared_data, "cyclonedx") if p.suffix == ".json")
    with pytest.raises(NotFound):
        import_inventory(Actor(company.alice, "test"), path.read_bytes(), path.name, system_name="Mail gateway")
