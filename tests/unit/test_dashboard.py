"""The dashboard's pure parts: relative times, chart counting and drawing, the sealed session
token, pairing codes, filters and safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import QueryParams

from receiver.dashboard import channel as channel_page
from receiver.dashboard import chart, formatting, layout, qr, session
from receiver.dashboard.queries import Filters
from shared.db import session_scope
from shared.models import Channel
from tests.unit.rows import add_in_order, instance, slack_channel, slack_event

NOW = datetime(2025, 11, 21, 9, 30, 42, tzinfo=UTC)
SECRET = "s" * 40


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s ago"),
        (12, "12 s ago"),
        (59.6, "1 min ago"),
        (61, "1 min ago"),
        (3600 * 5 + 1, "5 h ago"),
        (86400 * 2, "2 d ago"),
        (-4, "in 4 s"),
    ],
)
def test_times_read_as_relative(seconds: float, text: str) -> None:
    assert formatting.ago(NOW - timedelta(seconds=seconds), NOW) == text


def test_labels_and_tones() -> None:
    assert formatting.label("awaiting_scan", formatting.STATUS_LABELS) == "Awaiting scan"
    assert formatting.label("brand_new", formatting.STATUS_LABELS) == "Brand new"
    assert formatting.label(None, formatting.TYPE_LABELS) == "—"
    assert [formatting.tone(s) for s in ("connected", "error", "awaiting_scan", "odd")] == [
        "good",
        "bad",
        "waiting",
        "off",
    ]
    assert formatting.iso(NOW) == "2025-11-21T09:30:42Z"


def test_the_chart_scales_to_its_peak_and_shows_lone_events() -> None:
    counts = [0] * 28 + [1, 200]
    drawn = chart.draw(counts, NOW)
    assert (drawn.total, drawn.peak, len(drawn.bars)) == (201, 200, 30)
    assert drawn.bars[-1].height == chart.HEIGHT - 2
    assert drawn.bars[-2].height == 1.5  # one event among hundreds still shows
    assert drawn.bars[0].height == 0 and drawn.bars[0].minute == datetime(
        2025, 11, 21, 9, 1, tzinfo=UTC
    )
    assert "201 in all, at most 200 in one minute" in drawn.summary
    assert chart.draw([0] * 30, NOW).peak == 0


@pytest.mark.usefixtures("database")
def test_events_are_counted_per_minute_in_sql() -> None:
    start = chart.first_minute(NOW)
    times = [start - timedelta(microseconds=1), start, start + timedelta(seconds=59.9)]
    times += [NOW - timedelta(seconds=1), NOW]
    events = [slack_event(f"evt_{n}", "ch_1", at) for n, at in enumerate(times)]
    with session_scope() as db:
        add_in_order(
            db,
            [instance(name="Acme")],
            [slack_channel("ch_1"), slack_channel("ch_2")],
            [*events, slack_event("evt_99", "ch_2", NOW)],
        )
    with session_scope() as db:
        counts = chart.per_minute(db, NOW, instance_id="inst_1", channel_id="ch_1")
        assert counts == [2] + [0] * 28 + [2]  # the one a microsecond early is left out
        assert chart.per_minute(db, NOW, instance_id="inst_1")[-1] == 3


def test_the_token_is_sealed_not_just_signed() -> None:
    sealed = session.seal(SECRET, "sb_the-token")
    assert "sb_the-token" not in sealed
    assert session.unseal(SECRET, sealed) == "sb_the-token"
    assert session.unseal("t" * 40, sealed) is None  # another SECRET_KEY
    assert session.unseal(SECRET, sealed[:-2] + "xx") is None
    assert session.unseal(SECRET, None) is None


def _whapi(status: str, qr_value: dict[str, str] | None) -> Channel:
    return Channel(
        id="ch_1",
        instance_id="inst_1",
        channel_type="whatsapp",
        provider="whapi",
        status=status,
        qr=qr_value,
    )


def test_a_pairing_code_shows_whapis_image_or_is_drawn_from_its_text() -> None:
    at = NOW.isoformat()
    image = qr.pairing_code(
        _whapi("awaiting_scan", {"qr_image_base64": "iVBORw0K", "received_at": at})
    )
    assert image is not None and image.image_src == "data:image/png;base64,iVBORw0K"
    assert image.version == at
    drawn = qr.pairing_code(
        _whapi("awaiting_scan", {"qr_data": "2@abc", "qr_image_base64": '"><x'})
    )
    assert drawn is not None and drawn.image_src is None
    assert drawn.svg is not None and drawn.svg.startswith("<svg") and "2@abc" not in drawn.svg
    assert qr.pairing_code(_whapi("connected", {"qr_data": "2@abc"})) is None
    assert qr.pairing_code(_whapi("awaiting_scan", None)) is None


def test_filters_drop_unknown_values() -> None:
    filters = Filters.from_query(QueryParams("status=connected&channel_type=fax&instance="))
    assert filters == Filters(None, "connected", None)
    assert filters.query_string() == "status=connected"


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/?status=error", "/?status=error"),
        ("//evil.example/", "/"),
        ("/\\evil", "/"),
        ("https://evil.example/", "/"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_forms_only_send_the_browser_back_to_this_site(
    candidate: str | None, expected: str
) -> None:
    assert layout.local_path(candidate) == expected


def test_discord_channels_show_both_of_their_urls() -> None:
    discord = Channel(id="ch_1", instance_id="inst_1", channel_type="discord", provider="discord")
    shown = channel_page.webhooks(discord, "https://sb.example")
    assert [(w.label, w.url.rsplit("/", 1)[-1]) for w in shown] == [
        ("Interactions Endpoint URL", "interactions"),
        ("Webhook Events URL", "events"),
    ]
