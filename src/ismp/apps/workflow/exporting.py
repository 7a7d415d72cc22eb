"""Exporting work items and the emergency response board (CSV, XLSX, JSON).

Rows come from ``queries`` (scoped by role) and are written with the findings export's cell rules, so
every CSV or XLSX cell is formula-injection safe (a leading ``'`` before ``= + - @``, tab or CR) and XLSX
numbers stay numbers. Times are written in the current time zone (the user's, set by the view).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.http import HttpResponse
from django.utils import timezone

from ismp.apps import tables
from ismp.apps.workflow.queries import Board, is_overdue, work_item_list

WORK_ITEM_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "system",
    "organisation",
    "vulnerability",
    "title",
    "urgency",
    "urgency_override",
    "state",
    "overdue",
    "opened_at",
    "answer_due",
    "due",
    "answered_at",
    "needed",
    "decision_reason",
    "planned_date",
    "method",
    "completed_on",
    "evidence",
    "exception_until",
    "drill",
    "last_note",
)
BOARD_COLUMNS: tuple[str, ...] = (
    "organisation",
    "system",
    "administrators",
    "urgency",
    "state",
    "overdue",
    "answer_due",
    "due",
    "decided_by",
    "decided_at",
    "planned_by",
    "planned_at",
    "planned_date",
    "completed_by",
    "completed_at",
    "waiting_on",
)
_CHUNK = 2000


def _local(value: Any) -> Any:
    """Aware datetimes in the current time zone; everything else as it is."""
    return timezone.localtime(value) if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) else value


def work_item_rows(user: Any, filters: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """The visible work items as plain rows keyed by WORK_ITEM_COLUMNS."""
    now = timezone.now()
    for item in work_item_list(user, filters=filters, order="system").iterator(chunk_size=_CHUNK):
        yield {
            "id": item.pk,
            "kind": item.kind,
            "system": item.system.name,
            "organisation": item.system.organisation.code,
            "vulnerability": item.vulnerability.vuln_id if item.vulnerability else "",
            "title": item.vulnerability.title if item.vulnerability else item.title,
            "urgency": item.urgency,
            "urgency_override": item.urgency_override,
            "state": item.state,
            "overdue": is_overdue(item, now),
            "opened_at": _local(item.opened_at),
            "answer_due": _local(item.answer_due),
            "due": _local(item.due),
            "answered_at": _local(item.answered_at),
            "needed": item.needed,
            "decision_reason": item.decision_reason,
            "planned_date": item.planned_date,
            "method": item.method,
            "completed_on": item.completed_on,
            "evidence": item.evidence,
            "exception_until": item.exception_until,
            "drill": item.drill.name if item.drill else "",
            "last_note": item.last_note,
        }


def board_rows(board: Board) -> Iterator[dict[str, Any]]:
    """The board's rows keyed by BOARD_COLUMNS: who answered 要否 / 予定 / 完了 and when, who has not."""
    for row in board.rows:
        item, answers = row.item, row.answers
        decided, planned, completed = answers.get("decide"), answers.get("plan"), answers.get("complete")
        yield {
            "organisation": item.system.organisation.code,
            "system": item.system.name,
            "administrators": " ".join(row.administrators),
            "urgency": item.urgency,
            "state": item.state,
            "overdue": row.overdue,
            "answer_due": _local(item.answer_due),
            "due": _local(item.due),
            "decided_by": decided.by if decided else "",
            "decided_at": _local(decided.at) if decided else None,
            "planned_by": planned.by if planned else "",
            "planned_at": _local(planned.at) if planned else None,
            "planned_date": item.planned_date,
            "completed_by": completed.by if completed else "",
            "completed_at": _local(completed.at) if completed else None,
            "waiting_on": " ".join(row.waiting_on),
        }


# --------------------------------------------------------------------------------------------- writers


def _xlsx_cell(value: Any) -> Any:
    """Times are already in the user's zone (``_local``): the sheet shows them without an offset."""
    naive = value.replace(tzinfo=None) if getattr(value, "tzinfo", None) else value
    return tables.xlsx_cell(naive)


def write_work_items(user: Any, fmt: str, stream: IO[bytes], filters: dict[str, str] | None = None) -> None:
    """Write the work items visible to ``user`` in ``fmt`` to a binary stream (the CLI's way)."""
    tables.write_table(work_item_rows(user, filters), WORK_ITEM_COLUMNS, "workitems", fmt, stream, _xlsx_cell)


def work_items_download(user: Any, fmt: str, filters: dict[str, str] | None = None) -> HttpResponse:
    """The work items as a download: CSV and JSON streamed, XLSX spooled to a temporary file first."""
    return tables.download(lambda: work_item_rows(user, filters), WORK_ITEM_COLUMNS, "workitems", fmt, _xlsx_cell)


def board_csv(board: Board) -> HttpResponse:
    """The emergency response board of one vulnerability as CSV."""
    body = "".join(tables.csv_chunks(board_rows(board), BOARD_COLUMNS))
    response = HttpResponse(body, content_type=tables.CONTENT_TYPES["csv"])
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in board.vulnerability.vuln_id)
    response["Content-Disposition"] = f'attachment; filename="ismp-board-{safe}.csv"'
    return response
