"""Response urgency (対応緊急度): risk level (リスクレベル) × attack possibility (攻撃可能性) → S+ / S- / A / B.

DESIGN.md, "Urgency": urgency = f(① risk level, ② attack possibility). The risk level 1–5 comes from
:mod:`ismp.engines.severity` (CVSS thresholds, or an analyst's override with a reason — either way the
caller states it in ``risk_basis``). Attack possibility (リモート攻撃可否・攻撃ツール有無) combines

* remote attackable: attack vector NETWORK, or evidence showing remote exploitation, and
* attack tool exists: KEV, Exploit-DB, Metasploit, SSVC exploitation poc/active, analyst evidence,

into the three rows of the default matrix (editable by the CSIRT, so it carries a ``version``)::

    attack possibility \\ risk level   5   4  3  2  1
    remote, attack tool exists        S+  A  B  B  B
    remote, no attack tool            S-  A  B  B  B
    not remote                        A   A  B  B  B

Response standards (対応実施基準), each with a configurable deadline (defaults S+ 1 day, S- 3 days, A 14 days,
B 90 days; see :func:`deadline`):

* S+: stop the service at once and respond.
* S-: stop the service at once as a rule; where it can be handled without stopping, the service owner
  records the grounds and responds.
* A: respond promptly after reviewing the procedure.
* B: each organisation handles it in its periodic maintenance.

Usage::

    decide(UrgencyInput(5, "CVSS 3.1 9.8", "AV:N", (Evidence("kev", date(2022, 1, 28)),)))
    # Urgency(value="S+", level=5, possibility=REMOTE_TOOL,
    #         explanation="S+: CVSS 3.1 9.8 → level 5; AV:N → remote; in KEV since 2022-01-28 → attack tool")

Everything here is pure: no Django, no clock, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from ismp.engines import severity

URGENCIES: tuple[str, ...] = ("S+", "S-", "A", "B")
"""The four urgency values, most urgent first."""

URGENCY_RANK: Mapping[str, int] = {"S+": 3, "S-": 2, "A": 1, "B": 0}
"""Higher is more urgent; for "a finding never silently drops in urgency" comparisons."""

RESPONSE_STANDARDS: Mapping[str, str] = {
    "S+": "Stop the service at once and respond.",
    "S-": "Stop the service at once as a rule; where it can be handled without stopping, "
    "the service owner records the grounds and responds.",
    "A": "Respond promptly after reviewing the procedure.",
    "B": "Each organisation handles it in its periodic maintenance.",
}
"""対応実施基準, DESIGN.md's wording."""

DEFAULT_DEADLINE_DAYS: Mapping[str, int] = {"S+": 1, "S-": 3, "A": 14, "B": 90}

LEVELS: tuple[int, ...] = (5, 4, 3, 2, 1)
"""Risk levels in the matrix's column order."""


class AttackPossibility(StrEnum):
    """The rows of DESIGN.md's matrix, most dangerous first."""

    REMOTE_TOOL = "remote_tool"
    REMOTE_NO_TOOL = "remote_no_tool"
    NOT_REMOTE = "not_remote"

    @property
    def label(self) -> str:
        return _POSSIBILITY_LABELS[self]

    @property
    def label_ja(self) -> str:
        return _POSSIBILITY_LABELS_JA[self]


_POSSIBILITY_LABELS = {
    AttackPossibility.REMOTE_TOOL: "remote, attack tool exists",
    AttackPossibility.REMOTE_NO_TOOL: "remote, no attack tool",
    AttackPossibility.NOT_REMOTE: "not remote",
}
_POSSIBILITY_LABELS_JA = {
    AttackPossibility.REMOTE_TOOL: "リモート攻撃可・攻撃ツールあり",
    AttackPossibility.REMOTE_NO_TOOL: "リモート攻撃可・攻撃ツールなし",
    AttackPossibility.NOT_REMOTE: "リモート攻撃不可",
}
_ROWS: tuple[AttackPossibility, ...] = tuple(AttackPossibility)


# --- evidence -------------------------------------------------------------------------------------------

EVIDENCE_KINDS: tuple[str, ...] = ("kev", "ssvc_active", "metasploit", "exploitdb", "ssvc_poc", "analyst")
"""Evidence that an attack tool exists, in the order explanations cite it: exploitation seen in the wild
(KEV, SSVC active) before a ready-made tool (Metasploit), a published exploit (Exploit-DB), a proof of
concept (SSVC poc) and an analyst's own finding."""

_EVIDENCE_PRECEDENCE = {kind: index for index, kind in enumerate(EVIDENCE_KINDS)}


