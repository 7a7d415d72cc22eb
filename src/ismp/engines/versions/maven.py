"""The "maven" scheme: a simplified Maven ``ComparableVersion``.

Items are split as in the generic scheme. Qualifiers order ``alpha``/``a`` < ``beta``/``b`` <
``milestone``/``m`` < ``rc``/``cr`` < ``snapshot`` < release (``ga``, ``final``, ``release`` or
nothing) < ``sp`` and other words (alphabetically); single letters ``a``/``b``/``m`` are qualifiers
only when a digit follows (``1.0a1``). Missing items count as 0, so ``1.0`` == ``1.0.0``.
Not modelled: Maven's list nesting and trailing-zero trimming, so ``1.0-sp1`` sorts after ``1.0.1`` here
(a word beats a number at the same position, as in the generic scheme) where Maven puts it before.
"""

from __future__ import annotations

from functools import lru_cache

from ismp.engines.versions.generic import compare_items, tokenise

MAVEN_QUALIFIERS = {"alpha": 1, "beta": 2, "milestone": 3, "rc": 4, "cr": 4, "snapshot": 5}
MAVEN_LETTERS = {"a": 1, "b": 2, "m": 3}
MAVEN_RELEASE_WORDS = frozenset({"ga", "final", "release"})


@lru_cache(maxsize=65536)
def _tokenise(version: str) -> tuple[tuple[int, int, str], ...] | None:
    return tokenise(version, MAVEN_QUALIFIERS, MAVEN_LETTERS, MAVEN_RELEASE_WORDS)


def compare_maven(a: str, b: str) -> int | None:
    items_a = _tokenise(a)
    items_b = _tokenise(b)
    if items_a is None or items_b is None:
        return None
    return compare_items(items_a, items_b)
