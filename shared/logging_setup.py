"""Process logging: one format everywhere, and no query strings in access logs.

Webhook URLs may carry a secret in the query string (Whapi's `?token=`), so uvicorn's access
log line keeps only the path.
"""

from __future__ import annotations

import logging


class _PathOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(_PathOnly())
    quiet_http_clients()


def quiet_http_clients() -> None:
    """httpx logs every request URL at INFO, and Telegram's URLs carry the bot token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