@dataclass(frozen=True)
class Evidence:
    """One piece of exploit evidence (``ExploitEvidence`` in the models).

    ``date_added`` is KEV's dateAdded (optional for the other kinds); ``reference`` is an EDB id, a
    Metasploit module path or an analyst's note; ``remote`` says the evidence shows the flaw is attackable
    over the network even though its CVSS attack vector is not NETWORK (DESIGN.md: "or evidence").
    """

    kind: str
    date_added: date | None = None
    reference: str = ""
    remote: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _EVIDENCE_PRECEDENCE:
            raise ValueError(f"evidence kind {self.kind!r} is not one of {', '.join(EVIDENCE_KINDS)}")

    def describe(self) -> str:
        ref = f" {self.reference}" if self.reference else ""
        if self.kind == "kev":
            return f"in KEV since {self.date_added.isoformat()}" if self.date_added else "in KEV"
        if self.kind == "ssvc_active":
            return "SSVC exploitation: active"
        if self.kind == "ssvc_poc":
            return "SSVC exploitation: poc"
        if self.kind == "metasploit":
            return f"Metasploit module{ref}"
        if self.kind == "exploitdb":
            return f"Exploit-DB{ref}"
        return f"analyst evidence{':' + ref if ref else ''}"


# --- input and result -----------------------------------------------------------------------------------

_VECTOR_LETTERS = {severity.attack_vector(f"AV:{letter}"): letter for letter in "NALP"}


def _attack_vector_word(value: str) -> str:
    """NETWORK / ADJACENT_NETWORK / LOCAL / PHYSICAL / "" from a word, a letter, "AV:N" or a full vector."""
    text = value.strip()
    if ":" in text:
        return severity.attack_vector(text)
    upper = text.upper()
    if upper in _VECTOR_LETTERS:
        return upper
    if upper == "ADJACENT":
        return "ADJACENT_NETWORK"
    return severity.attack_vector(f"AV:{upper}")


@dataclass(frozen=True)
class UrgencyInput:
    """What urgency is decided from.

    ``risk_basis`` says where the level came from, for the explanation ("CVSS 3.1 9.8", "analyst override:
    internal-only host"); ``attack_vector`` takes severity's word (NETWORK), a CVSS letter, "AV:N" or a whole
    CVSS vector.
    """

    risk_level: int
    risk_basis: str
    attack_vector: str
    evidence: tuple[Evidence, ...] = ()

    def __post_init__(self) -> None:
        if self.risk_level not in LEVELS:
            raise ValueError(f"risk level {self.risk_level!r} is outside 1–5")


def input_from_cvss(
    score: float | None,
    vector: str,
    evidence: Sequence[Evidence] = (),
    *,
    version: str = "",
    thresholds: Sequence[tuple[float, int]] = severity.DEFAULT_THRESHOLDS,
) -> UrgencyInput:
    """An :class:`UrgencyInput` from a CVSS base score and vector, using severity's thresholds."""
    cvss = " ".join(part for part in ("CVSS", version, f"{score:g}") if part) if score is not None else ""
    basis = cvss or "no CVSS score"
    return UrgencyInput(severity.risk_level(score, thresholds), basis, vector, tuple(evidence))


@dataclass(frozen=True)
class Urgency:
    value: str
    level: int
    possibility: AttackPossibility
    explanation: str
    matrix_version: str = ""

    @property
    def response_standard(self) -> str:
        return RESPONSE_STANDARDS[self.value]


# --- matrix ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """An urgency matrix: ``rows`` in :class:`AttackPossibility` order, columns risk level 5 … 1."""

    version: str
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if len(self.rows) != len(_ROWS):
            raise ValueError(f"urgency matrix {self.version}: {len(self.rows)} rows; expected {len(_ROWS)}")
        for possibility, row in zip(_ROWS, self.rows, strict=True):
            if len(row) != len(LEVELS):
                raise ValueError(
                    f"urgency matrix {self.version}, row {possibility.label!r}: {len(row)} cells; expected 5"
                )
            for level, value in zip(LEVELS, row, strict=True):
                _check_value(self.version, possibility, level, value)

    def cell(self, level: int, possibility: AttackPossibility | str) -> str:
        row = _ROWS.index(AttackPossibility(possibility))
        if level not in LEVELS:
            raise ValueError(f"risk level {level!r} is outside 1–5")
        return self.rows[row][LEVELS.index(level)]

    @classmethod
    def from_mapping(cls, version: str, cells: Mapping[str, Mapping[int | str, str]]) -> Matrix:
        """A matrix as stored: ``{"remote_tool": {"5": "S+", …}, …}`` (level keys int or str).

        Raises ``ValueError`` naming the missing, unknown or invalid cell.
        """
        unknown = sorted(set(map(str, cells)) - {p.value for p in _ROWS})
        if unknown:
            expected = ", ".join(p.value for p in _ROWS)
            raise ValueError(f"urgency matrix {version}: unknown row {unknown[0]!r}; expected {expected}")
        rows = []
        for possibility in _ROWS:
            if possibility.value not in cells:
                raise ValueError(f"urgency matrix {version}: row {possibility.value!r} ({possibility.label}) missing")
            given = {str(key): value for key, value in cells[possibility.value].items()}
            extra = sorted(set(given) - {str(level) for level in LEVELS})
            if extra:
                raise ValueError(
                    f"urgency matrix {version}, cell ({possibility.value}, level {extra[0]}): risk level is outside 1–5"
                )
            row = []
            for level in LEVELS:
                if str(level) not in given:
                    raise ValueError(f"urgency matrix {version}, cell ({possibility.value}, level {level}): missing")
                _check_value(version, possibility, level, given[str(level)])
                row.append(given[str(level)])
            rows.append(tuple(row))
        return cls(version, tuple(rows))

    def to_mapping(self) -> dict[str, dict[str, str]]:
        return {
            possibility.value: {str(level): value for level, value in zip(LEVELS, row, strict=True)}
            for possibility, row in zip(_ROWS, self.rows, strict=True)
        }


