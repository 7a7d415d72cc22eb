"""Version schemes and ranges: ``compare``, ``in_range`` and ``scheme_for``.

See README.md in this folder for the rules of each scheme.
"""

from ismp.engines.versions.schemes import (
    SCHEMES,
    Comparator,
    UnknownSchemeError,
    compare,
    in_range,
    register,
    scheme_for,
)

__all__ = ["SCHEMES", "Comparator", "UnknownSchemeError", "compare", "in_range", "register", "scheme_for"]
