"""What every spreadsheet import shares: all rows or none, and a report of every bad row.

An import reads the sheet, checks its columns, runs each row inside the session and collects a
:class:`RowProblem` for every row a rule refused; only if there is none does it commit (with an
audit row). The roster and indicator imports differ only in their columns and their row rule.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from storage.audit import record_audit
from storage.errors import DomainError
from storage.spreadsheet import Sheet, SheetRow, read_sheet


@dataclass(frozen=True)
class RowProblem:
    line: int
    code: str  # a DomainError code, translated by whoever shows the report
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    created: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    seen: dict[tuple[object, ...], int] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def refuse(self, line: int, error: DomainError) -> None:
        self.problems.append(
            RowProblem(line, error.code, {k: str(v) for k, v in error.params.items()})
        )


def open_sheet(
    path: Path,
    aliases: Mapping[str, str],
    report: ImportReport,
    required: Callable[[Sheet], Collection[str]],
) -> Sheet | None:
    """The sheet, or None with the reason in ``report`` (unreadable, columns missing, empty).

    ``required`` gives the columns a sheet must have, from the columns it has.
    """
    try:
        sheet = read_sheet(path, aliases)
    except DomainError as exc:
        report.refuse(0, exc)
        return None
    missing = [c for c in required(sheet) if c not in sheet.columns]
    if missing:
        report.refuse(1, DomainError("import.missing_columns", columns=", ".join(missing)))
        return None
    report.rows = len(sheet.rows)
    if not sheet.rows:
        report.refuse(0, DomainError("import.empty"))
        return None
    return sheet


def apply_rows(
    session: Session,
    sheet: Sheet,
    report: ImportReport,
    import_row: Callable[[SheetRow], None],
    *,
    now: datetime,
    actor_member_id: int | None,
    action: str,
    entity: str,
    detail: Mapping[str, Any],
) -> ImportReport:
    """Run every row; commit with an audit row if none was refused, else roll everything back."""
    for row in sheet.rows:
        try:
            import_row(row)
        except DomainError as exc:
            report.refuse(row.line, exc)
    if report.problems:
        session.rollback()
        report.created = {}
        return report
    record_audit(
        session,
        at=now,
        actor_member_id=actor_member_id,
        action=action,
        entity=entity,
        entity_id=None,
        detail={**detail, "created": report.created},
    )
    session.commit()
    return report
