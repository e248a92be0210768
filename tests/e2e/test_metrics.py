"""/metrics on a web + worker deployment: the receiver's and the workers' figures in one scrape.

Every process of the deployment shares one PROMETHEUS_MULTIPROC_DIR, as the README asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.deployments import Deployment, deployed, eventually, stop_workers
from tests.e2e.seeds import connected_slack_channel, send_slack_event
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_slack: FakeSlackAPI,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("metrics")
    shared = cwd / "prometheus"
    shared.mkdir()
    env = {"SLACK_API_URL": fake_slack.url, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with deployed("distributed", request, cwd, **env) as deployment:
        yield deployment


def _samples(deployment: Deployment) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(deployment.base_url + "/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_webhooks_processing_syncs_and_backlog_are_all_in_one_scrape(
    deployment: Deployment, api: httpx.Client
) -> None:
    channel = connected_slack_channel(api, "Metrics")
    for n in range(3):
        send_slack_event(channel, f"EvM{n}")
    forged = slack.event_callback("EvForged", slack.message())
    refused = httpx.post(
        channel["webhook_url"], content=forged, headers=slack.sign("not-the-secret", forged)
    )
    assert refused.status_code == 401

    samples = eventually(
        lambda: _samples(deployment),
        lambda s: (
            _value(s, "switchboard_event_lag_seconds_count", provider="slack") >= 3
            and _value(s, "switchboard_syncs_total", platform="slack", outcome="ok") >= 1
        ),
    )
    # Counted by the receiver: accepted and refused, with the reason.
    assert _value(samples, "switchboard_webhooks_total", provider="slack", outcome="stored") == 3
    refusals = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "switchboard_webhooks_total" and ("outcome", "stored") not in labels
    }
    assert sum(refusals.values()) == 1, refusals
    # Counted by the worker process, summed into the receiver's answer.
    assert (
        _value(samples, "switchboard_events_processed_total", provider="slack", status="processed")
        == 3
    )
    assert _value(samples, "switchboard_event_lag_seconds_count", provider="slack") == 3
    assert _value(samples, "switchboard_syncs_total", platform="slack", outcome="ok") >= 1
    assert _value(samples, "switchboard_events_pending") == 0


def test_the_backlog_shows_what_waits_while_no_worker_runs(
    deployment: Deployment, api: httpx.Client
) -> None:
    channel = connected_slack_channel(api, "Backlog")
    stop_workers(deployment)
    for n in range(4):
        send_slack_event(channel, f"EvB{n}")
    samples = _samples(deployment)
    assert _value(samples, "switchboard_events_pending") == 4
    queued = sum(value for (name, _), value in samples.items() if name == "switchboard_queue_depth")
    assert queued >= 1  # webhooks are enqueued in batches: at least one message waits
    assert ("switchboard_queue_depth", (("queue", "events"),)) in samples
