"""The `switchboard` command. Imports of the app and workers happen inside each command, so
the broker is chosen from settings before any actor is declared."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from shared.settings import ConfigError, get_settings

ROOT = Path(__file__).resolve().parent.parent


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"switchboard: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
def main() -> None:
    """Switchboard: webhooks in, channel status out."""


F = TypeVar("F", bound=Callable[..., None])


def _http_options(command: F) -> F:
    # Read by click when the command runs, so a bad PORT is reported by name, and only by the
    # commands that listen (Procfile runners set PORT for every process).
    port = click.option(
        "--port", envvar="PORT", show_envvar=True, default=8000, show_default=True, type=int
    )
    return click.option("--host", default="127.0.0.1", show_default=True)(port(command))


def _serve(host: str, port: int, run_workers: bool) -> None:
    import uvicorn

    from receiver.app import create_app
    from shared.logging_setup import configure

    settings = get_settings()
    configure(settings.log_level)
    app = create_app(run_workers=run_workers)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)


@main.command()
@_http_options
def serve(host: str, port: int) -> None:
    """Everything in one process: receiver, API, workers and scheduler."""
    _serve(host, port, run_workers=True)


@main.command()
@_http_options
def web(host: str, port: int) -> None:
    """The HTTP app only (needs REDIS_URL; run workers beside it)."""
    _require_redis("web")
    _serve(host, port, run_workers=False)


@main.command()
@click.option("--processes", default=1, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def worker(processes: int, threads: int) -> None:
    """Dramatiq worker processes consuming from Redis."""
    _require_redis("worker")
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    args = ["workers.actors", "--processes", str(processes), "--threads", str(threads)]
    parser = make_argument_parser()  # type: ignore[no-untyped-call]
    sys.exit(dramatiq_main(parser.parse_args(args)))  # type: ignore[no-untyped-call]


@main.command()
def scheduler() -> None:
    """Periodic work: the relay of pending events, and due connection syncs."""
    _require_redis("scheduler")
    import signal

    from shared.logging_setup import configure
    from workers import scheduler as loop

    configure(get_settings().log_level)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    loop.run(stop)


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from alembic import command
    from alembic.config import Config

    get_settings()  # fail fast on bad configuration
    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--instance", "instance_id", default=None, help="Scope the token to one instance.")
@click.option("--scopes", default=None, help="Comma-separated scopes (default: all).")
@click.option("--expires-in", type=click.IntRange(min=1), default=None, help="Seconds.")
def tokens_create(instance_id: str | None, scopes: str | None, expires_in: int | None) -> None:
    """Print a new token once on stdout."""
    from shared import api_tokens, audit
    from shared.db import session_scope
    from shared.models import Instance

    settings = get_settings()
    wanted = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else api_tokens.SCOPES
    with session_scope() as session:
        if instance_id is not None and session.get(Instance, instance_id) is None:
            raise click.BadParameter(f"no instance {instance_id}", param_hint="--instance")
        try:
            row, clear = api_tokens.issue(
                session,
                settings.secret,
                instance_id=instance_id,
                scopes=wanted,
                expires_in=expires_in,
            )
        except api_tokens.UnknownScope as exc:
            raise click.BadParameter(str(exc), param_hint="--scopes") from None
        audit.record(
            session,
            token_id=None,
            action="token.create",
            target_type="token",
            target_id=row.id,
            instance_id=instance_id,
            details={"scopes": list(row.scopes), "via": "cli"},
        )
    click.echo(clear)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from shared import api_tokens, audit
    from shared.db import session_scope

    with session_scope() as session:
        if not api_tokens.revoke(session, token_id):
            raise click.ClickException(f"no active token {token_id}")
        audit.record(
            session,
            token_id=None,
            action="token.revoke",
            target_type="token",
            target_id=token_id,
            instance_id=None,
            details={"via": "cli"},
        )
    click.echo(f"revoked {token_id}", err=True)


def _require_redis(command: str) -> None:
    if not get_settings().redis_url:
        raise click.UsageError(
            f"`switchboard {command}` needs REDIS_URL; `switchboard serve` runs without it"
        )
