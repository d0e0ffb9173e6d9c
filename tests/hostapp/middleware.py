"""A host middleware that fails for one path: an exception Django's process_exception never sees."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ExplodingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/events/7/explode/":
            raise LookupError("host middleware failed")
        return self.get_response(request)
