"""One tracked event's envelope: validated, scrubbed, timed, enriched — ready to store.

`prepare_event` is the only way a raw event becomes a row, for every source (HTTP, tracker,
middleware, signal bridge, simulator). It never skips a step.
"""

from __future__ import annotations

import hashlib
import math
import uuid as uuid_lib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictInt, StrictStr, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from analytics.collection.enrichment import DEVICE_TYPES, parse_user_agent
from analytics.collection.timing import TimeProblem, event_time
from analytics.collection.tracking_plan import NAME_PATTERN, check_properties, event_type_for, revenue_of
from analytics.models.events import EventType
from analytics.privacy.encryption import properties_encrypt
from analytics.privacy.network import truncate_ip
from analytics.privacy.scrubbing import (
    REDACTED,
    identifier_holds_personal_data,
    key_rules,
    name_holds_personal_data,
    scrub_address,
    scrub_text,
)

MAX_EVENT_BYTES = 1024 * 1024
MAX_DEPTH = 10
MAX_STRING_CHARS = 64 * 1024
# The integers JSON storage can carry (orjson, which the PostgreSQL insert path uses: i64..u64).
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**64 - 1

_Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class EventEnvelope(BaseModel):
    """The accepted shape of one tracked event (also the OpenAPI schema of the ingestion body).

    Unknown top-level fields are refused (`unknown_field`) so a typo such as `propertes` never
    loses data silently. `metadata` is an alias of `properties`; sending both is an error.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    event_type: EventType | None = None
    uuid: uuid_lib.UUID | None = None
    user_id: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | (
        Annotated[StrictInt, Field(ge=MIN_INTEGER, le=MAX_INTEGER)] | None
    ) = None
    anonymous_id: _Id | None = None
    session_id: _Id | None = None
    # ISO 8601 strings (or datetimes from the in-process tracker); numbers are not read as epochs.
    timestamp: str | Annotated[datetime, Strict()] | None = None
    sent_at: str | Annotated[datetime, Strict()] | None = None
    properties: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


ENVELOPE_FIELDS = frozenset(EventEnvelope.model_fields)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class EventRejected(Exception):
    """The event cannot be stored; `code` is the first problem's, `problems` lists them all."""

    def __init__(self, problems: list[Problem], *, uuid: uuid_lib.UUID | None = None) -> None:
        super().__init__(problems[0].message)
        self.problems = problems
        self.code = problems[0].code
        self.message = problems[0].message
        self.uuid = uuid


@dataclass(frozen=True)
class RequestContext:
    """What the transport knows about the sender: received time, truncated IP, user agent."""

    received_at: datetime
    ip_prefix: str = ""
    user_agent: str = ""


@dataclass(slots=True)
class PreparedEvent:
    """A valid, scrubbed, enriched tracked event: one row of `analytics_user_event`. Not frozen: a frozen
    dataclass's constructor sets each of the 28 fields through `object.__setattr__`, and one is built per
    event (treat it as immutable; `dataclasses.replace` makes a changed copy)."""

    uuid: uuid_lib.UUID
    payload_hash: str
    event_type: str
    event_name: str
    user_id: str | None
    anonymous_id: str | None
    session_id: str | None
    timestamp: datetime
    received_at: datetime
    sent_at: datetime | None
    properties: dict[str, Any]
    context: dict[str, Any]
    page_url: str
    page_path: str
    referrer: str
    device_type: str
    browser: str
    os: str
    city: str
    country: str
    ip_prefix: str
    response_time_ms: float | None
    status_code: int | None
    listing_id: str | None
    host_id: str | None
    revenue_impact: Decimal | None
    currency: str
    source: str


_PYDANTIC_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "string_too_short": "missing_field",
    "uuid_parsing": "invalid_uuid",
    "uuid_type": "invalid_uuid",
    "string_unicode": "invalid_characters",
}


