"""The human-rated sets shipped in data/ (see data/README.md), read for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from analytics.intelligence.sentiment.features import sentiment_features
from analytics.intelligence.sentiment.language import language_check
from analytics.intelligence.sentiment.text import prepare_text

SET_FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
}
LABEL_INDEX = {"negative": 0, "neutral": 1, "positive": 2}


@dataclass(frozen=True)
class RatedText:
    item_id: str
    rating: float  # mean of 20 people's ratings, −4…4
    text: str


def truth_label(rating: float) -> str:
    """Ground truth for three classes: mean rating > 0.5 positive, < −0.5 negative, else neutral."""
    if rating > 0.5:
        return "positive"
    if rating < -0.5:
        return "negative"
    return "neutral"


@cache
def rated_set(name: str) -> tuple[RatedText, ...]:
    """One shipped set: `id<TAB>mean rating<TAB>text` per line."""
    path = resources.files("analytics.intelligence.sentiment").joinpath("data", SET_FILES[name])
    items: list[RatedText] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            items.append(RatedText(item_id=parts[0], rating=float(parts[1]), text=parts[2].strip()))
    return tuple(items)


@dataclass(frozen=True)
class SetFeatures:
    """A set as the service sees it: every text prepared, language-checked and turned into features."""

    name: str
    ratings: np.ndarray  # (n,)
    labels: np.ndarray  # (n,) LABEL_INDEX values
    vectors: np.ndarray  # (n, len(FEATURE_NAMES))
    vader_compound: np.ndarray
    textblob_polarity: np.ndarray
    english: np.ndarray  # (n,) bool
    texts: tuple[str, ...]  # prepared texts


def stratified_sample(name: str, size: int, *, seed: int = 0) -> tuple[int, ...]:
    """`size` item indices of a set, drawn per truth label in proportion (fixed seed: the same every run)."""
    items = rated_set(name)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_label.setdefault(truth_label(item.rating), []).append(index)
    chosen: list[int] = []
    for label in sorted(by_label):
        members = by_label[label]
        take = max(1, round(size * len(members) / len(items)))
        chosen.extend(int(i) for i in rng.choice(members, size=min(take, len(members)), replace=False))
    return tuple(sorted(chosen))


@cache
def set_features(name: str, sample: int | None = None) -> SetFeatures:
    """The set's features; with `sample`, those of a fixed stratified sample of that many items."""
    items = rated_set(name)
    if sample is not None and sample < len(items):
        items = tuple(items[i] for i in stratified_sample(name, sample))
    vectors: list[list[float]] = []
    english: list[bool] = []
    texts: list[str] = []
    for item in items:
        prepared = prepare_text(item.text)
        texts.append(prepared.text)
        english.append(language_check(prepared.text).english)
        vectors.append(sentiment_features(prepared.text).vector())
    matrix = np.asarray(vectors, dtype=float)
    ratings = np.asarray([item.rating for item in items], dtype=float)
    return SetFeatures(
        name=name,
        ratings=ratings,
        labels=np.asarray([LABEL_INDEX[truth_label(r)] for r in ratings], dtype=int),
        vectors=matrix,
        vader_compound=matrix[:, 0].copy(),
        textblob_polarity=matrix[:, 3].copy(),
        english=np.asarray(english, dtype=bool),
        texts=tuple(texts),
    )
