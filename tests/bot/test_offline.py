"""The offline transport drives the real PTB machinery: Bot, error mapping, Updater, handlers."""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import timedelta

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.offline import Fault, OfflineBotAPI, RateLimits
from tests.factories import (
    compute_entities,
    make_bot_added_update,
    make_bot_removed_update,
    make_callback_update,
    make_command_update,
    make_group_chat,
    make_message_update,
    make_migrate_update,
    make_private_chat,
    make_user,
    to_update,
)

Context = ContextTypes.DEFAULT_TYPE

ALICE = make_user(1001, "李娜")
ALICE_CHAT = make_private_chat(ALICE)
GROUP = make_group_chat(-1001, "幸福里社区网格群")


def png(width: int, height: int) -> bytes:
    """A minimal valid PNG, enough for Telegram (and the transport) to read its size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def echo(update: Update, context: Context) -> None:
    """Say back the command's arguments, with a button to press."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好的", callback_data="ack:1")]])
    await update.effective_message.reply_text(" ".join(context.args or []), reply_markup=keyboard)


async def acknowledge(update: Update, context: Context) -> None:
    """Answer the button and mark the message as handled."""
    query = update.callback_query
    assert query is not None
    await query.answer("已收到")
    await query.edit_message_text("已处理")


def add_handlers(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CallbackQueryHandler(acknowledge, pattern=r"^ack:"))


# -- Handlers through process_update ---------------------------------------------------------


async def test_command_reply_is_recorded(offline_app: Application, offline_api: OfflineBotAPI):
    add_handlers(offline_app)

    update = make_command_update("/echo", "你好", "世界", user=ALICE, chat=ALICE_CHAT)
    await offline_app.process_update(to_update(update, offline_app.bot))

    assert offline_api.texts(ALICE["id"]) == ["你好 世界"]
    reply = offline_api.last(ALICE["id"])
    assert reply.method == "sendMessage"
    assert reply.reply_markup is not None
    assert reply.reply_markup["inline_keyboard"][0][0]["callback_data"] == "ack:1"
    assert reply.message_id == update["message"]["message_id"] + 1  # one sequence per chat
    assert reply.at.tzinfo is not None


async def test_group_command_addressed_to_the_bot(
    offline_app: Application, offline_api: OfflineBotAPI
):
    add_handlers(offline_app)

    update = make_command_update("/echo", "开会", user=ALICE, chat=GROUP, mention_bot=True)
    await offline_app.process_update(to_update(update, offline_app.bot))

    assert offline_api.texts(GROUP["id"]) == ["开会"]


async def test_callback_answers_and_edits(offline_app: Application, offline_api: OfflineBotAPI):
    add_handlers(offline_app)

    update = make_callback_update("ack:1", user=ALICE, chat=GROUP, message_id=7)
    await offline_app.process_update(to_update(update, offline_app.bot))

    answer, edit = offline_api.sent(method="answerCallbackQuery"), offline_api.last(GROUP["id"])
    assert [call.text for call in answer] == ["已收到"]
    assert (edit.method, edit.message_id, edit.text) == ("editMessageText", 7, "已处理")
    assert offline_api.texts(GROUP["id"]) == ["已处理"]


async def test_returned_message_is_a_full_ptb_message(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.add_chat(GROUP)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("查看", callback_data="view:3")]])
    message = await offline_app.bot.send_message(
        GROUP["id"], "<b>工单</b> &amp; 派单", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )

    assert isinstance(message, Message)
    assert message.chat.type == "group"
    assert message.chat.title == GROUP["title"]
    assert message.from_user is not None
    assert message.from_user.username == "govbot_demo_bot"
    assert message.text == "工单 & 派单"
    assert message.reply_markup == keyboard
    assert message.date.tzinfo is not None


# -- Real long polling ---------------------------------------------------------------------


