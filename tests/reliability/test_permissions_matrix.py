"""Item 8: every command and button × every role × in scope / out of scope / stranger /
anonymous group admin → allowed or refused, written out by hand; a revoked role is refused at
once.

The district (tests/district.py) has committee A (东城居委: 阳光小区, 梅园新村) and committee B
(西城居委: 西城花苑). "In scope" rows act on 阳光小区 and committee A's chats, "out of scope"
rows on 西城花苑 and committee B's: the expected sets below say who may, and everyone else
(including the stranger and, in groups, the anonymous admin) must be refused — and a refusal
must change nothing in the database.

The issue buttons' own matrix (13 buttons × 13 people, and out of scope) is
tests/handlers/test_issues_permissions.py; the rows here add the other buttons. Button presses
have no anonymous-admin column: Telegram always names the real presser of a button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from bot.offline import SentCall
from storage.roster import revoke_role
from storage.tables import Activity, RoleGrant
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT
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
from tests.reliability.support import (
    GROUP_ANONYMOUS_BOT,
    WEST_COMMITTEE_CHAT,
    WEST_RESIDENTS_CHAT,
    bind,
    bind_all,
    group,
    refused,
    send_as,
    send_file,
)

ANON = GROUP_ANONYMOUS_BOT
PEOPLE = frozenset(
    {ADMIN, TOWN_OFFICER, COMMITTEE_A, COMMITTEE_B, LEADER_A3, LEADER_B1, GRID_A,
     PROPERTY_A, OWNERS_A, VOLUNTEER_A, PARTY_A, RESIDENT_A, STRANGER}
)  # fmt: skip
MEMBERS = PEOPLE - {STRANGER}
EVERYONE_IN_A_GROUP = PEOPLE | {ANON}
STAFF_A = frozenset({ADMIN, TOWN_OFFICER, COMMITTEE_A})
STAFF_B = frozenset({ADMIN, TOWN_OFFICER, COMMITTEE_B})


@dataclass(frozen=True)
class Row:
    """One command (or button) as one actor would send it, and who may."""

    name: str
    text: str  # a command/message; "press:" + data for a button; "file:" + CSV for an upload
    allowed: frozenset[int]
    chat: int | None = None  # None: each actor's private chat
    # Some allowed actions use up their target; put it back before the next actor.
    restore: Callable[[Harness], None] | None = field(default=None, compare=False)


def _rebind(chat_id: int) -> Callable[[Harness], None]:
    return lambda harness: bind(harness, chat_id)


ROSTER_A = "街镇,居委,小区,房屋类型,楼组\n花木街道,东城居委,阳光小区,商品房,9号楼\n"
ROSTER_B = "街镇,居委,小区,房屋类型,楼组\n花木街道,西城居委,西城花苑,动迁房,9号楼\n"
LOG_TEXT = "#志愿 今天清理楼道 5人2小时"

# Written out by hand from DESIGN.md §3 and storage/permissions.py's ACTION_ROLES.
COMMANDS: list[Row] = [
    Row("help", "/help", MEMBERS),
    Row("help in a group", "/help", MEMBERS, RESIDENTS_CHAT),
    Row("privacy", "/privacy", PEOPLE),
    Row("invite, in scope", "/invite resident 阳光小区/3号楼", STAFF_A),
    Row("invite, out of scope", "/invite resident 西城花苑/1号楼", STAFF_B),
    Row("invite buttons", "/invite", STAFF_A | {COMMITTEE_B}),
    Row("bind code, in scope", "/bind 阳光小区 居民群", STAFF_A),
    Row("bind code, out of scope", "/bind 西城花苑 居民群", STAFF_B),
    Row("unbind, in scope", "/unbind", STAFF_A, RESIDENTS_CHAT, _rebind(RESIDENTS_CHAT)),
    Row(
        "unbind, out of scope",
        "/unbind",
        STAFF_B,
        WEST_RESIDENTS_CHAT,
        _rebind(WEST_RESIDENTS_CHAT),
    ),
    # In a bound residents chat anyone present may report (DESIGN §3.1); elsewhere a worker
    # role covering the place is needed.
    Row("report in a residents chat", "#报事 3号楼楼道堆物", EVERYONE_IN_A_GROUP, RESIDENTS_CHAT),
    Row(
        "report, in scope",
        "#报事 3号楼楼道堆物",
        STAFF_A | {LEADER_A3, GRID_A, PROPERTY_A, OWNERS_A},
        COMMITTEE_CHAT,
    ),
    Row("report, out of scope", "#报事 1号楼楼道堆物", STAFF_B | {LEADER_B1}, WEST_COMMITTEE_CHAT),
    Row("issues", "/issues", MEMBERS - {VOLUNTEER_A, PARTY_A, RESIDENT_A}),
    Row(
        "issues in a committee chat",
        "/issues",
        MEMBERS - {VOLUNTEER_A, PARTY_A, RESIDENT_A},
        COMMITTEE_CHAT,
    ),
    Row("issues never in a residents chat", "/issues", frozenset(), RESIDENTS_CHAT),
    Row(
        "issue, in scope", "/issue {issue_a}", STAFF_A | {LEADER_A3, GRID_A, PROPERTY_A, OWNERS_A}
    ),
    Row("issue, out of scope", "/issue {issue_b}", STAFF_B | {LEADER_B1}),
    Row("log", "/log 今天3号楼志愿清理楼道 5人2小时", MEMBERS - {PROPERTY_A, RESIDENT_A}),
    Row(
        "log, in scope",
        LOG_TEXT,
        STAFF_A | {LEADER_A3, GRID_A, OWNERS_A, VOLUNTEER_A, PARTY_A},
        RESIDENTS_CHAT,
    ),
    Row("log, out of scope", LOG_TEXT, STAFF_B | {LEADER_B1}, WEST_RESIDENTS_CHAT),
    Row("checkin", "/checkin", frozenset({LEADER_A3, LEADER_B1})),
    # VIEW_INDEX is every role (ACTION_ROLES), over the compound they belong to.
    Row("index, in scope", "/index 阳光小区", MEMBERS - {COMMITTEE_B, LEADER_B1}),
    Row("index, out of scope", "/index 西城花苑", STAFF_B | {LEADER_B1}),
    Row("digest preview", "/digest", STAFF_A | {COMMITTEE_B}),
    Row("digest preview, in scope", "/digest", STAFF_A, COMMITTEE_CHAT),
    Row("digest preview, out of scope", "/digest", STAFF_B, WEST_COMMITTEE_CHAT),
    Row("export", "/export", STAFF_A | {COMMITTEE_B}),
    Row("import, in scope", "file:" + ROSTER_A, frozenset({ADMIN, COMMITTEE_A})),
    Row("import, out of scope", "file:" + ROSTER_B, frozenset({ADMIN, COMMITTEE_B})),
]

BUTTONS: list[Row] = [
    Row("check-in button, in scope", "press:chk:ok:{sunshine_3}", STAFF_A | {LEADER_A3}),
    Row("check-in button, out of scope", "press:chk:ok:{west_1}", STAFF_B | {LEADER_B1}),
    Row("invite unit button, in scope", "press:invu:resident:{sunshine_3}", STAFF_A),
    Row("invite unit button, out of scope", "press:invu:resident:{west_1}", STAFF_B),
    # The recorder (here: LEADER_A3) or the committee over the place may confirm an activity.
    Row("activity confirm, in scope", "press:act:ok:{activity_a}", STAFF_A | {LEADER_A3}),
    Row("activity confirm, out of scope", "press:act:ok:{activity_b}", STAFF_B | {LEADER_B1}),
    Row("activity discard", "press:act:no:{activity_a}", STAFF_A | {LEADER_A3}),
]


def _snapshot(harness: Harness) -> dict[str, object]:
    """Everything a refused action must leave alone: row counts, states, bindings, grants."""
    with harness.database.read_session() as session:
        tables = [
            t
            for (t,) in session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            # Which messages were answered is bookkeeping against replays: a refusal is
            # answered too, and noted so that a replay is not answered twice.
            if t != "processed_message"
        ]
        state: dict[str, object] = {
            t: session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables
        }
        for query in (
            "SELECT id, state, category_id, escalated_at FROM issue",
            "SELECT id, status FROM activity",
            "SELECT chat_id, active FROM chat_binding",
            "SELECT building_id, week, status FROM checkin",
        ):
            state[query] = sorted(map(tuple, session.execute(text(query)).all()))
        return state


async def _seed(harness: Harness) -> dict[str, int]:
    """Bound chats, an issue and an activity on each side, and unit ids for button data."""
    bind_all(harness)
    ids = dict(harness.district.units)
    a = await harness.send("#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=group(COMMITTEE_CHAT))
    b = await harness.send("#报事 1号楼漏水", user_id=LEADER_B1, chat=group(WEST_COMMITTEE_CHAT))
    assert not refused(a)
    assert not refused(b)
    with harness.database.read_session() as session:
        numbers = session.execute(text("SELECT id, compound_id FROM issue ORDER BY id")).all()
    ids["issue_a"] = next(n for n, c in numbers if c == ids["sunshine"])
    ids["issue_b"] = next(n for n, c in numbers if c == ids["west"])
    return ids


async def _fresh_activity(harness: Harness, user_id: int, chat_id: int) -> int:
    await harness.send(LOG_TEXT, user_id=user_id, chat=group(chat_id))
    with harness.database.read_session() as session:
        activity = session.exec(select(Activity).order_by(Activity.id.desc())).first()  # type: ignore[union-attr]
        assert activity is not None
        return activity.id or 0


async def _act(harness: Harness, row: Row, user_id: int, ids: dict[str, int]) -> list[SentCall]:
    if row.text.startswith("file:"):
        return await send_file(harness, user_id, "roster.csv", row.text[5:].encode())
    if row.text.startswith("press:"):
        data = row.text[6:].format(**ids)
        return await harness.press(data, user_id=user_id)
    return await send_as(harness, row.text.format(**ids), user_id=user_id, chat_id=row.chat)


async def _check(harness: Harness, row: Row, ids: dict[str, int]) -> list[tuple[str, int, str]]:
    failures: list[tuple[str, int, str]] = []
    actors = EVERYONE_IN_A_GROUP if row.chat is not None else PEOPLE
    for user_id in sorted(actors):
        if "{activity_a}" in row.text:
            ids["activity_a"] = await _fresh_activity(harness, LEADER_A3, RESIDENTS_CHAT)
        if "{activity_b}" in row.text:
            ids["activity_b"] = await _fresh_activity(harness, LEADER_B1, WEST_RESIDENTS_CHAT)
        harness.clock.advance(timedelta(seconds=1))
        before = _snapshot(harness)
        sent = await _act(harness, row, user_id, ids)
        was_refused = refused(sent)
        if not sent:
            failures.append((row.name, user_id, "no answer at all"))
        elif was_refused == (user_id in row.allowed):
            outcome = "refused" if was_refused else "allowed"
            failures.append((row.name, user_id, f"{outcome}: {texts(sent)[:60]}"))
        elif was_refused and _snapshot(harness) != before:
            failures.append((row.name, user_id, "changed something although refused"))
        if not was_refused and row.restore is not None:
            row.restore(harness)
    return failures


async def test_every_command_by_every_role(harness: Harness) -> None:
    """One Application for the whole table: rebuilding it per row would triple the time."""
    ids = await _seed(harness)
    failures = []
    for row in COMMANDS:
        failures += await _check(harness, row, ids)
    assert failures == []


async def test_every_button_by_every_role(harness: Harness) -> None:
    ids = await _seed(harness)
    failures = []
    for row in BUTTONS:
        failures += await _check(harness, row, ids)
    assert failures == []


async def test_a_revoked_role_is_refused_at_once(harness: Harness) -> None:
    ids = await _seed(harness)
    assert not refused(await harness.send("/issues", user_id=COMMITTEE_A))
    with harness.database.session() as session:
        grant = session.exec(
            select(RoleGrant).where(RoleGrant.member_id == harness.district.members[COMMITTEE_A])
        ).one()
        revoke_role(session, grant_id=grant.id or 0, revoked_by=None, now=harness.clock.now())
    before = _snapshot(harness)
    for attempt in (
        harness.send("/issues", user_id=COMMITTEE_A),
        harness.send("/export", user_id=COMMITTEE_A),
        harness.send("/invite resident 阳光小区/3号楼", user_id=COMMITTEE_A),
        harness.send("#报事 3号楼漏水", user_id=COMMITTEE_A, chat=group(COMMITTEE_CHAT)),
        harness.press(f"iss:acc:{ids['issue_a']}", user_id=COMMITTEE_A),
        harness.press(f"invu:resident:{ids['sunshine_3']}", user_id=COMMITTEE_A),
    ):
        sent: list[SentCall] = await attempt
        assert refused(sent), texts(sent)
    assert _snapshot(harness) == before


def matrix_size() -> int:
    """Cells in the matrix (for docs/reliability.md)."""
    rows = [*COMMANDS, *BUTTONS]
    return sum(len(EVERYONE_IN_A_GROUP if r.chat else PEOPLE) for r in rows)
