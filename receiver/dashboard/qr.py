"""The Whapi pairing code to scan, while a channel waits for it.

Whapi's login answer carries a PNG; a code that arrives by webhook may carry only its text
(workers.effects.whapi.qr_of), so that one is drawn here as SVG (segno: pure Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import segno
from markupsafe import Markup

from shared.models import Channel

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


@dataclass(frozen=True)
class PairingCode:
    image_src: str | None  # a data: URL of Whapi's PNG
    svg: Markup | None  # drawn from the code's text when there is no PNG
    received_at: datetime | None

    @property
    def version(self) -> str:
        """Changes whenever a new code replaces the shown one."""
        return self.received_at.isoformat() if self.received_at else ""


def waiting(channel: Channel) -> bool:
    return channel.provider == "whapi" and channel.status == "awaiting_scan"


def pairing_code(channel: Channel) -> PairingCode | None:
    """As the API shows it (receiver.api.serialize): only a code still waiting to be scanned."""
    qr = channel.qr if waiting(channel) else None
    if not qr:
        return None
    received_at = _parse_time(qr.get("received_at"))
    image = qr.get("qr_image_base64")
    if isinstance(image, str) and _BASE64.fullmatch(image):
        return PairingCode(f"data:image/png;base64,{image}", None, received_at)
    data = qr.get("qr_data")
    if isinstance(data, str) and data:
        svg = segno.make_qr(data, error="m").svg_inline(border=4, svgclass="qr-svg", omitsize=True)
        # segno's output is its own path markup: nothing from the code's text is echoed in it.
        return PairingCode(None, Markup(svg), received_at)
    return None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
