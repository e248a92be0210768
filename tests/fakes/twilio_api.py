"""Fake Twilio REST API (``2010-04-01``) server for tests.

Speaks the wire format documented at https://www.twilio.com/docs/usage/api over
real HTTP on loopback, so code under test can point ``TWILIO_API_URL`` at it:

* every request carries HTTP Basic auth ``AccountSid:AuthToken``
  (https://www.twilio.com/docs/usage/requests-to-twilio); a missing or wrong
  credential is ``401`` code 20003 "Authenticate";
* every error is ``{"code", "message", "more_info", "status"}`` sent with HTTP
  status ``status`` (https://www.twilio.com/docs/usage/twilios-response);
* ``GET /2010-04-01/Accounts/{AccountSid}.json`` is the Account resource
  (https://www.twilio.com/docs/iam/api/account), including ``auth_token`` as
  Twilio does;
* ``GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json`` lists
  numbers, filtered by exact ``PhoneNumber`` (send ``+`` as ``%2B``: a raw
  ``+`` decodes to a space) and ``FriendlyName``, and paged by ``PageSize``
  (default 50, capped at 1000), ``Page`` and ``PageToken``
  (https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource);
  ``next_page_uri`` and ``previous_page_uri`` are host-relative, or ``null``;
* ``GET|POST .../IncomingPhoneNumbers/{PNSid}.json`` fetches or updates one
  number. POST bodies are ``application/x-www-form-urlencoded``; only the
  parameters given change. A URL that is neither empty nor http(s) is ``400``
  code 21502, a method other than GET/POST is ``400`` code 21403;
* an unknown path, number or an ``{AccountSid}`` other than the authenticated
  one is ``404`` code 20404; another HTTP method on a known path is ``405``
  code 20004; rate limiting is ``429`` code 20429 with ``Retry-After``.

Not modelled: subaccounts, API keys, ``.xml``/``.csv`` representations,
provisioning or deleting numbers, and what a suspended or closed account may
still do (``status`` is only reported). Unlike Twilio, which ignores a JSON
body, the fake rejects any non-form body with ``400`` so client bugs are loud,
and it clamps malformed ``Page``/``PageSize`` values instead of rejecting them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import http
import itertools
import re
import sys
import threading
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.faults import SecondsFaultyFake
from tests.support import secret_scan

__all__ = ["FakeTwilioAPI", "RecordedRequest"]

Json = dict[str, Any]

_API = "/2010-04-01"
_ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")
_PN_SID_RE = re.compile(r"^PN[0-9a-f]{32}$")
_E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
_PATH_ACCOUNT_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/.]+)")
_ACCOUNT_STATUSES = frozenset({"active", "suspended", "closed"})
_ACCOUNT_TYPES = frozenset({"Full", "Trial"})
_FORM_TYPE = "application/x-www-form-urlencoded"
# Parameter names map to resource fields by snake-casing (see `_snake`).
_FILTERS = ("PhoneNumber", "FriendlyName")  # in the order paging URIs echo them
_URL_PARAMS = ("SmsUrl", "StatusCallback", "VoiceUrl")
_METHOD_PARAMS = ("SmsMethod", "StatusCallbackMethod", "VoiceMethod")
_SUBRESOURCES = ("IncomingPhoneNumbers", "Messages", "Calls", "Applications", "Balance")


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP call received by the fake.

    ``headers`` are lower-cased; ``authorization`` is masked to
    ``"Basic <AccountSid>:<redacted>"`` (or ``"<redacted>"``) so the auth token
    never appears. ``form`` is ``None`` unless the body is urlencoded.
    ``account_sid`` is the ``{AccountSid}`` path segment, if any.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: list[tuple[str, str]] | None
    account_sid: str | None


@dataclass
class _Account:
    auth_token: str
    resource: Json  # as the Account resource returns it
    numbers: dict[str, Json] = field(default_factory=dict)  # PN sid -> resource


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


# (authenticated account, request, the {PNSid} path segment or "") -> resource
_Handler = Callable[[_Account, RecordedRequest, str], Json]


class FakeTwilioAPI(SecondsFaultyFake[RecordedRequest]):
    """Twilio REST API stand-in served by uvicorn in a background thread."""

    url_path = ""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        self._counter = itertools.count()
        account = rf"^{_API}/Accounts/(?P<account>[^/]+)"
        self._routes: list[tuple[re.Pattern[str], dict[str, _Handler]]] = [
            (re.compile(account + r"\.json$"), {"GET": self._fetch_account}),
            (re.compile(account + r"/IncomingPhoneNumbers\.json$"), {"GET": self._list_numbers}),
            (
                re.compile(account + r"/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json$"),
                {"GET": self._fetch_number, "POST": self._update_number},
            ),
        ]
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self._app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=methods)])

    # -- state ---------------------------------------------------------------

    def add_account(
        self,
        sid: str,
        auth_token: str,
        friendly_name: str = "Acme",
        status: str = "active",
        type: str = "Full",  # Twilio's field name, shadowing the builtin here
    ) -> None:
        """Register (or replace, dropping its numbers) the account ``sid``."""
        if not _ACCOUNT_SID_RE.match(sid):
            raise ValueError(f"account sid must be 'AC' + 32 hex digits: {sid!r}")
        if not auth_token:
            raise ValueError("auth_token must be non-empty")
        secret_scan.remember(auth_token)
        _check_choice("status", status, _ACCOUNT_STATUSES)
        _check_choice("type", type, _ACCOUNT_TYPES)
        now, base = _now(), f"{_API}/Accounts/{sid}"
        resource: Json = {
            "sid": sid,
            "owner_account_sid": sid,
            "friendly_name": friendly_name,
            "status": status,
            "type": type,
            "auth_token": auth_token,  # Twilio returns it too
            "date_created": now,
            "date_updated": now,
            "uri": f"{base}.json",
            "subresource_uris": {_snake(name): f"{base}/{name}.json" for name in _SUBRESOURCES},
        }
        with self._lock:
            self._accounts[sid] = _Account(auth_token, resource)

    def set_account_status(self, sid: str, status: str) -> None:
        """Change the ``status`` the Account resource reports."""
        _check_choice("status", status, _ACCOUNT_STATUSES)
        with self._lock:
            self._accounts[sid].resource.update(status=status, date_updated=_now())

    def add_number(
        self, account_sid: str, phone_number: str, friendly_name: str | None = None
    ) -> str:
        """Give the account an incoming number (E.164); return its ``PN`` sid."""
        if not _E164_RE.match(phone_number):
            raise ValueError(f"phone_number must be E.164: {phone_number!r}")
        # A counter prefix makes sids sort in creation (list) order, so a
        # PageToken naming a since-removed number still resumes in place.
        sid = f"PN{next(self._counter):08x}{uuid.uuid4().hex[:24]}"
        now = _now()
        number: Json = {
            "sid": sid,
            "account_sid": account_sid,
            "phone_number": phone_number,
            # Twilio's default is a formatted number, e.g. "(415) 555-0100".
            "friendly_name": phone_number if friendly_name is None else friendly_name,
            "api_version": "2010-04-01",
            **dict.fromkeys(map(_snake, _URL_PARAMS), ""),
            **dict.fromkeys(map(_snake, _METHOD_PARAMS), "POST"),
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "status": "in-use",
            "date_created": now,
            "date_updated": now,
            "uri": f"{_API}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        }
        with self._lock:
            account = self._accounts[account_sid]
            owned = (n for a in self._accounts.values() for n in a.numbers.values())
            if any(n["phone_number"] == phone_number for n in owned):
                raise ValueError(f"{phone_number} already belongs to an account")
            account.numbers[sid] = number
        return sid

    def number(self, account_sid: str, pn_sid: str) -> Json:
        """Copy of one number resource as the API would return it."""
        with self._lock:
            return copy.deepcopy(self._accounts[account_sid].numbers[pn_sid])

    def numbers(self, account_sid: str) -> list[Json]:
        """Copies of the account's number resources, in list order."""
        with self._lock:
            return copy.deepcopy(list(self._accounts[account_sid].numbers.values()))

    def remove_number(self, account_sid: str, pn_sid: str) -> None:
        """Release a number; later fetches answer 404."""
        with self._lock:
            del self._accounts[account_sid].numbers[pn_sid]

    # -- HTTP ----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Record the call, apply injected faults, authenticate, then dispatch."""
        path = request.url.path
        body = await request.body()
        form = _form(request, body)
        credentials = _basic_credentials(request.headers.get("authorization"))
        in_path = _PATH_ACCOUNT_RE.match(path)
        call = RecordedRequest(
            request.method,
            path,
            dict(request.query_params),
            _masked_headers(request, credentials),
            form,
            in_path["account"] if in_path else None,
        )
        fault = await self._suffer(call)
        retry_after, status = fault.rate_limit, fault.status
        if retry_after is not None:
            response = _error(429, 20429, "Too Many Requests")
            response.headers["Retry-After"] = str(retry_after)
            return response
        if status is not None:
            # Twilio's generic codes are 20000 + HTTP status (20404, 20500, 20503).
            return _error(status, 20000 + status, http.HTTPStatus(status).phrase)
        try:
            with self._lock:
                result = copy.deepcopy(self._dispatch(call, credentials))
        except _ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        return JSONResponse(result)

    def _dispatch(self, call: RecordedRequest, credentials: tuple[str, str] | None) -> Json:
        """Route an authenticated call to its handler (lock held)."""
        account = self._authenticate(credentials)
        for pattern, handlers in self._routes:
            match = pattern.match(call.path)
            if match is None:
                continue
            handler = handlers.get(call.method)
            if handler is None:
                raise _ApiError(405, 20004, "Method not allowed")
            if match["account"] != account.resource["sid"]:
                # Only the authenticated account's resources exist for the caller.
                raise _not_found(call.path)
            return handler(account, call, match.groupdict().get("sid", ""))
        raise _not_found(call.path)

    def _authenticate(self, credentials: tuple[str, str] | None) -> _Account:
        username, token = credentials or ("", "")
        account = self._accounts.get(username)
        if account is None or not hmac.compare_digest(token.encode(), account.auth_token.encode()):
            raise _ApiError(401, 20003, "Authenticate")
        return account

    # -- resources (called with the lock held) --------------------------------

    def _fetch_account(self, account: _Account, _call: RecordedRequest, _sid: str) -> Json:
        """https://www.twilio.com/docs/iam/api/account#fetch-an-account-resource"""
        return account.resource

    def _list_numbers(self, account: _Account, call: RecordedRequest, _sid: str) -> Json:
        """https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource#read-multiple-incomingphonenumber-resources"""
        query = call.query
        page_size = _int_param(query.get("PageSize"), default=50, lo=1, hi=1000)
        page = _int_param(query.get("Page"), default=0, lo=0, hi=sys.maxsize)
        filters = [(name, query[name]) for name in _FILTERS if name in query]
        numbers = [
            number
            for number in account.numbers.values()
            if all(number[_snake(name)] == value for name, value in filters)
        ]
        token = query.get("PageToken") or None
        lo, hi = _window(numbers, token, page * page_size, page_size)
        window = numbers[lo:hi]

        def uri(page: int, token: str | None) -> str:
            params = [*filters, ("PageSize", str(page_size)), ("Page", str(page))]
            params += [("PageToken", token)] if token else []
            return f"{call.path}?{urlencode(params)}"

        more_after, more_before = bool(window) and hi < len(numbers), bool(window) and lo > 0
        start = page * page_size
        return {
            "incoming_phone_numbers": window,
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + max(len(window) - 1, 0),
            "uri": uri(page, token),
            "first_page_uri": uri(0, None),
            # Twilio's tokens: "PA" + last sid resumes after it, "PB" + first sid
            # goes back before it, so paging survives numbers added or removed.
            "next_page_uri": uri(page + 1, "PA" + window[-1]["sid"]) if more_after else None,
            "previous_page_uri": (
                uri(max(page - 1, 0), "PB" + window[0]["sid"]) if more_before else None
            ),
        }

    def _fetch_number(self, account: _Account, call: RecordedRequest, sid: str) -> Json:
        """https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource#fetch-an-incomingphonenumber-resource"""
        number = account.numbers.get(sid)
        if number is None:
            raise _not_found(call.path)
        return number

    def _update_number(self, account: _Account, call: RecordedRequest, sid: str) -> Json:
        """https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource#update-an-incomingphonenumber-resource"""
        number = self._fetch_number(account, call, sid)
        if call.form is None and "content-type" in call.headers:
            # A body that is not a form. Documented for 31400: bodies must be
            # urlencoded (or multipart, which the fake does not parse).
            raise _ApiError(400, 31400, f"Bad Request: body must be {_FORM_TYPE}")
        changes = _validated_changes(dict(call.form or []))
        if changes:
            number.update(changes, date_updated=_now())
        return number


