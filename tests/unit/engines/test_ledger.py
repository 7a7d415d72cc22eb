"""The spreadsheet ledger (CSV, XLSX) and component validation, on real-looking and hostile files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.ledger import (
    HEADER_ALIASES,
    neutralise,
    read_ledger,
    unneutralise,
    write_ledger,
)
from ismp.engines.inventory.records import LEDGER_COLUMNS, ComponentRecord, LedgerRow
from ismp.errors import InputError, InputErrors

MB = 1024 * 1024


@pytest.fixture
def inventory(fixtures: Path) -> Path:
    return fixtures / "inventory"


def read(data: bytes, name: str = "inventory.csv", **kwargs: object) -> list[LedgerRow]:
    return read_ledger(data, name, max_bytes=10 * MB, **kwargs)  # type: ignore[arg-type]


def errors_of(data: bytes, name: str = "inventory.csv") -> InputErrors:
    with pytest.raises(InputErrors) as caught:
        read(data, name)
    return caught.value


def xlsx(rows: list[list[object]], title: str = "inventory", extra_sheet_first: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if extra_sheet_first:
        sheet.title = "README"
        sheet.append(["this sheet explains the workbook"])
        sheet = workbook.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV: encodings and headings ----------------------------------------------------------------------


def test_shift_jis_csv_from_japanese_excel_reads_every_heading_and_value(inventory: Path) -> None:
    rows = read((inventory / "shift_jis-japanese-headers.csv").read_bytes())

    assert [row.line for row in rows] == [2, 3, 5, 6]
    first = rows[0]
    assert first.system == {
        "system": "人事給与システム",
        "purpose": "給与計算・勤怠管理",
        "organisation": "総務部人事課",
        "service_owner": "髙橋一郎",
        "administrators": "佐藤花子",
        "lifecycle": "運用中",
        "system_type": "業務系",
        "criticality": "高",
        "has_global_ip": "なし",
        "addresses": "10.0.1.15",
        "fqdns": "jinji.example.jp",
        "urls": "https://jinji.example.jp/",
        "hardware": "仮想サーバ①",
        "location": "本社データセンター",
        "notes": "夜間バッチ 22:00～翌5:00",
    }
    assert first.component == ComponentRecord(
        line=2,
        cpe="cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*",
        part="a",
        vendor="apache",
        product="http_server",
        version="2.4.57",
    )
    assert rows[1].component is not None
    assert rows[1].component.purl == "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.80"
    assert rows[2].system["administrators"] == "田中三郎, 山本四郎"
    assert rows[2].component == ComponentRecord(
        line=5, part="o", vendor="レッドハット", product="Red Hat Enterprise Linux", version="9.2"
    )
    assert rows[3].component is None  # a system without components


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_utf8_with_or_without_bom(bom: bytes) -> None:
    rows = read(bom + "システム名,備考\n会計,メモ\n".encode())
    assert rows == [LedgerRow(line=2, system={"system": "会計", "notes": "メモ"})]


def test_file_neither_utf8_nor_shift_jis_names_the_line(inventory: Path) -> None:
    with pytest.raises(InputError) as caught:
        read((inventory / "neither-utf8-nor-sjis.csv").read_bytes(), "neither.csv")
    error = caught.value
    assert (error.location.file, error.location.line) == ("neither.csv", 3)
    assert "neither UTF-8 nor Shift_JIS" in str(error)
    assert "CSV UTF-8" in str(error)


def test_utf16_csv_is_refused_with_a_way_out() -> None:
    with pytest.raises(InputError, match="UTF-16"):
        read("system\nbilling\n".encode("utf-16"))


@pytest.mark.parametrize(
    ("heading", "column"),
    [
        ("SYSTEM NAME", "system"),
        ("System_Name", "system"),
        ("ＳＹＳＴＥＭ　ＮＡＭＥ", "system"),
        ("システム名", "system"),
        ("Organization", "organisation"),
        ("サービス責任者", "service_owner"),
        ("グローバルＩＰ", "has_global_ip"),
        ("IPアドレス", "addresses"),
        ("種別（part）", "part"),
        ("ベンダー", "vendor"),
        ("Has-Global-IP", "has_global_ip"),
    ],
)
def test_heading_aliases_ignore_case_width_and_separators(heading: str, column: str) -> None:
    if column == "system":
        assert read(f"{heading}\nbilling\n".encode())[0].system == {"system": "billing"}
        return
    row = read(f"system,{heading},製品\nbilling,o,nginx\n".encode())[0]
    found = row.system.get(column) or getattr(row.component, column, None)
    assert found == "o"


def test_every_alias_maps_to_a_ledger_column() -> None:
    assert set(HEADER_ALIASES) == set(LEDGER_COLUMNS)


def test_unknown_column_is_named(inventory: Path) -> None:
    error = errors_of((inventory / "unknown-column.csv").read_bytes(), "unknown-column.csv")
    assert error.total == 1
    assert error.errors[0].location.line == 1
    assert 'column 3 "担当" is not a ledger column' in error.errors[0].reason


def test_missing_system_column_is_an_error() -> None:
    error = errors_of(b"purpose,cpe\ninvoicing,\n")
    assert 'has no "system" column' in error.errors[0].reason


def test_two_headings_for_one_column_is_an_error() -> None:
    error = errors_of("system,システム名\na,b\n".encode())
    assert "both mean system" in error.errors[0].reason


def test_empty_file_is_an_error() -> None:
    with pytest.raises(InputError, match="is empty; expected a header line"):
        read(b"\n\n")


def test_header_only_file_gives_no_rows() -> None:
    assert read(b"system,cpe\r\n") == []


# --- CSV: lines and cells -----------------------------------------------------------------------------


def test_quoted_newlines_and_blank_lines_keep_file_line_numbers(inventory: Path) -> None:
    rows = read((inventory / "quoted-newline.csv").read_bytes())
    assert [row.line for row in rows] == [2, 6, 7]
    assert rows[0].system["notes"] == "line one\r\nline two\r\nline three"


def test_cells_are_stripped_and_rows_of_empty_cells_skipped() -> None:
    rows = read(b"system , product \n  billing  ,  nginx \n , \n,,,\n")
    assert rows == [LedgerRow(line=2, system={"system": "billing"}, component=ComponentRecord(line=2, product="nginx"))]


def test_value_under_a_column_without_heading_is_an_error() -> None:
    error = errors_of(b"system,,product\nbilling,stray,nginx\n")
    assert "column 2, which has no heading" in error.errors[0].reason


def test_row_without_system_is_an_error() -> None:
    error = errors_of(b"system,product\n,nginx\n")
    assert (error.errors[0].location.line, error.errors[0].location.field) == (2, "system")


def test_exported_neutralised_cells_lose_their_quote(inventory: Path) -> None:
    rows = read((inventory / "exported-neutralised.csv").read_bytes())
    notes = [row.system["notes"] for row in rows]
    assert notes == [
        "=cmd|' /C calc'!A0",
        "+1 (555) 0100",
        "@SUM(A1)",
        "'=kept one quote",
        "'plain apostrophe",
        "=tab first",
    ]
    assert rows[0].component is not None
    assert rows[0].component.version == "-"


# --- errors -------------------------------------------------------------------------------------------


def test_bad_cpe_rows_are_all_reported_with_line_and_field(inventory: Path) -> None:
    error = errors_of((inventory / "bad-cpe.csv").read_bytes(), "bad-cpe.csv")
    assert [(e.location.line, e.location.field) for e in error.errors] == [(3, "cpe"), (5, "cpe")]
    assert "has 5 of 13 components" in error.errors[0].reason
    assert 'part "x" is not valid' in error.errors[1].reason
    assert "bad-cpe.csv, line 3, field cpe" in str(error)


def test_bad_purl_row_is_reported(inventory: Path) -> None:
    error = errors_of((inventory / "bad-purl.csv").read_bytes(), "bad-purl.csv")
    assert [(e.location.line, e.location.field) for e in error.errors] == [(3, "purl")]
    assert "expected pkg:type/namespace/name@version" in error.errors[0].reason


def test_errors_are_capped_at_1000_but_counted() -> None:
    data = "system,cpe\n" + "billing,not-a-cpe\n" * 1500
    error = errors_of(data.encode())
    assert len(error.errors) == 1000
    assert error.total == 1500
    assert "1500 error(s)" in str(error)


def test_too_large_bytes_are_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="over the 1,000 bytes limit"):
        read_ledger(b"system\n" + b"x" * 2000, "big.csv", max_bytes=1000)


def test_100_mb_stream_is_refused_after_reading_only_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"system,notes\n")
        handle.truncate(100 * MB)  # sparse: instant, takes no disk
    with path.open("rb") as stream:
        with pytest.raises(InputError, match="over the 1.0 MiB limit") as caught:
            read_ledger(stream, "huge.csv", max_bytes=MB)
        assert stream.tell() == MB + 1
    assert caught.value.location.file == "huge.csv"


# --- XLSX ---------------------------------------------------------------------------------------------


def test_xlsx_numbers_dates_and_booleans_become_text() -> None:
    data = xlsx(
        [
            ["System", "バージョン", "製品", "備考", "重要度", "グローバルIP"],
            ["billing", 2.0, "nginx", dt.datetime(2024, 4, 1), 3, True],
            ["billing", 2.5, "httpd", dt.datetime(2024, 4, 1, 9, 30), None, False],
            [None, None, None, None, None, None],
            ["  reception ", 10, "'=1+1", None, None, None],
        ]
    )
    rows = read(data, "inventory.xlsx")
    assert [row.line for row in rows] == [2, 3, 5]
    assert rows[0].component == ComponentRecord(line=2, product="nginx", version="2")
    assert rows[0].system == {"system": "billing", "notes": "2024-04-01", "criticality": "3", "has_global_ip": "true"}
    assert rows[1].component == ComponentRecord(line=3, product="httpd", version="2.5")
    assert rows[1].system["notes"] == "2024-04-01 09:30:00"
    assert rows[2].system["system"] == "reception"
    assert rows[2].component == ComponentRecord(line=5, product="=1+1", version="10")


def test_xlsx_prefers_the_sheet_named_inventory() -> None:
    rows = read(xlsx([["system"], ["billing"]], extra_sheet_first=True), "inventory.xlsx")
    assert rows == [LedgerRow(line=2, system={"system": "billing"})]


def test_xlsx_format_can_be_forced_whatever_the_name() -> None:
    rows = read(xlsx([["system"], ["billing"]]), "upload.bin", fmt="xlsx")
    assert rows[0].system == {"system": "billing"}


def test_corrupt_xlsx_is_a_clear_error(inventory: Path) -> None:
    with pytest.raises(InputError, match="not a readable zip archive") as caught:
        read((inventory / "corrupt.xlsx").read_bytes(), "corrupt.xlsx")
    assert caught.value.location.file == "corrupt.xlsx"


def test_text_named_xlsx_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="is not an XLSX workbook"):
        read(b"system\nbilling\n", "inventory.xlsx")


def test_zip_that_is_not_a_workbook_is_a_clear_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputError, match="damaged or unsupported XLSX workbook"):
        read(buffer.getvalue(), "inventory.xlsx")


def test_old_xls_or_encrypted_workbook_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="old .xls workbook or a password-protected one"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "inventory.xlsx")


def test_xlsx_zip_bomb_is_refused_by_its_unpacked_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * MB))
    data = path.read_bytes()
    assert len(data) < MB
    with pytest.raises(InputError, match="zip bomb") as caught:
        read_ledger(data, "bomb.xlsx", max_bytes=MB)
    assert "expands to 20,971,5" in str(caught.value)


def test_xlsx_sheet_with_a_dtd_entity_bomb_is_refused() -> None:
    bomb = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    source = zipfile.ZipFile(io.BytesIO(xlsx([["system"], ["billing"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = bomb.encode() + content.replace(b"<t>billing</t>", b"<t>&b;</t>")
            archive.writestr(member, content)
    with pytest.raises(InputError, match="damaged or unsupported XLSX workbook"):
        read(buffer.getvalue(), "bomb.xlsx")


def test_csv_content_that_is_really_a_workbook_says_so() -> None:
    with pytest.raises(InputError, match="is an Excel workbook, not CSV"):
        read(xlsx([["system"], ["billing"]]), "inventory.csv")


# --- writing and round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise_and_unneutralise(value: str, written: str) -> None:
    assert neutralise(value) == written
    assert unneutralise(written) == value


def test_written_csv_has_bom_header_and_neutralised_cells() -> None:
    buffer = io.BytesIO()
    write_ledger([{"system": "billing", "notes": '=HYPERLINK("http://evil")', "cpe": ""}], buffer, "csv")
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(LEDGER_COLUMNS).encode() + b"\r\n")
    assert b'"\'=HYPERLINK(""http://evil"")"' in data
    assert not buffer.closed


def test_written_xlsx_has_inventory_sheet_and_no_formulas() -> None:
    buffer = io.BytesIO()
    write_ledger([{"system": "billing", "notes": "=1+1", "version": "-"}], buffer, "xlsx")
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = workbook["inventory"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == LEDGER_COLUMNS
    notes = rows[1][LEDGER_COLUMNS.index("notes")]
    assert notes == "'=1+1"
    assert sheet.cell(row=2, column=LEDGER_COLUMNS.index("notes") + 1).data_type == "s"


def test_unknown_column_when_writing_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not ledger columns: colour"):
        write_ledger([{"system": "x", "colour": "red"}], io.BytesIO(), "csv")


def _round_trip(rows: list[dict[str, str]], fmt: str) -> list[LedgerRow]:
    buffer = io.BytesIO()
    write_ledger(rows, buffer, fmt)
    return read_ledger(buffer.getvalue(), f"export.{fmt}", max_bytes=10 * MB)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_unchanged(fmt: str) -> None:
    rows = [
        {"system": "billing", "notes": "=cmd|' /C calc'!A0", "cpe": "cpe:2.3:a:apache:http_server:-:*:*:*:*:*:*:*"},
        {"system": "billing", "purpose": "-", "purl": "pkg:npm/lodash@4.17.21", "version": "-1"},
        {"system": "reception", "location": "@roof", "notes": "'=already quoted"},
    ]
    read_back = _round_trip(rows, fmt)
    assert [row.system["notes"] for row in read_back] == ["=cmd|' /C calc'!A0", "", "'=already quoted"]
    assert read_back[1].system["purpose"] == "-"
    assert read_back[1].component is not None and read_back[1].component.version == "-1"
    assert read_back[0].component is not None and read_back[0].component.version == "-"


_CELL = st.text(st.characters(exclude_categories=["Cs"]), max_size=30).map(str.strip)
_XML_SAFE_CELL = st.text(
    st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"), max_size=30
).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_CELL.filter(bool), _CELL, _CELL), min_size=1, max_size=5))
def test_csv_round_trip_keeps_any_text(values: list[tuple[str, str, str]]) -> None:
    rows = [{"system": system, "notes": notes, "location": location} for system, notes, location in values]
    read_back = _round_trip(rows, "csv")
    assert [(r.system["system"], r.system["notes"], r.system["location"]) for r in read_back] == values


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_XML_SAFE_CELL.filter(bool), _XML_SAFE_CELL), min_size=1, max_size=4))
def test_xlsx_round_trip_keeps_any_text(values: list[tuple[str, str]]) -> None:
    rows = [{"system": system, "notes": notes} for system, notes in values]
    read_back = _round_trip(rows, "xlsx")
    assert [(r.system["system"], r.system["notes"]) for r in read_back] == values


# --- make_component -----------------------------------------------------------------------------------


def test_component_from_cpe_takes_attributes_and_maps_any_to_empty() -> None:
    record = make_component(line=4, file="f.csv", cpe="cpe:/a:Apache:HTTP_Server")
    assert record == ComponentRecord(
        line=4, cpe="cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*", part="a", vendor="apache", product="http_server"
    )


def test_component_from_purl_uses_namespace_name_and_version() -> None:
    record = make_component(line=1, file="f", purl="pkg:NPM/%40angular/core@16.2.0")
    assert record == ComponentRecord(
        line=1, purl="pkg:npm/%40angular/core@16.2.0", part="a", vendor="@angular", product="core", version="16.2.0"
    )


def test_component_explicit_values_win_over_derived_ones() -> None:
    record = make_component(
        line=1,
        file="f",
        cpe="cpe:2.3:o:redhat:enterprise_linux:9.2:*:*:*:*:*:*:*",
        part="OS",
        vendor="Red Hat",
        product="RHEL",
    )
    assert (record.part, record.vendor, record.product, record.version) == ("o", "Red Hat", "RHEL", "9.2")


def test_component_part_that_contradicts_the_cpe_is_an_error() -> None:
    with pytest.raises(InputError, match="disagrees with the CPE's part") as caught:
        make_component(line=7, file="f.csv", cpe="cpe:2.3:a:x:y:1:*:*:*:*:*:*:*", part="h")
    assert (caught.value.location.line, caught.value.location.field) == (7, "part")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"vendor": "acme", "version": "1"}, "product"),
        ({"product": "x", "part": "firmware"}, "part"),
        ({"cpe": "cpe:2.3:a:x"}, "cpe"),
        ({"purl": "pkg:npm"}, "purl"),
    ],
)
def test_component_errors_name_file_line_and_field(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as caught:
        make_component(line=9, file="ledger.csv", **kwargs)
    assert (caught.value.location.file, caught.value.location.line, caught.value.location.field) == (
        "ledger.csv",
        9,
        field,
    )


def test_component_from_a_form_has_no_line() -> None:
    assert make_component(line=None, file="", product="nginx").line == 0
    with pytest.raises(InputError) as caught:
        make_component(line=None, file="", purl="nope")
    assert str(caught.value).startswith("field purl: ")


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([b"", b"system,cpe,purl,part,product\n", b"\xef\xbb\xbfsystem\n", b"PK\x03\x04"]),
    st.binary(max_size=200),
    st.sampled_from(["csv", "xlsx"]),
)
def test_arbitrary_bytes_give_rows_or_input_errors(prefix: bytes, body: bytes, fmt: str) -> None:
    try:
        rows = read_ledger(prefix + body, f"fuzz.{fmt}", max_bytes=MB, fmt=fmt)
    except (InputError, InputErrors) as error:
        assert f"fuzz.{fmt}" in str(error)
        return
    assert all(row.system.get("system") for row in rows)
