"""Tracked events as the Loopin app and backend send them: envelopes with seeded uuids.

Every event gets its uuid from the seeded uuid stream in generation order, so the same seed gives
the same uuids. Client events carry the app's `session_id`, user agent and location; events that the
platform's backend emits on a user's behalf (a host's decision, a refund, a chargeback) carry no
session — there is no client session to name — and say so in `context.library`.
"""

from __future__ import annotations

import random
import uuid as uuid_lib
from datetime import UTC, datetime
from typing import Any

from analytics.simulator import parameters as p

BACKEND_LIBRARY = {"name": "loopin-backend", "version": "2.31.0"}


def iso(instant: float) -> str:
    """An epoch instant as an ISO 8601 UTC string with milliseconds."""
    return datetime.fromtimestamp(round(instant, 3), UTC).isoformat(timespec="milliseconds")


class Emitter:
    """Collects the events of the day being simulated; `drain()` returns them in time order.

    Client events carry the device's user agent (app or web is visible from it) and location.
    """

    def __init__(self, seed: int) -> None:
        self._uuids = random.Random(f"{seed}:uuid")
        self._pending: list[tuple[float, int, dict[str, Any]]] = []
        self._sequence = 0
        self.emitted = 0
        self._contexts: dict[tuple[str, str], dict[str, Any]] = {}
        # Events at or after this instant (the end of the observed window) are not sent: a session that
        # runs past the end is cut there, as the data of a real platform would be at that moment.
        self.horizon = float("inf")

    def _uuid(self) -> str:
        return str(uuid_lib.UUID(int=self._uuids.getrandbits(128), version=4))

    def _push(self, instant: float, event: dict[str, Any]) -> None:
        if instant >= self.horizon:
            return
        self._sequence += 1
        self._pending.append((instant, self._sequence, event))
        self.emitted += 1

    def client(
        self,
        name: str,
        instant: float,
        *,
        session_id: str,
        user_agent: str,
        city: str,
        properties: dict[str, Any],
        user_id: str | None = None,
        anonymous_id: str | None = None,
    ) -> None:
        """An event the app (or web site) sends from a session."""
        event: dict[str, Any] = {"uuid": self._uuid(), "event_name": name, "timestamp": iso(instant)}
        if user_id is not None:
            event["user_id"] = user_id
        if anonymous_id is not None:
            event["anonymous_id"] = anonymous_id
        event["session_id"] = session_id
        event["properties"] = properties
        context = self._contexts.get((user_agent, city))
        if context is None:
            # One shared (never mutated) context per device and city: the pipeline copies what it keeps.
            context = {"user_agent": user_agent, "location": {"city": city, "country": p.COUNTRY}}
            self._contexts[(user_agent, city)] = context
        event["context"] = context
        self._push(instant, event)

    def backend(self, name: str, instant: float, *, user_id: str, properties: dict[str, Any]) -> None:
        """An event the platform's backend sends about a user, outside any client session."""
        event = {
            "uuid": self._uuid(),
            "event_name": name,
            "timestamp": iso(instant),
            "user_id": user_id,
            "properties": properties,
            "context": {"library": BACKEND_LIBRARY},
        }
        self._push(instant, event)

    def drain(self) -> tuple[list[dict[str, Any]], list[float]]:
        """The collected events in time order, with their instants (epoch seconds)."""
        self._pending.sort(key=lambda item: (item[0], item[1]))
        events = [event for _, _, event in self._pending]
        instants = [instant for instant, _, _ in self._pending]
        self._pending = []
        return events, instants
