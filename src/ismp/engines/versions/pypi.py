"""The "pypi" scheme: PEP 440 ordering through ``packaging.version.Version``.

Invalid versions (legacy ones that pip no longer accepts) give ``None``.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion, Version


@lru_cache(maxsize=65536)
def parse_pep440(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def compare_pypi(a: str, b: str) -> int | None:
    va = parse_pep440(a)
    vb = parse_pep440(b)
    if va is None or vb is None:
        return None
    return (va > vb) - (va < vb)
