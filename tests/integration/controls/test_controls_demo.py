"""The demo company's controls: a mix of statuses with evidence and gaps, checks for every system in
service, launches in progress with one exception waiting for the CISO, and loading twice changes nothing."""

from __future__ import annotations

import pytest

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.services import Actor
from ismp.apps.controls import queries
from ismp.apps.controls.demo import load_demo
from ismp.apps.controls.models import GateCheck, GateException, SystemControl
from ismp.apps.inventory import services as inventory
from ismp.apps.inventory.demo import load_demo as load_inventory_demo
from ismp.apps.inventory.models import System
from ismp.errors import InputError


@pytest.fixture
def demo(db):
    load_inventory_demo()  # loads the controls demo too
    return load_demo()


def test_a_realistic_mix_loaded_once(demo):
    """(one test: loading the inventory demo takes a while)"""
    assert demo.already_loaded and demo.controls > 300
    statuses = set(SystemControl.objects.values_list("status", flat=True))
    assert statuses == {"implemented", "partial", "missing", "not_applicable"}
    assert SystemControl.objects.filter(status="implemented", review_by__lt=queries.today()).exists()  # stale
    assert not SystemControl.objects.filter(status="not_applicable", reason="").exists()
    assert not SystemControl.objects.filter(status="implemented", evidence="").exists()
    coverage = queries.coverage(System.objects.all())
    assert 0 < coverage.gaps < coverage.required / 3
    assert len(coverage.rows) > 5 and coverage.rows[0].gaps >= coverage.rows[-1].gaps
    assert queries.systems_with_gaps(System.objects.all()).count() > 5
    # every system in service passed both checks
    in_service = list(System.objects.filter(lifecycle="in_service").values_list("pk", flat=True))
    states = queries.gate_states(in_service)
    assert all(s.results and set(s.results.values()) == {"passed"} and len(s.results) == 2 for s in states.values())


def test_launches_in_progress_and_a_pending_exception(demo):
    exception = GateException.objects.get()
    assert exception.state == "pending" and exception.system.name == "次期ECサイト"
    assert exception.requested_by.username == "admin-ec"
    ready = System.objects.get(name="電子請求書発行システム")
    admin = Actor(ready.administrators.first(), "test")
    assert inventory.save_system(admin, {"lifecycle": "in_service"}, system=ready).lifecycle == "in_service"
    shop = System.objects.get(name="次期ECサイト")
    with pytest.raises(InputError, match="次期ECサイト cannot enter in service: pre-launch diagnosis not passed"):
        inventory.save_system(Actor(shop.administrators.first(), "test"), {"lifecycle": "in_service"}, system=shop)

    # loading again changes nothing
    before = (SystemControl.objects.count(), GateCheck.objects.count(), AuditEntry.objects.count())
    again = load_demo()
    assert again.already_loaded
    assert (SystemControl.objects.count(), GateCheck.objects.count(), AuditEntry.objects.count()) == before