async def test_long_polling_delivers_fed_updates(
    offline_app: Application, offline_api: OfflineBotAPI
):
    add_handlers(offline_app)
    await offline_app.start()
    assert offline_app.updater is not None
    await offline_app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        offline_api.feed(make_command_update("/echo", "轮询", user=ALICE, chat=ALICE_CHAT))
        async with asyncio.timeout(5):
            replies = await offline_api.wait_for_sent(chat_id=ALICE["id"], method="sendMessage")
    finally:
        await offline_app.updater.stop()
        await offline_app.stop()

    assert [reply.text for reply in replies] == ["轮询"]
    assert offline_api.pending_updates == 0  # confirmed by the Updater's final getUpdates


async def test_polling_survives_a_failed_get_updates(
    offline_app: Application, offline_api: OfflineBotAPI
):
    add_handlers(offline_app)
    offline_api.fail_next("getUpdates", error=Fault.timeout_before_accept())
    await offline_app.start()
    assert offline_app.updater is not None
    await offline_app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        offline_api.feed(make_command_update("/echo", "重试", user=ALICE, chat=ALICE_CHAT))
        async with asyncio.timeout(5):
            await offline_api.wait_for_sent(chat_id=ALICE["id"], method="sendMessage")
    finally:
        await offline_app.updater.stop()
        await offline_app.stop()

    assert offline_api.pending_faults == 0
    assert offline_api.texts(ALICE["id"]) == ["重试"]


async def test_get_updates_honours_offset(offline_app: Application, offline_api: OfflineBotAPI):
    first = offline_api.feed(make_message_update("一", user=ALICE))
    second = offline_api.feed(make_message_update("二", user=ALICE))

    updates = await offline_app.bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second]
    again = await offline_app.bot.get_updates(offset=second, timeout=0)
    assert [u.update_id for u in again] == [second]  # unconfirmed updates come back
    assert await offline_app.bot.get_updates(offset=second + 1, timeout=0) == ()


async def test_empty_long_poll_returns_after_timeout(offline_app: Application):
    async with asyncio.timeout(3):
        assert await offline_app.bot.get_updates(timeout=1) == ()


# -- Files -----------------------------------------------------------------------------------


async def test_photo_upload_records_bytes_and_caption(
    offline_app: Application, offline_api: OfflineBotAPI
):
    image = png(40, 30)

    message = await offline_app.bot.send_photo(GROUP["id"], photo=image, caption="本周指数")

    call = offline_api.last(GROUP["id"])
    assert (call.method, call.caption, call.photo_bytes) == ("sendPhoto", "本周指数", len(image))
    assert call.files[0].data == image
    assert (message.photo[-1].width, message.photo[-1].height) == (40, 30)
    file = await offline_app.bot.get_file(message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image


async def test_registered_file_downloads(offline_app: Application, offline_api: OfflineBotAPI):
    offline_api.add_file("roster-1", "姓名,电话\n".encode())

    file = await offline_app.bot.get_file("roster-1")

    assert file.file_path is not None
    assert bytes(await file.download_as_bytearray()) == "姓名,电话\n".encode()
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await offline_app.bot.get_file("missing")


async def test_document_and_media_group(offline_app: Application, offline_api: OfflineBotAPI):
    from telegram import InputMediaPhoto

    document = await offline_app.bot.send_document(
        ALICE["id"], document=b"a,b\n1,2\n", filename="export.csv", caption="导出"
    )
    album = await offline_app.bot.send_media_group(
        ALICE["id"], [InputMediaPhoto(png(2, 2), caption="前"), InputMediaPhoto(png(3, 3))]
    )

    assert document.document is not None
    assert document.document.file_name == "export.csv"
    assert len(album) == 2
    assert album[0].media_group_id == album[1].media_group_id
    assert [m.message_id for m in album] == [document.message_id + 1, document.message_id + 2]
    assert offline_api.texts(ALICE["id"]) == ["导出"]
    assert len(offline_api.last(ALICE["id"]).files) == 2


# -- Chats, members, commands ------------------------------------------------------------------


async def test_chat_and_member_queries(offline_app: Application, offline_api: OfflineBotAPI):
    offline_api.add_chat(GROUP)
    offline_api.set_member(GROUP["id"], ALICE, "administrator")
    bot = offline_app.bot

    chat = await bot.get_chat(GROUP["id"])
    alice = await bot.get_chat_member(GROUP["id"], ALICE["id"])
    stranger = await bot.get_chat_member(GROUP["id"], 4242)
    admins = await bot.get_chat_administrators(GROUP["id"])

    assert (chat.title, chat.type) == (GROUP["title"], "group")
    assert alice.status == ChatMemberStatus.ADMINISTRATOR
    assert stranger.status == ChatMemberStatus.MEMBER
    assert [admin.user.id for admin in admins] == [ALICE["id"]]


async def test_commands_round_trip(offline_app: Application):
    from telegram import BotCommand

    await offline_app.bot.set_my_commands([BotCommand("report", "上报问题")])
    assert await offline_app.bot.get_my_commands() == (BotCommand("report", "上报问题"),)
    await offline_app.bot.delete_my_commands()
    assert await offline_app.bot.get_my_commands() == ()


async def test_other_methods_answer(offline_app: Application, offline_api: OfflineBotAPI):
    bot = offline_app.bot
    sent = await bot.send_message(GROUP["id"], "置顶通知")

    assert await bot.send_chat_action(GROUP["id"], "typing")
    assert await bot.pin_chat_message(GROUP["id"], sent.message_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("已阅", callback_data="read")]])
    edited = await bot.edit_message_reply_markup(
        GROUP["id"], sent.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message)
    assert await bot.delete_message(GROUP["id"], sent.message_id)
    assert await bot.set_chat_menu_button()
    assert await bot.set_webhook("https://example.org/hook")
    assert await bot.leave_chat(GROUP["id"])
    assert [c.method for c in offline_api.sent(GROUP["id"])][-1] == "leaveChat"


