"""Request budgets per provider account, shared by every process through Redis.

However many workers run, calls to one Slack workspace, Discord bot, Twilio account, Telegram
bot or Whapi channel draw from one budget, so adding workers does not multiply the request rate
a provider sees. Dramatiq's `WindowRateLimiter` keeps the counts (in Redis when REDIS_URL is
set, in memory for `switchboard serve` without it). A caller that finds the budget spent waits
for a slot, up to `MAX_WAIT_SECONDS`, then gets `RateLimited`: a worker retries later, and the
API answers 429.

Budgets stay under each provider's published limits; `PROVIDER_RATE_LIMITS` overrides them
(`slack.tier2=20/60,discord=40/1`: requests per seconds).
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass

from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backend import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from shared.broker import redis_client
from shared.providers.errors import RateLimited
from shared.settings import get_settings

MAX_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Budget:
    requests: int
    seconds: int


DEFAULT_BUDGETS = {
    "slack.tier2": Budget(20, 60),  # conversations.list: Tier 2, 20+ per minute per workspace
    "slack.tier4": Budget(100, 60),  # auth.test: Tier 4, 100+ per minute
    "discord": Budget(40, 1),  # 50 per second per bot, globally
    "telegram": Budget(20, 1),  # about 30 per second per bot
    "twilio": Budget(50, 1),  # 100 concurrent requests per account
    "whapi": Budget(10, 1),
}


@functools.cache
def parse_budgets(spec: str) -> dict[str, Budget]:
    """`name=requests/seconds,…` over the defaults; ValueError naming what is wrong."""
    budgets = dict(DEFAULT_BUDGETS)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, rate = item.partition("=")
        requests, _, seconds = rate.partition("/")
        if name not in DEFAULT_BUDGETS:
            raise ValueError(f"unknown budget {name!r}; known: {', '.join(DEFAULT_BUDGETS)}")
        if not (requests.isdigit() and seconds.isdigit() and int(requests) and int(seconds)):
            raise ValueError(f"{item!r} is not name=requests/seconds with positive integers")
        budgets[name] = Budget(int(requests), int(seconds))
    return budgets


@functools.cache
def _backend(redis_url: str | None) -> RateLimiterBackend:
    if not redis_url:
        return StubBackend()  # type: ignore[no-untyped-call]
    backend: RateLimiterBackend = RedisBackend(client=redis_client(redis_url))
    return backend


def take(budget_name: str, account_secret: str) -> None:
    """Wait for a slot in the budget of the account `account_secret` opens; RateLimited if
    none frees up in time. The secret only ever reaches Redis as a hash."""
    settings = get_settings()
    budget = parse_budgets(settings.provider_rate_limits)[budget_name]
    account = hashlib.sha256(account_secret.encode()).hexdigest()[:32]
    limiter = WindowRateLimiter(  # type: ignore[no-untyped-call]
        _backend(settings.redis_url),
        f"switchboard:budget:{budget_name}:{account}",
        limit=budget.requests,
        window=budget.seconds,
    )
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    pause = min(1.0, budget.seconds / budget.requests)
    while True:
        with limiter.acquire(raise_on_failure=False) as acquired:
            if acquired:
                return
        if time.monotonic() + pause > deadline:
            raise RateLimited(
                f"{budget_name}: Switchboard's own request budget for this account is spent",
                retry_after=float(budget.seconds),
            )
        time.sleep(pause)
