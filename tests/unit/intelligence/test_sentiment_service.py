"""SentimentAnalysisService: the documented dict, the special cases, and bad input of every kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analytics.ai_services import SentimentAnalysisService
from analytics.intelligence.sentiment.service import UNSUPPORTED_CONFIDENCE, sentiment_analyze, sentiment_scores_local


@pytest.fixture
def service() -> SentimentAnalysisService:
    return SentimentAnalysisService()


def test_the_documented_face_returns_the_documented_plain_dict(service: SentimentAnalysisService) -> None:
    result = service.analyze_text_sentiment("The concert was amazing, I loved every minute!")
    assert result["sentiment"] == "positive"
    assert 0.0 < result["score"] <= 1.0
    assert 0.5 < result["confidence"] <= 1.0
    details = result["details"]
    assert {"vader_compound", "textblob_polarity", "textblob_subjectivity", "emotions"} <= set(details)
    assert details["vader_compound"] > 0.5 and details["textblob_polarity"] > 0
    assert details["method"] == "combined" and "openai_sentiment" not in details
    assert details["probabilities"][result["sentiment"]] == pytest.approx(result["confidence"], abs=1e-3)
    json.dumps(result)  # plain data only


def test_clear_negative_and_neutral_texts(service: SentimentAnalysisService) -> None:
    negative = service.analyze_text_sentiment("Terrible organisation, we waited an hour and the staff were rude.")
    neutral = service.analyze_text_sentiment("The event starts at 7 pm in hall B.")
    assert (negative["sentiment"], neutral["sentiment"]) == ("negative", "neutral")
    assert negative["score"] < -0.3 and neutral["score"] == 0.0


def test_empty_and_blank_texts_are_neutral_without_analysis(service: SentimentAnalysisService) -> None:
    for text in ("", "   \n\t ", "<p></p>"):
        result = service.analyze_text_sentiment(text)
        assert (result["sentiment"], result["score"], result["confidence"]) == ("neutral", 0.0, 1.0)
        assert result["details"]["method"] == "empty"


def test_emoji_only_text_is_analysed_through_vaders_emoji_lexicon(service: SentimentAnalysisService) -> None:
    result = service.analyze_text_sentiment("😍😍😍")
    assert result["sentiment"] == "positive" and result["details"]["method"] == "combined"
    assert result["details"]["language"]["words"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "El concierto fue increíble, la banda tocó durante tres horas.",
        "Das Essen war kalt und das Personal unfreundlich.",
        "व्यवस्था बहुत खराब थी, हमें एक घंटे तक इंतज़ार करना पड़ा।",
    ],
)
def test_other_languages_get_low_confidence_not_a_confident_wrong_score(
    service: SentimentAnalysisService, text: str
) -> None:
    result = service.analyze_text_sentiment(text)
    assert result["details"]["method"] == "unsupported_language"
    assert (result["sentiment"], result["score"]) == ("neutral", 0.0)
    assert result["confidence"] == pytest.approx(UNSUPPORTED_CONFIDENCE, abs=1e-3)
    assert result["details"]["language"]["english"] is False


def test_a_100_kb_text_is_analysed_truncated(service: SentimentAnalysisService) -> None:
    text = "What a wonderful festival, great music and lovely people. " * 1_800  # ~104 kB
    result = service.analyze_text_sentiment(text)
    assert len(text.encode()) > 100_000
    assert result["details"]["truncated"] is True and result["sentiment"] == "positive"


def test_html_is_read_as_its_text(service: SentimentAnalysisService) -> None:
    marked_up = service.analyze_text_sentiment("<p>The host was <b>rude</b> &amp; the venue <i>filthy</i>.</p>")
    plain = service.analyze_text_sentiment("The host was rude & the venue filthy.")
    assert marked_up["sentiment"] == plain["sentiment"] == "negative"
    assert marked_up["score"] == plain["score"]


def test_emails_and_phone_numbers_never_reach_the_result(service: SentimentAnalysisService) -> None:
    result = service.analyze_text_sentiment("Awful night. Refund me: riya.k@example.com, +91 98765 43210")
    dumped = json.dumps(result)
    assert "example.com" not in dumped and "98765" not in dumped
    assert result["sentiment"] == "negative"


def test_a_batch_keeps_its_order(service: SentimentAnalysisService) -> None:
    results = service.analyze_texts(["I hated it.", "", "Loved it!", "Hola, qué tal la fiesta de anoche amigos"])
    assert [r["details"]["method"] for r in results] == ["combined", "empty", "combined", "unsupported_language"]
    assert [r["sentiment"] for r in results] == ["negative", "neutral", "positive", "neutral"]


def test_emotions_describe_the_tone(service: SentimentAnalysisService) -> None:
    result = service.analyze_text_sentiment("We were so happy, what a joyful and fun evening!")
    assert result["details"]["emotions_source"] == "lexicon"
    emotions = result["details"]["emotions"]
    assert max(emotions, key=lambda e: emotions[e]) == "joy"


def test_local_scores_are_none_where_the_text_cannot_be_scored() -> None:
    scores = sentiment_scores_local(texts=["Loved it!", "", "Me encantó la fiesta, gracias a todos"])
    assert scores[0] is not None and scores[0] > 0
    assert scores[1:] == [None, None]


def test_the_service_is_local_when_openai_is_not_configured(settings: Any) -> None:
    assert not settings.OPENAI_API_KEY
    (result,) = sentiment_analyze(texts=["Great show"])
    assert result.method == "combined" and result.openai_sentiment is None


_OFFLINE_PROBE = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import nltk
nltk.data.path[:] = [sys.argv[1]]
from analytics.intelligence.sentiment.features import sentiment_features
from analytics.intelligence.sentiment.language import language_check
good = sentiment_features("What a wonderful, joyful evening")
bad = sentiment_features("A dreadful, boring waste of money")
assert good.textblob_polarity > 0 > bad.textblob_polarity, (good, bad)
assert good.vader_compound > 0 > bad.vader_compound
assert language_check("Das Essen war kalt und das Personal unfreundlich, leider").english is False
try:
    nltk.data.find("tokenizers/punkt")
except LookupError:
    print("no-nltk-data")
"""


def test_analysers_need_no_nltk_data_and_no_network(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_PROBE, str(tmp_path)],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "NLTK_DATA": str(tmp_path), "HOME": str(tmp_path), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no-nltk-data"
