"""The API's JSON response class: orjson-rendered, for handlers that build their own bodies."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


class JSONBytesResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            # orjson refuses integers past 64 bits (an error echoing a huge parameter back); the standard
            # library writes them exactly. Rare, so the slow path costs nothing in practice.
            return json.dumps(content, default=str, ensure_ascii=False, separators=(",", ":")).encode()
