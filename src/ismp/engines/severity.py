"""Severity → risk level (リスクレベル) and the attack vector, from CVSS as the sources publish it.

DESIGN.md's default thresholds: CVSS base ≥ 9.0 → 5, ≥ 7.0 → 4, ≥ 4.0 → 3, ≥ 0.1 → 2, none → 1.
The triage issue makes the thresholds configurable; the defaults live here.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_THRESHOLDS: tuple[tuple[float, int], ...] = ((9.0, 5), (7.0, 4), (4.0, 3), (0.1, 2))

# CVSS v2/v3/v4 "AV" metric letters, and words some sources use instead of a score
_ATTACK_VECTORS = {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}
_WORD_LEVELS = {
    "critical": 5,
    "high": 4,
    "important": 4,
    "medium": 3,
    "moderate": 3,
    "low": 2,
    "none": 1,
    "緊急": 5,
    "重要": 4,
    "警告": 3,
    "注意": 2,
}


def risk_level(score: float | None, thresholds: Sequence[tuple[float, int]] = DEFAULT_THRESHOLDS) -> int:
    """The risk level 1–5 for a CVSS base score (1 when there is none)."""
    if score is None:
        return 1
    for minimum, level in thresholds:
        if score >= minimum:
            return level
    return 1


def risk_level_from_word(word: str) -> int:
    """A source's own severity word (JVN 緊急/重要/警告/注意, Debian/Red Hat/OSV words) → 1–5."""
    return _WORD_LEVELS.get(word.strip().lower(), 1)


def attack_vector(vector: str) -> str:
    """NETWORK / ADJACENT_NETWORK / LOCAL / PHYSICAL from a CVSS vector string, "" when absent."""
    for part in vector.split("/"):
        key, _, value = part.partition(":")
        if key == "AV" and value in _ATTACK_VECTORS:
            return _ATTACK_VECTORS[value]
    return ""
