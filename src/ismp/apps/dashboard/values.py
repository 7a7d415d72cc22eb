"""The bottom line's values: plain dataclasses that ``queries.summary`` fills and the page, the API and
the reports render (no queries here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ismp.apps.accounts.models import Organisation
from ismp.apps.inventory.models import System
from ismp.apps.workflow.models import WorkItem


@dataclass
class Counts:
    """Work items of one group: open, overdue (of them), severe (overdue S+/S-) and completed."""

    open: int = 0
    overdue: int = 0
    severe: int = 0
    done: int = 0

    def add(self, other: Counts) -> None:
        self.open += other.open
        self.overdue += other.overdue
        self.severe += other.severe
        self.done += other.done

    @property
    def behind(self) -> tuple[int, int, int]:
        """The ranking key: most severe, then most overdue, then most open."""
        return (self.severe, self.overdue, self.open)

    def as_dict(self) -> dict[str, int]:
        return {"open": self.open, "overdue": self.overdue, "severe": self.severe, "done": self.done}


@dataclass
class Group:
    """One row of a breakdown: an urgency, a risk level, an organisation or a system, with its counts and
    the list filter (``workitems`` query parameters) that shows the items behind it."""

    key: str
    label: str
    counts: Counts = field(default_factory=Counts)
    filters: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)  # count name → the list behind it


@dataclass
class Week:
    start: dt.date
    opened: int = 0
    completed: int = 0


@dataclass
class Scope:
    """What the summary covers: everything the user sees, narrowed to an organisation (with its
    descendants) or one system."""

    organisation: Organisation | None = None
    system: System | None = None
    path: list[Organisation] = field(default_factory=list)  # company → … → organisation, for breadcrumbs

    @property
    def label(self) -> str:
        if self.system is not None:
            return self.system.name
        if self.organisation is not None:
            return self.organisation.name
        return ""

    def filters(self) -> dict[str, str]:
        """The list filter of the whole scope."""
        if self.system is not None:
            return {"system": str(self.system.pk)}
        if self.organisation is not None:
            return {"organisation": self.organisation.code}
        return {}


@dataclass
class Summary:
    scope: Scope
    now: dt.datetime
    total: Group
    by_urgency: list[Group]
    by_risk: list[Group]
    organisations: list[Group]
    systems: list[Group]
    trend: list[Week]
    findings: dict[str, int]
    findings_links: dict[str, str]
    names_en: dict[str, str] = field(default_factory=dict)  # organisation code → English name (or the code)
    coverage: Any = None  # ismp.engines.controls.Coverage, or None when not asked for
    upcoming: list[WorkItem] = field(default_factory=list)
    refreshed_at: dt.datetime | None = None  # set when the figures come from the roll-up: as of then

    @property
    def rollup(self) -> bool:
        return self.refreshed_at is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: what the API returns and the reports write."""

        def groups(rows: Iterable[Group]) -> list[dict[str, Any]]:
            return [{"key": g.key, "label": g.label, **g.counts.as_dict(), **g.extra, "links": g.links} for g in rows]

        coverage = None
        if self.coverage is not None:
            coverage = {
                "required": self.coverage.total.required,
                "implemented": self.coverage.total.implemented,
                "not_applicable": self.coverage.total.not_applicable,
                "gaps": self.coverage.total.gaps,
                "percent": self.coverage.total.percent,
                "organisations": [
                    {"organisation": r.key, "name": r.name, "systems": r.systems, "required": r.required,
                     "gaps": r.gaps, "percent": r.percent}
                    for r in self.coverage.rows
                ],
            }  # fmt: skip
        return {
            "scope": {
                "organisation": self.scope.organisation.code if self.scope.organisation else None,
                "system": self.scope.system.pk if self.scope.system else None,
                "label": self.scope.label,
            },
            "generated_at": self.now.isoformat(),
            "refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None,
            "total": self.total.counts.as_dict(),
            "by_urgency": groups(self.by_urgency),
            "by_risk_level": groups(self.by_risk),
            "organisations": groups(self.organisations),
            "systems": groups(self.systems),
            "trend": [{"week": w.start.isoformat(), "opened": w.opened, "completed": w.completed} for w in self.trend],
            "findings": self.findings,
            "coverage": coverage,
        }
