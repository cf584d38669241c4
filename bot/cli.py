"""The `govbot` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from bot.settings import ConfigError, Settings
from handlers.admin import deep_link
from handlers.i18n import Messages
from handlers.imports import format_import_report, indicator_specs
from handlers.vocabulary import parse_audience, parse_role
from storage.bindings import create_bind_code
from storage.clock import SystemClock
from storage.db import Database
from storage.errors import DomainError
from storage.invites import create_invite
from storage.org import resolve_unit, tree_lines, unit_path
from storage.roster_import import import_roster_file
from storage.schema import upgrade_database

logger = logging.getLogger(__name__)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings()
        func: Callable[[argparse.Namespace, Settings], int] = args.func
        return func(args, settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        err(f"govbot: setting GOVBOT_{str(first['loc'][0]).upper()}: {first['msg']}")
    except ConfigError as exc:
        err(f"govbot: {exc}")
    except DomainError as exc:
        err(f"govbot: {Messages('en').raw(f'error.{exc.code}', **exc.params)}")
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govbot", description="基层治理助手 — community governance bot for Telegram."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot against Telegram (long polling)")
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser(
        "demo", help="offline, no token: a synthetic district driven through the real bot"
    )
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    demo.add_argument("--weeks", type=int, default=12, help="weeks of traffic to simulate")
    demo.add_argument("--size", choices=["default", "large", "small"], default="default")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    export = commands.add_parser("export", help="export records to a spreadsheet")
    export_commands = export.add_subparsers(metavar="WHAT", required=True)
    ledger = export_commands.add_parser(
        "ledger", help="the ledger (台账): issues with history, activities, index scores"
    )
    ledger.add_argument("--out", type=Path, required=True, help="an .xlsx file")
    ledger.add_argument("--unit", help="only this unit and below (name or path)")
    ledger.add_argument("--lang", choices=["zh", "en"], help="header language")
    ledger.set_defaults(func=cmd_export_ledger)

    index = commands.add_parser("index", help="the governance index on your own spreadsheets")
    index_commands = index.add_subparsers(metavar="ACTION", required=True)
    compute = index_commands.add_parser(
        "compute", help="score the latest period of a long-format values file (CSV/XLSX)"
    )
    compute.add_argument(
        "--values",
        type=Path,
        required=True,
        help="columns: compound_id, housing_type, indicator_id, period, value",
    )
    compute.add_argument("--out", type=Path, required=True, help="CSV, or XLSX by extension")
    compute.add_argument("--catalog", type=Path, help="an edited indicator catalogue (TOML)")
    compute.add_argument("--weights", choices=["equal", "entropy", "critic"], default="equal")
    compute.add_argument(
        "--sample",
        choices=["auto", "all"],
        default="auto",
        help="threshold sample: Cochran-sized per housing type, or all",
    )
    compute.add_argument("--seed", type=int, default=0, help="seed for the threshold sample")
    compute.add_argument(
        "--draws", type=int, default=1000, help="Monte Carlo draws for the rank ranges"
    )
    compute.set_defaults(func=cmd_index_compute)

    chat = commands.add_parser(
        "chat", help="talk to the bot offline in the terminal, as someone on the roster"
    )
    chat.add_argument(
        "--db",
        type=Path,
        default=Path("demo-output/govbot.sqlite"),
        help="the database to use (default: the demo's)",
    )
    chat.add_argument("--as", dest="person", help="name or Telegram id of the person")
    chat.add_argument("--chat", help="'private' or a bound group's title or chat id")
    chat.set_defaults(func=cmd_chat)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="bring the database schema up to date")
    upgrade.set_defaults(func=cmd_db_upgrade)

    units = commands.add_parser("units", help="show the org tree (街镇/居委/小区/楼组)")
    units.set_defaults(func=cmd_units)

    invite = commands.add_parser("invite", help="print a one-time invite code and deep link")
    invite.add_argument("role", help="e.g. committee, building_leader, 居委会, 楼组长")
    invite.add_argument("unit", help="unit name or path, e.g. 阳光小区/3号楼")
    invite.add_argument("--uses", type=int, default=1, help="how many people may use it")
    invite.add_argument("--days", type=int, default=7, help="days until it expires")
    invite.set_defaults(func=cmd_invite)

    bind = commands.add_parser("bind-code", help="print a code for /bind in a group chat")
    bind.add_argument("unit", help="unit name or path")
    bind.add_argument("audience", help="residents, committee, grid or town")
    bind.set_defaults(func=cmd_bind_code)

    imp = commands.add_parser("import", help="import a roster or static indicators (CSV/XLSX)")
    imp_commands = imp.add_subparsers(metavar="WHAT", required=True)
    roster = imp_commands.add_parser("roster", help="the org tree: see docs/admin-guide.md")
    roster.add_argument("file", type=Path)
    roster.set_defaults(func=cmd_import, what="roster")
    indicators = imp_commands.add_parser(
        "indicators",
        help="static indicators (物业费收缴率, 文明小区, 12345…): docs/admin-guide.md",
    )
    indicators.add_argument("file", type=Path)
    indicators.set_defaults(func=cmd_import, what="indicators")

    parse = commands.add_parser("parse", help="show how the bot reads a message")
    parse.add_argument("text", nargs="+", help="the message, e.g. '#志愿 今天10人清理楼道2小时'")
    parse.add_argument("--json", action="store_true", help="print the reading as JSON")
    parse.set_defaults(func=cmd_parse)

    digest = commands.add_parser(
        "digest", help="render a week's digests (text and PNG) to a folder, sending nothing"
    )
    digest.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    digest.add_argument("--out", type=Path, required=True, help="output folder")
    digest.set_defaults(func=cmd_digest)
    return parser


def _database(settings: Settings) -> Database:
    upgrade_database(settings.database_url)
    return Database(settings.database_url)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:  # noqa: ARG001
    import asyncio
    import signal

    from bot.app import ALLOWED_UPDATES, build_application
    from bot.polling import serve

    settings.require_token()  # refuse before touching the database or the network
    database = _database(settings)
    app = build_application(settings, database=database)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, stop=stop, allowed_updates=ALLOWED_UPDATES)

    asyncio.run(main())
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:  # noqa: ARG001
    import asyncio

    from bot.demo.run import run_demo

    result = asyncio.run(
        run_demo(
            args.out,
            size=args.size,
            weeks=args.weeks,
            seed=args.seed,
            progress=not args.no_progress,
        )
    )
    out(result.summary())
    return 0


def cmd_index_compute(args: argparse.Namespace, settings: Settings) -> int:  # noqa: ARG001
    from scoring.cli import compute_index_file
    from scoring.errors import ScoringInputError

    try:
        summary = compute_index_file(
            args.values,
            args.out,
            catalog_path=args.catalog,
            weights=args.weights,
            sample=args.sample,
            seed=args.seed,
            draws=args.draws,
        )
    except (ScoringInputError, ValueError, FileNotFoundError) as exc:
        err(f"govbot: {exc}")
        return 2
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(summary.compounds_by_type.items()))
    out(f"scored {summary.compounds} compounds ({by_type}) for {summary.period}")
    out(
        f"thresholds {summary.thresholds_version}, weights {summary.weights}, "
        f"mean coverage {summary.mean_coverage:.0%}"
    )
    out(f"written to {summary.out_file}")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.chat import run_chat

    if not args.db.exists():
        err(f"govbot: no database at {args.db}: run `govbot demo` first, or give --db")
        return 2
    url = f"sqlite:///{args.db}"
    upgrade_database(url)
    chat_settings = settings.model_copy(update={"database_url": url})
    asyncio.run(run_chat(chat_settings, person=args.person, chat=args.chat, read=input, write=out))
    return 0


def cmd_export_ledger(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.ledger import ledger_workbook
    from storage.ledger import read_ledger

    if args.out.suffix.lower() != ".xlsx":
        err("govbot: --out must be an .xlsx file")
        return 2
    database = _database(settings)
    with database.read_session() as session:
        unit_id = resolve_unit(session, args.unit).id if args.unit else None
        ledger = read_ledger(session, unit_id=unit_id)
    if ledger.empty:
        err("govbot: nothing to export yet: no issues, activities or scores recorded")
        return 1
    args.out.write_bytes(ledger_workbook(ledger, args.lang or settings.locale, settings.tz))
    out(
        f"ledger written to {args.out}: {len(ledger.issues)} issues, "
        f"{len(ledger.activities)} activities, {len(ledger.scores)} weekly scores"
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:  # noqa: ARG001
    upgrade_database(settings.database_url)
    out(f"database is up to date: {settings.database_url}")
    return 0


def cmd_units(args: argparse.Namespace, settings: Settings) -> int:  # noqa: ARG001
    database = _database(settings)
    with database.read_session() as session:
        lines = tree_lines(session)
    out("\n".join(lines) if lines else "no units yet: import a roster with `govbot import roster`")
    return 0


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    role = parse_role(args.role)
    if role is None:
        err(f"govbot: unknown role {args.role!r}")
        return 2
    database = _database(settings)
    now = SystemClock().now()
    with database.session() as session:
        unit = resolve_unit(session, args.unit)
        invite = create_invite(
            session,
            role=role,
            unit_id=unit.id or 0,
            created_by=None,
            now=now,
            ttl=timedelta(days=args.days),
            max_uses=args.uses,
        )
        path = unit_path(session, invite.unit_id)
    out(f"invite for {role.value} of {path}: {invite.code}")
    if settings.bot_username:
        out(deep_link(settings.bot_username, invite.code))
    else:
        placeholder = deep_link("<your bot's username>", invite.code)
        out(f"deep link: {placeholder}")
        out("(set GOVBOT_BOT_USERNAME to print the full link)")
    out(f"expires {invite.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}, {args.uses} use(s)")
    return 0


def cmd_bind_code(args: argparse.Namespace, settings: Settings) -> int:
    audience = parse_audience(args.audience)
    if audience is None:
        err(f"govbot: unknown audience {args.audience!r} (residents, committee, grid, town)")
        return 2
    database = _database(settings)
    now = SystemClock().now()
    with database.session() as session:
        unit = resolve_unit(session, args.unit)
        code = create_bind_code(
            session, unit_id=unit.id or 0, audience=audience, created_by=None, now=now
        )
        path = unit_path(session, code.unit_id)
    out(f"binding code for the {audience.value} chat of {path}: {code.code}")
    out(f"add the bot to the group and send there:  /bind {code.code}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a roster or an indicator sheet, all rows or none, and print the report."""
    from storage.indicator_import import import_indicator_file

    if not args.file.exists():
        err(f"govbot: no such file: {args.file}")
        return 2
    now = SystemClock().now()
    with _database(settings).session() as session:
        if args.what == "roster":
            report = import_roster_file(session, path=args.file, now=now)
        else:
            report = import_indicator_file(
                session, path=args.file, indicators=indicator_specs(), now=now
            )
    out(format_import_report(report, Messages(settings.locale)))
    return 0 if report.ok else 1


def cmd_parse(args: argparse.Namespace, settings: Settings) -> int:
    """Print the parser's reading of TEXT, as the bot would read it today (settings' zone)."""
    import json

    from handlers.parsing import describe, parse_message

    today = SystemClock().now().astimezone(settings.tz).date()
    result = parse_message(" ".join(args.text), today=today, locale=settings.locale)
    if args.json:
        out(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        out(describe(result, settings.locale))
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Render every digest of ``--week`` under ``--out`` (scores the week if not yet scored)."""
    from bot.digest.charts import ChartCache
    from bot.digest.folder import render_week_folder
    from bot.digest.weeks import week_monday
    from bot.weekly import media_dir_for

    try:
        week_monday(args.week)
    except ValueError as exc:
        err(f"govbot: {exc}")
        return 2
    files = render_week_folder(
        _database(settings),
        week=args.week,
        out=args.out,
        now=SystemClock().now(),
        tz=settings.tz,
        locale=settings.locale,
        # The Monday job's folder: the charts it drew are not drawn again.
        charts=ChartCache(media_dir_for(settings.database_url) / args.week),
    )
    out(f"{len(files)} files written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
