"""`govbot chat` driven by scripted input, as a trainer would use it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bot.chat import TerminalChat
from storage.tables import Audience
from tests.harness import Harness

GROUP = -100777


def _script(lines: list[str]) -> Callable[[str], str]:
    answers: Iterator[str] = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    return read


async def test_a_trainer_invites_someone_pressing_buttons_by_number(harness: Harness) -> None:
    output: list[str] = []
    chat = TerminalChat(
        harness, harness.database, _script(["/invite", "3", ":quit"]), output.append
    )
    await chat.run(person="张书记", chat=None)
    shown = "\n".join(output)
    assert "You are 张书记 (committee @ 花木街道/东城居委)" in shown
    assert "要邀请什么角色？" in shown
    assert "[1] 网格员" in shown
    assert "(pressing [3] 居委会)" in shown
    assert "邀请<b>" not in shown  # HTML is shown as plain text
    assert "阳光小区/3号楼" in shown  # the units to choose from, numbered


async def test_choosing_person_and_group_chat_by_number(harness: Harness) -> None:
    harness.bind(GROUP, "sunshine", Audience.RESIDENTS, "阳光小区居民群")
    output: list[str] = []
    script = _script(["nobody", "李阿姨", ":chat", "2", "/lang", ":quit"])
    await TerminalChat(harness, harness.database, script, output.append).run(
        person=None, chat=None
    )
    shown = "\n".join(output)
    assert "nobody called 'nobody'" in shown
    assert "writing in 阳光小区居民群 (residents)" in shown
    assert "请选择语言" in shown


async def test_end_of_input_leaves_quietly(harness: Harness) -> None:
    output: list[str] = []
    await TerminalChat(harness, harness.database, _script([]), output.append).run(
        person="李阿姨", chat="private"
    )
    assert any("writing in private" in line for line in output)
