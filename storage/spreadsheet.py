"""Reading the spreadsheets community offices actually have: CSV (often GBK from Excel) and XLSX.

Rows come back as dicts keyed by canonical column names, each with its line number in the file,
so an import can report every bad row by the number a person sees in Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from storage.errors import DomainError

# Excel on Chinese Windows saves CSV as GBK (really cp936/GB18030); UTF-8 files may carry a BOM.
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class SheetRow:
    line: int  # 1-based, as Excel numbers it (the header is line 1)
    values: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    columns: frozenset[str]  # the canonical columns the header provides
    rows: list[SheetRow]


def decode_csv_bytes(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError("import.encoding")


def read_sheet(path: Path, aliases: Mapping[str, str]) -> Sheet:
    """Read a CSV or XLSX file; headers are matched (case-insensitive) through ``aliases``.

    ``aliases`` maps every accepted header spelling (Chinese or English) to a canonical name.
    Unknown columns are ignored; blank rows are skipped.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            table = _csv_table(path.read_bytes())
        except csv.Error as exc:  # e.g. a field longer than the csv module allows
            raise DomainError("import.unreadable", name=path.name) from exc
    elif suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(path)
    else:
        raise DomainError("import.file_type", name=path.name)
    return _sheet_from_table(table, aliases)


def _csv_table(data: bytes) -> list[list[str]]:
    text = decode_csv_bytes(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="" as the csv module asks: a lone \r (old Mac line ends) is then a line end.
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _xlsx_table(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DomainError("import.unreadable", name=path.name) from exc
    sheet = workbook.worksheets[0]
    # Offices merge cells (one 居委 name spanning many rows): fill each merged range with its
    # top-left value so every row carries it.
    merged_values: dict[tuple[int, int], object] = {}
    for merged in list(sheet.merged_cells.ranges):
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                merged_values[(row, column)] = value
    table: list[list[str]] = []
    for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            value = merged_values.get((r, c), value)
            cells.append(_cell_text(value))
        table.append(cells)
    workbook.close()
    return table


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_from_table(table: list[list[str]], aliases: Mapping[str, str]) -> Sheet:
    lookup = {k.strip().lower(): v for k, v in aliases.items()}
    header_index = next((i for i, row in enumerate(table) if any(c.strip() for c in row)), None)
    if header_index is None:
        raise DomainError("import.empty")
    header = [lookup.get(h.strip().lower()) for h in table[header_index]]
    rows = []
    for offset, raw in enumerate(table[header_index + 1 :], start=header_index + 2):
        if not any(cell.strip() for cell in raw):
            continue
        values = {name: raw[i].strip() for i, name in enumerate(header) if name and i < len(raw)}
        rows.append(SheetRow(line=offset, values=values))
    return Sheet(columns=frozenset(h for h in header if h), rows=rows)