def _problems_from_pydantic(error: PydanticValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"])
        top = str(item["loc"][0]) if item["loc"] else ""
        code = _PYDANTIC_CODES.get(item["type"], "invalid_field")
        if top == "event_name" and code == "missing_field":
            message = "'event_name' is required and must not be empty"
        elif code == "unknown_field":
            message = f"unknown top-level field '{top}'; allowed: {', '.join(sorted(ENVELOPE_FIELDS))}"
        else:
            message = f"'{location}': {item['msg']}"
        problems.append(Problem(location or top, code, message))
    return problems


# Keys and short values recur in almost every event (property names, user agents, paths, cities).
# One that passed its checks and scrubbing unchanged is remembered, so later events pay a single
# lookup for it; anything refused, or changed by scrubbing (an email, a phone number, a whole IP),
# is never kept. Each memo is emptied when full, which bounds memory without locking.
_MEMO_CHARS = 256
_MEMO_SIZE = 20_000
_known_texts: tuple[set[str], set[str]] = (set(), set())  # by `identifier`
_known_keys: dict[str, tuple[str, bool, bool]] = {}  # key -> (key, its value is secret, is an identifier)
_known_names: set[str] = set()  # event names that passed the name checks
_known_ids: set[str] = set()  # user, anonymous and session ids that passed the id checks


def _remember(known: set[str], value: str) -> None:
    if len(known) >= _MEMO_SIZE:
        known.clear()
    known.add(value)


def _check_text(value: str, path: str, problems: list[Problem]) -> bool:
    """Whether a string can be stored (no NUL, not over the length limit, no lone surrogate); else a problem
    is appended."""
    if "\x00" in value:
        problems.append(Problem(path, "invalid_characters", f"'{path}' contains a NUL character"))
        return False
    if len(value) > MAX_STRING_CHARS:
        problems.append(Problem(path, "string_too_long", f"'{path}' is over {MAX_STRING_CHARS} characters"))
        return False
    if not _encodable(value):
        problems.append(Problem(path, "invalid_characters", f"'{path}' contains a lone surrogate"))
        return False
    return True


def _clean_text(value: str, path: str, identifier: bool, problems: list[Problem]) -> str:
    """A string checked (NUL, length, lone surrogates) and scrubbed; problems are appended."""
    known = _known_texts[identifier]
    if len(value) <= _MEMO_CHARS and value in known:
        return value
    if not _check_text(value, path, problems):
        return value
    scrubbed = scrub_text(value, identifier=identifier)
    if scrubbed == value and len(value) <= _MEMO_CHARS:
        _remember(known, value)
    return scrubbed


def _clean_key(key: str, path: str, problems: list[Problem]) -> tuple[str, bool, bool]:
    """(the checked and scrubbed key, its value is a secret, its value is an identifier)."""
    reported = len(problems)
    safe_key = _clean_text(key, path, False, problems)  # a key is text like any other: a phone as a key is masked
    secret, identifier = key_rules(key)
    if safe_key == key and len(problems) == reported and len(key) <= _MEMO_CHARS:
        if len(_known_keys) >= _MEMO_SIZE:
            _known_keys.clear()
        _known_keys[key] = (key, secret, identifier)
    return safe_key, secret, identifier


def _clean(value: Any, *, path: str, depth: int, identifier: bool, problems: list[Problem]) -> Any:
    """A JSON-safe, scrubbed copy of `value`; problems are appended instead of raised.

    Runs for every value of every event, so strings (most values) are handled inline below
    rather than by a recursive call each.
    """
    if isinstance(value, str):
        return _clean_text(value, path, identifier, problems)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not MIN_INTEGER <= value <= MAX_INTEGER:
            problems.append(Problem(path, "invalid_number", f"'{path}' is outside the 64-bit integer range"))
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(Problem(path, "invalid_number", f"'{path}' must be a finite number"))
        return value
    if isinstance(value, dict | Mapping):  # dict first: the ABC check is slow
        if depth >= MAX_DEPTH:
            problems.append(Problem(path, "nesting_too_deep", f"nesting deeper than {MAX_DEPTH} levels"))
            return {}
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            known_key = _known_keys.get(key)  # (only string keys are ever remembered)
            if known_key is None:
                if not isinstance(key, str):
                    problems.append(Problem(path, "invalid_field", f"keys of '{path}' must be strings"))
                    continue
                known_key = _clean_key(key, path, problems)
            safe_key, secret, identifier_key = known_key
            if secret and item is not None:
                cleaned[safe_key] = REDACTED
            elif type(item) is str:
                # The common case inline: a short text already known to pass (its path is built only when needed).
                if len(item) <= _MEMO_CHARS and item in _known_texts[identifier_key]:
                    cleaned[safe_key] = item
                else:
                    cleaned[safe_key] = _clean_text(item, f"{path}.{key}", identifier_key, problems)
            elif type(item) is int and MIN_INTEGER <= item <= MAX_INTEGER:
                cleaned[safe_key] = item
            else:
                cleaned[safe_key] = _clean(
                    item, path=f"{path}.{key}", depth=depth + 1, identifier=identifier_key, problems=problems
                )
        return cleaned
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            problems.append(Problem(path, "nesting_too_deep", f"nesting deeper than {MAX_DEPTH} levels"))
            return []
        return [_clean(item, path=path, depth=depth + 1, identifier=identifier, problems=problems) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return (
            float(value)
            if value.is_finite()
            else _clean(float("nan"), path=path, depth=depth, identifier=identifier, problems=problems)
        )
    if isinstance(value, uuid_lib.UUID):
        return str(value)
    problems.append(Problem(path, "invalid_field", f"'{path}' has an unsupported type {type(value).__name__}"))
    return None


def _text(mapping: Mapping[str, Any], key: str, limit: int) -> str:
    value = mapping.get(key)
    return value[:limit] if isinstance(value, str) else ""


def _nested(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = mapping.get(key)
    return value if type(value) is dict or isinstance(value, Mapping) else {}  # (the ABC check is slow)


def payload_hash(payload: dict[str, Any]) -> str:
    """A stable fingerprint of what the client sent. The caller leaves `sent_at` out: a retry may change it."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:32]


def prepare_event(raw: Any, *, source: str, request: RequestContext, size: int | None = None) -> PreparedEvent:
    """Validate → normalise time → scrub → enrich one raw event; raises `EventRejected`."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise EventRejected([Problem("", "invalid_event", "each event must be a JSON object")])
    if size is not None and size > MAX_EVENT_BYTES:
        raise EventRejected([Problem("", "event_too_large", "the event is over 1 MB")], uuid=_raw_uuid(raw))
    try:
        envelope = EventEnvelope.model_validate(raw)
    except PydanticValidationError as error:
        raise EventRejected(_problems_from_pydantic(error), uuid=_raw_uuid(raw)) from None

    problems: list[Problem] = []
    name = envelope.event_name
    if name not in _known_names and not NAME_PATTERN.match(name):  # (a known name passed both checks)
        problems.append(
            Problem(
                "event_name",
                "invalid_event_name",
                "'event_name' must start with a letter or '$' and use letters, digits, spaces and _ . : / $ - only",
            )
        )
    elif name not in _known_names:
        if name_holds_personal_data(name):
            problems.append(
                Problem("event_name", "personal_data", "'event_name' holds an email address or a phone number")
            )
        else:
            _remember(_known_names, name)
    for id_field in ("user_id", "anonymous_id", "session_id"):
        id_value = getattr(envelope, id_field)
        if not isinstance(id_value, str) or id_value in _known_ids:  # (a known id passed both checks)
            continue
        if "\x00" in id_value or not _encodable(id_value):
            problems.append(Problem(id_field, "invalid_characters", f"'{id_field}' contains a NUL or a lone surrogate"))
        elif identifier_holds_personal_data(id_value):
            problems.append(
                Problem(
                    id_field,
                    "personal_data",
                    f"'{id_field}' is an email address or a phone number; send an opaque id (the platform's own)",
                )
            )
        else:
            _remember(_known_ids, id_value)
    if envelope.properties is not None and envelope.metadata is not None:
        problems.append(Problem("metadata", "metadata_conflict", "send 'properties' or 'metadata', not both"))
    raw_properties = envelope.properties if envelope.properties is not None else (envelope.metadata or {})
    properties = _clean(raw_properties, path="properties", depth=0, identifier=False, problems=problems)
    raw_context = envelope.context or {}
    context_ip = raw_context.get("ip")
    if isinstance(context_ip, str):
        # The client's IP is consumed by enrichment below (only its truncated network is kept), so it is checked
        # like any text but not walked and scrubbed with the rest; the fingerprint takes it as scrubbing leaves it.
        raw_context = {key: value for key, value in raw_context.items() if key != "ip"}
        _check_text(context_ip, "context.ip", problems)
    context = _clean(raw_context, path="context", depth=0, identifier=False, problems=problems)
    if not problems:
        problems.extend(
            Problem(f"properties.{p.field}", "invalid_property", p.message) for p in check_properties(name, properties)
        )
    try:
        happened, sent = event_time(
            timestamp=envelope.timestamp, sent_at=envelope.sent_at, received_at=request.received_at
        )
    except TimeProblem as problem:
        problems.append(Problem(problem.field, problem.code, problem.message))
    if problems:
        raise EventRejected(problems, uuid=envelope.uuid or _raw_uuid(raw))

    user_id = str(envelope.user_id) if envelope.user_id is not None else None
    event_uuid = envelope.uuid or uuid_lib.uuid4()
    fingerprint = payload_hash(
        {
            "event_name": name,
            "event_type": envelope.event_type,
            "user_id": user_id,
            "anonymous_id": envelope.anonymous_id,
            "session_id": envelope.session_id,
            "timestamp": str(envelope.timestamp) if envelope.timestamp is not None else None,
            "properties": properties,
            # (As scrubbed: the fingerprint of what was stored before the IP left the walk stays the same.)
            "context": context if not isinstance(context_ip, str) else {**context, "ip": scrub_address(context_ip)},
        }
    )

    # A person's own words (review and feedback text) are stored encrypted; the fingerprint above is of the
    # plain event, so a replay is still recognised.
    properties = properties_encrypt(name, properties)
    # Enrichment: the IP and user agent are consumed here; only the truncated prefix and the
    # parsed fields are kept.
    if not isinstance(context_ip, str):
        context_ip = context.pop("ip", None)
    ip_prefix = truncate_ip(context_ip) if isinstance(context_ip, str) and context_ip else request.ip_prefix
    user_agent = context.pop("user_agent", None)
    agent = parse_user_agent(user_agent if isinstance(user_agent, str) else request.user_agent)
    page = _nested(context, "page")
    device = _nested(context, "device")
    location = _nested(context, "location")
    claimed_device = device.get("type")
    device_type = claimed_device if claimed_device in DEVICE_TYPES else agent.device_type

    status_code = properties.get("status_code") if name == "api_request" else None
    response_time = properties.get("response_time_ms") if name == "api_request" else None
    currency = properties.get("currency")
    return PreparedEvent(
        uuid=event_uuid,
        payload_hash=fingerprint,
        event_type=event_type_for(name, envelope.event_type.value if envelope.event_type else None),
        event_name=name,
        user_id=user_id,
        anonymous_id=envelope.anonymous_id,
        session_id=envelope.session_id,
        timestamp=happened,
        received_at=request.received_at,
        sent_at=sent,
        properties=properties,
        context=context,
        page_url=_text(properties, "url", 2048) or _text(page, "url", 2048),
        page_path=_text(properties, "path", 1024) or _text(page, "path", 1024) or _text(properties, "screen", 1024),
        referrer=_text(properties, "referrer", 2048) or _text(page, "referrer", 2048),
        device_type=device_type,
        browser=agent.browser,
        os=agent.os,
        city=_text(location, "city", 100) or _text(properties, "city", 100),
        country=_text(location, "country", 64) or _text(properties, "country", 64),
        ip_prefix=ip_prefix,
        response_time_ms=float(response_time) if isinstance(response_time, int | float) else None,
        status_code=status_code if isinstance(status_code, int) else None,
        listing_id=properties.get("listing_id") if isinstance(properties.get("listing_id"), str) else None,
        host_id=properties.get("host_id") if isinstance(properties.get("host_id"), str) else None,
        revenue_impact=revenue_of(name, properties),
        currency=currency if isinstance(currency, str) and len(currency) == 3 else "",
        source=source,
    )


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _raw_uuid(raw: Mapping[str, Any]) -> uuid_lib.UUID | None:
    """The uuid a refused event carried, if readable (worked out only for refusals)."""
    return _uuid_or_none(raw.get("uuid"))


def _uuid_or_none(value: Any) -> uuid_lib.UUID | None:
    if isinstance(value, uuid_lib.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid_lib.UUID(value)
        except ValueError:
            return None
    return None
