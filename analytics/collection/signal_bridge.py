"""The signal bridge: host-app model changes → tracking-plan events, declared in one setting.

    ANALYTICS_SIGNAL_BRIDGE = [
        {
            "model": "payments.PaymentOrder",          # app_label.ModelName
            "field": "status",                         # the state field
            "transitions": {                           # new value → event name
                "created": "payment_initiated",        # (creation counts as a move into the
                "paid": "payment_completed",           #  initial state when that state is mapped)
                "failed": "payment_failed",
            },
            "on_set": None,                            # or an event for "empty → any value"
                                                       #  (e.g. checked_in_at: None → a time)
            "user_id": "user_id",                      # attribute path or callable(instance)
            "properties": {                            # property → attribute path or callable
                "order_id": "pk", "listing_id": "listing_id", "amount": "amount",
                "currency": "currency", "failure_reason": "failure_reason",
            },
            "timestamp": None,                         # optional attribute path/callable → datetime
        },
    ]

Rules:
- one event per REAL transition: the committed value is remembered when an instance is loaded
  (`post_init`) and after each commit; a save whose value differs from it is confirmed against the
  stored row (one primary-key read, only then) in `pre_save`, so re-saves, stale instances and
  `refresh_from_db` never fire twice; `post_save` decides and builds the event;
- after the transaction commits (`transaction.on_commit`): a rolled-back transaction (or
  savepoint) fires nothing, and a retried save after a rollback still fires;
- never a raw phone number: a mapping whose field, user id or property path names a phone, mobile,
  OTP, code, password, email or other secret field is refused at start-up (ImproperlyConfigured);
  the pipeline's scrub is the second line of defence for values produced by callables;
- events go to the in-process buffer (`source="signal"`); nothing raises into the host's save.
  `QuerySet.update()` and `bulk_create()` send no model signals and are not observed.

Connected by `AnalyticsConfig.ready()` only when the setting is non-empty.
"""

from __future__ import annotations

import logging
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import uuid4

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_init, post_save, pre_save

from analytics import clock
from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.collection.tracking_plan import NAME_PATTERN, TRACKING_PLAN
from analytics.models.events import EventSource
from analytics.privacy.scrubbing import is_secret_key

logger = logging.getLogger(__name__)

Accessor = Callable[[models.Model], Any]

_KNOWN = "_loopin_bridge_committed"  # {attname: last committed value known}
_PENDING = "_loopin_bridge_previous"  # {attname: stored value just before this save}
_CREATED = object()  # "there was no row": creation is a move into the initial state
_UNKNOWN = object()
_KEYS = frozenset({"model", "field", "transitions", "on_set", "user_id", "properties", "timestamp"})
# A name that scrubbing treats as a secret key, or containing one of these parts, or equal to one of these
# names, is a phone/secret field.
_FORBIDDEN_PARTS = ("phone", "mobile", "msisdn", "email")
_FORBIDDEN_NAMES = {"code", "pin", "otp_secret", "verification_code"}


@dataclass(frozen=True)
class BridgeMapping:
    """One parsed entry of ANALYTICS_SIGNAL_BRIDGE."""

    label: str
    model: type[models.Model]
    attname: str
    transitions: Mapping[Any, str]
    on_set: str | None
    user_id: Accessor | None
    properties: tuple[tuple[str, Accessor], ...]
    timestamp: Accessor | None

    def event_for(self, previous: Any, current: Any) -> str | None:
        """The event of the move previous → current (`_CREATED` = the row is new), or None."""
        if self.transitions:
            try:
                name = self.transitions.get(current)
            except TypeError:  # an unhashable value is never a mapped state
                name = None
            if name is not None and (previous is _CREATED or previous != current):
                return name
        if self.on_set is not None and _is_set(current) and (previous is _CREATED or not _is_set(previous)):
            return self.on_set
        return None


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value is not False


def _forbidden(name: str) -> bool:
    lowered = name.lower()
    return is_secret_key(lowered) or lowered in _FORBIDDEN_NAMES or any(part in lowered for part in _FORBIDDEN_PARTS)


def _accessor(where: str, source: Any) -> Accessor:
    if callable(source):
        return source  # type: ignore[no-any-return]
    if not isinstance(source, str) or not source.strip():
        raise ImproperlyConfigured(f"{where}: expected an attribute path or a callable, got {source!r}")
    for part in source.split("."):
        if _forbidden(part):
            raise ImproperlyConfigured(
                f"{where}: '{source}' reads a phone/secret field; the signal bridge never reads those"
            )
    return operator.attrgetter(source)


