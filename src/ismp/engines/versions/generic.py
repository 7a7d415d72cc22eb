"""The "generic" scheme: versions as vendors write them in NVD/CPE names.

A version is split into items at separators (anything that is not a letter or digit) and at every
change between letters and digits: ``15.2(5)e1`` → ``15 2 5 e 1``. Items compare one by one:

* numbers numerically (``2.4.29`` > ``2.4.3``);
* pre-release words sort before the release: ``dev``/``snapshot`` < ``alpha`` < ``beta`` <
  ``pre``/``preview`` < ``rc``/``cr`` (``a``/``b`` count as alpha/beta only when a digit follows:
  ``1.0b2`` is a beta, OpenSSL's ``1.0.1b`` is not);
* any other word is a vendor suffix that sorts after the release (``1.0.1`` < ``1.0.1f`` < ``1.0.1g``,
  ``21.4`` < ``21.4r3``, ``7`` < ``7u45``, ``1.0`` < ``1.0p1``), words compare alphabetically;
* at one position: pre-release word < number < suffix word (``1.0.1a`` > ``1.0.1.5``);
* a missing item counts as the number 0, so ``4.3`` == ``4.3.0`` < ``4.3.30`` and ``1.0rc1`` < ``1.0``.

Case is ignored, a leading ``v`` before a digit is dropped, and CPE backslash escapes are removed
(``15.2\\(5\\)e``). The CPE logical values ``*`` (ANY) and ``-`` (NA), the empty string and strings
without a letter or digit are not versions: comparing them gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

# An item is (kind, number or rank, word); kinds order pre-release < number < suffix word.
Item = tuple[int, int, str]
PRE, NUMBER, WORD = 0, 1, 2
PADDING: Item = (NUMBER, 0, "")

PRE_RELEASE_RANKS: Mapping[str, int] = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "preview": 3,
    "rc": 4,
    "cr": 4,
}
# Single letters that mean alpha/beta only when a digit follows them ("1.0a1", "3.0b5").
PRE_RELEASE_LETTERS: Mapping[str, int] = {"a": 1, "b": 2}

_ITEM = re.compile(r"\d+|[a-z]+")
_NOT_VERSIONS = frozenset({"", "*", "-"})


def normalise(version: str) -> str:
    """Lower-case, without CPE escapes, surrounding blanks or a leading ``v`` before a digit."""
    text = version.strip().replace("\\", "").lower()
    if len(text) > 1 and text[0] == "v" and text[1].isdigit():
        text = text[1:]
    return text


def tokenise(
    version: str,
    pre_release_ranks: Mapping[str, int] = PRE_RELEASE_RANKS,
    pre_release_letters: Mapping[str, int] = PRE_RELEASE_LETTERS,
    neutral_words: frozenset[str] = frozenset(),
) -> tuple[Item, ...] | None:
    """Split ``version`` into comparable items; ``None`` when it is not a version (``*``, ``-``, ``""``)."""
    text = normalise(version)
    if text in _NOT_VERSIONS:
        return None
    matches = _ITEM.findall(text)
    if not matches:
        return None
    items: list[Item] = []
    for index, token in enumerate(matches):
        if token[0].isdigit():
            items.append((NUMBER, int(token), ""))
            continue
        if token in neutral_words:
            continue
        followed_by_digit = index + 1 < len(matches) and matches[index + 1][0].isdigit()
        if token in pre_release_ranks:
            items.append((PRE, pre_release_ranks[token], ""))
        elif followed_by_digit and token in pre_release_letters:
            items.append((PRE, pre_release_letters[token], ""))
        else:
            items.append((WORD, 0, token))
    return tuple(items)


def compare_items(a: tuple[Item, ...], b: tuple[Item, ...]) -> int:
    """Compare two item sequences, the shorter padded with zeros."""
    for index in range(max(len(a), len(b))):
        x = a[index] if index < len(a) else PADDING
        y = b[index] if index < len(b) else PADDING
        if x != y:
            return -1 if x < y else 1
    return 0


tokenise_cached = lru_cache(maxsize=65536)(tokenise)


def compare_generic(a: str, b: str) -> int | None:
    """-1, 0 or 1 as ``a`` sorts before, with or after ``b``; ``None`` if either is not a version."""
    items_a = tokenise_cached(a)
    items_b = tokenise_cached(b)
    if items_a is None or items_b is None:
        return None
    return compare_items(items_a, items_b)


# Alpine's apk versions (1.2.3_rc1 < 1.2.3 < 1.2.3_p1 < 1.2.3-r1) order correctly under these rules.
compare_alpine = compare_generic