def _check_value(version: str, possibility: AttackPossibility, level: int, value: object) -> None:
    if value not in URGENCIES:
        raise ValueError(
            f"urgency matrix {version}, cell ({possibility.value}, level {level}): {value!r} is not one of "
            f"{', '.join(URGENCIES)}"
        )


DEFAULT_MATRIX = Matrix(
    version="design-default-1",
    rows=(
        ("S+", "A", "B", "B", "B"),  # remote, attack tool exists
        ("S-", "A", "B", "B", "B"),  # remote, no attack tool
        ("A", "A", "B", "B", "B"),  # not remote
    ),
)


# --- decision -------------------------------------------------------------------------------------------


def attack_possibility(attack_vector: str, evidence: Sequence[Evidence]) -> tuple[AttackPossibility, str]:
    """The attack possibility and the explanation of how it was reached."""
    word = _attack_vector_word(attack_vector)
    av = f"AV:{_VECTOR_LETTERS[word]}" if word else "no attack vector"
    remote_evidence = [e for e in evidence if e.remote]
    if word == "NETWORK":
        remote, remote_text = True, f"{av} → remote"
    elif remote_evidence:
        remote, remote_text = True, f"{av}, but {remote_evidence[0].describe()} shows remote attack → remote"
    else:
        remote, remote_text = False, f"{av} → not remote"
    ordered = sorted(evidence, key=lambda e: _EVIDENCE_PRECEDENCE[e.kind])
    if ordered:
        tool, tool_text = True, f"{', '.join(e.describe() for e in ordered)} → attack tool"
    else:
        tool, tool_text = False, "no exploit evidence → no attack tool"
    if not remote:
        possibility = AttackPossibility.NOT_REMOTE
    elif tool:
        possibility = AttackPossibility.REMOTE_TOOL
    else:
        possibility = AttackPossibility.REMOTE_NO_TOOL
    return possibility, f"{remote_text}; {tool_text}"


def decide(given: UrgencyInput, matrix: Matrix = DEFAULT_MATRIX) -> Urgency:
    """The urgency for ``given`` under ``matrix``, with an explanation a person can check."""
    possibility, reasons = attack_possibility(given.attack_vector, given.evidence)
    value = matrix.cell(given.risk_level, possibility)
    basis = f"{given.risk_basis} → level {given.risk_level}" if given.risk_basis else f"level {given.risk_level}"
    return Urgency(value, given.risk_level, possibility, f"{value}: {basis}; {reasons}", matrix.version)


# --- deadlines ------------------------------------------------------------------------------------------


def deadline(
    urgency: Urgency | str,
    start: datetime,
    *,
    business_days: bool = False,
    holidays: frozenset[date] = frozenset(),
    days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> datetime:
    """When a response of this urgency is due, counted from ``start`` (timezone-aware).

    With ``business_days`` the days counted skip Saturdays, Sundays and ``holidays`` (dates in ``start``'s
    time zone); the time of day is kept.
    """
    value = urgency.value if isinstance(urgency, Urgency) else urgency
    if value not in URGENCIES:
        raise ValueError(f"urgency {value!r} is not one of {', '.join(URGENCIES)}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"deadline start {start.isoformat()} has no time zone; pass a timezone-aware datetime")
    if value not in days:
        raise ValueError(f"no deadline configured for urgency {value}")
    remaining = days[value]
    if not business_days:
        return start + timedelta(days=remaining)
    due = start
    while remaining > 0:
        due += timedelta(days=1)
        if due.weekday() < 5 and due.date() not in holidays:
            remaining -= 1
    return due
