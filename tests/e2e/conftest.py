"""Fixtures shared by the end-to-end modules.

`deployment` defaults to both deployments against the fake Slack API; a module that needs
other fakes or settings defines its own `deployment`, which takes precedence.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.deployments import Deployment, deployed
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_slack: FakeSlackAPI,
) -> Iterator[Deployment]:
    module = request.module.__name__.rsplit(".", 1)[-1]
    cwd = tmp_path_factory.mktemp(f"{module}-{request.param}")
    with deployed(request.param, request, cwd, SLACK_API_URL=fake_slack.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    """An API client holding a fresh org-wide token."""
    with deployment.client(deployment.org_token()) as client:
        yield client
