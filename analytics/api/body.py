"""Reading a JSON request body with limits, without ever holding more than the limit in memory."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from analytics.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# A refused oversize body is still read (and thrown away) up to this size so the keep-alive
# connection stays usable; past it the server stops reading and the connection closes.
DRAIN_LIMIT = 64 * 1024 * 1024


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def read_json_body(request: Request, *, limit: int, what: str = "request body") -> Any:
    """The parsed JSON body; 415 for a non-JSON content type, 413 past `limit`, 400 if malformed."""
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("send the body as application/json", code="unsupported_media_type")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > DRAIN_LIMIT:
        raise PayloadTooLarge(
            f"the {what} is over {limit} bytes", code="payload_too_large", details={"limit_bytes": limit}
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif chunks:
            chunks = []  # over the limit: keep draining, hold nothing
        if size > DRAIN_LIMIT:
            break
    if size > limit:
        raise PayloadTooLarge(
            f"the {what} is over {limit} bytes", code="payload_too_large", details={"limit_bytes": limit}
        )
    body = b"".join(chunks)
    if not body.strip():
        raise BadRequest("the request body is empty", code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}", code="invalid_json") from exc
