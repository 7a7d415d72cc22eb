"""Response drills (対応訓練): drill items for the chosen systems only, notifications marked as a drill, the
report per organisation, and the CLI."""

from __future__ import annotations

import json

import pytest

from ismp.apps.audit.services import Actor
from ismp.apps.notifications.models import Notification
from ismp.apps.workflow import drills, services
from ismp.apps.workflow.models import Drill, WorkItem
from ismp.cli.main import main
from ismp.engines.workflow import Action, Step
from ismp.errors import Forbidden, InputError


def as_(user) -> Actor:
    return Actor(user, "test")


@pytest.fixture
def drill(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return drills.start_drill(
            as_(company.csirt),
            name="Q4 drill",
            vuln_title="Simulated RCE in the web server",
            urgency="S+",
            system_ids=[company.shop.pk],
        )


def test_a_drill_reaches_its_participants_only_marked_as_a_drill(drill, company):
    item = WorkItem.objects.get(drill=drill)
    assert item.system == company.shop and item.vulnerability is None and item.urgency == "S+"
    sent = Notification.objects.filter(event="drill")
    assert {n.recipient for n in sent} == {company.alice}
    assert all(n.drill for n in sent)
    assert all("訓練" in n.subject or "DRILL" in n.subject for n in sent)
    assert not Notification.objects.filter(recipient=company.bob).exists()


def test_only_the_csirt_starts_drills_and_they_need_systems(company):
    with pytest.raises(Forbidden):
        drills.start_drill(as_(company.alice), name="x", vuln_title="y", urgency="A", system_ids=[company.shop.pk])
    with pytest.raises(InputError, match="at least one"):
        drills.start_drill(as_(company.csirt), name="x", vuln_title="y", urgency="A", system_ids=[])


def test_the_report_gives_each_organisations_answers(drill, company):
    item = WorkItem.objects.get(drill=drill)
    item = services.transition(as_(company.alice), item, Step(Action.DECIDE, needed=True), version=item.version)
    services.transition(as_(company.alice), item, Step(Action.COMPLETE, evidence="patched"), version=item.version)
    [result] = drills.drill_report(drill)
    row = result.as_dict()
    assert (row["organisation"], row["systems"], row["answered"], row["completed"]) == ("Web事業部", 1, 1, 1)
    assert row["median_hours_to_answer"] is not None and row["not_answered"] == []


def test_drills_from_the_command_line(company, capsys):
    code = main(["drill", "start", "--name", "CLI drill", "--title", "Simulated", "--organisation", "OPS", "--json"])
    assert code == 0
    started = json.loads(capsys.readouterr().out)
    drill = Drill.objects.get(pk=started["drill"])
    assert started["systems"] == WorkItem.objects.filter(drill=drill).count() >= 1
    assert main(["drill", "report", str(drill.pk), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["organisations"][0]["not_answered"]
    assert main(["drill", "end", str(drill.pk)]) == 0
    assert not WorkItem.objects.filter(drill=drill).exclude(state="closed").exists()
    assert main(["drill", "end", str(drill.pk)]) == 65


def test_drill_items_stay_out_of_the_list_unless_asked_for(drill, company):
    from ismp.apps.workflow.queries import work_item_list

    assert not work_item_list(company.csirt).filter(drill=drill).exists()
    assert work_item_list(company.csirt, filters={"drill": str(drill.pk)}).get().system == company.shop
    assert work_item_list(company.csirt, filters={"drill": "all"}).filter(drill=drill).exists()
    assert not work_item_list(company.csirt, filters={"risk_level": "x"}).exists()
