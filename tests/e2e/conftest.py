"""Fixtures shared by the end-to-end modules; each module defines its own `deployment`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.deployments import Deployment


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    """An API client holding a fresh org-wide token."""
    with deployment.client(deployment.org_token()) as client:
        yield client