# -- Telegram's own refusals ----------------------------------------------------------------


async def test_unknown_method_is_a_clear_bad_request(offline_app: Application):
    with pytest.raises(BadRequest, match="does not implement Bot API method 'sendDice'"):
        await offline_app.bot.send_dice(ALICE["id"])


async def test_limits_are_enforced(offline_app: Application, offline_api: OfflineBotAPI):
    bot = offline_app.bot
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ALICE["id"], "长" * 4097)
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(ALICE["id"], png(1, 1), caption="长" * 1025)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(ALICE["id"], "ok", reply_markup=too_long)

    # 4096 characters after HTML parsing are fine even though the markup makes it longer.
    await bot.send_message(ALICE["id"], "<b>" + "长" * 4096 + "</b>", parse_mode="HTML")
    assert len(offline_api.sent(ALICE["id"])) == 1
    attempts = [call.delivered for call in offline_api.calls if call.chat_id == ALICE["id"]]
    assert attempts == [False, False, False, True]


async def test_identical_edit_is_not_modified(offline_app: Application):
    sent = await offline_app.bot.send_message(ALICE["id"], "状态：待处理")

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await offline_app.bot.edit_message_text("状态：待处理", ALICE["id"], sent.message_id)


# -- Injected faults ---------------------------------------------------------------------------


async def test_flood_fault_is_retry_after(offline_app: Application, offline_api: OfflineBotAPI):
    offline_api.fail_next("sendMessage", ALICE["id"], error=Fault.too_many_requests(7))

    with pytest.raises(RetryAfter) as caught:
        await offline_app.bot.send_message(ALICE["id"], "通知")

    assert caught.value.retry_after == timedelta(seconds=7)
    assert offline_api.sent(ALICE["id"]) == []
    assert offline_api.calls[-1].error == "Too Many Requests: retry after 7"
    await offline_app.bot.send_message(ALICE["id"], "通知")  # the fault was used up
    assert offline_api.texts(ALICE["id"]) == ["通知"]