# -- helpers -----------------------------------------------------------------


def _window(numbers: list[Json], token: str | None, offset: int, page_size: int) -> tuple[int, int]:
    """The ``[lo, hi)`` slice of ``numbers`` a page covers."""
    if token is None:
        return offset, offset + page_size
    kind, pivot = token[:2], token[2:]
    if kind not in {"PA", "PB"} or not _PN_SID_RE.match(pivot):
        raise _ApiError(400, 21481, "Invalid PageToken")
    sids = [number["sid"] for number in numbers]
    if kind == "PA":
        lo = bisect_right(sids, pivot)
        return lo, lo + page_size
    hi = bisect_left(sids, pivot)
    return max(hi - page_size, 0), hi


def _validated_changes(params: dict[str, str]) -> Json:
    """Resource fields to set from update parameters; unknown ones are ignored."""
    changes: Json = {}
    for name, value in params.items():
        if name in _URL_PARAMS:
            # An empty value clears the URL.
            if value and not _is_http_url(value):
                raise _ApiError(400, 21502, f"{name} is not valid: {value}")
            changes[_snake(name)] = value
        elif name in _METHOD_PARAMS:
            if value.upper() not in {"GET", "POST"}:
                raise _ApiError(400, 21403, f"{name} must be GET or POST")
            changes[_snake(name)] = value.upper()
        elif name == "FriendlyName":
            changes["friendly_name"] = value
    return changes


