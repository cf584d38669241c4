"""Turn the week's digests and alerts into outbox messages, one per bound chat.

Charts are written under ``<media>/<week>/`` and queued by path (the outbox keeps files out of
the database). A chat's digest is rendered once per (audience, what it shows): a building's
residents chat shows its compound's digest, so fifty building groups of one compound share one
rendering and one PNG file. The week's charts are then drawn together, each once, in worker
processes (``ChartCache.draw_all``). Blocking: call from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from bot.digest.alerting import alert_cause_week
from bot.digest.charts import ChartCache
from bot.digest.gather import DigestWeek, alert_view
from bot.digest.render import Digest, alert_text, render_digest
from handlers.i18n import Messages
from storage.outbox import OutboxPart, QueuedMessage, photo_part, text_part
from storage.tables import Alert, Audience, ChatBinding, UnitKind

DIGEST_KIND = "digest"
ALERT_KIND = "alert"
_ADVICE = {
    "complaint_spike": "digest.alert.spike_advice",
    "index_drop": "digest.alert.index_drop_advice",
    "bottom_decile": "digest.alert.index_drop_advice",
}


@dataclass(frozen=True)
class ChatTarget:
    chat_id: int
    unit_id: int
    audience: str


def active_targets(session: Session) -> list[ChatTarget]:
    """Every active chat binding, in a stable order."""
    rows = session.exec(
        select(ChatBinding).where(ChatBinding.active).order_by(col(ChatBinding.id))
    ).all()
    return [ChatTarget(row.chat_id, row.unit_id, row.audience) for row in rows]


def week_alerts(session: Session, *, week: str, kinds: tuple[str, ...]) -> list[Alert]:
    """The alerts of ``kinds`` whose cause is ``week`` (raised by that week's run)."""
    rows = session.exec(select(Alert).where(col(Alert.kind).in_(kinds))).all()
    return [a for a in rows if alert_cause_week(a.cause_key) == week]


def digest_messages(
    week: DigestWeek,
    *,
    targets: list[ChatTarget],
    locale: str,
    media_dir: Path,
) -> list[QueuedMessage]:
    """One ``digest`` message per target chat for ``week``."""
    charts = ChartCache(media_dir / week.week)
    keys = [(target.audience, _shown_unit(week, target)) for target in targets]
    digests = {
        key: render_digest(week, audience=key[0], unit_id=key[1], locale=locale)
        for key in dict.fromkeys(keys)
    }
    charts.draw_all(chart for digest in digests.values() for chart in digest.charts())
    rendered = {key: digest_parts(digest, charts) for key, digest in digests.items()}
    return [
        QueuedMessage(target.chat_id, DIGEST_KIND, week.week, rendered[key])
        for target, key in zip(targets, keys, strict=True)
    ]


def _shown_unit(week: DigestWeek, target: ChatTarget) -> int:
    """The unit whose digest the chat gets: a building's residents get their compound's."""
    node = week.units.get(target.unit_id)
    if target.audience != Audience.RESIDENTS or node is None or node.kind != UnitKind.BUILDING:
        return target.unit_id
    parent = week.units.get(node.parent_id) if node.parent_id is not None else None
    if parent is not None and parent.kind == UnitKind.COMPOUND:
        return parent.id
    return target.unit_id


def digest_parts(digest: Digest, charts: ChartCache) -> list[OutboxPart]:
    """The digest's parts for the outbox, its charts as PNG files of ``charts``' folder."""
    return [
        text_part(part.text)
        if part.chart is None
        else photo_part(str(charts.path(part.chart)), caption=part.text)
        for part in digest.parts
    ]


def alert_messages(
    week: DigestWeek,
    *,
    alerts: list[Alert],
    targets: list[ChatTarget],
    locale: str,
) -> list[QueuedMessage]:
    """Each alert to the committee chats of its compound's committee (and grid chats over it)."""
    _ = Messages(locale)
    messages = []
    for alert in alerts:
        body = alert_text(week, alert_view(week.units, alert), _)
        advice = _(_ADVICE[alert.kind]) if alert.kind in _ADVICE else ""
        text = _.raw("digest.alert.message", text=body, advice=advice).rstrip()
        for chat_id in _alert_chats(week, alert.unit_id, targets):
            messages.append(QueuedMessage(chat_id, ALERT_KIND, alert.cause_key, [text_part(text)]))
    return messages


def _alert_chats(week: DigestWeek, unit_id: int, targets: list[ChatTarget]) -> list[int]:
    """Committee chats bound at or above the unit's committee, and grid chats covering it."""
    chain = []
    current: int | None = unit_id
    while current is not None and current in week.units:
        chain.append(current)
        current = week.units[current].parent_id
    committees = [u for u in chain if week.units[u].kind == UnitKind.COMMITTEE]
    chats = []
    for target in targets:
        committee = target.audience == Audience.COMMITTEE and target.unit_id in committees
        grid = target.audience == Audience.GRID and unit_id in week.compounds_under(target.unit_id)
        if committee or grid:
            chats.append(target.chat_id)
    return chats
