"""Request budgets: the configuration, waiting for a slot, and giving up with RATE_LIMITED."""

from __future__ import annotations

import time

import pytest

from shared import settings
from shared.providers import rate_limits
from shared.providers.errors import RateLimited


def test_overrides_replace_only_the_budgets_they_name() -> None:
    budgets = rate_limits.parse_budgets("slack.tier2=5/10, discord=1/1")
    assert budgets["slack.tier2"] == rate_limits.Budget(5, 10)
    assert budgets["discord"] == rate_limits.Budget(1, 1)
    assert budgets["twilio"] == rate_limits.DEFAULT_BUDGETS["twilio"]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("myspace=1/1", "unknown budget 'myspace'"),
        ("slack.tier2=0/1", "positive integers"),
        ("slack.tier2=3", "positive integers"),
        ("slack.tier2=a/b", "positive integers"),
    ],
)
def test_a_bad_override_names_what_is_wrong(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        rate_limits.parse_budgets(spec)


def test_a_bad_override_fails_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROVIDER_RATE_LIMITS", "slack.tier2=fast")
    settings.get_settings.cache_clear()
    with pytest.raises(settings.ConfigError, match="PROVIDER_RATE_LIMITS"):
        settings.get_settings()
    settings.get_settings.cache_clear()


def test_a_spent_budget_waits_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_RATE_LIMITS", "whapi=2/1")
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings.get_settings.cache_clear()
    monkeypatch.setattr(rate_limits, "MAX_WAIT_SECONDS", 0.2)
    account = f"token-{time.time()}"  # a budget of its own
    while time.time() % 1 > 0.5:  # start early in a second: both slots in the same one
        time.sleep(0.05)
    rate_limits.take("whapi", account)
    rate_limits.take("whapi", account)
    with pytest.raises(RateLimited) as refused:
        rate_limits.take("whapi", account)
    assert refused.value.retry_after == 1.0
    assert account not in refused.value.message
    time.sleep(1.0)
    rate_limits.take("whapi", account)  # the next second brings new slots
    rate_limits.take("whapi", "another-account")  # and other accounts never shared it
    settings.get_settings.cache_clear()
