"""Every message the issue handlers use exists in Chinese and English, placeholders matching."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from handlers.i18n import catalogue
from handlers.issue_render import DISPATCH_PARTIES, REJECT_BODIES
from storage.issue_states import PARTY_ROLES, TRANSITIONS, State

HANDLERS = Path(__file__).parents[2] / "handlers"
LITERAL = re.compile(r"""_\(\s*"([a-z_.]+)"|"(issue\.[a-z_.]+|error\.issue\.[a-z_.]+)\"""")
# Keys built at run time from these vocabularies.
DYNAMIC = (
    [f"issue.state.{s.value}" for s in State]
    + [f"issue.party.{p}" for p in PARTY_ROLES]
    + [f"issue.body.{b}" for b in (*REJECT_BODIES, *PARTY_ROLES)]
    + [f"issue.button.dispatch.{p}" for p in DISPATCH_PARTIES]
    + [
        f"issue.event.{a}"
        for a in (*TRANSITIONS, "report", "joined", "reminder", "overdue", "auto_escalate")
    ]
    + [f"issue.phase.{p}" for p in ("respond", "resolve", "confirm")]
    + [f"issue.alert.{k}" for k in ("reminder", "overdue", "escalation")]
    + [f"issue.attached.{k}" for k in ("photo_before", "photo_after", "location")]
    + [
        f"error.issue.{c}"
        for c in (
            "not_on_roster",
            "chat_not_compound",
            "empty",
            "unknown_category",
            "unknown",
            "bad_transition",
            "unknown_party",
            "duplicate_of_itself",
            "original_finished",
            "not_same_place",
            "bad_rating",
        )
    ]
)


def used_ids() -> set[str]:
    ids = set(DYNAMIC)
    for path in [*HANDLERS.glob("issue*.py")]:
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            ids.add(match.group(1) or match.group(2))
    # "issue.party" / "issue.body" appear as prefixes of keys built in the handlers.
    return ids - {"issue.party", "issue.body"}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_issue_message_is_translated(locale: str) -> None:
    messages = catalogue(locale)
    missing = sorted(i for i in used_ids() if i not in messages)
    assert missing == []


def test_placeholders_match_between_languages() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    differ = [i for i in used_ids() if fields(zh[i]) != fields(en[i])]
    assert differ == []
