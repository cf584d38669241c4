"""The one error the scoring package raises for bad input, naming where the input went wrong."""

from __future__ import annotations


class ScoringInputError(ValueError):
    """Bad input to the index: says which file, row and column, and what was wrong.

    ``row`` follows the file's own numbering (a spreadsheet's header is row 1, so the first data
    row is row 2; a catalogue's first ``[[indicator]]`` entry is row 1). ``row`` or ``column`` is
    ``None`` when the problem is not tied to one.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "<input>",
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.reason = message
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")
