"""Every parameter of every route has a maximum, and beyond it the answer is a 4xx in the error shape.

The test walks the FastAPI route table, so a new route or parameter is attacked without being listed:
each integer, date, list and string parameter — in the query, the path or a JSON body — gets its
extremes (huge, negative, zero, far past and far future dates, impossible dates, overlong lists and
strings, NUL characters) with valid credentials, and the answer must never be a 5xx
(docs/api.md, "Limits of every parameter").
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from analytics.collection.buffer import event_buffer
from analytics.security.tokens import token_issue
from tests.assertions import assert_error

# Valid values for what a route needs before its other parameters are even looked at. A route with a
# required parameter missing here fails the test until one is added.
PATH_BASELINE = {
    "alert_id": "1",
    "metric_name": "daily_active_users",
    "host_id": "h1",
    "listing_id": "l1",
    "user_id": "u1",
    "insight_id": "1",
}
QUERY_BASELINE = {"event": "page_view", "start_date": "2026-03-01", "end_date": "2026-03-02"}
BODY_BASELINE: dict[str, dict[str, Any]] = {
    "/api/analytics/user-behavior": {"user_id": "u1"},
    "/api/analytics/sentiment": {"text": "a good evening"},
    "/api/analytics/events/failed/replay": {"ids": [1]},
}
# Hand-parsed ingestion bodies (their own extremes: tests/unit/api/test_ingest_bad_input.py).
RAW_BODIES = {"/api/analytics/events/track", "/api/analytics/events/batch"}

HUGE = 10**20
INTS: tuple[Any, ...] = (0, -1, -(2**63) - 1, 2**63, 2**64, HUGE, -HUGE, int("9" * 400))
INT_TEXTS = (*[str(i) for i in INTS], "9" * 5000, "1e3", "1.5", "0x10", " 7", "")
DATES = (
    "0001-01-01",
    "1999-12-31",
    "2101-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "99999-01-01",
    "-2026-01-01",
    "2026-03-01T00:00:00",
    "",
)
STRINGS = ("", "x" * 20_000, "\x00", "a\x00b", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"))
LONG_LIST = 5_000


def _kind(annotation: Any) -> str:
    """int, date, list, str or other — through Optional, unions and Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        for kind in ("list", "int", "date", "str"):
            if kind in kinds:
                return kind
        return "other"
    if origin in (list, tuple, set, frozenset):
        return "list"
    if annotation is bool:
        return "other"
    if annotation is int:
        return "int"
    if annotation is dt.date:
        return "date"
    if annotation is str:
        return "str"
    return "other"


def _item_kind(annotation: Any) -> str:
    while typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    args = typing.get_args(annotation)
    return _kind(args[0]) if args else "str"


