"""Reading a JSON request body with limits and deadlines, never holding more than the limit in memory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import Request

from analytics.api.uploads import UploadLimits, UploadTicket
from analytics.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# A refused oversize body is still read (and thrown away) up to this size so the keep-alive
# connection stays usable; past it the server stops reading and the connection closes.
DRAIN_LIMIT = 64 * 1024 * 1024


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def _chunks_within_deadline(request: Request, limits: UploadLimits) -> AsyncIterator[bytes]:
    """The body's chunks; 408 when the next one takes over `idle_seconds` or the whole body over
    `deadline_seconds` (a client that opens an upload and goes quiet is cut off, not waited for)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.deadline_seconds
    stream = request.stream().__aiter__()
    while True:
        wait = min(limits.idle_seconds, deadline - loop.time())
        try:
            if wait <= 0:
                raise TimeoutError
            async with asyncio.timeout(wait):
                chunk = await anext(stream)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestTimeout(
                f"the request body did not arrive in time (at most {limits.idle_seconds:g} s between parts, "
                f"{limits.deadline_seconds:g} s in all)",
                code="request_timeout",
                details={"idle_seconds": limits.idle_seconds, "deadline_seconds": limits.deadline_seconds},
            ) from None
        yield chunk


async def read_json_bytes(
    request: Request, *, ticket: UploadTicket, limit: int, too_large_code: str, what: str
) -> bytes:
    """The raw body of a JSON request, read under the ticket's deadlines with every byte it holds
    charged to the ticket (analytics/api/uploads.py: 429 / 503 past the address's or the process's
    share). 415 for a non-JSON content type, 413 (`too_large_code`) past `limit`, 400 if empty."""
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("send the body as application/json", code="unsupported_media_type")
    too_large = PayloadTooLarge(
        f"the {what} is over {limit} bytes", code=too_large_code, details={"limit_bytes": limit}
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > DRAIN_LIMIT:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in _chunks_within_deadline(request, ticket.limits):
        size += len(chunk)
        if size <= limit:
            ticket.reserve(len(chunk))
            chunks.append(chunk)
        elif chunks:
            chunks = []  # over the limit: keep draining, hold nothing
            ticket.release()
        if size > DRAIN_LIMIT:
            break
    if size > limit:
        raise too_large
    body = b"".join(chunks)
    if not body.strip():
        raise BadRequest("the request body is empty", code="invalid_json")
    return body


# orjson reads an integer past 64 bits as an approximate float (stored silently) and one past a double's
# range as an error for the whole body. A body with a run of 19 digits somewhere (any integer outside the
# 64-bit range has one; usually it is inside a string) is read again by the standard library, which keeps
# integers exact, so the event checks refuse one outside the 64-bit range and name it (`invalid_number`).
# Found by mapping every digit to "0" and searching for nineteen of them: a regular expression's scan of
# a 600 KB body cost twice orjson's parse of it (docs/benchmarks.md).
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN = b"0" * 19


def _long_digits(body: bytes) -> bool:
    """Does `body` hold a run of 19 or more digits?"""
    return _NINETEEN in body.translate(_DIGITS_AS_ZERO)


# Past this many digits an integer is refused anyway; it is not converted (CPython caps conversions).
_MAX_DIGITS = 100
_BEYOND = 2**64


def _exact_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) <= _MAX_DIGITS:
        return int(text)
    return -_BEYOND if text.startswith("-") else _BEYOND


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _exactly(body: bytes) -> Any:
    return json.loads(body, parse_int=_exact_int, parse_constant=_no_constant)


def parse_json(body: bytes) -> Any:
    """The parsed body; 400 `invalid_json` if it is not JSON. Integers are exact (see `_long_digits`)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # Only for that one error: anything else orjson refuses (NaN, lone surrogates) stays invalid JSON.
        if "infinity" in str(exc) and _long_digits(body):
            try:
                return _exactly(body)  # an integer too large even for a double: the event check names it
            except (ValueError, RecursionError):
                pass
        raise BadRequest(f"the request body is not valid JSON: {exc}", code="invalid_json") from exc
    if not _long_digits(body):
        return parsed
    try:
        return _exactly(body)
    except RecursionError:
        return parsed  # nested past Python's limit: refused as `nesting_too_deep` all the same
