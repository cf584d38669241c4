"""A shortened demo, end to end: a small district, two weeks, through the real handlers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bot.demo.run import run_demo


async def test_a_small_two_week_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = await run_demo(out, size="small", weeks=2, seed=7, progress=False)
    summary = result.summary()
    assert "2 weeks" in summary
    assert "took" in summary
    assert result.tally.reports > 0
    assert result.tally.dispatched > 0
    assert result.tally.activities > 0
    assert result.tally.checkins > 0
    assert len(result.chats.residents) == 4
    for name in ("roster.csv", "govbot.sqlite", "ledger.xlsx"):
        assert (out / name).exists(), name
    sheets = pd.read_excel(out / "ledger.xlsx", sheet_name=None)
    assert len(sheets["事项"]) == result.tally.reports
    assert "13912345678" not in sheets["事项"].to_string()  # phone numbers stay masked