def _query_values(annotation: Any, alias: str) -> Iterator[Any]:
    kind = _kind(annotation)
    if kind == "int":
        yield from INT_TEXTS
    elif kind == "date":
        yield from DATES
    elif kind == "str":
        yield from STRINGS
    elif kind == "list":
        item = _item_kind(annotation)
        samples = INT_TEXTS if item == "int" else DATES if item == "date" else STRINGS
        # As long a list as a URL can carry (HTTP clients refuse a query over 64 KiB).
        yield ["x"] * min(LONG_LIST, 60_000 // (len(alias) + 3))
        for sample in samples:
            yield [sample]


def _body_values(annotation: Any) -> Iterator[Any]:
    kind = _kind(annotation)
    if kind == "int":
        yield from (*INTS, 1.5, "1e3", "9" * 5000)
    elif kind == "date":
        yield from DATES
    elif kind == "str":
        yield from (s for s in STRINGS if "\udc80" not in s)
    elif kind == "list":
        item = _item_kind(annotation)
        yield ["x"] * 100_000
        yield [1] * 100_000
        for sample in INTS if item == "int" else DATES if item == "date" else ("x" * 300_000, "\x00", ""):
            yield [sample]


def _routes() -> list[tuple[str, str, RouteContext]]:
    """Every (method, path) of the API's route table, as the application resolves it."""
    from loopin_backend.asgi import application

    routes = [
        (method, context.path, context)
        for context in iter_route_contexts(application.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods
    ]
    assert len(routes) >= 29, routes  # the table is read, not silently empty
    return sorted(routes, key=lambda r: (r[0], r[1]))


def _headers(path: str, write_key: str) -> dict[str, str]:
    if path in RAW_BODIES:
        return {"X-API-Key": write_key}
    return {"Authorization": f"Bearer {token_issue(role='admin', sub='extremes')}"}


def _check(response: Any, what: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{what}: {response.status_code} {response.text[:200]}")
    elif response.status_code >= 400:
        try:
            assert_error(response, response.status_code)
        except (AssertionError, ValueError) as exc:
            failures.append(f"{what}: {response.status_code} not the JSON error shape ({exc}) {response.text[:200]}")


@pytest.fixture
def raw_client(transactional_db: None) -> Iterator[TestClient]:
    """The whole application, with a 5xx answered (not raised) so it can be counted."""
    from loopin_backend.asgi import application

    with TestClient(application, raise_server_exceptions=False) as client:
        yield client
    assert event_buffer().flush(timeout=10)  # the host middleware's events land inside this test


@pytest.mark.parametrize(("method", "path", "route"), _routes(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_parameter_extreme_causes_a_5xx(
    raw_client: TestClient, write_key: str, method: str, path: str, route: RouteContext
) -> None:
    """Catches: a parameter without a maximum reaching the database or a renderer (a 500 and a dropped
    connection for `offset=99999999999999999999`), or a refusal that is not the JSON error shape."""
    headers = _headers(path, write_key)
    dependant = route.dependant
    path_values = {}
    for param in dependant.path_params:
        assert param.name in PATH_BASELINE, f"add a valid baseline for path parameter {param.name!r}"
        path_values[param.name] = PATH_BASELINE[param.name]
    base_query = {}
    for param in dependant.query_params:
        if param.field_info.is_required():
            assert param.alias in QUERY_BASELINE, f"add a valid baseline for query parameter {param.alias!r}"
            base_query[param.alias] = QUERY_BASELINE[param.alias]
    body_model: type[BaseModel] | None = None
    base_body: dict[str, Any] | None = None
    if dependant.body_params and path not in RAW_BODIES:
        annotation = dependant.body_params[0].field_info.annotation
        candidates = [a for a in (annotation, *typing.get_args(annotation)) if isinstance(a, type)]
        body_model = next(c for c in candidates if issubclass(c, BaseModel))
        base_body = dict(BODY_BASELINE.get(path, {}))

    def call(query: dict[str, Any], paths: dict[str, str], body: dict[str, Any] | None) -> Any:
        url = path.format(**paths)
        if method == "GET":
            return raw_client.request(method, url, params=query, headers=headers)
        return raw_client.request(method, url, params=query, headers=headers, json=body)

    failures: list[str] = []
    baseline = call(base_query, path_values, base_body)
    _check(baseline, "baseline", failures)
    for param in dependant.query_params:
        for value in _query_values(param.field_info.annotation, param.alias):
            shown = f"{len(value)} items" if isinstance(value, list) else repr(value)[:40]
            _check(
                call({**base_query, param.alias: value}, path_values, base_body), f"?{param.alias}={shown}", failures
            )
    for param in dependant.path_params:
        kind = _kind(param.field_info.annotation)
        for value in INT_TEXTS if kind == "int" else ("x" * 5_000, "%00", "a%00b"):
            if value == "":
                continue
            _check(call(base_query, {**path_values, param.name: str(value)}, base_body), f"/{param.name}", failures)
    if body_model is not None:
        for name, field in body_model.model_fields.items():
            for value in _body_values(field.annotation):
                body = {**(base_body or {}), name: value}
                shown = f"{len(value)} items" if isinstance(value, list) else repr(value)[:40]
                _check(call(base_query, path_values, body), f"body.{name}={shown}", failures)
    assert failures == [], "\n".join(failures)


def test_an_unexpected_error_is_still_the_json_error_shape() -> None:
    """Catches: a bug answering Starlette's plain-text 500 instead of the one error shape."""
    from analytics.api.app import create_app

    app = create_app()

    @app.get("/api/analytics/test-only-broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.get("/api/analytics/test-only-broken"), 500, "internal_error")
