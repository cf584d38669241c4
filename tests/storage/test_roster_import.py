"""Importing the org tree from the spreadsheets offices actually keep."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import func, select

from storage.db import Database
from storage.org import tree_lines
from storage.roster_import import import_roster_file
from storage.tables import GridCompound, Unit

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
HEADER = "街镇,居委,小区,房屋类型,户数,人口,楼组,网格,标签"
GOOD_ROWS = [
    "花木街道,东城居委,阳光小区,商品房,1200,3400,1号楼,东城一网格,inner_city;school_district",
    "花木街道,东城居委,阳光小区,商品房,1200,3400,3号楼,东城一网格,",
    "花木街道,东城居委,梅园新村,老旧公房,800,2100,12号楼,,",
    "花木街道,西城居委,西城花苑,动迁房,950,2600,,,far_suburb",
]


def _write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


def _unit_count(database: Database) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(Unit)).one()


def test_utf8_csv_builds_the_tree(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "roster.csv", [HEADER, *GOOD_ROWS])
    with database.session() as session:
        report = import_roster_file(session, path=path, now=NOW)
        assert report.ok
        assert report.created == {
            "town": 1, "committee": 2, "compound": 3, "building": 3, "grid": 1,
        }  # fmt: skip
        lines = tree_lines(session)
        sunshine = session.exec(select(Unit).where(Unit.name == "阳光小区")).one()
        assert sunshine.housing_type == "commercial"
        assert sunshine.households == 1200
        assert sunshine.tags == "inner_city;school_district"
        assert len(session.exec(select(GridCompound)).all()) == 1
    assert any("阳光小区 (compound) [commercial, 1200 households]" in line for line in lines)


def test_gbk_csv_from_excel_is_read(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "roster.csv", [HEADER, *GOOD_ROWS], encoding="gbk")
    with database.session() as session:
        report = import_roster_file(session, path=path, now=NOW)
    assert report.ok
    assert _unit_count(database) == 10


def test_importing_the_same_file_twice_changes_nothing(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "roster.csv", [HEADER, *GOOD_ROWS])
    with database.session() as session:
        import_roster_file(session, path=path, now=NOW)
    with database.session() as session:
        again = import_roster_file(session, path=path, now=NOW)
    assert again.ok
    assert again.created == {}
    assert _unit_count(database) == 10


def test_english_headers_and_blank_rows(database: Database, tmp_path: Path) -> None:
    lines = [
        "town,committee,compound,housing_type,households,residents,building",
        "Huamu,East,Sunshine,commercial,1200,3400,B1",
        ",,,,,,",
        "Huamu,East,Sunshine,commercial,1200,3400,B3",
    ]
    with database.session() as session:
        report = import_roster_file(session, path=_write(tmp_path, "r.csv", lines), now=NOW)
    assert report.ok
    assert report.rows == 2


def test_bad_rows_are_all_reported_and_nothing_is_saved(
    database: Database, tmp_path: Path
) -> None:
    lines = [
        HEADER,
        GOOD_ROWS[0],
        "花木街道,东城居委,梅园新村,别墅,800,2100,12号楼,,",  # line 3: unknown housing type
        "花木街道,东城居委,梅园新村,老旧公房,八百,2100,12号楼,,",  # line 4: not a number
        "花木街道,,梅园新村,老旧公房,800,2100,12号楼,,",  # line 5: no committee
        GOOD_ROWS[0],  # line 6: duplicates line 2
        "花木街道,东城居委,梅园新村,老旧公房,８００²,2100,12号楼,,",  # line 7: ² is no number
        "花木街道,东城居委,梅园新村,老旧公房," + "9" * 30 + ",2100,12号楼,,",  # line 8: too large
    ]
    with database.session() as session:
        report = import_roster_file(session, path=_write(tmp_path, "r.csv", lines), now=NOW)
    assert not report.ok
    assert [(p.line, p.code) for p in report.problems] == [
        (3, "import.bad_housing"),
        (4, "import.bad_number"),
        (5, "import.missing_value"),
        (6, "import.duplicate_row"),
        (7, "import.bad_number"),
        (8, "import.bad_number"),
    ]
    assert _unit_count(database) == 0  # the good row was not committed either


def test_missing_columns_are_named(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "r.csv", ["街镇,小区,户数", "花木街道,阳光小区,1200"])
    with database.session() as session:
        report = import_roster_file(session, path=path, now=NOW)
    assert [(p.code, p.params) for p in report.problems] == [
        ("import.missing_columns", {"columns": "committee, housing"})
    ]


def test_xlsx_with_merged_cells(database: Database, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    for row in GOOD_ROWS[:3]:
        sheet.append([int(c) if c.isdigit() else c for c in row.split(",")])
    # The office merged the 街镇 and 居委 cells down the first three rows.
    sheet["A3"] = None
    sheet["A4"] = None
    sheet["B3"] = None
    sheet["B4"] = None
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("B2:B4")
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    with database.session() as session:
        report = import_roster_file(session, path=path, now=NOW)
    assert report.ok, report.problems
    assert report.created["compound"] == 2


def test_unsupported_and_empty_files(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        other = import_roster_file(session, path=_write(tmp_path, "r.txt", ["x"]), now=NOW)
        empty = import_roster_file(session, path=_write(tmp_path, "e.csv", [HEADER]), now=NOW)
    assert [p.code for p in other.problems] == ["import.file_type"]
    assert [p.code for p in empty.problems] == ["import.empty"]
