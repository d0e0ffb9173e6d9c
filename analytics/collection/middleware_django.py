"""The Django request middleware for the HOST platform (documented face: `analytics.middleware`).

Install it first in the host's `MIDDLEWARE` (outermost: its latency covers the whole stack, and
`request.user` is set by the inner `AuthenticationMiddleware` by the time it reads it):

    MIDDLEWARE = ["analytics.middleware.AnalyticsMiddleware", ...]

Each request becomes an `api_request` with the URL pattern as route template (`/events/{id}/`,
never `/events/123/`), method, status, latency and the user (`request.analytics_user_id` when the
host sets it, else `request.user.pk` when authenticated); successful HTML GETs also become a
`page_view`; uncaught exceptions one `app_error` (see `request_tracking` for the once-only rules).
Paths matching ANALYTICS_SKIP_PATHS, and the analytics API itself, are not tracked. Sync and async
stacks are both supported. Nothing here can fail the host's response.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponseBase
from django.http.multipartparser import MultiPartParserError

from analytics import clock
from analytics.collection.request_tracking import (
    SCOPE_KEY,
    UNMATCHED,
    RequestFacts,
    RequestTrack,
    SkipRules,
    claim_exception,
    enqueue,
    error_event,
    request_events,
)
from analytics.privacy.network import client_ip_prefix

logger = logging.getLogger(__name__)

_STATE = "_loopin_analytics"
# Exceptions Django answers with a 4xx: control flow, not application errors.
_CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


@dataclass
class _RequestState:
    started: float
    started_at: Any
    track: RequestTrack | None
    is_async: bool
    finished: float | None = None  # set when the response is ready, before the user is read


def route_template(route: str) -> str:
    """A Django URL pattern as a route template: `events/<int:id>/` → `/events/{id}/`;
    regex patterns `^events/(?P<pk>[0-9]+)/$` → `/events/{pk}/`."""
    out: list[str] = []
    i, n = 0, len(route)
    while i < n:
        char = route[i]
        if char == "<":  # path converter <conv:name> or <name>
            end = route.find(">", i)
            if end != -1:
                out.append("{" + route[i + 1 : end].rsplit(":", 1)[-1] + "}")
                i = end + 1
                continue
        if char == "(":  # a regex group, named or not, possibly nested
            depth, j = 0, i
            while j < n:
                if route[j] == "\\":
                    j += 2
                    continue
                if route[j] == "(":
                    depth += 1
                elif route[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            group = route[i : j + 1]
            if group.startswith("(?P<"):
                out.append("{" + group[4 : group.find(">")] + "}")
            elif group.startswith("(?:") or group.startswith("(?i"):
                out.append(group)
            else:
                out.append("{param}")
            i = j + 1
            continue
        if char == "\\" and i + 1 < n:
            out.append(route[i + 1])
            i += 2
            continue
        if char in "^$" or (char == "?" and not out):
            i += 1
            continue
        out.append(char)
        i += 1
    return "/" + "".join(out).removesuffix("\\Z").lstrip("/")


def _route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    # The public path: Django mounted under a prefix (SCRIPT_NAME, an ASGI mount) keeps it.
    path, path_info = request.path, request.path_info
    script_name = path[: -len(path_info)] if path_info and path.endswith(path_info) else ""
    return script_name.rstrip("/") + route_template(str(match.route or ""))


def _user_id_sync(request: HttpRequest) -> str | None:
    explicit = getattr(request, "analytics_user_id", None)
    if explicit is not None:
        return str(explicit)
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        return str(user.pk)
    return None


async def _user_id_async(request: HttpRequest) -> str | None:
    explicit = getattr(request, "analytics_user_id", None)
    if explicit is not None:
        return str(explicit)
    auser = getattr(request, "auser", None)
    if auser is None:
        return None
    user = await auser()
    if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        return str(user.pk)
    return None


def _is_html(response: HttpResponseBase | None) -> bool:
    if response is None:
        return False
    return str(response.get("Content-Type", "")).lower().startswith("text/html")


class AnalyticsMiddleware:
    """Tracks the host's requests (api_request, page_view, app_error); see the module docstring."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.skip_rules = SkipRules(settings.ANALYTICS_SKIP_PATHS)
        # Exceptions raised outside views (in a middleware inside this one) never reach
        # process_exception; Django announces every uncaught one with this signal.
        got_request_exception.connect(_on_request_exception, dispatch_uid="loopin-analytics-request-exception")

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        state = self._begin(request)
        if state is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except Exception as error:
            state.finished = time.perf_counter()
            self._finish(request, state, None, error, _safe_user(request))
            raise
        state.finished = time.perf_counter()
        self._finish(request, state, response, None, _safe_user(request))
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        state = self._begin(request)
        if state is None:
            return await self.get_response(request)
        try:
            response = await self.get_response(request)
        except Exception as error:
            state.finished = time.perf_counter()
            self._finish(request, state, None, error, None)
            raise
        state.finished = time.perf_counter()
        try:
            user_id = await _user_id_async(request)
        except Exception:
            user_id = None
        self._finish(request, state, response, None, user_id)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A view raised: one `app_error` (unless a 4xx exception); Django then answers as usual."""
        _report_exception(request, exception)

    def _begin(self, request: HttpRequest) -> _RequestState | None:
        try:
            if not settings.ANALYTICS_ENABLED or hasattr(request, _STATE):
                return None
            scope = getattr(request, "scope", None)  # Django under ASGI: the host's ASGI scope
            outer = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
            if self.skip_rules.skips(request.path_info or "/"):
                if isinstance(outer, RequestTrack):  # e.g. /admin/ of a Django mounted at /web
                    outer.recorded_by = "django:skipped"
                return None
            track = None
            if isinstance(scope, dict):
                if isinstance(outer, RequestTrack):
                    track = outer
                    track.recorded_by = "django"  # the ASGI middleware around us records nothing
                else:
                    track = RequestTrack(recorded_by="django")
                    scope[SCOPE_KEY] = track
            state = _RequestState(
                started=time.perf_counter(), started_at=clock.now(), track=track, is_async=self.is_async
            )
            setattr(request, _STATE, state)
            return state
        except Exception:
            logger.exception("collection.middleware_failed stage=begin")
            return None

    def _finish(
        self,
        request: HttpRequest,
        state: _RequestState,
        response: HttpResponseBase | None,
        error: BaseException | None,
        user_id: str | None,
    ) -> None:
        try:
            facts = _facts(request, state, response, user_id)
            events = request_events(facts)
            if error is not None and not isinstance(error, _CLIENT_ERRORS) and claim_exception(error, state.track):
                events.append(error_event(facts, error))
            enqueue(events)
        except Exception:
            logger.exception("collection.middleware_failed stage=finish")


def _safe_user(request: HttpRequest) -> str | None:
    try:
        return _user_id_sync(request)
    except Exception:
        return None


def _facts(
    request: HttpRequest, state: _RequestState, response: HttpResponseBase | None, user_id: str | None
) -> RequestFacts:
    meta = request.META
    return RequestFacts(
        integration="django",
        started_at=state.started_at,
        method=(request.method or "GET").upper(),
        route=_route_of(request),
        path=request.path,
        status_code=response.status_code if response is not None else 500,
        response_time_ms=((state.finished or time.perf_counter()) - state.started) * 1000.0,
        is_html=_is_html(response),
        user_id=user_id,
        ip_prefix=client_ip_prefix(
            peer=meta.get("REMOTE_ADDR"),
            headers={"x-forwarded-for": meta.get("HTTP_X_FORWARDED_FOR", "")},
            trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES,
        ),
        user_agent=str(meta.get("HTTP_USER_AGENT", "")),
        referrer=str(meta.get("HTTP_REFERER", "")),
    )


def _report_exception(request: HttpRequest, error: BaseException) -> None:
    try:
        state = getattr(request, _STATE, None)
        if not isinstance(state, _RequestState) or isinstance(error, _CLIENT_ERRORS):
            return
        if not claim_exception(error, state.track):
            return
        # Under async Django the user is not read here (it could need a database query in an
        # event loop); `request.analytics_user_id` still attributes the error.
        explicit = getattr(request, "analytics_user_id", None)
        user_id = (str(explicit) if explicit is not None else None) if state.is_async else _safe_user(request)
        facts = _facts(request, state, None, user_id)
        enqueue([error_event(facts, error)])
    except Exception:
        logger.exception("collection.middleware_failed stage=exception")


def _on_request_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    error = sys.exception()
    if request is not None and error is not None:
        _report_exception(request, error)
