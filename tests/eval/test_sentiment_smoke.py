"""Evaluation smoke: the sentiment evaluation runs end to end on a fixed sample and the combined
method beats its baseline (VADER alone) on the mean macro-F1 of the four settings."""

from __future__ import annotations

from analytics.intelligence.sentiment.evaluation import evaluate


def test_sentiment_smoke_evaluation_shows_the_combined_method_beating_vader() -> None:
    section = evaluate(smoke=True)
    combined, vader = section.beats_baseline["combined"]
    assert combined > vader, section.markdown
    assert section.key == "sentiment" and "| setting |" in section.markdown
    assert {t.name for t in section.targets if "English" in t.name or "languages" in t.name}
