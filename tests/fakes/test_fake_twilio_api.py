"""Tests for the fake Twilio REST API server."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from .twilio_api import FakeTwilioAPI

ACCOUNT_SID = "AC" + "1a" * 16
AUTH_TOKEN = "auth-token-one"
OTHER_SID = "AC" + "2b" * 16
OTHER_TOKEN = "auth-token-two"
BASE = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
NUMBERS = f"{BASE}/IncomingPhoneNumbers.json"
UNKNOWN_PN = "PN" + "0" * 32
HOOK = "https://example.com/twilio/sms"


@pytest.fixture
def twilio() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        fake.add_account(ACCOUNT_SID, AUTH_TOKEN)
        fake.add_account(OTHER_SID, OTHER_TOKEN, friendly_name="Other")
        yield fake


@pytest.fixture
def client(twilio: FakeTwilioAPI) -> Iterator[httpx.Client]:
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    with httpx.Client(base_url=twilio.url, auth=auth, timeout=5) as http_client:
        yield http_client


def number_path(pn_sid: str) -> str:
    return f"{BASE}/IncomingPhoneNumbers/{pn_sid}.json"


def add_numbers(twilio: FakeTwilioAPI, count: int, **kwargs: Any) -> list[str]:
    return [twilio.add_number(ACCOUNT_SID, f"+1555000{i:04d}", **kwargs) for i in range(count)]


def error(status: int, code: int, message: str) -> dict[str, object]:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


AUTHENTICATE = error(401, 20003, "Authenticate")


def not_found(path: str) -> dict[str, object]:
    return error(404, 20404, f"The requested resource {path} was not found")


def test_url_points_at_loopback(twilio: FakeTwilioAPI) -> None:
    assert twilio.url.startswith("http://127.0.0.1:")
    assert not twilio.url.endswith("/")


# -- accounts and auth --------------------------------------------------------


def test_fetch_account(client: httpx.Client) -> None:
    response = client.get(f"{BASE}.json")
    assert response.status_code == 200
    body = response.json()
    assert body["sid"] == body["owner_account_sid"] == ACCOUNT_SID
    assert body["friendly_name"] == "Acme"
    assert body["status"] == "active"
    assert body["type"] == "Full"
    assert body["auth_token"] == AUTH_TOKEN
    assert body["uri"] == f"{BASE}.json"
    assert body["subresource_uris"]["incoming_phone_numbers"] == NUMBERS
    for key in ("date_created", "date_updated"):
        assert body[key].endswith(" +0000")  # RFC 2822, GMT
        assert parsedate_to_datetime(body[key]).utcoffset() == UTC.utcoffset(None)


def test_account_status_and_type(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    twilio.set_account_status(ACCOUNT_SID, "suspended")
    assert client.get(f"{BASE}.json").json()["status"] == "suspended"
    twilio.add_account(ACCOUNT_SID, AUTH_TOKEN, friendly_name="Trial Co", type="Trial")
    body = client.get(f"{BASE}.json").json()
    assert (body["friendly_name"], body["type"], body["status"]) == ("Trial Co", "Trial", "active")
    with pytest.raises(ValueError):
        twilio.set_account_status(ACCOUNT_SID, "frozen")


@pytest.mark.parametrize(
    "auth",
    [None, (ACCOUNT_SID, "wrong"), ("AC" + "9" * 32, AUTH_TOKEN), (OTHER_SID, AUTH_TOKEN)],
)
def test_bad_credentials_401(twilio: FakeTwilioAPI, auth: tuple[str, str] | None) -> None:
    response = httpx.get(f"{twilio.url}{BASE}.json", auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json() == AUTHENTICATE
    assert response.headers["www-authenticate"].startswith("Basic")


def test_malformed_authorization_401(twilio: FakeTwilioAPI) -> None:
    for header in ("Basic !!!", "Bearer abc", base64.b64encode(b"no-colon").decode()):
        response = httpx.get(f"{twilio.url}{NUMBERS}", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json() == AUTHENTICATE


def test_unknown_path_needs_auth_first(twilio: FakeTwilioAPI) -> None:
    assert httpx.get(f"{twilio.url}/nowhere", timeout=5).status_code == 401


def test_another_accounts_resources_404(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    other_pn = twilio.add_number(OTHER_SID, "+15559990000")
    for path in (
        f"/2010-04-01/Accounts/{OTHER_SID}.json",
        f"/2010-04-01/Accounts/{OTHER_SID}/IncomingPhoneNumbers.json",
        f"/2010-04-01/Accounts/{OTHER_SID}/IncomingPhoneNumbers/{other_pn}.json",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == not_found(path)


@pytest.mark.parametrize(
    "path", [f"{BASE}/Calls.json", f"{BASE}.xml", "/2010-04-01/Accounts.json", "/", NUMBERS + "/"]
)
def test_unknown_resource_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == not_found(path)


def test_unsupported_method_405(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    for method, path in (("DELETE", number_path(pn_sid)), ("POST", f"{BASE}.json")):
        response = client.request(method, path)
        assert response.status_code == 405
        assert response.json() == error(405, 20004, "Method not allowed")
    assert twilio.numbers(ACCOUNT_SID) != []


# -- listing and paging -------------------------------------------------------


def test_list_envelope(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    add_numbers(twilio, 3)
    response = client.get(NUMBERS)
    assert response.status_code == 200
    first_page = f"{NUMBERS}?PageSize=50&Page=0"
    assert response.json() == {
        "incoming_phone_numbers": twilio.numbers(ACCOUNT_SID),
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": 2,
        "uri": first_page,
        "first_page_uri": first_page,
        "next_page_uri": None,
        "previous_page_uri": None,
    }


def test_empty_list(client: httpx.Client) -> None:
    body = client.get(NUMBERS).json()
    assert body["incoming_phone_numbers"] == []
    assert (body["start"], body["end"], body["next_page_uri"]) == (0, 0, None)


def test_paging_follows_next_page_uri(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    sids = add_numbers(twilio, 5)
    pages = [client.get(NUMBERS, params={"PageSize": 2}).json()]
    while pages[-1]["next_page_uri"] is not None:
        assert pages[-1]["next_page_uri"].startswith("/2010-04-01/")  # relative to the host
        pages.append(client.get(pages[-1]["next_page_uri"]).json())
    assert [n["sid"] for page in pages for n in page["incoming_phone_numbers"]] == sids
    assert [page["page"] for page in pages] == [0, 1, 2]
    assert [(page["start"], page["end"]) for page in pages] == [(0, 1), (2, 3), (4, 4)]
    assert {page["page_size"] for page in pages} == {2}
    assert pages[0]["next_page_uri"] == f"{NUMBERS}?PageSize=2&Page=1&PageToken=PA{sids[1]}"
    assert pages[1]["uri"] == pages[0]["next_page_uri"]
    assert all(page["first_page_uri"] == f"{NUMBERS}?PageSize=2&Page=0" for page in pages)
    assert pages[0]["previous_page_uri"] is None
    # previous_page_uri leads back to the same page.
    back = client.get(pages[2]["previous_page_uri"]).json()
    assert back["page"] == 1
    assert back["incoming_phone_numbers"] == pages[1]["incoming_phone_numbers"]


def test_page_token_survives_removal(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    sids = add_numbers(twilio, 4)
    first = client.get(NUMBERS, params={"PageSize": 2}).json()
    twilio.remove_number(ACCOUNT_SID, sids[1])  # the number the token names
    second = client.get(first["next_page_uri"]).json()
    assert [n["sid"] for n in second["incoming_phone_numbers"]] == sids[2:]
    assert second["next_page_uri"] is None


def test_page_without_token_is_an_offset(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    sids = add_numbers(twilio, 5)
    body = client.get(NUMBERS, params={"PageSize": 2, "Page": 1}).json()
    assert [n["sid"] for n in body["incoming_phone_numbers"]] == sids[2:4]
    assert body["start"] == 2


def test_invalid_page_token_400(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    add_numbers(twilio, 1)
    for token in ("bogus", "PA" + ACCOUNT_SID, "PX" + UNKNOWN_PN):
        response = client.get(NUMBERS, params={"PageToken": token})
        assert response.status_code == 400
        assert response.json() == error(400, 21481, "Invalid PageToken")


@pytest.mark.parametrize(("given", "used"), [("5000", 1000), ("abc", 50), ("0", 1), ("7", 7)])
def test_page_size_is_clamped(client: httpx.Client, given: str, used: int) -> None:
    assert client.get(NUMBERS, params={"PageSize": given}).json()["page_size"] == used


def test_filter_by_phone_number(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    sids = add_numbers(twilio, 3)
    body = client.get(NUMBERS, params={"PhoneNumber": "+15550000001"}).json()
    assert [n["sid"] for n in body["incoming_phone_numbers"]] == [sids[1]]
    assert body["uri"] == f"{NUMBERS}?PhoneNumber=%2B15550000001&PageSize=50&Page=0"
    # An unencoded "+" in a query string means a space, so nothing matches.
    raw = client.get(f"{NUMBERS}?PhoneNumber=+15550000001").json()
    assert raw["incoming_phone_numbers"] == []
    assert client.get(NUMBERS, params={"PhoneNumber": "+1555"}).json()["end"] == 0


def test_filters_carry_into_paging(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    support = add_numbers(twilio, 3, friendly_name="Support")
    twilio.add_number(ACCOUNT_SID, "+15551112222", friendly_name="Sales")
    first = client.get(NUMBERS, params={"FriendlyName": "Support", "PageSize": 2}).json()
    assert first["next_page_uri"].startswith(f"{NUMBERS}?FriendlyName=Support&PageSize=2&Page=1")
    second = client.get(first["next_page_uri"]).json()
    found = first["incoming_phone_numbers"] + second["incoming_phone_numbers"]
    assert [n["sid"] for n in found] == support
    assert second["next_page_uri"] is None


# -- single numbers -----------------------------------------------------------


def test_fetch_number(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    pn_sid = twilio.add_number(ACCOUNT_SID, "+15557654321")
    response = client.get(number_path(pn_sid))
    assert response.status_code == 200
    body = response.json()
    assert body == twilio.number(ACCOUNT_SID, pn_sid)
    assert re.fullmatch(r"PN[0-9a-f]{32}", body["sid"])
    assert body["account_sid"] == ACCOUNT_SID
    assert body["phone_number"] == body["friendly_name"] == "+15557654321"
    assert (body["sms_url"], body["voice_url"], body["status_callback"]) == ("", "", "")
    assert {body["sms_method"], body["voice_method"], body["status_callback_method"]} == {"POST"}
    assert set(body["capabilities"]) == {"voice", "sms", "mms", "fax"}
    assert body["uri"] == number_path(pn_sid)
    assert parsedate_to_datetime(body["date_created"]) == parsedate_to_datetime(
        body["date_updated"]
    )


def test_unknown_number_404(client: httpx.Client) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, number_path(UNKNOWN_PN))
        assert response.status_code == 404
        assert response.json() == not_found(number_path(UNKNOWN_PN))


def test_update_changes_only_given_fields(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    before = twilio.number(ACCOUNT_SID, pn_sid)
    response = client.post(number_path(pn_sid), data={"SmsUrl": HOOK, "SmsMethod": "GET"})
    assert response.status_code == 200
    body = response.json()
    assert body == twilio.number(ACCOUNT_SID, pn_sid)
    assert (body["sms_url"], body["sms_method"]) == (HOOK, "GET")
    changed = {"sms_url", "sms_method", "date_updated"}
    assert {k: v for k, v in body.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    status_hook = "http://127.0.0.1:9/status"
    changes = {
        "StatusCallback": status_hook,
        "StatusCallbackMethod": "post",  # normalised to upper case
        "VoiceUrl": HOOK,
        "VoiceMethod": "GET",
        "FriendlyName": "Main line",
        "Unknown": "ignored",
    }
    body = client.post(number_path(pn_sid), data=changes).json()
    assert body["status_callback"] == status_hook
    assert body["status_callback_method"] == "POST"
    assert (body["voice_url"], body["voice_method"]) == (HOOK, "GET")
    assert body["friendly_name"] == "Main line"
    assert body["sms_url"] == HOOK
    assert "unknown" not in body
    # An empty URL clears it.
    assert client.post(number_path(pn_sid), data={"SmsUrl": ""}).json()["sms_url"] == ""


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"SmsUrl": "ftp://example.com/hook"}, 21502),
        ({"StatusCallback": "not a url"}, 21502),
        ({"VoiceUrl": "http://"}, 21502),
        ({"FriendlyName": "valid", "SmsMethod": "PUT"}, 21403),
        ({"StatusCallbackMethod": "DELETE"}, 21403),
        ({"VoiceMethod": ""}, 21403),
    ],
)
def test_update_rejects_bad_values(
    twilio: FakeTwilioAPI, client: httpx.Client, params: dict[str, str], code: int
) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    before = twilio.number(ACCOUNT_SID, pn_sid)
    response = client.post(number_path(pn_sid), data=params)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["status"]) == (code, 400)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert twilio.number(ACCOUNT_SID, pn_sid) == before  # nothing half-applied


def test_update_rejects_json_body(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    response = client.post(number_path(pn_sid), json={"SmsUrl": HOOK})
    assert response.status_code == 400
    assert response.json()["code"] == 31400
    assert twilio.number(ACCOUNT_SID, pn_sid)["sms_url"] == ""


def test_update_without_body_changes_nothing(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    before = twilio.number(ACCOUNT_SID, pn_sid)
    response = client.post(number_path(pn_sid))
    assert response.status_code == 200
    assert response.json() == before


# -- injected faults ----------------------------------------------------------


def test_rate_limit_then_recovers(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    twilio.rate_limit_next(2, retry_after=7)
    for _ in range(2):
        limited = client.get(f"{BASE}.json")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
        assert limited.json() == error(429, 20429, "Too Many Requests")
    assert client.get(f"{BASE}.json").status_code == 200


def test_fail_next(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    twilio.fail_next(1)
    twilio.fail_next(1, status=503)
    first, second = client.get(NUMBERS), client.get(NUMBERS)
    assert first.status_code == 500
    assert first.json() == error(500, 20500, "Internal Server Error")
    assert second.status_code == 503
    assert second.json() == error(503, 20503, "Service Unavailable")
    assert client.get(NUMBERS).status_code == 200


def test_rate_limit_comes_before_failure(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    twilio.fail_next(1)
    twilio.rate_limit_next(1)
    assert [client.get(NUMBERS).status_code for _ in range(3)] == [429, 500, 200]


def test_slow_next(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    twilio.slow_next(1, 0.2)
    started = time.monotonic()
    assert client.get(f"{BASE}.json").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fault_arguments_are_checked(twilio: FakeTwilioAPI) -> None:
    with pytest.raises(ValueError):
        twilio.rate_limit_next(-1)
    with pytest.raises(ValueError):
        twilio.rate_limit_next(1, retry_after=-1)
    with pytest.raises(ValueError):
        twilio.fail_next(1, status=200)
    with pytest.raises(ValueError):
        twilio.slow_next(1, -0.1)


# -- recording and state ------------------------------------------------------


def test_requests_are_recorded(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    (pn_sid,) = add_numbers(twilio, 1)
    client.get(NUMBERS, params={"PhoneNumber": "+15550000000", "PageSize": 5})
    client.post(number_path(pn_sid), data={"SmsUrl": HOOK, "SmsMethod": "POST"})
    httpx.get(f"{twilio.url}/elsewhere", timeout=5)
    listed, updated, elsewhere = twilio.requests
    assert (listed.method, listed.path) == ("GET", NUMBERS)
    assert listed.query == {"PhoneNumber": "+15550000000", "PageSize": "5"}
    assert listed.form is None
    assert listed.account_sid == ACCOUNT_SID
    assert (updated.method, updated.path) == ("POST", number_path(pn_sid))
    assert updated.form == [("SmsUrl", HOOK), ("SmsMethod", "POST")]
    assert updated.headers["content-type"] == "application/x-www-form-urlencoded"
    assert updated.account_sid == ACCOUNT_SID
    assert elsewhere.account_sid is None
    assert "authorization" not in elsewhere.headers
    encoded = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    for recorded in (listed, updated):
        assert recorded.headers["authorization"] == f"Basic {ACCOUNT_SID}:<redacted>"
        assert all(AUTH_TOKEN not in v and encoded not in v for v in recorded.headers.values())


def test_number_state_api(twilio: FakeTwilioAPI, client: httpx.Client) -> None:
    first, second = add_numbers(twilio, 2)
    assert [n["sid"] for n in twilio.numbers(ACCOUNT_SID)] == [first, second]
    copied = twilio.number(ACCOUNT_SID, first)
    copied["capabilities"]["sms"] = False
    assert twilio.number(ACCOUNT_SID, first)["capabilities"]["sms"] is True
    twilio.remove_number(ACCOUNT_SID, first)
    assert client.get(number_path(first)).status_code == 404
    assert [n["sid"] for n in twilio.numbers(ACCOUNT_SID)] == [second]
    with pytest.raises(KeyError):
        twilio.remove_number(ACCOUNT_SID, first)


def test_state_api_rejects_bad_input(twilio: FakeTwilioAPI) -> None:
    twilio.add_number(ACCOUNT_SID, "+15550001111")
    with pytest.raises(ValueError):
        twilio.add_number(OTHER_SID, "+15550001111")  # a number has one owner
    with pytest.raises(ValueError):
        twilio.add_number(ACCOUNT_SID, "555-0100")
    with pytest.raises(KeyError):
        twilio.add_number("AC" + "f" * 32, "+15550002222")
    with pytest.raises(ValueError):
        twilio.add_account("AC123", "token")
    with pytest.raises(ValueError):
        twilio.add_account(ACCOUNT_SID, "token", type="Premium")


def test_replacing_an_account_drops_its_numbers(twilio: FakeTwilioAPI) -> None:
    add_numbers(twilio, 2)
    twilio.add_account(ACCOUNT_SID, "new-token")
    assert twilio.numbers(ACCOUNT_SID) == []


# -- the official client ------------------------------------------------------


def test_official_twilio_client(twilio: FakeTwilioAPI) -> None:
    sids = add_numbers(twilio, 5)
    official = Client(ACCOUNT_SID, AUTH_TOKEN)
    official.api.base_url = twilio.url  # the SDK's hook for another host
    assert official.api.v2010.accounts(ACCOUNT_SID).fetch().status == "active"
    assert [n.sid for n in official.incoming_phone_numbers.list(page_size=2)] == sids
    (found,) = official.incoming_phone_numbers.list(phone_number="+15550000003")
    assert found.sid == sids[3]
    updated = official.incoming_phone_numbers(sids[0]).update(sms_url=HOOK, sms_method="GET")
    assert (updated.sms_url, updated.sms_method) == (HOOK, "GET")
    with pytest.raises(TwilioRestException) as raised:
        official.incoming_phone_numbers(UNKNOWN_PN).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)
    assert [r.query.get("Page") for r in twilio.requests[1:4]] == [None, "1", "2"]


def test_stop_closes_port() -> None:
    fake = FakeTwilioAPI()
    fake.start()
    url = fake.url
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}{BASE}.json", timeout=2)
