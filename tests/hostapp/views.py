"""The host's Django views: HTML pages, a JSON endpoint, failures of every kind."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse


def listing_page(request: HttpRequest, listing_id: int) -> HttpResponse:
    return HttpResponse(f"<html><body><h1>Listing {listing_id}</h1></body></html>")


def listing_json(request: HttpRequest, listing_id: int) -> JsonResponse:
    return JsonResponse({"id": listing_id})


def legacy_page(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(f"<html><body>{slug}</body></html>", content_type="text/html; charset=utf-8")


def missing_listing(request: HttpRequest, listing_id: int) -> HttpResponse:
    raise Http404("no such listing")


def crash(request: HttpRequest) -> HttpResponse:
    # The message holds PII on purpose: only the class name may reach the analytics.
    raise RuntimeError("payment for priya@example.com +91 98765 43210 failed")


def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<html><body>me</body></html>")


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<html><body>home</body></html>")
