"""`govbot digest --week --out`: every digest of a week rendered to a folder, nothing sent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage.db import Database
from storage.tables import OutboxMessage, ScoreSnapshot
from tests.digest_seed import seed_records
from tests.district import District


def test_digest_renders_every_audience_to_files(
    database: Database,
    district: District,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    units = district.units
    with database.session() as session:
        seed_records(
            session,
            district,
            compounds=[units["sunshine"], units["plum"], units["west"]],
            buildings={},
            last_week_monday=date(2026, 11, 9),
            weeks=4,
        )
    monkeypatch.setenv("GOVBOT_DATABASE_URL", str(database.engine.url))
    out = tmp_path / "digests"

    assert main(["digest", "--week", "2026-W46", "--out", str(out)]) == 0

    names = sorted(p.name for p in out.iterdir())
    assert any(n.startswith("town-花木街道") and n.endswith(".txt") for n in names)
    assert any(n.startswith("committee-东城居委") and n.endswith("-trend.png") for n in names)
    assert any(n.startswith("residents-阳光小区") and n.endswith("-dimensions.png") for n in names)
    residents = next(out.glob("residents-阳光小区-*.txt")).read_text("utf-8")
    assert "社区治理周报" in residents
    assert "files written" in capsys.readouterr().out
    with database.session() as session:
        assert session.exec(select(OutboxMessage)).all() == []  # nothing queued, nothing sent
        assert len(session.exec(select(ScoreSnapshot)).all()) == 3


def test_digest_refuses_a_malformed_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert main(["digest", "--week", "47", "--out", str(tmp_path)]) == 2
    assert "2026-W47" in capsys.readouterr().err
