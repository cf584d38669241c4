"""govbot's composition root: settings, the Application factory, the CLI, jobs and transports."""

import os

# Opt in to python-telegram-bot's timedelta-valued `retry_after` (v22.2+): without it every
# RetryAfter built emits a deprecation warning, and the outbox sender handles 429s often.
os.environ.setdefault("PTB_TIMEDELTA", "true")
