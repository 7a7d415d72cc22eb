"""Incremental matching through the task runner (immediate mode): a feed import and a change of a system's
software bring exactly the affected findings in line, without anyone running ``ismp match``. The signals
are sent when the change's transaction commits; ``committed`` runs those callbacks as a commit would."""

from __future__ import annotations

import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.findings.models import Finding, MatchState
from ismp.apps.findings.services import match_pending_changes
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.models import Component
from ismp.apps.vulns.models import ChangeEvent
from ismp.apps.vulns.services import import_feed

CSIRT = Actor(None, "test", label="csirt")
BASH = "cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*"


def states(system) -> dict[str, str]:
    return dict(Finding.objects.filter(system=system).values_list("vulnerability__vuln_id", "state"))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def nvd_2014(shared_data):
    return [shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz"]


def test_a_feed_import_matches_the_systems_it_names(company, nvd_2014, committed):
    with committed():
        inventory.save_component(CSIRT, company.shop, {"cpe": BASH})
    assert states(company.shop) == {}  # nothing known yet
    with committed():
        import_feed("nvd", nvd_2014)
    assert states(company.shop)["CVE-2014-6271"] == "open"
    assert states(company.mail) == {}
    assert MatchState.objects.get().last_event == ChangeEvent.objects.order_by("-pk").first().pk


def test_a_component_change_rematches_its_system(company, nvd_2014, committed):
    import_feed("nvd", nvd_2014)
    with committed():
        component = inventory.save_component(CSIRT, company.shop, {"cpe": BASH})
    assert states(company.shop)["CVE-2014-6271"] == "open"
    with committed():
        inventory.save_component(
            CSIRT, company.shop, {"cpe": "cpe:2.3:a:gnu:bash:4.4:*:*:*:*:*:*:*"}, component=component
        )
    assert states(company.shop)["CVE-2014-6271"] == "closed"
    with committed():
        component = inventory.save_component(
            CSIRT, company.shop, {"cpe": BASH}, component=Component.objects.get(pk=component.pk)
        )
    assert states(company.shop)["CVE-2014-6271"] == "open"  # reopened
    with committed():
        inventory.delete_component(CSIRT, component)
    assert states(company.shop)["CVE-2014-6271"] == "closed"


def test_an_inventory_import_rematches_the_systems_it_changed(company, nvd_2014, committed, tmp_path):
    from ismp.apps.inventory.importing import import_inventory

    import_feed("nvd", nvd_2014)
    with committed():
        import_inventory(CSIRT, f"system,cpe\nEC shop,{BASH}\n".encode(), "ledger.csv")
    assert states(company.shop)["CVE-2014-6271"] == "open"


def test_pending_changes_are_matched_once_and_a_lost_run_is_caught_up(company, nvd_2014, committed):
    inventory.save_component(CSIRT, company.shop, {"cpe": BASH})
    with committed():
        import_feed("nvd", nvd_2014)
    again = match_pending_changes()
    assert again.systems == 0  # every change was matched already
    MatchState.objects.update(last_event=0)  # as if the task had been lost
    Finding.objects.all().delete()
    caught_up = match_pending_changes()
    assert caught_up.findings_new > 0 and states(company.shop)["CVE-2014-6271"] == "open"


OPENSSL = "cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*"


def _republish(vuln_id: str, criteria: list[dict]) -> int:
    """A feed update of one CVE, as the feed import stores it: new applicability, digest and import time, and
    the product index rows of what it names now."""
    import json
    import uuid

    from django.utils import timezone

    from ismp.apps.vulns.models import AffectedProductIndex, SourceRecord, Vulnerability

    vulnerability = Vulnerability.objects.get(vuln_id=vuln_id)
    record = SourceRecord.objects.get(vulnerabilities=vulnerability, source="nvd")
    data = json.loads(record.data)
    data["configurations"] = [{"nodes": [{"operator": "OR", "matches": criteria}]}]
    SourceRecord.objects.filter(pk=record.pk).update(
        data=json.dumps(data).encode() if isinstance(record.data, bytes) else json.dumps(data),
        digest=uuid.uuid4().hex,
        imported_at=timezone.now(),
    )
    AffectedProductIndex.objects.filter(vulnerability=vulnerability).delete()
    for criterion in criteria:
        vendor, product = criterion["criteria"].split(":")[3:5]
        AffectedProductIndex.objects.create(vulnerability=vulnerability, source="nvd", vendor=vendor, product=product)
    return vulnerability.pk


def _findings() -> set[tuple]:
    return set(
        Finding.objects.values_list(
            "system_id", "vulnerability_id", "component_key", "state", "criterion", "confidence", "evidence"
        )
    )


def test_a_feed_delta_gives_what_a_full_match_gives(company, nvd_2014):
    """The incremental run reads only the components the changed CVE names, yet ends where a full match of
    every system from a cold index ends: the old match closed, the new one opened."""
    from ismp.apps.findings import services

    inventory.save_component(CSIRT, company.shop, {"cpe": BASH})
    inventory.save_component(CSIRT, company.mail, {"cpe": OPENSSL})
    import_feed("nvd", nvd_2014)
    services.match_systems()  # the worker's index and holdings are warm
    assert states(company.mail).get("CVE-2014-6271") is None
    changed = _republish("CVE-2014-6271", [{"criteria": OPENSSL.replace("1.0.1f", "*"), "vulnerable": True}])
    report = services.match_vulnerabilities({changed})
    assert (report.findings_new, report.findings_closed) == (1, 1)
    assert states(company.shop)["CVE-2014-6271"] == "closed"
    assert states(company.mail)["CVE-2014-6271"] == "open"
    reason = Finding.objects.get(system=company.shop, vulnerability_id=changed).closed_reason
    assert reason.startswith("no longer matched")  # the component is still there
    incremental = _findings()
    services.reset_index()
    again = services.match_systems()
    assert (again.findings_new, again.findings_updated, again.findings_closed, again.findings_reopened) == (0, 0, 0, 0)
    assert _findings() == incremental


def test_components_written_around_the_services_are_read_again(company, nvd_2014):
    """The holdings are a copy of the inventory: a row they do not know (no system match followed it) is
    noticed by the row count and read before the next feed delta is matched."""
    from ismp.apps.findings import services

    import_feed("nvd", nvd_2014)
    services.match_systems()
    Component.objects.create(system=company.mail, key=BASH, cpe=BASH, vendor="gnu", product="bash", version="4.3")
    changed = _republish("CVE-2014-6271", [{"criteria": BASH, "vulnerable": True}])
    services.match_vulnerabilities({changed})
    assert states(company.mail)["CVE-2014-6271"] == "open"


def test_one_system_after_a_feed_delta_checks_only_the_changed_records_again(company, nvd_2014):
    """A system matched right after a feed update does not verify every index entry it needs again: only
    the vulnerabilities whose records were imported since the last run."""
    from ismp.apps.findings import services

    inventory.save_component(CSIRT, company.shop, {"cpe": BASH})
    import_feed("nvd", nvd_2014)
    services.match_systems()
    verified = set(services._VERIFIED)
    assert len(verified) > 5
    changed = _republish("CVE-2014-7169", [{"criteria": BASH, "vulnerable": True}])
    services.match_systems([company.shop.pk])
    assert verified - {changed} <= services._VERIFIED
    assert states(company.shop)["CVE-2014-7169"] == "open"
