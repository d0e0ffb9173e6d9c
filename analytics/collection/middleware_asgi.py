"""The ASGI request middleware for the HOST platform's FastAPI/Starlette app.

    app.add_middleware(AnalyticsASGIMiddleware)                      # or
    app = AnalyticsASGIMiddleware(app, user_id=lambda scope: ...)    # wrapping any ASGI app

Each HTTP request becomes an `api_request` whose route is the matched route's FULL public template
(`/events/{listing_id}`), a `page_view` for successful HTML GETs, and one `app_error` per exception
that escapes the app. The user is `user_id(scope)` when given, else `request.state.analytics_user_id`
(`scope["state"]`), else an authenticated `scope["user"]` (Starlette's AuthenticationMiddleware).

Route templates: Starlette sets `scope["route"]` to the matched route, but its `path_format` is
local to the router that holds it — FastAPI 0.165 keeps `include_router(prefix=...)` routes as
route-local originals, and a mounted app's routes are relative to the mount. So the template comes
from an index of the top router's routes (`scope["router"]`), walked with FastAPI's public
`iter_route_contexts` (prefixes included) and through mounts; a route the index does not know
falls back to the mount prefix (`scope["root_path"]`) plus its own `path_format`. No route matched
(404 from the router) → `unmatched`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings

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

Scope = dict[str, Any]
ASGIApp = Callable[..., Any]
UserIdGetter = Callable[[Scope], "str | int | None"]

_iter_route_contexts: Callable[..., Iterable[Any]] | None
try:  # FastAPI ≥ 0.165: included routers keep route-local originals; this walks them with prefixes.
    from fastapi.routing import iter_route_contexts as _iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI or plain Starlette
    _iter_route_contexts = None

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def _contexts(routes: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """(original route, route-or-context carrying the effective path) for each route."""
    routes = list(routes)
    if _iter_route_contexts is not None:
        try:
            for context in _iter_route_contexts(routes):
                yield context.original_route, context
            return
        except Exception:  # an unexpected route type: fall back to the plain walk
            logger.debug("collection.route_index_fallback", exc_info=True)
    for route in routes:
        yield route, route


class _RouteIndex:
    """Full public templates of one router's routes, by route identity."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.size = len(getattr(router, "routes", []) or [])
        self.templates: dict[int, list[tuple[str, re.Pattern[str] | None]]] = {}
        self._walk(getattr(router, "routes", []) or [], "", depth=0)

    def _walk(self, routes: Iterable[Any], prefix: str, *, depth: int) -> None:
        if depth > 8:
            return
        for original, effective in _contexts(routes):
            path_format = getattr(effective, "path_format", None) or getattr(original, "path_format", None)
            if not isinstance(path_format, str):
                continue
            sub_routes = getattr(original, "routes", None) if hasattr(original, "app") else None
            self.templates.setdefault(id(original), []).append((prefix + path_format, None))
            if sub_routes:  # a Mount: its routes are relative to the mount's path
                mount_path = getattr(effective, "path", None) or getattr(original, "path", "")
                self._walk(sub_routes, prefix + str(mount_path).rstrip("/"), depth=depth + 1)

    def template(self, route: Any, path: str) -> str | None:
        candidates = self.templates.get(id(route))
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0][0]
        # The same route included under several prefixes: the one whose template matches the path.
        for position, (template, pattern) in enumerate(candidates):
            if pattern is None:
                pattern = _template_regex(template)
                candidates[position] = (template, pattern)
            if pattern.fullmatch(path):
                return template
        return candidates[0][0]


