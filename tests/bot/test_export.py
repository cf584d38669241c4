"""The ledger export: /export in private and `govbot export ledger`, with Chinese headers."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from bot.cli import main
from tests.district import COMMITTEE_A, COMMITTEE_B, LEADER_A3, RESIDENT_A
from tests.harness import Harness, buttons, texts


async def _record_work(harness: Harness) -> None:
    """A report with a phone number in it, and a confirmed volunteer activity."""
    await harness.send("#报事 3号楼楼道堆物，联系13812345678", user_id=LEADER_A3)
    sent = await harness.send("#志愿 今天组织10名志愿者清理3号楼楼道，共2小时", user_id=LEADER_A3)
    confirm = next(d for call in sent for label, d in buttons(call) if "确认" in label)
    await harness.press(confirm, user_id=LEADER_A3, message_id=sent[-1].message_id)


def _workbook(harness: Harness, chat_id: int) -> dict[str, pd.DataFrame]:
    document = harness.api.last(chat_id)
    assert document.method == "sendDocument"
    return pd.read_excel(io.BytesIO(document.files[0].data), sheet_name=None)


async def test_committee_exports_the_ledger_of_their_committee(harness: Harness) -> None:
    await _record_work(harness)
    sent = await harness.send("/export", user_id=COMMITTEE_A)
    assert "台账" in texts(sent)
    sheets = _workbook(harness, COMMITTEE_A)
    assert list(sheets) == ["事项", "事项处理记录", "活动记录", "治理指数", "指标明细"]
    issues = sheets["事项"]
    assert issues.loc[0, "小区"] == "花木街道/东城居委/阳光小区"
    assert issues.loc[0, "楼组"] == "3号楼"
    assert "138****5678" in issues.loc[0, "内容"]  # phone numbers stay masked
    assert "13812345678" not in issues.to_string()
    activities = sheets["活动记录"]
    assert activities.loc[0, "类型"] == "志愿服务"
    assert activities.loc[0, "总人时"] == 20
    assert activities.loc[0, "确认状态"] == "已确认"


async def test_export_is_refused_or_empty_where_it_should_be(harness: Harness) -> None:
    await _record_work(harness)
    sent = await harness.send("/export", user_id=COMMITTEE_B)  # the other committee: nothing
    assert "没有可导出" in texts(sent)
    sent = await harness.send("/export", user_id=RESIDENT_A)
    assert "没有这个权限" in texts(sent)
    sent = await harness.send("/export", user_id=COMMITTEE_A, chat=harness.group(-100555))
    assert "私聊" in texts(sent)


async def test_english_headers_for_an_english_speaker(harness: Harness) -> None:
    await _record_work(harness)
    await harness.send("/lang en", user_id=COMMITTEE_A)
    await harness.send("/export", user_id=COMMITTEE_A)
    sheets = _workbook(harness, COMMITTEE_A)
    assert "Issues" in sheets
    assert "Reported" in sheets["Issues"].columns


async def test_cli_export(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _record_work(harness)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOVBOT_DATABASE_URL", harness.database.url)
    out = tmp_path / "ledger.xlsx"
    assert main(["export", "ledger", "--out", str(out), "--unit", "阳光小区"]) == 0
    sheets = pd.read_excel(out, sheet_name=None)
    assert len(sheets["事项"]) == 1
    assert main(["export", "ledger", "--out", str(out), "--unit", "西城花苑"]) == 1


async def test_control_characters_a_phone_keyboard_typed_do_not_break_the_export(
    harness: Harness,
) -> None:
    """Excel files cannot hold most control characters; a report carrying one (a vertical tab
    from a phone keyboard, a stray escape) must not make /export fail for the whole committee."""
    await harness.send("#报事 3号楼\x0b楼道堆物\x1b[0m 请处理", user_id=LEADER_A3)
    await harness.send("/log 志愿\x01 10人清理\x08楼道 2小时", user_id=LEADER_A3)
    await harness.send("#会议\x02 \x0c楼组长会议 8人", user_id=LEADER_A3)
    sent = await harness.send("/export", user_id=COMMITTEE_A)
    assert "台账" in texts(sent)
    issues = _workbook(harness, COMMITTEE_A)["事项"]
    assert "楼道堆物" in issues.loc[0, "内容"]
    assert "\x0b" not in issues.loc[0, "内容"]
