"""Requests under `/api/` that no API route takes never reach Django (docs/api.md, "Unrouted requests").

Django is mounted at `/` behind `DjangoOutsideApi`, the last route of the application, so only requests
that no route matched fully arrive here. For a path under `/api/` the API's own route table decides:
HEAD is served as GET without the body where GET is allowed, a path some route has with another method is
405 with `Allow`, and any other path is 404 `not_found` — in the API's error shape, whatever DEBUG says
(Django would answer an HTML page; with DEBUG on, its debug page listing the project's URLs).
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics.api.errors import error_response

API_ROOT = "/api"


def _is_api(path: str) -> bool:
    return path == API_ROOT or path.startswith(API_ROOT + "/")


class DjangoOutsideApi:
    def __init__(self, api: FastAPI, django: ASGIApp) -> None:
        self.api = api
        self.django = django
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def _route_table(self) -> list[tuple[re.Pattern[str], frozenset[str]]]:
        """(path regex, methods) of every route with methods, read once the application is complete."""
        if self._table is None:
            table = []
            for context in iter_route_contexts(self.api.routes):
                regex, methods = getattr(context, "path_regex", None), getattr(context, "methods", None)
                if regex is not None and methods:
                    table.append((regex, frozenset(methods)))
            self._table = table
        return self._table

    def allowed_methods(self, path: str) -> set[str]:
        allowed: set[str] = set()
        for regex, methods in self._route_table():
            if regex.match(path):
                allowed |= methods
        if "GET" in allowed:
            allowed.add("HEAD")
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _is_api(path):
            await self.django(scope, receive, send)
            return
        allowed = self.allowed_methods(path)
        method = scope["method"]
        if method == "HEAD" and "GET" in allowed:
            await self._head_as_get(scope, receive, send)
            return
        if not allowed:
            response = error_response(404, "not_found", f"no API route at {path}")
        else:
            response = error_response(
                405,
                "method_not_allowed",
                f"{method} is not allowed here; use {', '.join(sorted(allowed))}",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        if method == "HEAD":
            response.body = b""  # the status and headers as for GET, without the body
        await response(scope, receive, send)

    async def _head_as_get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The GET route answers (same access rules, status and headers); the body is not sent."""

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        inner = dict(scope, method="GET")
        await self.api.router(inner, receive, without_body)
        if "route" in inner:
            scope["route"] = inner["route"]  # the request metrics label HEAD by the route it reached
