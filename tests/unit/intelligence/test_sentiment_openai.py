"""The OpenAI path, against a local server that speaks the chat-completions protocol: OpenAI's
reading joins as a vote, nothing personal is sent, and any failure falls back to the local result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analytics.intelligence.llm import LlmUnavailable, llm_chat_json
from analytics.intelligence.sentiment.llm_sentiment import BATCH_SIZE
from analytics.intelligence.sentiment.service import sentiment_analyze
from tests.support.openai_server import OpenAIServer


def negative(text: str) -> dict[str, Any]:
    return {
        "sentiment": "negative",
        "score": -0.8,
        "emotions": {"joy": 0, "trust": 0, "surprise": 0, "anger": 0.6, "fear": 0, "sadness": 0.2},
    }


def test_openai_reading_joins_the_result_as_a_vote(openai: OpenAIServer) -> None:
    (result,) = sentiment_analyze(texts=["The show was okay, the queue was long."])
    assert result.method == "combined+openai"
    assert result.openai_sentiment == "positive" and result.openai_score == 0.9
    assert result.as_dict()["details"]["openai_sentiment"] == "positive"
    assert result.emotions_source == "openai" and result.emotions["joy"] == pytest.approx(0.8)
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.confidence == result.probabilities[result.sentiment]


def test_the_request_follows_the_protocol_and_carries_no_personal_data(openai: OpenAIServer) -> None:
    sentiment_analyze(texts=["Rude host! Call me on +91 98765 43210 or write to riya.k@example.com"])
    (request,) = openai.requests()
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {openai.api_key}"
    assert request.body["model"] == "gpt-test" and request.body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in request.body["messages"]] == ["system", "user"]
    sent = json.dumps(request.body)
    assert "example.com" not in sent and "98765" not in sent
    assert request.texts == ["Rude host! Call me on [phone] or write to [email]"]


def test_a_text_in_another_language_takes_openais_reading(openai: OpenAIServer) -> None:
    openai.answer_with(negative)
    (result,) = sentiment_analyze(texts=["La comida estaba fría y el personal fue muy grosero."])
    assert (result.method, result.sentiment, result.score) == ("openai", "negative", -0.8)
    assert result.confidence == pytest.approx(0.8)


def test_texts_go_in_batches_and_each_gets_its_own_answer(openai: OpenAIServer) -> None:
    openai.answer_with(lambda text: negative(text) if "bad" in text else {"sentiment": "positive", "score": 0.5})
    texts = [f"text {i} was {'bad' if i % 2 else 'fine'}" for i in range(BATCH_SIZE + 5)]
    results = sentiment_analyze(texts=texts)
    assert len(openai.requests()) == 2
    assert [r.openai_sentiment for r in results] == ["negative" if i % 2 else "positive" for i in range(len(texts))]


@pytest.mark.parametrize("fault", ["timeout", "http_500", "malformed"])
def test_a_failing_openai_leaves_the_local_result(openai: OpenAIServer, settings: Any, fault: str) -> None:
    if fault == "timeout":
        settings.OPENAI_TIMEOUT_SECONDS = 0.2
        openai.delay_next(1, seconds=3.0)
    elif fault == "http_500":
        openai.fail_next(1, status=500)
    else:
        openai.malformed_next(1)
    (result,) = sentiment_analyze(texts=["Loved the band, great night!"])
    assert (result.method, result.openai_sentiment, result.sentiment) == ("combined", None, "positive")


def test_after_one_failure_the_rest_of_a_batch_stays_local(openai: OpenAIServer) -> None:
    openai.fail_next(1, status=503)
    results = sentiment_analyze(texts=[f"great night number {i}" for i in range(3 * BATCH_SIZE)])
    assert len(openai.requests()) == 1
    assert {r.method for r in results} == {"combined"}


def test_openai_is_not_called_when_ai_services_are_disabled(openai: OpenAIServer, settings: Any) -> None:
    settings.AI_SERVICES_ENABLED = False
    (result,) = sentiment_analyze(texts=["Great show"])
    assert result.method == "combined" and openai.requests() == []


def test_a_wrong_key_is_an_unavailable_llm_not_an_error(openai: OpenAIServer, settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-wrong"
    with pytest.raises(LlmUnavailable):
        llm_chat_json(system="s", user="u", max_tokens=5)
    (result,) = sentiment_analyze(texts=["Great show"])
    assert result.method == "combined"
