"""The `govbot` command line, as an administrator uses it to set up a deployment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main

ROSTER = "街镇,居委,小区,房屋类型,户数,楼组\n花木街道,东城居委,阳光小区,商品房,1200,3号楼\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working folder and environment: no .env, no token, a database in tmp."""
    monkeypatch.chdir(tmp_path)
    for name in ("GOVBOT_TOKEN", "GOVBOT_BOT_USERNAME", "GOVBOT_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "govbot.sqlite"
    monkeypatch.setenv("GOVBOT_DATABASE_URL", f"sqlite:///{database}")
    return database


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    commands = ("run", "demo", "chat", "parse", "index", "export", "digest", "db", "units")
    for command in (*commands, "invite", "bind-code", "import"):
        assert re.search(rf"^\s+{command}\s+\S", listed, re.M), command


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "GOVBOT_TOKEN is not set"), ("not-a-token", "does not look like a bot token")],
)
def test_run_refuses_a_missing_or_malformed_token_before_anything_else(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
    expected: str,
) -> None:
    if token:
        monkeypatch.setenv("GOVBOT_TOKEN", token)
    assert main(["run"]) == 2
    error = capsys.readouterr().err.strip()
    assert expected in error
    assert "GOVBOT_TOKEN" in error
    assert len(error.splitlines()) == 1
    assert not env.exists()  # not even the database was touched


def test_bootstrap_import_invite_and_bind_code(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert main(["import", "roster", str(roster)]) == 0
    assert "导入成功" in capsys.readouterr().out

    assert main(["units"]) == 0
    assert "阳光小区 (compound)" in capsys.readouterr().out

    monkeypatch.setenv("GOVBOT_BOT_USERNAME", "huamu_bot")
    assert main(["invite", "居委会", "东城居委"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"https://t\.me/huamu_bot\?start=[\w-]{16}", out)

    assert main(["bind-code", "阳光小区", "residents"]) == 0
    assert re.search(r"/bind [A-Z2-9]{8}", capsys.readouterr().out)


def test_clear_errors_for_unknown_units_roles_and_files(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invite", "committee", "nowhere"]) == 2
    assert "cannot find" in capsys.readouterr().err
    assert main(["invite", "captain", "nowhere"]) == 2
    assert "unknown role" in capsys.readouterr().err
    assert main(["import", "roster", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("街镇,居委,小区,房屋类型\n花木街道,东城居委,阳光小区,别墅\n", encoding="utf-8")
    assert main(["import", "roster", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "第 2 行" in out
    assert "别墅" in out


def test_db_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert env.exists()
    assert "up to date" in capsys.readouterr().out


def test_index_compute_on_the_example_file(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).resolve().parents[2] / "docs/examples/index-values.csv"
    out = tmp_path / "scores.csv"
    assert (
        main(["index", "compute", "--values", str(example), "--out", str(out), "--draws", "50"])
        == 0
    )
    assert "scored 18 compounds" in capsys.readouterr().out
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:4] == ["compound_id", "housing_type", "period", "total"]
    assert header[-3:] == ["rank_in_type", "rank_low", "rank_high"]


def test_index_compute_rejects_bad_input_and_writes_nothing(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tmp_path / "values.csv"
    values.write_text(
        "compound_id,housing_type,indicator_id,period,value\nA,villa,three_meetings,2026-W47,3\n",
        encoding="utf-8",
    )
    out = tmp_path / "scores.csv"
    assert main(["index", "compute", "--values", str(values), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "values.csv" in error
    assert not out.exists()
