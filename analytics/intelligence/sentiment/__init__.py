"""Sentiment of free text (reviews, feedback): `SentimentAnalysisService` and the processing step.

text.py (clean, truncate, scrub) → language.py (English check) → features.py (VADER, TextBlob, cheap
text features) → combiner.py (the learned model, from committed parameters) + emotions.py →
service.py (+ OpenAI through ../llm.py when configured). training.py fits the combiner; evaluation.py
measures it for `make eval`; events.py scores review and feedback tracked events. See docs/sentiment.md.
Heavy analysers load on first use, so importing this package is cheap.
"""
