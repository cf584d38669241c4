"""The update builders live in `bot.updates` (the demo and `govbot chat` use them too)."""

from bot.updates import *  # noqa: F403
