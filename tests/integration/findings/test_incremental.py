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