def parse_mapping(raw: Mapping[str, Any], position: int) -> BridgeMapping:
    """Check one entry of ANALYTICS_SIGNAL_BRIDGE; raises ImproperlyConfigured with what is wrong."""
    where = f"ANALYTICS_SIGNAL_BRIDGE[{position}]"
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"{where}: each entry must be a dict")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    label = raw.get("model")
    try:
        model = apps.get_model(str(label))
    except (LookupError, ValueError) as exc:
        raise ImproperlyConfigured(f"{where}: unknown model {label!r} (use 'app_label.ModelName')") from exc
    where = f"{where} ({label})"
    field_name = str(raw.get("field", ""))
    if _forbidden(field_name):
        raise ImproperlyConfigured(f"{where}: the state field '{field_name}' is a phone/secret field")
    try:
        attname = model._meta.get_field(field_name).attname  # type: ignore[union-attr]
    except FieldDoesNotExist as exc:
        raise ImproperlyConfigured(f"{where}: {model.__name__} has no field '{field_name}'") from exc
    transitions = dict(raw.get("transitions") or {})
    on_set = raw.get("on_set")
    if not transitions and not on_set:
        raise ImproperlyConfigured(f"{where}: give 'transitions' (value → event) and/or 'on_set'")
    events = [*transitions.values(), *([on_set] if on_set else [])]
    properties = raw.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise ImproperlyConfigured(f"{where}: 'properties' must be a dict of property → attribute path/callable")
    for name in events:
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ImproperlyConfigured(f"{where}: {name!r} is not a valid event name")
        spec = TRACKING_PLAN.get(name)
        missing = sorted(set(spec.required) - set(properties)) if spec is not None else []
        if missing:
            raise ImproperlyConfigured(f"{where}: '{name}' requires properties {missing} (docs/tracking-plan.md)")
    for key in properties:
        if _forbidden(str(key)):
            raise ImproperlyConfigured(f"{where}: property '{key}' would carry a phone/secret value")
    return BridgeMapping(
        label=str(label),
        model=model,
        attname=attname,
        transitions=transitions,
        on_set=on_set or None,
        user_id=_accessor(f"{where} user_id", raw["user_id"]) if raw.get("user_id") is not None else None,
        properties=tuple(
            (str(key), _accessor(f"{where} properties.{key}", source)) for key, source in properties.items()
        ),
        timestamp=_accessor(f"{where} timestamp", raw["timestamp"]) if raw.get("timestamp") is not None else None,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class ModelBridge:
    """The receivers for one host model and all of its mappings."""

    def __init__(self, model: type[models.Model], mappings: list[BridgeMapping], buffer: EventBuffer | None) -> None:
        self.model = model
        self.mappings = mappings
        self.attnames = tuple(dict.fromkeys(m.attname for m in mappings))
        self._buffer = buffer

    @property
    def buffer(self) -> EventBuffer:
        return self._buffer or event_buffer()

    def connect(self) -> None:
        uid = f"loopin-analytics-bridge:{self.model._meta.label}"
        post_init.connect(self.loaded, sender=self.model, weak=False, dispatch_uid=uid)
        pre_save.connect(self.saving, sender=self.model, weak=False, dispatch_uid=uid)
        post_save.connect(self.saved, sender=self.model, weak=False, dispatch_uid=uid)

    def disconnect(self) -> None:
        uid = f"loopin-analytics-bridge:{self.model._meta.label}"
        for signal in (post_init, pre_save, post_save):
            signal.disconnect(sender=self.model, dispatch_uid=uid)

    # post_init: remember the loaded (committed) values; deferred fields stay unknown.
    def loaded(self, sender: Any, instance: models.Model, **kwargs: Any) -> None:
        values = instance.__dict__
        values[_KNOWN] = {name: values[name] for name in self.attnames if name in values}

    # pre_save: for a value that differs from the committed one, read what is stored (one query).
    def saving(
        self,
        sender: Any,
        instance: models.Model,
        raw: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if raw:
            return
        try:
            values = instance.__dict__
            previous: dict[str, Any] = {}
            values[_PENDING] = previous
            if instance._state.adding:
                return
            known = values.get(_KNOWN, {})
            written = set(update_fields) if update_fields is not None else None
            to_check = []
            for attname in self.attnames:
                if attname not in values or (written is not None and not _written(self.model, attname, written)):
                    continue  # not loaded (deferred) or not in update_fields: this save does not write it
                if known.get(attname, _UNKNOWN) is _UNKNOWN or known[attname] != values[attname]:
                    to_check.append(attname)
            if not to_check or instance.pk is None:
                return
            stored = self.model._base_manager.using(using or "default").filter(pk=instance.pk).values(*to_check).first()
            for attname in to_check:
                previous[attname] = _CREATED if stored is None else stored[attname]
        except Exception:
            logger.exception("collection.signal_bridge_failed stage=pre_save model=%s", self.model._meta.label)

    # post_save: decide, build the event now (the state at the transition), send it after commit.
    def saved(
        self,
        sender: Any,
        instance: models.Model,
        created: bool = False,
        raw: bool = False,
        using: str | None = None,
        **kwargs: Any,
    ) -> None:
        if raw:
            return
        try:
            values = instance.__dict__
            previous = values.pop(_PENDING, {})
            moved: dict[str, Any] = {}
            events: list[dict[str, Any]] = []
            for mapping in self.mappings:
                if mapping.attname not in values:
                    continue
                current = values[mapping.attname]
                before = _CREATED if created else previous.get(mapping.attname, _UNKNOWN)
                if before is _UNKNOWN:
                    continue  # unchanged since the last commit
                moved[mapping.attname] = current
                name = mapping.event_for(before, current)
                if name is not None:
                    event = self._event(mapping, name, instance)
                    if event is not None:
                        events.append(event)
            if moved or events:
                transaction.on_commit(
                    partial(self._committed, instance, moved, events), using=using or "default", robust=True
                )
        except Exception:
            logger.exception("collection.signal_bridge_failed stage=post_save model=%s", self.model._meta.label)

    def _committed(self, instance: models.Model, moved: dict[str, Any], events: list[dict[str, Any]]) -> None:
        instance.__dict__.setdefault(_KNOWN, {}).update(moved)
        target = self.buffer
        for event in events:
            target.append(event, source=EventSource.SIGNAL)

    def _event(self, mapping: BridgeMapping, name: str, instance: models.Model) -> dict[str, Any] | None:
        try:
            properties = {}
            for key, read in mapping.properties:
                value = _plain(read(instance))
                if value is not None:
                    properties[key] = value
            event: dict[str, Any] = {
                "event_name": name,
                "uuid": str(uuid4()),
                "timestamp": _timestamp(mapping, instance),
                "properties": properties,
                "context": {"library": {"name": "loopin-analytics-signal-bridge", "model": mapping.label}},
            }
            if mapping.user_id is not None:
                user_id = _plain(mapping.user_id(instance))
                if user_id is not None and user_id != "":
                    event["user_id"] = user_id if isinstance(user_id, int) else str(user_id)
            return event
        except Exception:
            logger.exception("collection.signal_bridge_event_failed model=%s event=%s", mapping.label, name)
            return None


def _written(model: type[models.Model], attname: str, update_fields: set[str]) -> bool:
    if attname in update_fields:
        return True
    try:
        return model._meta.get_field(attname).name in update_fields
    except FieldDoesNotExist:
        return any(f.attname == attname and f.name in update_fields for f in model._meta.concrete_fields)


def _timestamp(mapping: BridgeMapping, instance: models.Model) -> str:
    if mapping.timestamp is not None:
        value = mapping.timestamp(instance)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.isoformat()
    return clock.now().isoformat()


def build_bridges(config: Iterable[Mapping[str, Any]], *, buffer: EventBuffer | None = None) -> list[ModelBridge]:
    """Parse the setting into one `ModelBridge` per model (raises ImproperlyConfigured)."""
    by_model: dict[type[models.Model], list[BridgeMapping]] = defaultdict(list)
    for position, raw in enumerate(config):
        mapping = parse_mapping(raw, position)
        by_model[mapping.model].append(mapping)
    return [ModelBridge(model, mappings, buffer) for model, mappings in by_model.items()]


def signal_bridge_connect(config: Iterable[Mapping[str, Any]]) -> list[ModelBridge]:
    """Connect the receivers for ANALYTICS_SIGNAL_BRIDGE (called from AnalyticsConfig.ready())."""
    bridges = build_bridges(config)
    for bridge in bridges:
        bridge.connect()
    return bridges