@pytest.mark.parametrize(
    ("fault", "exception", "message"),
    [
        (Fault.forbidden(), Forbidden, "bot was kicked from the group chat"),
        (Fault.bad_request("Bad Request: chat not found"), BadRequest, "(?i)chat not found"),
        (Fault.server_error(502), NetworkError, "Bad Gateway"),
        (Fault.server_error(500), NetworkError, "Internal Server Error"),
    ],
)
async def test_error_faults_map_to_ptb_exceptions(
    offline_app: Application,
    offline_api: OfflineBotAPI,
    fault: Fault,
    exception: type[Exception],
    message: str,
):
    offline_api.fail_next("sendMessage", GROUP["id"], error=fault)

    with pytest.raises(exception, match=message) as caught:
        await offline_app.bot.send_message(GROUP["id"], "周报")

    assert not isinstance(caught.value, TimedOut)
    assert offline_api.sent(GROUP["id"]) == []
    assert offline_api.pending_faults == 0


async def test_chat_migrated_carries_new_chat_id(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.fail_next("sendMessage", GROUP["id"], error=Fault.chat_migrated(-100777))

    with pytest.raises(ChatMigrated) as caught:
        await offline_app.bot.send_message(GROUP["id"], "周报")

    assert caught.value.new_chat_id == -100777


async def test_timeout_before_accept_is_not_delivered(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.fail_next("sendMessage", error=Fault.timeout_before_accept())

    with pytest.raises(TimedOut):
        await offline_app.bot.send_message(ALICE["id"], "派单")

    assert offline_api.sent(ALICE["id"]) == []
    assert not offline_api.calls[-1].delivered


async def test_timeout_after_accept_is_delivered(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.fail_next("sendMessage", error=Fault.timeout_after_accept())

    with pytest.raises(TimedOut):
        await offline_app.bot.send_message(ALICE["id"], "派单")

    assert offline_api.texts(ALICE["id"]) == ["派单"]
    assert offline_api.last(ALICE["id"]).error == "timed out after delivery"


async def test_fault_for_one_chat_spares_others(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.fail_next("sendMessage", GROUP["id"], error=Fault.forbidden(), times=2)

    await offline_app.bot.send_message(ALICE["id"], "私聊")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await offline_app.bot.send_message(GROUP["id"], "群聊")
    await offline_app.bot.send_message(GROUP["id"], "群聊")

    assert offline_api.texts(ALICE["id"]) == ["私聊"]
    assert offline_api.texts(GROUP["id"]) == ["群聊"]


async def test_faults_for_any_chat_and_for_one_chat_are_taken_in_the_order_injected(
    offline_app: Application, offline_api: OfflineBotAPI
):
    offline_api.fail_next("sendMessage", error=Fault.server_error())
    offline_api.fail_next("sendMessage", GROUP["id"], error=Fault.forbidden())
    offline_api.fail_next("sendMessage", error=Fault.bad_request())

    with pytest.raises(NetworkError) as caught:  # the earliest, for any chat
        await offline_app.bot.send_message(GROUP["id"], "一")
    assert type(caught.value) is NetworkError  # the 502, not the later BadRequest
    with pytest.raises(Forbidden):  # this chat's own, injected before the last
        await offline_app.bot.send_message(GROUP["id"], "二")
    with pytest.raises(BadRequest):
        await offline_app.bot.send_message(ALICE["id"], "三")
    await offline_app.bot.send_message(GROUP["id"], "四")

    assert offline_api.texts(GROUP["id"]) == ["四"]
    assert offline_api.pending_faults == 0


# -- Rate limits -----------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def rate_limited_app(api: OfflineBotAPI) -> Application:  # type: ignore[type-arg]
    app = Application.builder().token("123456:ABC-offline").request(api)
    return app.get_updates_request(api).build()


async def test_private_chat_allows_one_message_per_second():
    clock = FakeMonotonic()
    api = OfflineBotAPI(rate_limits=RateLimits(), monotonic=clock)
    async with await rate_limited_app(api) as app:
        await app.bot.send_message(ALICE["id"], "一")
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(ALICE["id"], "二")
        clock.now += 1.0
        await app.bot.send_message(ALICE["id"], "二")

    assert caught.value.retry_after == timedelta(seconds=1)
    assert api.violations == 1
    assert api.texts(ALICE["id"]) == ["一", "二"]


async def test_group_and_overall_limits():
    clock = FakeMonotonic()
    api = OfflineBotAPI(rate_limits=RateLimits(), monotonic=clock)
    async with await rate_limited_app(api) as app:
        for n in range(20):
            await app.bot.send_message(GROUP["id"], f"第{n}条")
        with pytest.raises(RetryAfter):
            await app.bot.send_message(GROUP["id"], "第21条")
        for user_id in range(1, 11):  # 20 + 10 = 30 messages in this second overall
            await app.bot.send_message(user_id, "通知")
        with pytest.raises(RetryAfter):
            await app.bot.send_message(11, "通知")
        clock.now += 1.0
        await app.bot.send_message(11, "通知")
        with pytest.raises(RetryAfter):  # the group's minute is not over yet
            await app.bot.send_message(GROUP["id"], "第21条")
        clock.now += 59.0
        await app.bot.send_message(GROUP["id"], "第21条")

    assert api.violations == 3


async def test_scaled_limits_compress_time():
    clock = FakeMonotonic()
    api = OfflineBotAPI(rate_limits=RateLimits(scale=60), monotonic=clock)
    async with await rate_limited_app(api) as app:
        for _ in range(20):
            await app.bot.send_message(GROUP["id"], "x")
        clock.now += 1.0  # a scaled minute
        await app.bot.send_message(GROUP["id"], "x")

    assert api.violations == 0


# -- Factories ---------------------------------------------------------------------------------


def test_entities_count_utf16_units():
    text = "/report@govbot_demo_bot 😀 #垃圾分类 和 #路灯"

    entities = compute_entities(text)

    assert entities[0] == {"type": "bot_command", "offset": 0, "length": 23}
    # The emoji is two UTF-16 units, so the first hashtag starts at 27, not 26.
    assert entities[1:] == [
        {"type": "hashtag", "offset": 27, "length": 5},
        {"type": "hashtag", "offset": 35, "length": 3},
    ]


def test_factory_updates_parse_as_ptb_objects(offline_app: Application):
    bot = offline_app.bot
    photo = to_update(make_message_update("#路灯 坏了", user=ALICE, chat=GROUP, photo="p1"), bot)
    located = to_update(make_message_update(None, location=(31.2, 121.5)), bot)
    reply = to_update(make_message_update("收到", chat=GROUP, reply_to=5), bot)
    added = to_update(make_bot_added_update(GROUP), bot)
    removed = to_update(make_bot_removed_update(GROUP), bot)
    migrated = to_update(make_migrate_update(-1001, -1001001), bot)

    assert photo.message is not None
    assert photo.message.caption == "#路灯 坏了"
    assert photo.message.parse_caption_entities() != {}
    assert photo.message.photo[-1].file_id == "p1"
    assert located.message is not None
    assert located.message.location is not None
    assert reply.message is not None
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.from_user == bot.bot
    assert added.my_chat_member is not None
    assert added.my_chat_member.new_chat_member.status == ChatMemberStatus.MEMBER
    assert removed.my_chat_member is not None
    assert removed.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
    assert migrated.message is not None
    assert migrated.message.migrate_to_chat_id == -1001001
    assert filters.StatusUpdate.MIGRATE.check_update(migrated)


def test_update_ids_increase():
    first, second = make_message_update("a"), make_message_update("b")
    assert second["update_id"] > first["update_id"]
    assert second["message"]["message_id"] > first["message"]["message_id"]


async def test_fed_chats_shape_replies(offline_app: Application, offline_api: OfflineBotAPI):
    supergroup = make_group_chat(-1002, "新村业主群", type="supergroup")
    offline_api.feed(make_message_update("大家好", chat=supergroup, message_id=41))

    message = await offline_app.bot.send_message(supergroup["id"], "欢迎")

    assert (message.chat.type, message.chat.title, message.message_id) == (
        "supergroup",
        "新村业主群",
        42,
    )


def test_offline_api_is_the_same_object_in_both_slots(offline_app: Application):
    assert offline_app.bot.request is offline_app.bot._request[0]  # noqa: SLF001
    assert isinstance(offline_app.bot.request, OfflineBotAPI)
