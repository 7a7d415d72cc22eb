"""CPE names: the 2.3 formatted string binding and the 2.2 URI binding (NISTIR 7695).

A :class:`CpeName` holds each attribute exactly as it appears in a CPE 2.3 formatted string
("formatted string binding", NISTIR 7695 §6.2): ``*`` is ANY, ``-`` is NA, other values keep their
backslash quoting (``foo\\!bar``) and their unquoted wildcards (``8.*``, ``sp?``). Values are stored in
lower case: CPE comparison is case-insensitive (NISTIR 7696) and the NVD dictionary is lower case.

:func:`parse_cpe` accepts a formatted string (``cpe:2.3:a:apache:http_server:2.4.1:*:*:*:*:*:*:*``)
or a 2.2 URI (``cpe:/a:apache:http_server:2.4.1``), which it unbinds as NISTIR 7695 §6.1.3 does and
binds again as a formatted string (§6.2.2), so every name leaves here in one canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ANY = "*"
NA = "-"

ATTRIBUTES: tuple[str, ...] = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
FORMATTED_TEMPLATE = "cpe:2.3:" + ":".join(ATTRIBUTES)
URI_TEMPLATE = "cpe:/part:vendor:product:version:update:edition:language"

PARTS = {"a": "application", "o": "operating system", "h": "hardware"}
# Characters that may appear after a backslash (NISTIR 7695 §5.3.2 "punc" plus "\", "*", "?").
# "-", "." and "_" need no quoting in a formatted string; a quoted one is accepted and unquoted.
QUOTABLE = frozenset("\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~-._")
UNQUOTED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-([a-z]{2}|[0-9]{3}))?")


class CpeSyntaxError(ValueError):
    """The text is not a CPE name; the message says what is wrong and what is expected."""


@dataclass(frozen=True, slots=True)
class CpeName:
    """One CPE name, each attribute as bound in a formatted string (``*`` ANY, ``-`` NA)."""

    part: str
    vendor: str = ANY
    product: str = ANY
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def formatted(self) -> str:
        """The CPE 2.3 formatted string, e.g. ``cpe:2.3:a:apache:http_server:2.4.1:*:*:*:*:*:*:*``."""
        return ":".join(
            (
                "cpe:2.3",
                self.part,
                self.vendor,
                self.product,
                self.version,
                self.update,
                self.edition,
                self.language,
                self.sw_edition,
                self.target_sw,
                self.target_hw,
                self.other,
            )
        )

    def __str__(self) -> str:
        return self.formatted()


_UNQUOTE = re.compile(r"\\(.)")


def plain(value: str) -> str:
    """An attribute as a person reads it: quoting removed, ``""`` for ANY, ``-`` for NA."""
    if value == ANY:
        return ""
    return _UNQUOTE.sub(r"\1", value) if "\\" in value else value


@lru_cache(maxsize=65536)
def parse_cpe(text: str) -> CpeName:
    """Parse a CPE 2.3 formatted string or a CPE 2.2 URI; raise :class:`CpeSyntaxError` if it is neither.

    Cached: inventories repeat the same names many times, and a CpeName is immutable."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("cpe:2.3:"):
        return _parse_formatted(stripped)
    if lowered.startswith("cpe:/"):
        return _parse_uri(stripped)
    raise CpeSyntaxError(
        f'"{_shorten(stripped)}" is not a CPE name; expected a CPE 2.3 formatted string '
        f"({FORMATTED_TEMPLATE}) or a CPE 2.2 URI ({URI_TEMPLATE})"
    )


# --- formatted string (NISTIR 7695 §6.2) -------------------------------------------------------------


# Values that need no further checking: no quoting, no wildcards, starting with a letter or digit.
_SIMPLE_VALUE = re.compile(r"[a-z0-9][a-z0-9._\-]*")


def _parse_formatted(text: str) -> CpeName:
    """The common case (no backslash, plain values) by a quick check, anything else by the full rules."""
    if "\\" not in text:
        values = text.lower().split(":")[2:]
        if (
            len(values) == 11
            and values[0] in PARTS
            and values[6] in (ANY, NA)
            and all(v in (ANY, NA) or _SIMPLE_VALUE.fullmatch(v) for v in values[1:])
        ):
            return CpeName(*values)
    return _parse_formatted_fully(text)


def _parse_formatted_fully(text: str) -> CpeName:
    components = _split_unquoted(text)
    if len(components) != 13:
        raise CpeSyntaxError(
            f'"{_shorten(text)}" has {len(components)} of 13 components; expected {FORMATTED_TEMPLATE}'
        )
    values = [_check_value(text, attribute, value) for attribute, value in zip(ATTRIBUTES, components[2:], strict=True)]
    return CpeName(*values)


