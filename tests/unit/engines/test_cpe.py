"""CPE names: formatted strings and 2.2 URIs as NISTIR 7695 defines them, and errors a person can act on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismp.engines.cpe import ANY, NA, CpeName, CpeSyntaxError, parse_cpe, plain

FORMATTED_TEMPLATE = "cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other"


@pytest.mark.parametrize(
    "text",
    [
        # NISTIR 7695 §6.2.3 examples
        "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*",
        "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
        "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
        r"cpe:2.3:a:foo\\bar:big\$money:2010:*:*:*:special:ipod_touch:80gb:*",
        # quoted colon, leading and trailing ? runs, NA everywhere
        r"cpe:2.3:a:a:b\:c:??1.0?:*:*:*:*:*:*:*",
        "cpe:2.3:o:-:-:-:-:-:-:-:-:-:-",
        "cpe:2.3:h:cisco:asa_5505:-:*:*:*:*:*:*:*",
    ],
)
def test_valid_formatted_strings_round_trip_unchanged(text: str) -> None:
    assert parse_cpe(text).formatted() == text


def test_attributes_are_split_into_the_dataclass() -> None:
    name = parse_cpe("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:en-us:online:win2003:x64:*")
    assert name == CpeName(
        part="a",
        vendor="hp",
        product="insight_diagnostics",
        version="7.4.0.1570",
        update=NA,
        edition=ANY,
        language="en-us",
        sw_edition="online",
        target_sw="win2003",
        target_hw="x64",
        other=ANY,
    )
    assert str(name) == name.formatted()


def test_case_and_needless_quoting_are_normalised() -> None:
    name = parse_cpe(r"  CPE:2.3:A:Apache:HTTP\_Server:2\.4\-1:*:*:EN-US:*:*:*:*  ")
    assert name.formatted() == "cpe:2.3:a:apache:http_server:2.4-1:*:*:en-us:*:*:*:*"


@pytest.mark.parametrize(
    ("uri", "formatted"),
    [
        # NISTIR 7695 §6.1.3.3 examples, bound again as formatted strings (§6.2.2)
        (
            "cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
            "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*",
        ),
        (
            "cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f",
            r"cpe:2.3:a:microsoft:internet_explorer:8.\*:sp\?:*:*:*:*:*:*",
        ),
        (
            "cpe:/a:microsoft:internet_explorer:8.%02:sp%01",
            "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
        ),
        (
            "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
            "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*",
        ),
        (
            "cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~",
            "cpe:2.3:a:hp:openview_network_manager:7.51:-:*:*:*:linux:*:*",
        ),
        ("cpe:/a:foo~bar:big%7emoney_2010", r"cpe:2.3:a:foo\~bar:big\~money_2010:*:*:*:*:*:*:*:*"),
        ("cpe:/a:Example:MyApplication:1.0.0", "cpe:2.3:a:example:myapplication:1.0.0:*:*:*:*:*:*:*"),
        ("cpe:/o:microsoft:windows_xp::::en-us", "cpe:2.3:o:microsoft:windows_xp:*:*:*:en-us:*:*:*:*"),
        ("cpe:/a:cisco:ios:12.2%281%29", r"cpe:2.3:a:cisco:ios:12.2\(1\):*:*:*:*:*:*:*"),
    ],
)
def test_cpe22_uri_is_converted_to_formatted_string(uri: str, formatted: str) -> None:
    assert parse_cpe(uri).formatted() == formatted


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cpe:2.3:a:apache:http_server",
            f'"cpe:2.3:a:apache:http_server" has 5 of 13 components; expected {FORMATTED_TEMPLATE}',
        ),
        ("cpe:2.3:x:apache:http_server:*:*:*:*:*:*:*:*", "expected a (application), o (operating system) or h"),
        ("cpe:2.3:a:apache:http server:*:*:*:*:*:*:*:*", "the character ' ' is not allowed"),
        ("cpe:2.3:a:apache:http+server:*:*:*:*:*:*:*:*", r'"+" must be quoted with a backslash (\+)'),
        ("cpe:2.3:a:apache:httpé:*:*:*:*:*:*:*:*", 'the character "é" is not allowed'),
        ("cpe:2.3:a:hp:insight_diagnostics:7.4.*.1570:*:*:*:*:*:*:*", 'unquoted "*" is a wildcard'),
        ("cpe:2.3:a:apache::*:*:*:*:*:*:*:*", 'product "" is empty; write * for any value or - for not'),
        ("cpe:2.3:a:apache:x:*:*:*:english:*:*:*:*", 'language "english" is not a language tag'),
        (r"cpe:2.3:a:apache:x:1\ :*:*:*:*:*:*:*", 'a backslash may not quote " "'),
        ("cpe:/a:foo%5cbar:big%24money_2010%07:::~~special~ipod_touch~80gb~", '"%07" is not a percent-encoded'),
        ("cpe:/a:foo:bar:12.%02.1234", 'unquoted "*" is a wildcard'),
        ("cpe:/a:foo:bar:12:a:~b~c:en", 'packed edition "~b~c" has 2 of 5 fields'),
        ("cpe:/a:foo:bar:12:a:b:en:x", "a CPE 2.2 URI has at most 7"),
        ("apache http_server 2.4", "is not a CPE name; expected a CPE 2.3 formatted string"),
        ("", "is not a CPE name"),
    ],
)
def test_invalid_names_raise_a_message_that_says_what_to_do(text: str, message: str) -> None:
    with pytest.raises(CpeSyntaxError) as caught:
        parse_cpe(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_plain_removes_quoting_and_maps_any_to_empty() -> None:
    name = parse_cpe(r"cpe:2.3:a:foo\!bar:big\$money:-:*:*:*:*:*:*:*")
    assert (plain(name.vendor), plain(name.product), plain(name.version), plain(name.update)) == (
        "foo!bar",
        "big$money",
        "-",
        "",
    )


# --- properties ---------------------------------------------------------------------------------------

_UNQUOTED = st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789-._"))
_QUOTED = st.sampled_from(["\\" + c for c in "\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~"])
_BODY = st.lists(st.one_of(_UNQUOTED, _QUOTED), min_size=1, max_size=12).map("".join)
_WILDCARD = st.sampled_from(["", "", "*", "?", "??"])
_VALUE = st.one_of(
    st.sampled_from([ANY, NA]),
    st.builds(lambda lead, body, trail: lead + body + trail, _WILDCARD, _BODY, _WILDCARD),
)
_NAMES = st.builds(
    CpeName,
    part=st.sampled_from(["a", "o", "h", ANY, NA]),
    vendor=_VALUE,
    product=_VALUE,
    version=_VALUE,
    update=_VALUE,
    edition=_VALUE,
    language=st.sampled_from([ANY, NA, "en", "ja", "en-us", "jpn", "es-419"]),
    sw_edition=_VALUE,
    target_sw=_VALUE,
    target_hw=_VALUE,
    other=_VALUE,
)


@given(_NAMES)
def test_formatted_then_parsed_gives_the_same_name(name: CpeName) -> None:
    assert parse_cpe(name.formatted()) == name


@given(st.one_of(st.text(), st.text().map("cpe:2.3:".__add__), st.text().map("cpe:/".__add__)))
def test_any_text_parses_to_a_canonical_name_or_raises_cpe_syntax_error(text: str) -> None:
    try:
        name = parse_cpe(text)
    except CpeSyntaxError as error:
        assert str(error)
        return
    assert parse_cpe(name.formatted()) == name


@given(st.lists(st.one_of(_VALUE, st.text(max_size=4)), min_size=11, max_size=11))
def test_colon_separated_values_parse_canonically_or_raise(values: list[str]) -> None:
    text = "cpe:2.3:" + ":".join(values)
    try:
        name = parse_cpe(text)
    except CpeSyntaxError:
        return
    assert parse_cpe(name.formatted()).formatted() == name.formatted()


def test_quick_path_agrees_with_the_full_rules_on_real_nvd_names(shared_data):
    """parse_cpe takes a shortcut for plain names; on every real name it must give what the full rules give."""
    import gzip
    import json

    from ismp.engines.cpe.name import _parse_formatted_fully

    with gzip.open(shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz", "rt") as handle:
        items = json.load(handle)["CVE_Items"]
    names: set[str] = set()
    for item in items:
        stack = list(item["configurations"]["nodes"])
        while stack:
            node = stack.pop()
            stack.extend(node.get("children", []))
            names.update(m["cpe23Uri"] for m in node.get("cpe_match", []))
    assert len(names) > 10_000
    for name in names:
        assert parse_cpe(name) == _parse_formatted_fully(name), name
