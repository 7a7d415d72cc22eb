"""The "rpm" scheme: ``[epoch:]version[-release]`` compared with rpm's ``rpmvercmp``.

A transcription of rpmvercmp (rpm/rpmio/rpmvercmp.c, including ``~`` pre-release and ``^``
post-release handling): separators are skipped, alphanumeric segments compare pairwise, digits
numerically (leading zeros ignored) and letters with ``strcmp``; a numeric segment is newer than an
alphabetic one; the version with segments left over is newer. Epochs compare as integers (missing =
0); releases are compared only when both versions have one, as rpm does for dependency ranges.
"""

from __future__ import annotations

from functools import lru_cache


def _isalnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _isdigit(char: str) -> bool:
    return char.isascii() and char.isdigit()


def _isalpha(char: str) -> bool:
    return char.isascii() and char.isalpha()


def rpmvercmp(a: str, b: str) -> int:
    """-1, 0 or 1, exactly as rpm's ``rpmvercmp``."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < len(a) else ""
        cb = b[j] if j < len(b) else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        kind = _isdigit if _isdigit(ca) else _isalpha
        start_a, start_b = i, j
        while i < len(a) and kind(a[i]):
            i += 1
        while j < len(b) and kind(b[j]):
            j += 1
        seg_a, seg_b = a[start_a:i], b[start_b:j]
        if not seg_b:
            return 1 if kind is _isdigit else -1
        if kind is _isdigit:
            seg_a, seg_b = seg_a.lstrip("0"), seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
    ca = a[i] if i < len(a) else ""
    cb = b[j] if j < len(b) else ""
    if not ca and not cb:
        return 0
    return 1 if ca else -1


@lru_cache(maxsize=65536)
def parse_evr(evr: str) -> tuple[int, str, str | None] | None:
    """``(epoch, version, release or None)``; ``None`` for a non-numeric epoch or empty version."""
    text = evr.strip()
    epoch = 0
    if ":" in text:
        epoch_text, text = text.split(":", 1)
        if not epoch_text.isdigit():
            return None
        epoch = int(epoch_text)
    release: str | None = None
    if "-" in text:
        text, release = text.rsplit("-", 1)
    if not text:
        return None
    return epoch, text, release


def compare_rpm(a: str, b: str) -> int | None:
    pa = parse_evr(a)
    pb = parse_evr(b)
    if pa is None or pb is None:
        return None
    if pa[0] != pb[0]:
        return -1 if pa[0] < pb[0] else 1
    result = rpmvercmp(pa[1], pb[1])
    if result or pa[2] is None or pb[2] is None:
        return result
    return rpmvercmp(pa[2], pb[2])
