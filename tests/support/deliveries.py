"""A provider that delivers webhooks as Slack does: signed, and retried until a 2xx answer.

Every answer is recorded (status, Retry-After, seconds taken; status 0 when there was none), so
a fault test can check what the receivers said while things were broken, and that each event
was acknowledged in the end.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.support import slack

NO_ANSWER = 0


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    seconds: float


@dataclass(frozen=True)
class Webhook:
    channel_id: str
    event_id: str
    body: bytes


@dataclass
class Delivery:
    webhook: Webhook
    answers: list[Answer] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return bool(self.answers) and 200 <= self.answers[-1].status < 300


def slack_message(channel_id: str, event_id: str, event_time: int) -> Webhook:
    body = slack.event_callback(event_id, slack.message(event_id), event_time)
    return Webhook(channel_id, event_id, body)


class SlackProvider:
    """Sends to `receivers` in turn, as a load balancer would; a retry may reach another."""

    def __init__(
        self, receivers: list[str], secret: str, retry_pause: float = 0.1, timeout: float = 10.0
    ) -> None:
        self._receivers = itertools.cycle(receivers)
        self._lock = threading.Lock()
        self._secret = secret
        self._retry_pause = retry_pause
        self._client = httpx.Client(timeout=timeout)

    def __enter__(self) -> SlackProvider:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def post(self, webhook: Webhook, receiver: str | None = None) -> Answer:
        """One attempt; the signature is made afresh, as a provider's retry is."""
        if receiver is None:
            with self._lock:
                receiver = next(self._receivers)
        url = f"{receiver}/webhooks/slack/{webhook.channel_id}"
        started = time.monotonic()
        try:
            headers = slack.sign(self._secret, webhook.body)
            response = self._client.post(url, content=webhook.body, headers=headers)
        except httpx.TransportError:
            return Answer(NO_ANSWER, None, time.monotonic() - started)
        retry_after = response.headers.get("retry-after")
        return Answer(response.status_code, retry_after, time.monotonic() - started)

    def deliver(self, webhook: Webhook, within: float = 60.0) -> Delivery:
        """Attempts until one is acknowledged, or `within` seconds have passed."""
        delivery = Delivery(webhook)
        deadline = time.monotonic() + within
        while not delivery.acknowledged and time.monotonic() < deadline:
            if delivery.answers:
                time.sleep(self._retry_pause)
            delivery.answers.append(self.post(webhook))
        return delivery

    def deliver_all(self, webhooks: Iterable[Webhook], threads: int = 8) -> list[Delivery]:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(self.deliver, webhooks))

    def deliver_until(
        self, webhooks: Iterator[Webhook], stop: threading.Event, threads: int = 8
    ) -> list[Delivery]:
        """Keep `threads` deliveries going, a new webhook each time one ends, until `stop`."""
        deliveries: list[Delivery] = []

        def loop() -> None:
            while not stop.is_set():
                with self._lock:
                    webhook = next(webhooks, None)
                if webhook is None:
                    return
                delivery = self.deliver(webhook)
                with self._lock:
                    deliveries.append(delivery)

        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(loop) for _ in range(threads)]:
                future.result()
        return deliveries
