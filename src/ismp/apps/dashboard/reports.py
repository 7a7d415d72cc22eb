"""The bottom line as files: "weekly status per organisation" (週次状況報告) and "the CISO summary", each as
XLSX (openpyxl) or PDF (fpdf2), from the same :class:`~ismp.apps.dashboard.queries.Summary` the page shows.

XLSX cells go through the ledger's formula neutralisation, as every export does. The PDF uses the PDF
core font (Helvetica), which has no Japanese glyphs, and no CJK font ships with ISMP or the Debian base
image: organisations appear under their English name (``Organisation.name_en``, else their code), and
any other text that Latin-1 cannot hold (a system's Japanese name) under a stand-in (``system #12``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook

from ismp.apps.dashboard.queries import summary
from ismp.apps.dashboard.values import Group, Summary
from ismp.engines.inventory.ledger import neutralise
from ismp.errors import InputError

REPORT_KINDS = ("weekly", "ciso")
REPORT_FORMATS = ("xlsx", "pdf")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
REPORT_SYSTEMS = 100  # systems furthest behind listed in a report
COUNT_HEADER = ("overdue S+/S-", "overdue", "open", "completed")


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    summary: Summary

    def filename(self, fmt: str) -> str:
        scope = self.summary.scope.organisation.code if self.summary.scope.organisation else "company"
        return f"ismp-{self.kind}-{scope}-{self.summary.now:%Y%m%d}.{fmt}"


def build_report(user: Any, kind: str, *, organisation: str = "", now: dt.datetime | None = None) -> Report:
    """The data of one report, scoped to what ``user`` sees. "weekly" needs an organisation (its
    descendants included); "ciso" covers the company."""
    if kind == "weekly":
        if not organisation:
            raise InputError("the weekly status report is per organisation: give its code", field="organisation")
        data = summary(user, organisation=organisation, now=now, top=REPORT_SYSTEMS)
        org = data.scope.organisation
        assert org is not None  # noqa: S101  (resolved above or NotFound raised)
        title = f"Weekly status: {org.name_en or org.code} ({org.code})"
    elif kind == "ciso":
        data = summary(user, now=now, top=REPORT_SYSTEMS)
        title = "CISO summary: bottom line of the company"
    else:
        raise InputError(f"unknown report {kind!r}; expected one of {', '.join(REPORT_KINDS)}", field="kind")
    return Report(kind, title, data)


def write_report(report: Report, fmt: str, stream: IO[bytes]) -> None:
    writers: dict[str, Callable[[Report, IO[bytes]], None]] = {"xlsx": write_xlsx, "pdf": write_pdf}
    if fmt not in writers:
        raise InputError(f"unknown format {fmt!r}; expected {' or '.join(REPORT_FORMATS)}", field="format")
    writers[fmt](report, stream)


# ----------------------------------------------------------------------------------------------- rows


def _counts(group: Group) -> list[int]:
    c = group.counts
    return [c.severe, c.overdue, c.open, c.done]


def sections(report: Report, *, english: bool = False) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report's tables as (title, header, rows), for both formats; ``english`` names organisations by
    their English name and replaces system names Latin-1 cannot hold (for the PDF)."""
    data = report.summary
    name = _english if english else _japanese

    def system(g: Group) -> str:
        return latin1(g.label, f"system #{g.key}") if english else g.label

    org = data.scope.organisation
    scope_name = "company" if org is None else (data.names_en.get(org.code, org.code) if english else org.name)
    urgency_rows = [[g.label, *_counts(g)] for g in data.by_urgency]
    risk_rows = [[g.label, *_counts(g)] for g in data.by_risk]
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        ("Total", ["scope", *COUNT_HEADER], [[scope_name, *_counts(data.total)]]),
        ("By urgency", ["urgency", *COUNT_HEADER], urgency_rows),
        ("By risk level", ["risk level", *COUNT_HEADER], risk_rows),
    ]  # fmt: skip
    if data.organisations:
        tables.append(
            (
                "Organisations furthest behind",
                ["organisation", "code", *COUNT_HEADER],
                [[name(g), g.key, *_counts(g)] for g in data.organisations],
            )
        )
    tables.append(
        (
            "Systems furthest behind",
            ["system", "organisation", *COUNT_HEADER],
            [[system(g), g.extra.get("organisation", ""), *_counts(g)] for g in data.systems],
        )
    )
    tables.append(
        (
            "Opened and completed per week",
            ["week (Monday)", "opened", "completed"],
            [[w.start.isoformat(), w.opened, w.completed] for w in data.trend],
        )
    )
    if data.coverage is not None:
        tables.append(
            (
                "Control baseline coverage",
                ["organisation", "systems", "required", "implemented", "not applicable", "gaps", "percent"],
                [
                    [(data.names_en.get(r.key) or r.name) if english else r.name, r.systems, r.required,
                     r.implemented, r.not_applicable, r.gaps, r.percent]
                    for r in (data.coverage.total, *data.coverage.rows)
                ],
            )
        )  # fmt: skip
    return tables


def _japanese(group: Group) -> str:
    return group.label


def _english(group: Group) -> str:
    return str(group.extra.get("name_en") or group.key)


# ----------------------------------------------------------------------------------------------- XLSX


def _cell(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def write_xlsx(report: Report, stream: IO[bytes]) -> None:
    """One sheet per table, the title and time on the first."""
    workbook = Workbook(write_only=True)
    first = True
    for title, header, rows in sections(report):
        sheet = workbook.create_sheet(title[:31])
        if first:
            sheet.append([_cell(report.title)])
            sheet.append(["generated", report.summary.now.replace(tzinfo=None)])
            sheet.append([])
            first = False
        sheet.append([_cell(h) for h in header])
        for row in rows:
            sheet.append([_cell(v) for v in row])
    workbook.save(stream)


# ------------------------------------------------------------------------------------------------ PDF


def latin1(text: str, fallback: str = "?") -> str:
    """``text`` if the PDF core font can draw it, else ``fallback``."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return fallback
    return text


def write_pdf(report: Report, stream: IO[bytes]) -> None:
    """A4 landscape: the title, then each table."""
    from fpdf import FPDF  # type: ignore[import-untyped]

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(latin1(report.title, report.kind))
    pdf.set_creator("ISMP")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, latin1(report.title, report.kind), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, f"Generated {report.summary.now:%Y-%m-%d %H:%M %Z}. Response drills are not counted.",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    for title, header, rows in sections(report, english=True):
        _pdf_table(pdf, title, header, rows)
    stream.write(bytes(pdf.output()))


def _pdf_table(pdf: Any, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    first_width = 3 if len(header) > 4 else 2
    widths = (first_width, *([1] * (len(header) - 1)))
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5, first_row_as_headings=True) as table:
        table.row([str(h) for h in header])
        for row in rows:
            table.row([latin1(str(v)) for v in row])
