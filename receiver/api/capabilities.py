"""`GET /v1/capabilities`: what each channel type can do (contract §8). Any valid token."""

from __future__ import annotations

from typing import Any

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.responses import CapabilitiesByType
from shared.channel_types import CAPABILITIES


def list_(_call: Call[NoBody]) -> dict[str, Any]:
    return CAPABILITIES


routes = [
    ApiRoute("/v1/capabilities", "GET", list_, scope=None, response=CapabilitiesByType),
]
