"""Sending a roster or indicator spreadsheet to the bot in a private chat."""

from __future__ import annotations

from sqlmodel import select

from bot import updates as u
from storage.tables import ImportedIndicator, Unit
from tests.district import COMMITTEE_A, LEADER_A3
from tests.harness import Harness, texts

INDICATORS = (
    "小区,周期,物业费收缴率,是否文明小区\n阳光小区,2026-11,95%,是\n梅园新村,2026-11,0.8,否\n"
)


async def _send_file(harness: Harness, user_id: int, name: str, data: bytes) -> str:
    file_id = f"file-{name}"
    harness.api.add_file(file_id, data)
    document = u.make_document(file_id=file_id, file_name=name, file_size=len(data))
    update = u.make_message_update(
        None, user=harness.user(user_id), chat=harness.private(user_id), document=document
    )
    return texts(await harness.process(update))


async def test_committee_imports_indicators_by_sending_the_file(harness: Harness) -> None:
    reply = await _send_file(harness, COMMITTEE_A, "指标.csv", INDICATORS.encode("gbk"))
    assert "导入成功" in reply
    with harness.database.session() as session:
        rows = session.exec(select(ImportedIndicator)).all()
    assert len(rows) == 4
    assert {r.period for r in rows} == {"2026-W44"}


async def test_a_committee_may_add_compounds_to_its_own_committee_only(harness: Harness) -> None:
    mine = "街镇,居委,小区,房屋类型,楼组\n花木街道,东城居委,新建小区,商品房,1号楼\n"
    reply = await _send_file(harness, COMMITTEE_A, "roster.csv", mine.encode())
    assert "导入成功" in reply
    theirs = "街镇,居委,小区,房屋类型\n花木街道,西城居委,别人的小区,商品房\n"
    reply = await _send_file(harness, COMMITTEE_A, "roster.csv", theirs.encode())
    assert "第 2 行" in reply
    assert "不是您管理的单位" in reply
    with harness.database.session() as session:
        names = set(session.exec(select(Unit.name)).all())
    assert "新建小区" in names
    assert "别人的小区" not in names


async def test_refusals(harness: Harness) -> None:
    reply = await _send_file(harness, LEADER_A3, "指标.csv", INDICATORS.encode())
    assert "没有这个权限" in reply
    reply = await _send_file(harness, COMMITTEE_A, "photo.jpg", b"\xff\xd8")
    assert ".csv" in reply
    broken = "小区,周期,物业费收缴率\n阳光小区,2026,很高\n"
    reply = await _send_file(harness, COMMITTEE_A, "指标.csv", broken.encode())
    assert "导入失败" in reply
    assert "第 2 行" in reply
