"""`govbot parse`: how the bot reads a message, from the command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GOVBOT_LOCALE", "GOVBOT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def test_json_has_every_field_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", "#会议 听证会 停车收费方案 到会32人 通过"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data)[:3] == ["kind", "activity_type", "meeting_type"]
    assert data["kind"] == "activity"
    assert data["meeting_type"] == "hearing"
    assert data["participants"] == 32
    assert data["decision"] == "passed"
    assert data["topic"] == "停车收费方案"
    assert data["date"] == datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_json_keeps_chinese_readable_and_words_may_be_separate_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["parse", "--json", "#走访", "2026-11-03", "走访独居老人6户"]) == 0
    raw = capsys.readouterr().out
    assert "独居老人" in raw  # ensure_ascii=False
    data = json.loads(raw)
    assert data["households"] == 6
    assert data["date"] == "2026-11-03"


def test_plain_output_is_for_a_person(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "#志愿 今天组织10名志愿者清理3号楼楼道，共2小时"]) == 0
    text = capsys.readouterr().out
    assert "志愿服务" in text
    assert "总人时：20" in text
    assert "楼栋：3号楼" in text


def test_english_locale_and_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVBOT_LOCALE", "en")
    assert main(["parse", "#volunteer -3 people 500 hours"]) == 0
    text = capsys.readouterr().out
    assert "a negative count" in text
    assert "implausible hours" in text
