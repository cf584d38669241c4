"""How an issue reads in a chat: the committee card, its buttons, the reporter's receipt.

Every issue text shown passes through :func:`storage.masking.mask_personal_numbers`, and
messages come from the ``issues`` catalogue domain, which escapes the values it is given.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import pack
from handlers.i18n import Messages
from storage.categories import Category, load_catalog
from storage.issue_views import IssueView
from storage.masking import mask_personal_numbers

PREFIX = "iss"
# Parties a card can dispatch to, in button order (town is reached by 吹哨, not by dispatch).
DISPATCH_PARTIES = ("property", "committee", "owners_committee", "urban_management", "police")
# Bodies a rejection can point to ("not_true": 不属实, nobody needs to act).
REJECT_BODIES = (
    "not_true",
    "property",
    "owners_committee",
    "urban_management",
    "police",
    "town",
)
MAX_SHOWN_TEXT = 600
CATEGORY_BUTTONS_PER_ROW = 2


def category(category_id: str) -> Category:
    catalog = load_catalog()
    return catalog.get(category_id if category_id in catalog else "other")


def category_name(category_id: str, _: Messages) -> str:
    return category(category_id).name(_.locale)


def shown_text(text: str) -> str:
    """The report as a chat may show it: numbers masked, very long text shortened."""
    masked = mask_personal_numbers(" ".join(text.split()))
    return masked if len(masked) <= MAX_SHOWN_TEXT else masked[:MAX_SHOWN_TEXT] + "…"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%m-%d %H:%M")


def card_text(view: IssueView, _: Messages, *, tz: ZoneInfo, now: datetime) -> str:
    """The card in the committee chat (and in the assignee's private notice)."""
    cat = category(view.category_id)
    key = "issue.card.header_urgent" if cat.urgent else "issue.card.header"
    lines = [
        _(key, number=view.number, category=cat.name(_.locale)),
        _("issue.card.place", place=view.place),
        _("issue.card.text", text=shown_text(view.text)),
        _("issue.card.state", state=_(f"issue.state.{view.state}")),
    ]
    if view.party and view.state not in ("reported",):
        lines.append(_("issue.card.party", party=_(f"issue.party.{view.party}")))
    if view.due_at is not None:
        due = local_time(view.due_at, tz)
        key = "issue.card.overdue" if view.overdue(now) else "issue.card.due"
        lines.append(_(key, due=due))
    if view.reporters_count > 1:
        lines.append(_("issue.card.reporters", count=view.reporters_count))
    if view.photos:
        lines.append(_("issue.card.photos", count=view.photos))
    if view.escalated:
        lines.append(_("issue.card.escalated"))
    if view.duplicate_of is not None:
        lines.append(_("issue.card.duplicate_of", original=view.duplicate_of))
    if view.rejected_to:
        lines.append(_("issue.card.rejected_to", body=_(f"issue.body.{view.rejected_to}")))
    if view.rating is not None:
        lines.append(_("issue.card.rating", stars="⭐" * view.rating))
    if view.close_reason == "unconfirmed":
        lines.append(_("issue.card.unconfirmed"))
    return "\n".join(lines)


def _button(label: str, verb: str, number: int, *extra: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=pack(PREFIX, verb, number, *extra))


def card_buttons(view: IssueView, _: Messages) -> InlineKeyboardMarkup | None:
    """The buttons that make sense in the issue's state (each press is checked again)."""
    n = view.number
    rows: list[list[InlineKeyboardButton]] = []
    dispatchable = view.state in ("reported", "reopened", "accepted")
    if view.state in ("reported", "reopened"):
        rows.append([_button(_("issue.button.accept"), "acc", n)])
    if dispatchable:
        parties = [
            _button(_(f"issue.button.dispatch.{party}"), "dsp", n, party)
            for party in DISPATCH_PARTIES
        ]
        rows += [parties[:3], parties[3:]]
    rows += _handler_rows(view, _)
    if view.state in ("reported", "reopened", "accepted", "dispatched", "in_progress"):
        row = [] if view.escalated else [_button(_("issue.button.escalate"), "esc", n)]
        if dispatchable:
            row += [
                _button(_("issue.button.duplicate"), "dup", n),
                _button(_("issue.button.reject"), "rej", n),
            ]
        if row:
            rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


def _handler_rows(view: IssueView, _: Messages) -> list[list[InlineKeyboardButton]]:
    """处理中 / 已解决, as far as the state allows."""
    n = view.number
    if view.state in ("dispatched", "accepted", "reopened"):
        return [
            [
                _button(_("issue.button.start"), "prog", n),
                _button(_("issue.button.resolve"), "res", n),
            ]
        ]
    if view.state == "in_progress":
        return [[_button(_("issue.button.resolve"), "res", n)]]
    return []


def handler_buttons(view: IssueView, _: Messages) -> InlineKeyboardMarkup | None:
    """The assignee's buttons only (处理中 / 已解决), for their private notice."""
    rows = _handler_rows(view, _)
    return InlineKeyboardMarkup(rows) if rows else None


def receipt_text(
    view: IssueView,
    _: Messages,
    *,
    tz: ZoneInfo,
    residents_chat: bool,
    unknown_building: str | None = None,
) -> str:
    """What the reporter reads after the row is committed: number, category, deadlines."""
    cat = category(view.category_id)
    lines = [_("issue.receipt.recorded", number=view.number)]
    if residents_chat and cat.sensitive:
        lines.append(_("issue.receipt.sensitive"))
    else:
        lines.append(_("issue.receipt.category", category=cat.name(_.locale)))
    lines.append(_("issue.receipt.place", place=view.place))
    if unknown_building:
        lines.append(_("issue.receipt.unknown_building", building=unknown_building))
    lines.append(
        _(
            "issue.receipt.deadlines",
            respond=local_time(view.respond_due_at, tz),
            resolve=local_time(view.resolve_due_at, tz),
        )
    )
    if cat.urgent:
        lines.append(_("issue.receipt.urgent"))
    return "\n".join(lines)


def receipt_buttons(
    view: IssueView, _: Messages, *, duplicates: tuple[int, ...] = ()
) -> InlineKeyboardMarkup:
    n = view.number
    rows = []
    if duplicates:
        original = duplicates[0]
        rows.append([_button(_("issue.button.join", original=original), "join", n, original)])
        rows.append([_button(_("issue.button.separate"), "sep", n)])
    rows.append([_button(_("issue.button.change_category"), "cat", n)])
    return InlineKeyboardMarkup(rows)


def category_menu(number: int, _: Messages) -> InlineKeyboardMarkup:
    """Every category as a button (two a row), then 返回."""
    buttons = [_button(c.name(_.locale), "setcat", number, c.id) for c in load_catalog().all()]
    rows = [
        buttons[i : i + CATEGORY_BUTTONS_PER_ROW]
        for i in range(0, len(buttons), CATEGORY_BUTTONS_PER_ROW)
    ]
    rows.append([_button(_("issue.button.back"), "back", number)])
    return InlineKeyboardMarkup(rows)


def reject_menu(number: int, _: Messages) -> InlineKeyboardMarkup:
    rows = [[_button(_(f"issue.body.{body}"), "rejto", number, body)] for body in REJECT_BODIES]
    rows.append([_button(_("issue.button.back"), "back", number)])
    return InlineKeyboardMarkup(rows)


def duplicate_menu(number: int, originals: list[int], _: Messages) -> InlineKeyboardMarkup:
    rows = [
        [_button(_("issue.button.same_as", original=o), "dupof", number, o)] for o in originals
    ]
    rows.append([_button(_("issue.button.back"), "back", number)])
    return InlineKeyboardMarkup(rows)


def rating_buttons(number: int, _: Messages) -> InlineKeyboardMarkup:
    stars = [_button(f"{r}⭐", "fix", number, r) for r in range(1, 6)]
    return InlineKeyboardMarkup([stars, [_button(_("issue.button.not_fixed"), "nfix", number)]])


def list_line(view: IssueView, _: Messages, *, tz: ZoneInfo, now: datetime) -> str:
    key = "issue.list.line_overdue" if view.overdue(now) else "issue.list.line"
    due = local_time(view.due_at, tz) if view.due_at else "—"
    return _(
        key,
        number=view.number,
        category=category_name(view.category_id, _),
        place=view.place,
        state=_(f"issue.state.{view.state}"),
        due=due,
    )
