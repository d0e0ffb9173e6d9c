"""Emotions from the permissively licensed lexicon: the obvious tones, negation, nothing invented."""

from __future__ import annotations

from analytics.intelligence.sentiment.emotions import EMOTIONS, emotion_lexicon, emotion_shares


def dominant(text: str) -> str:
    shares = emotion_shares(text)
    return max(shares, key=lambda e: shares[e])


def test_obvious_tones_are_recognised() -> None:
    assert dominant("We were so happy, the whole evening was a joy and we loved it") == "joy"
    assert dominant("The staff were rude and I am furious about the scam") == "anger"
    assert dominant("Such a disappointing, boring night, I was sad to leave early") == "sadness"
    assert dominant("The crowd got dangerous and I was scared and anxious") == "fear"
    assert dominant("Wow, the surprise guest was totally unexpected") == "surprise"
    assert dominant("A professional, reliable host, I would recommend them") == "trust"


def test_shares_sum_to_one_and_cover_every_emotion() -> None:
    shares = emotion_shares("happy but also a little scared")
    assert set(shares) == set(EMOTIONS)
    assert abs(sum(shares.values()) - 1.0) < 1e-3


def test_a_negated_word_does_not_count() -> None:
    assert emotion_shares("I was not happy") == dict.fromkeys(EMOTIONS, 0.0)


def test_a_text_without_emotion_words_has_no_emotions() -> None:
    assert emotion_shares("The event starts at 7 pm in hall B.") == dict.fromkeys(EMOTIONS, 0.0)


def test_words_vader_rates_the_other_way_are_dropped_from_empath_categories() -> None:
    lexicon = emotion_lexicon()
    assert "happiness" not in lexicon or "sadness" not in lexicon["happiness"]  # Empath lists it under sadness
    assert "sadness" in lexicon.get("sad", frozenset())
