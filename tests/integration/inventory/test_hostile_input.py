"""Every hostile or malformed file, through the service, the API and the CLI: a clear error naming the
file (and line and field where there is one), and nothing stored changes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import Component, System
from ismp.errors import InputError, InputErrors

OPERATOR = Actor(None, "test", label="operator")

# fixture file → (system for SBOMs or None, words the message must contain)
HOSTILE = {
    "billion-laughs.cdx.xml": ("EC shop", ["DTD"]),
    "xxe-external-entity.cdx.xml": ("EC shop", ["DTD"]),
    "truncated.cdx.json": ("EC shop", ["JSON"]),
    "bad-cpe.cdx.json": ("EC shop", ["component 2", "cpe"]),
    "bad-purl.spdx.json": ("EC shop", ["component 2", "purl"]),
    "neither-utf8-nor-sjis.csv": (None, ["line 3"]),
    "unknown-column.csv": (None, ["担当"]),
    "bad-cpe.csv": (None, ["line 3", "cpe"]),
    "bad-purl.csv": (None, ["line 3", "purl"]),
    "corrupt.xlsx": (None, ["zip"]),
}


def state() -> tuple[int, int, int, list[tuple[str, str]]]:
    return (
        System.objects.count(),
        Component.objects.count(),
        AuditEntry.objects.count(),
        sorted(Component.objects.values_list("key", "version")),
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_service_refuses_and_changes_nothing(company, fixtures, name):
    system, words = HOSTILE[name]
    before = state()
    with pytest.raises((InputError, InputErrors)) as caught:
        import_inventory(OPERATOR, (fixtures / "inventory" / name).read_bytes(), name, system_name=system)
    message = str(caught.value)
    assert name in message
    for word in words:
        assert word.lower() in message.lower(), message
    assert state() == before


@pytest.mark.parametrize("name", ["bad-cpe.csv", "xxe-external-entity.cdx.xml"])
def test_api_answers_a_problem_document_with_locations(company, fixtures, name):
    client = APIClient()
    client.force_authenticate(company.csirt)
    before = state()
    with (fixtures / "inventory" / name).open("rb") as handle:
        response = client.post("/api/systems/import/", {"file": handle, "system": "EC shop"}, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"] and body["errors"][0]["file"] == name
    assert state() == before


def test_a_file_over_the_size_limit_is_refused_before_parsing(company, settings, tmp_path):
    limit = settings.ISMP.max_import_mb * 1024 * 1024
    data = b"system\n" + b"x" * limit
    before = state()
    with pytest.raises(InputError) as caught:
        import_inventory(OPERATOR, data, "huge.csv")
    assert "huge.csv" in str(caught.value) and "ISMP_MAX_IMPORT_MB" in str(caught.value)
    assert state() == before


def test_cli_refuses_a_100_mb_file_without_reading_it(company, tmp_path, capsys):
    from ismp.cli.main import main

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing it
    assert main(["inventory", "import", str(huge)]) == 65
    assert "huge.csv: is 100.0 MiB, over the 64.0 MiB limit" in capsys.readouterr().err


def test_api_rejects_invalid_fields_with_field_messages(company):
    client = APIClient()
    client.force_authenticate(company.csirt)
    payload = {
        "name": "x",
        "organisation": "WEB",
        "system_type": "intranet",
        "addresses": ["10.0.0.300"],
        "urls": ["javascript:alert(1)"],
    }
    response = client.post("/api/systems/", payload, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) >= {"system_type", "addresses", "urls"}
    assert "10.0.0.300" in " ".join(fields["addresses"])
    bad = client.post("/api/components/", {"system": company.shop.pk, "cpe": "cpe:2.3:a:x"}, format="json")
    assert bad.status_code == 400 and "13 components" in " ".join(bad.json()["fields"]["cpe"])
