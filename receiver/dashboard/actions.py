"""Reconnect a channel and sync a connection, through the API's own handlers.

The dashboard builds the API's `Call` for the signed-in principal and calls
`receiver.api.connect.reconnect` and `receiver.api.connections.sync`, so the checks, the audit
entries and the follow-up jobs are the API's. Each POST carries the session's CSRF token, and
answers with a redirect back to the page (Post/Redirect/Get) and a flash message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from receiver.api.connect import reconnect
from receiver.api.connections import sync
from receiver.api.endpoint import Call, NoBody, NoQuery
from receiver.api.problems import ProblemError
from receiver.dashboard import channel, csrf, layout, session
from receiver.dashboard.access import LOGIN_PATH, SignedOut, Viewer, as_viewer
from shared.settings import get_settings

log = logging.getLogger(__name__)
FollowUps = list[Callable[[], object]]


async def reconnect_channel(request: Request) -> Response:
    iid, cid = request.path_params["instance_id"], request.path_params["channel_id"]
    path = {"instance_id": iid, "channel": cid}
    return await _act(request, "channels:write", path, _reconnected, channel.path(iid, cid))


async def sync_connection(request: Request) -> Response:
    path = {
        "instance_id": request.path_params["instance_id"],
        "connection_id": request.path_params["connection_id"],
    }
    return await _act(request, "connections:write", path, _synced, None)


def _reconnected(call: Call[NoBody]) -> tuple[str, str]:
    answer = reconnect(call)
    if not answer["success"]:
        return "error", f"Reconnecting failed: {answer['error']['message']}"
    return "ok", answer.get("message") or "Reconnected."


def _synced(call: Call[NoBody]) -> tuple[str, str]:
    sync(call)
    return "ok", "Sync queued: the connection's state updates here when it is done."


async def _act(
    request: Request,
    scope: str,
    path: dict[str, str],
    handler: Callable[[Call[NoBody]], tuple[str, str]],
    back: str | None,
) -> Response:
    if session.presented_token(request, get_settings().secret) is None:
        return RedirectResponse(LOGIN_PATH, status_code=303)
    form = await csrf.checked_form(request)
    if form is None:
        return csrf.refused(request)
    target = back or layout.local_path(form.get("back"))

    def work(viewer: Viewer) -> tuple[tuple[str, str], FollowUps]:
        if not viewer.may(scope, path["instance_id"]):
            raise ProblemError(403, "FORBIDDEN", f"This token lacks the {scope} scope")
        call = _call(viewer, path)
        return handler(call), call.after_commit

    try:
        (kind, text), follow_ups = await as_viewer(request, work)
    except SignedOut:
        return RedirectResponse(LOGIN_PATH, status_code=303)
    except ProblemError as exc:  # nothing was changed: the transaction rolled back
        kind, text, follow_ups = "error", _describe(exc), []
    await run_in_threadpool(_run_follow_ups, follow_ups)
    session.flash(request, kind, text)
    return RedirectResponse(target, status_code=303)


def _call(viewer: Viewer, path: dict[str, str]) -> Call[NoBody]:
    """The API's call for this principal, as its endpoint would build it for a bodyless POST."""
    return Call(
        session=viewer.db,
        principal=viewer.principal,
        path=path,
        params=NoQuery(),
        body=NoBody(),
        settings=viewer.settings,
    )


def _describe(exc: ProblemError) -> str:
    return f"{exc.title}: {exc.detail}" if exc.detail else exc.title


def _run_follow_ups(follow_ups: FollowUps) -> None:
    """What the API runs once its transaction is committed (enqueueing jobs)."""
    for follow_up in follow_ups:
        try:
            follow_up()
        except Exception:
            # The change is committed; as in the API, a lost follow-up is redone by reconnecting.
            log.exception("follow-up after commit failed")
