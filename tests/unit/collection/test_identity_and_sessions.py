"""identify() merges anonymous history into the user; sessions are assigned server-side when the
client sends none (30 minutes of inactivity, 24 h cap) and summarised into Session rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from analytics.collection.pipeline import event_ingest
from analytics.collection.processing import process_pending_events
from analytics.models import IdentityLink, Session, SessionCursor, UserEvent
from analytics.tracker import identify, track
from tests.factories import event

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime.fromisoformat("2026-03-10T10:00:00+00:00")


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def _ingest(*events: dict[str, object]) -> None:
    result = event_ingest(batch=list(events), source="http")
    assert result.stored == len(events), result.outcomes
    process_pending_events()


def test_identify_merges_the_anonymous_history_into_the_user() -> None:
    _ingest(
        event(user_id=None, anonymous_id="anon-1", event_name="page_view", properties={"path": "/"}, timestamp=_at(0)),
        event(
            user_id=None,
            anonymous_id="anon-1",
            event_name="event_viewed",
            properties={"listing_id": "L1"},
            timestamp=_at(1),
        ),
        event(user_id=None, anonymous_id="anon-2", event_name="page_view", properties={"path": "/"}, timestamp=_at(2)),
    )
    assert identify(user_id="u-42", anonymous_id="anon-1", traits={"email": "x@example.com"}).status == "stored"
    process_pending_events()
    assert set(UserEvent.objects.filter(anonymous_id="anon-1").values_list("user_id", flat=True)) == {"u-42"}
    assert UserEvent.objects.get(anonymous_id="anon-2").user_id is None
    identified = UserEvent.objects.get(event_name="user_identified")
    assert "x@example.com" not in str(identified.properties)
    assert Session.objects.filter(anonymous_id="anon-1").exclude(user_id="u-42").count() == 0


def test_later_anonymous_events_of_a_linked_device_are_attributed_to_the_user() -> None:
    identify(user_id="u-7", anonymous_id="dev-7")
    track(event_name="page_view", anonymous_id="dev-7", properties={"path": "/later"})
    process_pending_events()
    assert UserEvent.objects.get(page_path="/later").user_id == "u-7"


def test_first_link_of_an_anonymous_id_wins() -> None:
    identify(user_id="first", anonymous_id="shared-device", timestamp=_at(0))
    process_pending_events()
    identify(user_id="second", anonymous_id="shared-device", timestamp=_at(5))
    process_pending_events()
    assert IdentityLink.objects.get(anonymous_id="shared-device").user_id == "first"


def test_events_without_session_id_get_one_server_side_session_per_30_minutes_of_activity() -> None:
    _ingest(
        *[
            event(
                user_id="u1", session_id=None, event_name="page_view", properties={"path": f"/p{m}"}, timestamp=_at(m)
            )
            for m in (0, 10, 35, 80)  # 80 is 45 minutes after 35: a new session
        ]
    )
    sessions = list(UserEvent.objects.order_by("timestamp").values_list("session_id", flat=True))
    assert sessions[0] == sessions[1] == sessions[2] != sessions[3]
    assert all(s and s.startswith("srv_") for s in sessions)
    first = Session.objects.get(session_id=sessions[0])
    assert (first.event_count, first.duration_seconds) == (3, 35 * 60)
    assert (first.entry_screen, first.exit_screen) == ("/p0", "/p35")


def test_server_side_session_continues_across_batches_and_is_capped_at_24_hours() -> None:
    _ingest(event(user_id="u2", session_id=None, timestamp=_at(0)))
    _ingest(event(user_id="u2", session_id=None, timestamp=_at(20)))
    # Continuous activity every 20 minutes for 25 hours: the 24 h cap splits it.
    _ingest(*[event(user_id="u2", session_id=None, timestamp=_at(m)) for m in range(40, 25 * 60, 20)])
    ids = list(UserEvent.objects.order_by("timestamp").values_list("session_id", flat=True))
    assert ids[0] == ids[1]
    assert len(set(ids)) == 2
    longest = max(Session.objects.all(), key=lambda s: s.duration_seconds)
    assert longest.duration_seconds < 24 * 3600


def test_a_session_opened_after_inactivity_is_the_one_the_next_batch_continues() -> None:
    _ingest(event(user_id="u4", session_id=None, timestamp=_at(0)))
    _ingest(event(user_id="u4", session_id=None, timestamp=_at(120)))  # two hours on: a new session
    latest = _at(130 + 1.234567 / 60)  # ten minutes later (and some microseconds): that new one
    _ingest(event(user_id="u4", session_id=None, timestamp=latest))
    first, second, third = UserEvent.objects.order_by("timestamp").values_list("session_id", flat=True)
    assert first != second == third
    cursor = SessionCursor.objects.get(actor_key="u:u4")  # kept to the microsecond, time zone and all
    assert (cursor.session_id, cursor.started_at, cursor.last_event_at) == (
        second,
        datetime.fromisoformat(_at(120)),
        datetime.fromisoformat(latest),
    )


def test_client_session_ids_are_kept_and_summarised() -> None:
    _ingest(
        event(session_id="client-s", event_name="page_view", properties={"path": "/a"}, timestamp=_at(0)),
        event(session_id="client-s", event_name="page_view", properties={"path": "/b"}, timestamp=_at(90)),
    )
    assert set(UserEvent.objects.values_list("session_id", flat=True)) == {"client-s"}
    session = Session.objects.get(session_id="client-s")
    assert session.event_count == 2 and session.exit_screen == "/b"


def test_replayed_events_without_session_id_keep_the_same_server_side_session() -> None:
    first = event(user_id="u3", session_id=None, timestamp=_at(0))
    _ingest(first)
    session_id = UserEvent.objects.get(user_id="u3").session_id
    assert session_id and session_id.startswith("srv_")
    again = event_ingest(batch=[first], source="http")
    process_pending_events()
    assert again.duplicates == 1
    _ingest(event(user_id="u3", session_id=None, timestamp=_at(10)))  # ten minutes on: the same session
    assert list(UserEvent.objects.filter(user_id="u3").values_list("session_id", flat=True)) == [session_id] * 2
    assert Session.objects.get(session_id=session_id).event_count == 2  # the replay is not counted


def test_unattributed_events_get_no_session() -> None:
    _ingest(event(user_id=None, anonymous_id=None, session_id=None))
    assert UserEvent.objects.get().session_id is None
