"""The "semver" scheme (also "npm" and Go modules): Semantic Versioning 2.0.0 precedence.

``MAJOR.MINOR.PATCH[-pre.release][+build]`` with a leading ``v`` allowed (Go writes ``v1.2.3``).
Missing minor or patch numbers count as 0 (``1.2`` == ``1.2.0``), as npm's coercion does. Pre-release
identifiers compare numerically when numeric, in ASCII order otherwise, numeric before alphanumeric,
and a version with a pre-release sorts before the release (§11). Build metadata is ignored.
Anything else (``1.2.3.4``, ``1.x``, ``latest``) is not a semantic version: comparisons give ``None``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SEMVER = re.compile(
    r"v?(?P<core>\d+(?:\.\d+){0,2})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)

# A pre-release identifier: numeric ones (0, n) sort before alphanumeric ones (1, 0, text).
Identifier = tuple[int, int, str]


@lru_cache(maxsize=65536)
def parse_semver(version: str) -> tuple[tuple[int, int, int], tuple[Identifier, ...] | None] | None:
    """``((major, minor, patch), pre-release identifiers or None)``, or ``None`` if not semver."""
    match = _SEMVER.fullmatch(version.strip())
    if match is None:
        return None
    numbers = [int(part) for part in match["core"].split(".")] + [0, 0]
    core = (numbers[0], numbers[1], numbers[2])
    if match["pre"] is None:
        return core, None
    pre = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in match["pre"].split("."))
    return core, pre


def compare_semver(a: str, b: str) -> int | None:
    pa = parse_semver(a)
    pb = parse_semver(b)
    if pa is None or pb is None:
        return None
    if pa[0] != pb[0]:
        return -1 if pa[0] < pb[0] else 1
    pre_a, pre_b = pa[1], pb[1]
    if pre_a == pre_b:
        return 0
    if pre_a is None:
        return 1
    if pre_b is None:
        return -1
    return -1 if pre_a < pre_b else 1
