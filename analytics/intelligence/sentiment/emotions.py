"""The tone of a text: joy, trust, surprise, anger, fear, sadness — from a lexicon whose licence
allows commercial use (the NRC lexicons do not; see docs/sentiment.md for the decision).

The lexicon = the Empath categories of the same names (MIT, data/empath_emotions.txt), cleaned with
VADER's valences (a word VADER rates positive is dropped from anger, fear and sadness, a word it
rates negative from joy and trust, and a word left in both a positive and a negative emotion is
dropped from both), plus everyday review words written for this project (data/emotion_words.txt).

A word preceded within three words by a negation ("not happy") does not count. The result is each
emotion's share of the emotion words found (summing to 1), or all zeros when none was found.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

EMOTIONS: tuple[str, ...] = ("joy", "trust", "surprise", "anger", "fear", "sadness")
POSITIVE_EMOTIONS = frozenset({"joy", "trust"})
NEGATIVE_EMOTIONS = frozenset({"anger", "fear", "sadness"})

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NEGATIONS = frozenset("not no never without hardly barely nothing nobody neither nor isn't wasn't".split())
_NEGATION_WINDOW = 3


def _read(name: str) -> dict[str, set[str]]:
    text = resources.files("analytics.intelligence.sentiment").joinpath("data", name).read_text("utf-8")
    out: dict[str, set[str]] = {emotion: set() for emotion in EMOTIONS}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        emotion, _, words = line.partition("\t")
        if emotion in out:
            out[emotion].update(word.lower() for word in words.replace("\t", " ").split())
    return out


@cache
def emotion_lexicon() -> dict[str, frozenset[str]]:
    """word → the emotions it signals."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    valence: dict[str, float] = SentimentIntensityAnalyzer().lexicon
    empath = _read("empath_emotions.txt")
    for emotion in POSITIVE_EMOTIONS:
        empath[emotion] = {w for w in empath[emotion] if valence.get(w, 0.0) >= 0.0}
    for emotion in NEGATIVE_EMOTIONS:
        empath[emotion] = {w for w in empath[emotion] if valence.get(w, 0.0) <= 0.0}
    positive = set().union(*(empath[e] for e in POSITIVE_EMOTIONS))
    negative = set().union(*(empath[e] for e in NEGATIVE_EMOTIONS))
    conflicting = positive & negative
    own = _read("emotion_words.txt")
    lexicon: dict[str, set[str]] = {}
    for emotion in EMOTIONS:
        for word in (empath[emotion] - conflicting) | own[emotion]:
            lexicon.setdefault(word, set()).add(emotion)
    return {word: frozenset(emotions) for word, emotions in lexicon.items()}


def _variants(word: str) -> tuple[str, ...]:
    if word.endswith("'s") or word.endswith("’s"):
        return (word, word[:-2])
    return (word,)


def emotion_shares(text: str) -> dict[str, float]:
    """Each emotion's share of the emotion words in `text` (all 0.0 when there are none)."""
    lexicon = emotion_lexicon()
    counts = dict.fromkeys(EMOTIONS, 0)
    found = 0
    recent_negation = -_NEGATION_WINDOW - 1
    for position, raw in enumerate(_WORD.findall(text)):
        word = raw.lower()
        if word in _NEGATIONS or word.endswith(("n't", "n’t")):
            recent_negation = position
            continue
        if position - recent_negation <= _NEGATION_WINDOW:
            continue
        for variant in _variants(word):
            emotions = lexicon.get(variant)
            if emotions:
                for emotion in emotions:
                    counts[emotion] += 1
                    found += 1
                break
    if not found:
        return dict.fromkeys(EMOTIONS, 0.0)
    return {emotion: round(counts[emotion] / found, 4) for emotion in EMOTIONS}
