"""Where each number of the bottom line leads: the list of the work items or findings behind it.

The work-items list (/workitems/) takes ``state`` (a state, or "open" for every open one), ``urgency``
(one value), ``organisation`` (a code; its descendants included), ``system`` (an id), ``overdue=1``,
``kind`` and ``order``; the findings list (/findings/) takes ``state``, ``organisation`` and ``system``. A
row whose filter the list does not take (a risk level, unless the list learns ``risk_level``) gets no
link rather than a link to the wrong items.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from ismp.apps.dashboard.sources import SEVERE_URGENCIES
from ismp.apps.dashboard.values import Group

WORKITEMS_PATH = "/workitems/"
BASE_FILTERS = frozenset({"state", "urgency", "kind", "organisation", "system", "overdue", "order"})


def _list(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def workitem_filters() -> frozenset[str]:
    """The filters the work-items list takes: its own declaration where it has one."""
    try:
        from ismp.apps.workflow.queries import WORK_ITEM_FILTERS
    except ImportError:
        return BASE_FILTERS
    return frozenset(WORK_ITEM_FILTERS) | {"order"}


def workitems_url(filters: Mapping[str, str]) -> str | None:
    """The work-items list filtered by ``filters``; None when the list cannot filter that way."""
    if not set(filters) <= workitem_filters():
        return None
    query = urlencode({k: v for k, v in filters.items() if v})
    base = _list("web:workitem-list", WORKITEMS_PATH)
    return f"{base}?{query}" if query else base


def findings_url(filters: Mapping[str, str]) -> str:
    query = urlencode({k: v for k, v in filters.items() if k in ("state", "organisation", "system") and v})
    base = reverse("web:finding-list")
    return f"{base}?{query}" if query else base


def dashboard_url(*, organisation: str = "", system: int | None = None) -> str:
    base = reverse("web:dashboard")
    if system is not None:
        return f"{base}?{urlencode({'system': system})}"
    return f"{base}?{urlencode({'organisation': organisation})}" if organisation else base


def group_links(group: Group) -> dict[str, str | None]:
    """The list behind each count of a row: open, overdue, severe (overdue S+/S-, the most urgent first)
    and completed (完了)."""
    filters = dict(group.filters)
    urgency = filters.get("urgency")
    if urgency:
        severe = workitems_url({**filters, "overdue": "1"}) if urgency in SEVERE_URGENCIES else None
    else:
        severe = workitems_url({**filters, "overdue": "1", "order": "urgency"})
    return {
        "open": workitems_url({**filters, "state": "open"}),
        "overdue": workitems_url({**filters, "overdue": "1"}),
        "severe": severe,
        "done": workitems_url({**filters, "state": "done"}),
    }
