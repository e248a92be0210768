"""The webhook hot path: size limit, channel lookup, verification, normalisation, storage.

Order matters: nothing is parsed before the raw bytes are verified, nothing is answered 2xx
before the event is stored and enqueued, and refusals are logged without bodies or secrets.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import Counter
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope

from receiver.api.problems import problem_response
from receiver.providers.base import Inbound, Malformed, Refused, Reply, WebhookProvider
from receiver.webhooks.event_store import Accepted, Outcome
from receiver.webhooks.ingest import Ingestor
from receiver.webhooks.targets import Target, TargetCache, TargetsUnavailable
from shared.metrics import WEBHOOKS

log = logging.getLogger(__name__)

MAX_CHANNEL_ID_LENGTH = 40
RETRY_AFTER_SECONDS = "5"


class BodyTooLarge(Exception):
    pass


class WebhookIntake:
    def __init__(
        self,
        targets: TargetCache,
        ingestor: Ingestor,
        max_body_bytes: int,
        public_base_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.ingestor = ingestor
        self.max_body_bytes = max_body_bytes
        self.public_base_url = public_base_url.rstrip("/")
        self.clock = clock

    async def receive(
        self,
        scope: Scope,
        receive: Receive,
        channel_id: str,
        name: str,
        provider: WebhookProvider,
        url_kind: str = "",
    ) -> Response:
        headers = _headers(scope)
        try:
            body = await self._read_body(receive, headers)
        except BodyTooLarge:
            return self._refuse(name, "too_large", channel_id)
        except ClientDisconnect:
            return self._refuse(name, "malformed", channel_id, "client disconnected")
        try:
            target = await self._target(channel_id)
        except TargetsUnavailable:
            return self._unavailable(name, channel_id)
        if target is None or target.provider != name:
            return self._refuse(name, "unknown_channel", channel_id)
        inbound = Inbound(
            channel_id=channel_id,
            headers=headers,
            body=body,
            path=scope.get("raw_path", b"").decode("latin-1") or scope["path"],
            query_string=scope.get("query_string", b""),
            url_kind=url_kind,
            public_base_url=self.public_base_url,
            external_identifier=target.external_identifier,
        )
        try:
            provider.verify(inbound, target.credentials, self.clock())
        except Refused:
            # The secret may have just been rotated: reload once before refusing.
            try:
                target = await self._target(channel_id, reload=True)
            except TargetsUnavailable:
                return self._unavailable(name, channel_id)
            try:
                if target is None:
                    raise
                provider.verify(inbound, target.credentials, self.clock())
            except Refused as refused:
                return self._refuse(name, "bad_signature", channel_id, str(refused))
        try:
            handled = provider.normalize(inbound)
        except Malformed as exc:
            return self._refuse(name, "malformed", channel_id, str(exc))
        except Refused as exc:  # authentic-looking, but addressed to another channel
            return self._refuse(name, "bad_signature", channel_id, str(exc))
        if handled.event is None:
            _count(name, "handshake")
            return _response(handled.reply)
        received_at = datetime.fromtimestamp(self.clock(), UTC)
        accepted = Accepted(channel_id, target.instance_id, name, handled.event, received_at)
        outcome = await self.ingestor.submit(accepted)
        _count(name, outcome.value)
        if outcome is Outcome.GONE:
            return _problem("unknown_channel")
        if outcome is Outcome.UNAVAILABLE:
            return _problem("unavailable")
        return _response(handled.reply)

    async def _target(self, channel_id: str, *, reload: bool = False) -> Target | None:
        if len(channel_id) > MAX_CHANNEL_ID_LENGTH:
            return None
        return await self.targets.get(channel_id, reload=reload)

    def _unavailable(self, name: str, channel_id: str) -> Response:
        log.warning("%s webhook for %.40r: channel lookup failed, answered 503", name, channel_id)
        _count(name, Outcome.UNAVAILABLE.value)
        return _problem("unavailable")

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge
        # The ASGI messages themselves, not `request.stream()`: its async generator costs more
        # than reading a webhook's usual single message.
        chunks: list[bytes] = []
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        return b"".join(chunks)

    def _refuse(self, name: str, reason: str, channel_id: str, detail: str = "") -> Response:
        _count(name, reason)
        # Never the body, headers or query string: they may carry secrets.
        log.info("refused %s webhook for %.40r: %s %s", name, channel_id, reason, detail)
        return _problem(reason)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name; of repeated headers, the first (as Starlette).

    A dict built once is cheaper than Starlette's `Headers`, which scans the raw list on every
    lookup: four lookups a webhook cost more than building this.
    """
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


@functools.cache
def _counter(provider: str, outcome: str) -> Counter:
    # `labels()` takes a lock and builds a key on every call; the hot path keeps the children.
    return WEBHOOKS.labels(provider, outcome)


def _count(provider: str, outcome: str) -> None:
    _counter(provider, outcome).inc()


def _response(reply: Reply) -> Response:
    # Built per request, not shared: a middleware may add headers to the list a Response sends.
    return Response(reply.content, reply.status, media_type=reply.media_type)


# reason → (status, code, title) of the problem+json answer.
_PROBLEMS = {
    "too_large": (413, "PAYLOAD_TOO_LARGE", "Webhook body exceeds MAX_WEBHOOK_BYTES"),
    "unknown_channel": (404, "CHANNEL_NOT_FOUND", "No such channel for this provider"),
    "bad_signature": (401, "INVALID_SIGNATURE", "Webhook authenticity could not be verified"),
    "malformed": (400, "INVALID_BODY", "Webhook body cannot be parsed"),
    "unavailable": (503, "UNAVAILABLE", "The event could not be stored; retry later"),
}


def _problem(reason: str) -> Response:
    status, code, title = _PROBLEMS[reason]
    response = problem_response(status, code, title)
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response
