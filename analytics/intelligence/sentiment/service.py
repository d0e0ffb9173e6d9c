"""`SentimentAnalysisService`: the sentiment of free text, locally, plus OpenAI when configured.

Every text is prepared (text.py: HTML removed, truncated, emails and phone numbers masked), checked
for English (language.py), turned into VADER and TextBlob features (features.py) and combined by the
learned model (combiner.py); emotions come from the lexicon (emotions.py). With OpenAI configured
(OPENAI_API_KEY and AI_SERVICES_ENABLED), its reading joins as one more vote (`_with_openai`); any
failure leaves the local result in place. No server and no network are needed otherwise.

Special cases, each with its own `details.method`:
- "empty": nothing left after clean-up → neutral, score 0, confidence 1;
- "unsupported_language": not English → neutral, score 0, confidence 1/3 (no information: the
  English-only analysers would mis-score it), no emotions; with OpenAI, OpenAI's reading ("openai");
- "combined" / "combined+openai": the learned combiner, without or with OpenAI's vote.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analytics.intelligence.llm import llm_enabled
from analytics.intelligence.sentiment.combiner import LABELS, Combined, combine, combine_batch, committed_parameters
from analytics.intelligence.sentiment.emotions import EMOTIONS, emotion_shares
from analytics.intelligence.sentiment.features import SentimentFeatures, sentiment_features
from analytics.intelligence.sentiment.language import LanguageCheck, language_check
from analytics.intelligence.sentiment.llm_sentiment import LlmSentiment, llm_sentiments
from analytics.intelligence.sentiment.text import PreparedText, prepare_text

logger = logging.getLogger(__name__)

UNSUPPORTED_CONFIDENCE = 1 / 3
# The probability given to OpenAI's label when it joins the local probabilities (the other two labels
# share the rest). An assumption, not a measurement: the shipped sets cannot be sent to OpenAI here.
OPENAI_LABEL_PROBABILITY = 0.8
_NO_EMOTIONS = dict.fromkeys(EMOTIONS, 0.0)


@dataclass(frozen=True)
class SentimentResult:
    sentiment: str  # positive | neutral | negative
    score: float  # −1…1
    confidence: float  # probability that `sentiment` is right
    method: str  # combined | combined+openai | openai | unsupported_language | empty
    probabilities: dict[str, float]
    vader_compound: float
    textblob_polarity: float
    textblob_subjectivity: float
    emotions: dict[str, float]
    emotions_source: str  # lexicon | openai | none
    language: LanguageCheck
    truncated: bool
    model_version: str
    openai_sentiment: str | None = None
    openai_score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The documented plain-dict shape: sentiment, score, confidence, details."""
        details: dict[str, Any] = {
            "vader_compound": self.vader_compound,
            "textblob_polarity": round(self.textblob_polarity, 4),
            "textblob_subjectivity": round(self.textblob_subjectivity, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "emotions": self.emotions,
            "emotions_source": self.emotions_source,
            "language": self.language.as_dict(),
            "truncated": self.truncated,
            "method": self.method,
            "model_version": self.model_version,
        }
        if self.openai_sentiment is not None:
            details["openai_sentiment"] = self.openai_sentiment
            details["openai_score"] = self.openai_score
        return {
            "sentiment": self.sentiment,
            "score": round(self.score, 4),
            "confidence": round(self.confidence, 4),
            "details": details,
        }


def _uniform() -> dict[str, float]:
    return dict.fromkeys(LABELS, 1 / 3)


def _special(prepared: PreparedText, check: LanguageCheck, features: SentimentFeatures | None) -> SentimentResult:
    empty = not prepared.text
    return SentimentResult(
        sentiment="neutral",
        score=0.0,
        confidence=1.0 if empty else UNSUPPORTED_CONFIDENCE,
        method="empty" if empty else "unsupported_language",
        probabilities={"negative": 0.0, "neutral": 1.0, "positive": 0.0} if empty else _uniform(),
        vader_compound=features.vader_compound if features else 0.0,
        textblob_polarity=features.textblob_polarity if features else 0.0,
        textblob_subjectivity=features.textblob_subjectivity if features else 0.0,
        emotions=dict(_NO_EMOTIONS),
        emotions_source="none",
        language=check,
        truncated=prepared.truncated,
        model_version=committed_parameters().version,
    )


def _combined(
    prepared: PreparedText, check: LanguageCheck, features: SentimentFeatures, combined: Combined
) -> SentimentResult:
    emotions = emotion_shares(prepared.text)
    return SentimentResult(
        sentiment=combined.label,
        score=combined.score,
        confidence=combined.confidence,
        method="combined",
        probabilities=combined.probabilities,
        vader_compound=features.vader_compound,
        textblob_polarity=features.textblob_polarity,
        textblob_subjectivity=features.textblob_subjectivity,
        emotions=emotions,
        emotions_source="lexicon" if any(emotions.values()) else "none",
        language=check,
        truncated=prepared.truncated,
        model_version=committed_parameters().version,
    )


def _analyse_locally(prepared_texts: Sequence[PreparedText]) -> list[SentimentResult]:
    checks = [language_check(p.text) for p in prepared_texts]
    features = [sentiment_features(p.text) if p.text else None for p in prepared_texts]
    scored = [i for i, (p, c) in enumerate(zip(prepared_texts, checks, strict=True)) if p.text and c.english]
    if len(scored) == 1:
        only = features[scored[0]]
        assert only is not None
        combined = {scored[0]: combine(only.vector())}
    else:
        vectors = []
        for i in scored:
            feature = features[i]
            assert feature is not None
            vectors.append(feature.vector())
        combined = dict(zip(scored, combine_batch(vectors), strict=True))
    results: list[SentimentResult] = []
    for i, (prepared, check, feature) in enumerate(zip(prepared_texts, checks, features, strict=True)):
        if i in combined and feature is not None:
            results.append(_combined(prepared, check, feature, combined[i]))
        else:
            results.append(_special(prepared, check, feature))
    return results


def _with_openai(local: SentimentResult, remote: LlmSentiment) -> SentimentResult:
    """OpenAI's label as one more vote: p(label) ∝ p_local(label) × p_openai(label)."""
    vote = {
        label: OPENAI_LABEL_PROBABILITY if label == remote.sentiment else (1 - OPENAI_LABEL_PROBABILITY) / 2
        for label in LABELS
    }
    if local.method == "combined":
        prior, method, score = local.probabilities, "combined+openai", (local.score + remote.score) / 2
    else:  # not English: the local analysers know nothing
        prior, method, score = _uniform(), "openai", remote.score
    joint = {label: prior[label] * vote[label] for label in LABELS}
    total = sum(joint.values()) or 1.0
    probabilities = {label: joint[label] / total for label in LABELS}
    label = max(LABELS, key=lambda k: probabilities[k])
    emotions, source = local.emotions, local.emotions_source
    if remote.emotions is not None:
        strength = sum(remote.emotions.values())
        if strength > 0:
            emotions = {name: round(remote.emotions[name] / strength, 4) for name in EMOTIONS}
            source = "openai"
    return SentimentResult(
        sentiment=label,
        score=max(-1.0, min(1.0, score)),
        confidence=probabilities[label],
        method=method,
        probabilities=probabilities,
        vader_compound=local.vader_compound,
        textblob_polarity=local.textblob_polarity,
        textblob_subjectivity=local.textblob_subjectivity,
        emotions=emotions,
        emotions_source=source,
        language=local.language,
        truncated=local.truncated,
        model_version=local.model_version,
        openai_sentiment=remote.sentiment,
        openai_score=remote.score,
    )


def sentiment_analyze(*, texts: Sequence[str], use_openai: bool | None = None) -> list[SentimentResult]:
    """The sentiment of each text. `use_openai`: None follows the settings; False keeps it local."""
    prepared = [prepare_text(text) for text in texts]
    results = _analyse_locally(prepared)
    openai_used = 0
    wanted = llm_enabled() if use_openai is None else (use_openai and llm_enabled())
    if wanted and results:
        asked = [i for i, p in enumerate(prepared) if p.text]
        answers = llm_sentiments([prepared[i].text for i in asked])
        for i, answer in zip(asked, answers, strict=True):
            if answer is not None:
                results[i] = _with_openai(results[i], answer)
                openai_used += 1
    logger.debug(
        "sentiment.analysed count=%d openai=%d unsupported_language=%d",
        len(results),
        openai_used,
        sum(1 for r in results if r.method == "unsupported_language"),
    )
    return results


def sentiment_scores_local(*, texts: Sequence[str]) -> list[float | None]:
    """Local scores only (never OpenAI): None for an empty or non-English text."""
    return [
        r.score if r.method == "combined" else None for r in _analyse_locally([prepare_text(text) for text in texts])
    ]


class SentimentAnalysisService:
    """The documented face: `SentimentAnalysisService().analyze_text_sentiment(text)` → a plain dict with
    `sentiment` (positive | neutral | negative), `score` (−1…1), `confidence` (the calibrated probability
    of that label) and `details` (vader_compound, textblob_polarity, textblob_subjectivity, emotions,
    and openai_sentiment when OpenAI answered). Needs no server and no network."""

    def __init__(self, *, use_openai: bool | None = None) -> None:
        self.use_openai = use_openai

    def analyze_text_sentiment(self, text: str) -> dict[str, Any]:
        return sentiment_analyze(texts=[text], use_openai=self.use_openai)[0].as_dict()

    def analyze_texts(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        return [r.as_dict() for r in sentiment_analyze(texts=texts, use_openai=self.use_openai)]
