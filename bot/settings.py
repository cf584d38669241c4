"""Settings from the environment (``GOVBOT_*``) or a ``.env`` file; see ``.env.example``."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A Bot API token is "<bot id>:<35 characters>"; BotFather's tokens match this.
TOKEN_PATTERN = re.compile(r"^\d{5,15}:[A-Za-z0-9_-]{30,60}$")
OFFLINE_TOKEN = "1234567890:offline-transport-no-network-0000000"


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which variable to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVBOT_", env_file=".env", extra="ignore")

    token: SecretStr | None = None
    database_url: str = "sqlite:///govbot.sqlite"
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_base_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None  # for printing deep links offline (`govbot invite`)
    timezone: str = "Asia/Shanghai"
    locale: str = "zh"
    admin_chat_id: int | None = None  # a private chat that receives error reports
    digest_weekday: int = 0  # Monday
    digest_time: time = time(9, 0)
    checkin_weekday: int = 4  # Friday
    checkin_time: time = time(17, 0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("GOVBOT_LOCALE must be zh or en")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The token for real Telegram, refused before any network call if absent or malformed."""
        if self.token is None or not self.token.get_secret_value().strip():
            raise ConfigError(
                "GOVBOT_TOKEN is not set: put the token BotFather gave you in GOVBOT_TOKEN "
                "(environment or .env)."
            )
        token = self.token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(
                "GOVBOT_TOKEN does not look like a bot token (expected '123456789:AAE…' from "
                "BotFather): check the value of GOVBOT_TOKEN."
            )
        return token