def _split_unquoted(text: str) -> list[str]:
    """Split on every colon that is not quoted by a backslash."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(char + next(chars, ""))
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _check_value(text: str, attribute: str, value: str) -> str:
    """Validate one formatted-string value and return it in canonical form."""
    where = f'"{_shorten(text)}": {attribute} "{value}"'
    value = value.lower()
    if value in (ANY, NA):
        return value
    if value == "":
        raise CpeSyntaxError(f"{where} is empty; write * for any value or - for not applicable")
    if attribute == "part":
        return _check_part(where, value)
    if attribute == "language":
        return _check_language(where, value)
    return _check_avstring(where, value)


def _check_part(where: str, value: str) -> str:
    if value not in PARTS:
        raise CpeSyntaxError(f"{where} is not valid; expected a (application), o (operating system) or h (hardware)")
    return value


def _check_language(where: str, value: str) -> str:
    unquoted = value.replace("\\-", "-")
    if not _LANGUAGE.fullmatch(unquoted):
        raise CpeSyntaxError(f"{where} is not a language tag; expected e.g. en, ja or en-us (RFC 5646), or * or -")
    return unquoted


def _check_avstring(where: str, value: str) -> str:
    """Check a value's characters (NISTIR 7695 §5.3.2) and drop needless quoting of - . _."""
    tokens = _tokens(where, value)
    lead = _wildcard_run(tokens)
    trail = _wildcard_run(tokens[len(lead) :][::-1])[::-1]
    body = tokens[len(lead) : len(tokens) - len(trail)]
    for token in body:
        if token in ("*", "?"):
            raise CpeSyntaxError(
                f'{where}: unquoted "{token}" is a wildcard and may only start or end a value; '
                f'write \\{token} for a literal "{token}"'
            )
    return "".join(lead + body + trail)


def _tokens(where: str, value: str) -> list[str]:
    """Split a value into characters, keeping a backslash with the character it quotes."""
    tokens: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            quoted = next(chars, "")
            if quoted not in QUOTABLE or quoted == "":
                raise CpeSyntaxError(f'{where}: a backslash may not quote "{quoted or "the end of the value"}"')
            tokens.append(quoted if quoted in "-._" else char + quoted)
        elif char in UNQUOTED or char in "*?":
            tokens.append(char)
        else:
            raise CpeSyntaxError(f"{where}: {_character_problem(char)}")
    return tokens


def _wildcard_run(tokens: list[str]) -> list[str]:
    """The leading wildcard of a value: one unquoted * or a run of unquoted ? (NISTIR 7695 §5.3.2)."""
    if tokens[:1] == ["*"]:
        return ["*"]
    run = 0
    while run < len(tokens) and tokens[run] == "?":
        run += 1
    return tokens[:run]


def _character_problem(char: str) -> str:
    if char in QUOTABLE:
        return f'"{char}" must be quoted with a backslash (\\{char})'
    shown = repr(char) if not char.isprintable() or char == " " else f'"{char}"'
    return f"the character {shown} is not allowed in a CPE; use letters, digits, - . _ and backslash-quoted punctuation"


# --- 2.2 URI (NISTIR 7695 §6.1.3) -------------------------------------------------------------------

# Percent-encoded characters a URI may contain (NISTIR 7695 Table 6-1), decoded to formatted-string form.
_PERCENT = {f"%{ord(c):02x}": c for c in "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"}
_PERCENT.update({"%2d": "-", "%2e": ".", "%5f": "_"})


def _parse_uri(text: str) -> CpeName:
    components = text[len("cpe:/") :].split(":")
    if len(components) > 7:
        raise CpeSyntaxError(
            f'"{_shorten(text)}" has {len(components)} components after cpe:/; '
            f"a CPE 2.2 URI has at most 7: {URI_TEMPLATE}"
        )
    components += [""] * (7 - len(components))
    values = dict.fromkeys(ATTRIBUTES, ANY)
    for attribute, value in zip(ATTRIBUTES[:7], components, strict=True):
        values[attribute] = _decode(text, attribute, value)
    values.update(_unpack_edition(text, components[5]))
    checked = [_check_value(text, attribute, values[attribute]) for attribute in ATTRIBUTES]
    return CpeName(*checked)


def _unpack_edition(text: str, edition: str) -> dict[str, str]:
    """A packed edition ``~edition~sw_edition~target_sw~target_hw~other`` carries five attributes."""
    if not edition.startswith("~"):
        return {}
    fields = edition.split("~")
    if len(fields) != 6:
        raise CpeSyntaxError(
            f'"{_shorten(text)}": packed edition "{edition}" has {len(fields) - 1} of 5 fields; '
            "expected ~edition~sw_edition~target_sw~target_hw~other"
        )
    names = ("edition", "sw_edition", "target_sw", "target_hw", "other")
    return {name: _decode(text, name, value) for name, value in zip(names, fields[1:], strict=True)}


def _decode(text: str, attribute: str, value: str) -> str:
    """Decode one URI component into formatted-string form (NISTIR 7695 §6.1.3.2 "decode")."""
    if value == "":
        return ANY
    if value == NA:
        return NA
    if attribute == "edition" and value.startswith("~"):
        return ANY  # replaced by _unpack_edition
    where = f'"{_shorten(text)}": {attribute} "{value}"'
    value = value.lower()
    out: list[str] = []
    index = 0
    while index < len(value):
        if value[index] != "%":
            char = value[index]
            out.append("\\" + char if char in QUOTABLE and char not in UNQUOTED else char)
            index += 1
            continue
        code = value[index : index + 3]
        out.append(_decode_percent(where, code))
        index += 3
    return "".join(out)


def _decode_percent(where: str, code: str) -> str:
    if code == "%01":
        return "?"
    if code == "%02":
        return "*"
    char = _PERCENT.get(code)
    if char is None:
        raise CpeSyntaxError(f'{where}: "{code}" is not a percent-encoded character allowed in a CPE')
    return char if char in UNQUOTED else "\\" + char


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