def _template_regex(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    regex = "".join(re.escape(part) if index % 2 == 0 else "[^/]+" for index, part in enumerate(parts))
    return re.compile(regex.replace(re.escape("{path}"), ".*"))


def default_user_id(scope: Scope) -> str | int | None:
    """`request.state.analytics_user_id`, else an authenticated `scope["user"]`'s identity."""
    state = scope.get("state")
    if isinstance(state, dict) and state.get("analytics_user_id") is not None:
        return state["analytics_user_id"]
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        for attribute in ("id", "pk", "identity"):
            value = getattr(user, attribute, None)
            if value is not None and value != "":
                return value
    return None


class AnalyticsASGIMiddleware:
    """Tracks the host's HTTP requests; see the module docstring."""

    def __init__(self, app: ASGIApp, *, user_id: UserIdGetter | None = None) -> None:
        self.app = app
        self.user_id = user_id or default_user_id
        self.skip_rules = SkipRules(settings.ANALYTICS_SKIP_PATHS)
        self._index: _RouteIndex | None = None
        self._index_lock = threading.Lock()
        self._unknown: set[int] = set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not settings.ANALYTICS_ENABLED or SCOPE_KEY in scope:
            await self.app(scope, receive, send)
            return
        entry_root = str(scope.get("root_path", ""))
        path = str(scope.get("path", "/"))
        app_path = path[len(entry_root) :] if entry_root and path.startswith(entry_root) else path
        if self.skip_rules.skips(app_path or "/"):
            await self.app(scope, receive, send)
            return

        track = RequestTrack()
        scope[SCOPE_KEY] = track
        started = time.perf_counter()
        started_at = clock.now()
        response: dict[str, Any] = {"status": None, "html": False, "finished": None}

        async def send_and_watch(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                response["status"] = message.get("status")
                for name, value in message.get("headers") or ():
                    if name.lower() == b"content-type":
                        response["html"] = value.lower().startswith(b"text/html")
            elif kind == "http.response.body" and not message.get("more_body", False):
                response["finished"] = time.perf_counter()
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as exc:
            error = exc
            raise
        finally:
            self._record(scope, track, entry_root, app_path, started, started_at, response, error)

    def _record(
        self,
        scope: Scope,
        track: RequestTrack,
        entry_root: str,
        app_path: str,
        started: float,
        started_at: Any,
        response: dict[str, Any],
        error: BaseException | None,
    ) -> None:
        try:
            report_error = error is not None and claim_exception(error, track)
            if track.recorded_by and not report_error:
                return  # the Django middleware inside recorded this request
            status = response["status"] or 500
            finished = response["finished"] or time.perf_counter()
            headers = _headers(scope)
            client = scope.get("client") or (None, None)
            try:
                user = self.user_id(scope)
            except Exception:
                user = None
            facts = RequestFacts(
                integration="asgi",
                started_at=started_at,
                method=str(scope.get("method", "GET")).upper(),
                route=self._route(scope, entry_root, app_path, int(status)),
                path=str(scope.get("path", "/")),
                status_code=int(status),
                response_time_ms=(finished - started) * 1000.0,
                is_html=bool(response["html"]),
                user_id=str(user) if user is not None and user != "" else None,
                ip_prefix=client_ip_prefix(
                    peer=client[0], headers=headers, trusted_proxies=settings.ANALYTICS_TRUSTED_PROXIES
                ),
                user_agent=headers.get("user-agent", ""),
                referrer=headers.get("referer", ""),
            )
            events = [] if track.recorded_by else request_events(facts)
            if report_error and error is not None:
                events.append(error_event(facts, error))
            track.recorded_by = track.recorded_by or "asgi"
            enqueue(events)
        except Exception:
            logger.exception("collection.middleware_failed stage=record")

    def _route(self, scope: Scope, entry_root: str, app_path: str, status: int) -> str:
        route = scope.get("route")
        root = str(scope.get("root_path", ""))
        mount_prefix = root[len(entry_root) :].rstrip("/") if root.startswith(entry_root) else ""
        if route is None:
            # A mounted app without a Starlette router (a Django app, a bare ASGI callable) sets
            # no route: the mount's catch-all template, unless it answered 404.
            return f"{mount_prefix}/{{path}}" if mount_prefix and status != 404 else UNMATCHED
        if status == 404 and getattr(route, "routes", None) is not None:
            return UNMATCHED  # only a mount matched and nothing inside it did
        router = scope.get("router")
        if router is not None:
            index = self._index_for(router)
            template = index.template(route, app_path)
            if template is None and id(route) not in self._unknown:
                self._unknown.add(id(route))  # rebuild once per unknown route (routes added later)
                with self._index_lock:
                    self._index = index = _RouteIndex(router)
                template = index.template(route, app_path)
            if template is not None:
                return template
        local = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not isinstance(local, str):
            return UNMATCHED
        return (mount_prefix + local) or "/"

    def _index_for(self, router: Any) -> _RouteIndex:
        index = self._index
        if index is None or index.router is not router or index.size != len(getattr(router, "routes", []) or []):
            with self._index_lock:
                index = self._index = _RouteIndex(router)
        return index


def _headers(scope: Scope) -> dict[str, str]:
    wanted = {b"user-agent": "user-agent", b"referer": "referer", b"x-forwarded-for": "x-forwarded-for"}
    found: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        key = wanted.get(name.lower())
        if key is not None:
            found[key] = value.decode("latin-1")
    return found