def _error(status: int, code: int, message: str) -> JSONResponse:
    """Twilio's error body, sent with HTTP status ``status``."""
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    body = {"code": code, "message": message, "more_info": more_info, "status": status}
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _not_found(path: str) -> _ApiError:
    return _ApiError(404, 20404, f"The requested resource {path} was not found")


def _now() -> str:
    """The current time as RFC 2822 in GMT, e.g. ``Tue, 14 Aug 2018 19:37:39 +0000``."""
    return format_datetime(datetime.now(UTC).replace(microsecond=0))


def _snake(name: str) -> str:
    """``StatusCallbackMethod`` -> ``status_callback_method``: Twilio's JSON field names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check_choice(name: str, value: str, choices: frozenset[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _int_param(value: str | None, *, default: int, lo: int, hi: int) -> int:
    """A paging integer clamped to ``[lo, hi]``; ``default`` if absent or not a number."""
    number = int(value) if value and value.isdecimal() else default
    return max(lo, min(number, hi))


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _form(request: Request, body: bytes) -> list[tuple[str, str]] | None:
    """The urlencoded body's pairs; ``None`` for any other content type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM_TYPE:
        return None
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(username, password)`` from an ``Authorization: Basic`` header."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def _masked_headers(request: Request, credentials: tuple[str, str] | None) -> dict[str, str]:
    """Request headers with the auth token kept out of the record."""
    headers = dict(request.headers)
    if "authorization" in headers:
        username = credentials[0] if credentials else None
        headers["authorization"] = f"Basic {username}:<redacted>" if username else "<redacted>"
    return headers
