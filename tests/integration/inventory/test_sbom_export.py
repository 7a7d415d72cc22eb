"""A system's SBOM exported (CycloneDX, SPDX) and imported into another system gives the same software."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from ismp.apps.audit.services import Actor
from ismp.apps.inventory.exporting import export_system_sbom
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import System

OPERATOR = Actor(None, "test", label="operator")


def software(system: System) -> set[tuple[str, str, str, str, str, str]]:
    return set(system.components.values_list("cpe", "purl", "part", "vendor", "product", "version"))


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_real_sbom_round_trip_through_export(company, shared_data, fmt):
    real = shared_data / "scans" / "cyclonedx" / "cdxex__SBOM-CycloneDX-v1.6-juice-shop-sbom.json"
    if not real.exists():
        real = next((shared_data / "scans" / "cyclonedx").glob("*juice*"))
    import_inventory(OPERATOR, real.read_bytes(), real.name, system_name="EC shop")
    shop = System.objects.get(name="EC shop")
    exported = export_system_sbom(shop, fmt)
    import_inventory(
        OPERATOR, exported, f"shop.{'cdx' if fmt.startswith('cyclonedx') else 'spdx'}.json", system_name="Mail gateway"
    )
    mail = System.objects.get(name="Mail gateway")
    assert len(software(shop)) > 100
    assert software(mail) - {
        ("cpe:2.3:a:postfix:postfix:3.1.0:*:*:*:*:*:*:*", "", "a", "postfix", "postfix", "3.1.0")
    } == software(shop)


def test_sbom_download_is_scoped(company):
    alice = Client()
    alice.force_login(company.alice)
    ok = alice.get(f"/systems/{company.shop.pk}/sbom/?format=cyclonedx-json")
    assert ok.status_code == 200 and json.loads(ok.content)["bomFormat"] == "CycloneDX"
    assert alice.get(f"/systems/{company.mail.pk}/sbom/?format=spdx-json").status_code == 404
    api = APIClient()
    api.force_authenticate(company.bob)
    body = api.get(f"/api/systems/{company.mail.pk}/sbom/?format=spdx-json")
    assert body.status_code == 200 and json.loads(body.content)["spdxVersion"] == "SPDX-2.3"
    assert api.get(f"/api/systems/{company.shop.pk}/sbom/").status_code == 404


def test_cli_exports_an_sbom(company, capsys):
    from ismp.cli.main import main

    assert main(["inventory", "export", "--system", "EC shop", "--format", "cyclonedx-json", "--as", "sam"]) == 0
    assert "struts" in capsys.readouterr().out
    assert main(["inventory", "export", "--system", "EC shop", "--format", "cyclonedx-json", "--as", "bob"]) == 66
    assert main(["inventory", "export", "--format", "spdx-json"]) == 65


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_api_exports_every_format(company, fmt):
    api = APIClient()
    api.force_authenticate(company.csirt)
    response = api.get(f"/api/systems/export/?format={fmt}")
    assert response.status_code == 200 and len(response.content) > 100
    assert api.get("/api/systems/export/?format=pdf").status_code == 400
