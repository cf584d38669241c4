"""Every issue button × every role of the test district, in scope and out of scope.

Any group member can press any button, so each press must check the presser's role for the
issue's unit: allowed presses change the issue, refused ones get a polite pop-up and change
nothing.
"""

from __future__ import annotations

import itertools

from storage.issue_states import Actor
from storage.issues import ReportOutcome, dispatch_issue, report_issue, resolve_issue
from storage.tables import Issue
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, bind_test_chats
from tests.district import (
    ADMIN,
    COMMITTEE_A,
    COMMITTEE_B,
    GRID_A,
    LEADER_A3,
    LEADER_B1,
    OWNERS_A,
    PARTY_A,
    PROPERTY_A,
    RESIDENT_A,
    STRANGER,
    TOWN_OFFICER,
    VOLUNTEER_A,
)
from tests.harness import Harness, texts

EVERYONE = (
    ADMIN,
    TOWN_OFFICER,
    COMMITTEE_A,
    COMMITTEE_B,
    LEADER_A3,
    LEADER_B1,
    GRID_A,
    PROPERTY_A,
    OWNERS_A,
    VOLUNTEER_A,
    PARTY_A,
    RESIDENT_A,
    STRANGER,
)
DISPATCHERS_A = {ADMIN, TOWN_OFFICER, COMMITTEE_A}
DISPATCHERS_B = {ADMIN, TOWN_OFFICER, COMMITTEE_B}
_messages = itertools.count(10_000)


def _actor(harness: Harness, user_id: int) -> Actor:
    return Actor(member_id=harness.district.members.get(user_id), user_id=user_id)


def _new_issue(harness: Harness, *, west: bool = False, state: str = "reported") -> int:
    """An issue in 阳光小区/3号楼 (reported by LEADER_A3) or 西城花苑/1号楼 (by LEADER_B1)."""
    reporter = LEADER_B1 if west else LEADER_A3
    chat = LEADER_B1 if west else RESIDENTS_CHAT
    now = harness.clock.now()
    with harness.database.session() as session:
        outcome = report_issue(
            session,
            actor=_actor(harness, reporter),
            chat_id=chat,
            message_id=next(_messages),
            text="1号楼楼道堆物" if west else "3号楼楼道堆物",
            category_id="corridor_clutter",
            building_ref="1号楼" if west else "3号楼",
            now=now,
        )
        assert isinstance(outcome, ReportOutcome)
        number = outcome.issue.number
        staff = _actor(harness, ADMIN)
        if state in ("dispatched", "resolved"):
            dispatch_issue(session, issue_id=number, party="property", actor=staff, now=now)
        if state == "resolved":
            resolve_issue(session, issue_id=number, actor=staff, now=now)
    return number


def _state(harness: Harness, number: int) -> Issue:
    with harness.database.session() as session:
        issue = session.get(Issue, number)
        assert issue is not None
        return issue


# button data (with {n} for the issue number), the state the issue starts in, who may press.
BUTTONS: list[tuple[str, str, set[int]]] = [
    ("iss:acc:{n}", "reported", DISPATCHERS_A),
    ("iss:dsp:{n}:property", "reported", DISPATCHERS_A),
    ("iss:dsp:{n}:police", "reported", DISPATCHERS_A),
    ("iss:esc:{n}", "reported", DISPATCHERS_A),
    ("iss:rej:{n}", "reported", DISPATCHERS_A),
    ("iss:rejto:{n}:urban_management", "reported", DISPATCHERS_A),
    # The reporter may link their own report to an earlier one (the "same as #N?" join).
    ("iss:dup:{n}", "reported", DISPATCHERS_A | {LEADER_A3}),
    ("iss:cat:{n}", "reported", DISPATCHERS_A | {LEADER_A3}),
    ("iss:setcat:{n}:noise", "reported", DISPATCHERS_A | {LEADER_A3}),
    ("iss:prog:{n}", "dispatched", DISPATCHERS_A | {PROPERTY_A}),
    ("iss:res:{n}", "dispatched", DISPATCHERS_A | {PROPERTY_A}),
    ("iss:fix:{n}:4", "resolved", {LEADER_A3}),
    ("iss:nfix:{n}", "resolved", {LEADER_A3}),
]


async def test_button_permission_matrix(harness: Harness) -> None:
    """One test, not one per button: each would rebuild the Application and the district."""
    bind_test_chats(harness)
    failures = []
    for data, state, allowed in BUTTONS:
        number = _new_issue(harness, state=state)
        for user_id in EVERYONE:
            before = _state(harness, number)
            sent = await harness.press(
                data.format(n=number), user_id=user_id, chat=harness.group(COMMITTEE_CHAT)
            )
            after = _state(harness, number)
            refused = "没有这个权限" in texts(sent)
            if refused != (user_id not in allowed):
                failures.append((data, user_id, "refused" if refused else "allowed"))
            unchanged = (after.state, after.category_id, after.escalated_at) == (
                before.state,
                before.category_id,
                before.escalated_at,
            )
            if refused and not unchanged:
                failures.append((data, user_id, "changed although refused"))
            if not refused:  # the next presser gets an issue in the starting state again
                number = _new_issue(harness, state=state)
    assert failures == []


async def test_out_of_scope_is_refused(harness: Harness) -> None:
    """Committee A's people may not touch committee B's issue; committee B may."""
    bind_test_chats(harness)
    failures = []
    for data, state in (
        ("iss:acc:{n}", "reported"),
        ("iss:dsp:{n}:property", "reported"),
        ("iss:res:{n}", "dispatched"),
    ):
        for user_id in (COMMITTEE_A, PROPERTY_A, GRID_A, COMMITTEE_B):
            number = _new_issue(harness, west=True, state=state)
            sent = await harness.press(data.format(n=number), user_id=user_id)
            refused = "没有这个权限" in texts(sent)
            if refused != (user_id not in DISPATCHERS_B):
                failures.append((data, user_id, "refused" if refused else "allowed"))
    assert failures == []
