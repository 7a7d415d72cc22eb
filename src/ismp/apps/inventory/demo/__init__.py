"""The demo company: a fictional enterprise whose software is real (CPE names from the NVD feeds), with the
real vulnerability records that concern it (``feeds/``) and the findings they give.

``load_demo()`` is idempotent: a second call finds the company and the records, and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from ismp.apps.accounts.models import Organisation, User
from ismp.apps.accounts.services import create_user
from ismp.apps.audit.services import Actor
from ismp.apps.controls.demo import load_demo as load_controls
from ismp.apps.inventory.choices import ComponentSource
from ismp.apps.inventory.demo.vulnerabilities import VulnSummary, load_vulnerabilities
from ismp.apps.inventory.importing import ImportReport, sync_components
from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.services import save_system
from ismp.apps.workflow.demo import load_demo as load_response_history
from ismp.engines.inventory.component import make_component

DEMO_FILE = Path(__file__).with_name("company.json")
DEMO_PASSWORD = "ismp-demo-2026"  # noqa: S105 (the demo's published password)
DEMO_ACTOR = Actor(None, "demo", label="demo-loader")


@dataclass
class DemoSummary:
    company: str
    organisations: int
    systems: int
    components: int
    already_loaded: bool
    vulns: VulnSummary
    logins: list[tuple[str, str]] = field(default_factory=list)


def _document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return data


@transaction.atomic
def load_demo() -> DemoSummary:
    doc = _document()
    root = doc["organisations"][0]["code"]
    loaded = Organisation.objects.filter(code=root).exists()
    if not loaded:
        _load(doc)
    vulns = load_vulnerabilities(new_company=not loaded)
    load_response_history()
    load_controls()
    logins = [(u["username"], u["role"]) for u in doc["users"]]
    return DemoSummary(
        company=doc["company"],
        organisations=Organisation.objects.count(),
        systems=System.objects.count(),
        components=Component.objects.count(),
        already_loaded=loaded,
        vulns=vulns,
        logins=logins,
    )


def _load(doc: dict[str, Any]) -> None:
    organisations: dict[str, Organisation] = {}
    for org in doc["organisations"]:
        organisations[org["code"]] = Organisation.objects.create(
            code=org["code"],
            name=org["name"],
            name_en=org.get("name_en", ""),
            kind=org["kind"],
            parent=organisations.get(org["parent"]) if org.get("parent") else None,
        )
    users: dict[str, User] = {}
    for u in doc["users"]:
        users[u["username"]] = create_user(
            DEMO_ACTOR,
            username=u["username"],
            role=u["role"],
            password=DEMO_PASSWORD,
            email=u.get("email", ""),
            first_name=u.get("first_name", ""),
            last_name=u.get("last_name", ""),
            organisation_code=u.get("organisation", ""),
            check_password=False,
        )
    report = ImportReport(file=DEMO_FILE.name, format="demo")
    for number, s in enumerate(doc["systems"], start=1):
        fields = {
            k: s[k]
            for k in (
                "name",
                "purpose",
                "lifecycle",
                "system_type",
                "criticality",
                "has_global_ip",
                "addresses",
                "fqdns",
                "urls",
                "hardware",
                "location",
                "notes",
            )
            if k in s
        }
        fields["organisation"] = organisations[s["organisation"]]
        fields["service_owner"] = users.get(s.get("service_owner") or "")
        system = save_system(DEMO_ACTOR, fields, administrators=[users[a] for a in s.get("administrators", [])])
        records = [make_component(line=number, file=DEMO_FILE.name, **c) for c in s.get("components", [])]
        sync_components(DEMO_ACTOR, {system.pk: records}, ComponentSource.MANUAL, report)
