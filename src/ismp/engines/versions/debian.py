"""The "dpkg" scheme: Debian version comparison, ``[epoch:]upstream[-revision]``.

A direct transcription of dpkg's ``verrevcmp`` (lib/dpkg/version.c, Debian Policy §5.6.12):
non-digit runs compare character by character with ``~`` before everything (even the end of the
string), then letters, then other characters; digit runs compare numerically. Epochs compare as
integers (missing = 0), then the upstream version, then the revision (missing = ``""``, which equals
``0``). Versions that dpkg would reject (non-numeric epoch, empty upstream) give ``None``.
"""

from __future__ import annotations

from functools import lru_cache


def _order(char: str) -> int:
    if char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of one upstream version or revision; the sign is what counts."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


@lru_cache(maxsize=65536)
def parse_debian(version: str) -> tuple[int, str, str] | None:
    """``(epoch, upstream, revision)``, or ``None`` when dpkg would reject the version."""
    text = version.strip()
    epoch = 0
    if ":" in text:
        epoch_text, text = text.split(":", 1)
        if not epoch_text.isdigit():
            return None
        epoch = int(epoch_text)
    upstream, _, revision = text.rpartition("-") if "-" in text else (text, "", "")
    if not upstream or any(c.isspace() for c in text):
        return None
    return epoch, upstream, revision


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def compare_debian(a: str, b: str) -> int | None:
    pa = parse_debian(a)
    pb = parse_debian(b)
    if pa is None or pb is None:
        return None
    if pa[0] != pb[0]:
        return -1 if pa[0] < pb[0] else 1
    return _sign(verrevcmp(pa[1], pb[1]) or verrevcmp(pa[2], pb[2]))
