"""Recommendations for one person on a small platform built through the pipeline: the person's taste first,
with a reason from their history; nothing they asked to join, nothing full, cancelled or past; a newcomer
gets their city and what is popular; an unknown person is a 404 and an empty market says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest

from analytics import clock
from analytics.ai_services import PredictiveAnalyticsService
from analytics.errors import NotFound, ValidationFailed
from analytics.intelligence.recommendations.candidates import open_listings_forget
from analytics.intelligence.recommendations.collaborative import HostFactors
from analytics.intelligence.recommendations.service import recommendations_for
from analytics.intelligence.registry import Trained, model_train_and_promote
from tests.unit.metrics.support import created, ev, ingest

NOW = datetime.fromisoformat("2026-03-20T12:00:00+00:00")  # 17:30 in Kolkata, a Friday


@pytest.fixture
def market(transactional_db: None) -> Iterator[None]:
    """Host h1 in Pune held two music nights u1 attended; upcoming: music in Pune (open, full, cancelled),
    music in Mumbai, food in Pune, tech in Pune (popular: eight requests), and one u1 already asked to join."""
    clock.freeze(NOW)
    events = [
        created("past1", "2026-02-01T10:00", host="h1", city="Pune", starts="2026-02-14T19:00"),
        created("past2", "2026-02-01T10:00", host="h1", city="Pune", starts="2026-02-28T19:00"),
        created("music-pune", "2026-03-15T10:00", host="h2", city="Pune", starts="2026-03-27T19:00"),
        created("music-mumbai", "2026-03-15T10:00", host="h3", city="Mumbai", starts="2026-03-27T19:00"),
        created("food-pune", "2026-03-15T10:00", host="h4", city="Pune", category="food", starts="2026-03-28T12:00"),
        created("tech-pune", "2026-03-15T10:00", host="h5", city="Pune", category="tech", starts="2026-03-26T18:00"),
        created("asked", "2026-03-15T10:00", host="h6", city="Pune", starts="2026-03-29T19:00"),
        created("full", "2026-03-15T10:00", host="h7", city="Pune", starts="2026-03-29T20:00", capacity=2, price=0),
        created("gone", "2026-03-15T10:00", host="h8", city="Pune", starts="2026-03-30T19:00"),
        ev("event_cancelled", "2026-03-16T10:00", user="h8", listing_id="gone"),
    ]
    for n, listing in enumerate(("past1", "past2")):
        events += [
            ev("event_viewed", f"2026-02-0{2 + n}T10:00", user="u1", listing_id=listing, located="Pune"),
            ev("event_requested", f"2026-02-0{2 + n}T10:05", user="u1", listing_id=listing, seats=1),
            ev("event_checked_in", f"2026-02-{14 + 14 * n}T19:10", user="u1", listing_id=listing, seats=1),
        ]
    events += [ev("event_requested", "2026-03-16T10:00", user="u1", listing_id="asked", seats=1)]
    for n in range(2):  # two seats taken at the free listing: full
        events += [
            ev("event_requested", "2026-03-16T11:00", user=f"f{n}", listing_id="full", seats=1),
            ev("event_request_accepted", "2026-03-16T12:00", user=f"f{n}", listing_id="full"),
        ]
    for n in range(8):
        events.append(ev("event_requested", "2026-03-17T11:00", user=f"t{n}", listing_id="tech-pune", seats=1))
    events.append(ev("page_view", "2026-03-19T10:00", user="newcomer", path="/home", located="Pune"))
    for day in ("17", "18"):  # a newcomer who searched for food twice, and has viewed no listing yet
        events.append(
            ev(
                "search_performed",
                f"2026-03-{day}T10:00",
                user="searcher",
                located="Pune",
                category="food",
                results_count=1,
            )
        )
    ingest(*events)
    yield
    clock.freeze(None)


def test_the_persons_taste_comes_first_with_a_reason_from_their_history(market: None) -> None:
    result = recommendations_for(user_id="u1", limit=10)
    assert result["status"] == "ok"
    ids = [r["listing_id"] for r in result["recommendations"]]
    assert ids[0] == "music-pune"
    assert result["recommendations"][0]["reason"] == "because you attended 2 music listings in Pune"
    assert set(ids) == {"music-pune", "music-mumbai", "food-pune", "tech-pune"}  # no full, cancelled, past, asked
    assert ids[-1] == "music-mumbai"  # another city: the person has only ever gone out in Pune
    tech = next(r for r in result["recommendations"] if r["listing_id"] == "tech-pune")
    assert tech["reason"] == "popular in Pune: 8 requests in the last 14 days" and tech["seats_left"] == 10


def test_a_newcomer_gets_their_city_and_what_is_popular(market: None) -> None:
    result = recommendations_for(user_id="newcomer", limit=3)
    assert result["status"] == "cold_start" and len(result["recommendations"]) == 3
    first = result["recommendations"][0]
    assert (first["listing_id"], first["city"]) == ("tech-pune", "Pune")
    assert all(r["city"] == "Pune" for r in result["recommendations"])


def test_a_newcomers_searches_say_what_kind_of_outing_they_are_after(market: None) -> None:
    result = recommendations_for(user_id="searcher", limit=3)
    assert result["status"] == "cold_start"  # searches are not a listing history
    assert result["message"] == "no listing history yet: ranked by their searches, home city and popularity"
    first = result["recommendations"][0]
    assert first["listing_id"] == "food-pune" and first["reason"] == "because you searched for food 2 times"


def test_an_unknown_person_is_404_and_a_bad_limit_422(market: None) -> None:
    with pytest.raises(NotFound):
        recommendations_for(user_id="nobody")
    for limit in (0, 51):
        with pytest.raises(ValidationFailed):
            recommendations_for(user_id="u1", limit=limit)


def test_with_nothing_open_the_answer_says_so(market: None) -> None:
    for instant in ("2026-05-01T12:00:00+00:00", "2026-03-15T00:00:00+00:00"):  # all past; none created yet
        result = recommendations_for(user_id="u1", as_of=datetime.fromisoformat(instant))
        assert result["status"] == "not_enough_data" and result["recommendations"] == []
        assert result["message"].startswith("no open listing to recommend")


def test_the_documented_face_returns_the_list(market: None) -> None:
    items = PredictiveAnalyticsService().generate_recommendations("u1", limit=2)
    assert [i["listing_id"] for i in items][:1] == ["music-pune"] and len(items) == 2


def test_serving_reads_the_open_listings_once_a_minute_and_drops_what_has_started(market: None) -> None:
    """The serving pool (candidates.open_listings_now): a listing created after the read waits for the next
    read, one that has started since is gone at once, and once the business clock has moved on the pool is
    read again."""

    def served() -> set[str]:
        return {r["listing_id"] for r in recommendations_for(user_id="u1", limit=10)["recommendations"]}

    first = served()
    ingest(
        created("late", "2026-03-20T17:00", host="h9", city="Pune", starts="2026-03-27T19:30"),
        created("brief", "2026-03-20T17:00", host="h9", city="Pune", starts="2026-03-26T18:10"),  # 12:40 UTC
    )
    assert served() == first  # read a moment ago: the new listings wait for the next read
    clock.freeze(datetime.fromisoformat("2026-03-26T12:39:40+00:00"))
    again = served()
    assert {"late", "brief"} <= again  # days later on the business clock: read again
    assert "tech-pune" not in again and "music-pune" in again  # tech-pune started at 12:30 UTC
    clock.freeze(datetime.fromisoformat("2026-03-26T12:40:10+00:00"))
    assert served() == again - {"brief"}  # the same read, less the listing that has started since
    open_listings_forget()
    ingest(created("later", "2026-03-26T18:10", host="h9", city="Pune", starts="2026-03-27T20:00"))
    assert "later" in served()


class _VersionWithoutHelp:
    """A `recommendations` version whose host factors its holdout kept at weight 0, through the real registry."""

    name = "recommendations"
    minimum_data = "none"

    def train(self, *, as_of: datetime) -> Trained:
        factors = HostFactors(("h1",), np.ones((1, 2)), 0.1, 1, weight=0.0)
        return Trained(factors, "test", (), 1, as_of, as_of, as_of, {"recall_at_10": 0.5}, "recall_at_10")


def test_the_answer_says_which_model_ranked_it(market: None) -> None:
    assert recommendations_for(user_id="u1")["model"] == (
        "hybrid ranking: content and popularity (no host factors trained yet)"
    )
    version = model_train_and_promote(_VersionWithoutHelp())
    result = recommendations_for(user_id="u1")
    assert result["model_version"] == str(version.version)
    assert result["model"] == (
        "hybrid ranking: content and popularity (this version's host factors did not help on its holdout)"
    )
