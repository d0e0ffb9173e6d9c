"""What the learned combiner reads: VADER's and TextBlob's scores and a few cheap text features.

- VADER (vaderSentiment, MIT; its lexicon and emoji lexicon ship inside the package): compound, pos,
  neg.
- TextBlob (MIT; Pattern's en-sentiment.xml ships inside the package): polarity and subjectivity.
  Only the Pattern lexicon is used, which needs no NLTK corpus and no network.
- Cheap text features: |compound|, |polarity| (how strongly polar, whichever way), VADER's own rule
  as two indicators (compound ≥ 0.05, ≤ −0.05), "no evidence" (neither found a sentiment word),
  log(1 + words), and whether an exclamation mark, a negation and a contrast word are present.
  (Indicators rather than counts: a count that is rare in one domain — "!" in movie snippets — gets a
  huge standardised value in another.)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

FEATURE_NAMES: tuple[str, ...] = (
    "vader_compound",
    "vader_pos",
    "vader_neg",
    "textblob_polarity",
    "textblob_subjectivity",
    "abs_vader_compound",
    "abs_textblob_polarity",
    "vader_rule_positive",
    "vader_rule_negative",
    "no_evidence",
    "log_words",
    "exclamation",
    "negation",
    "contrast",
)

# 0/1 features: left unscaled in training, so a rare one (few examples) is shrunk by the regularisation
# instead of being blown up by a small standard deviation.
INDICATOR_FEATURES = frozenset(
    {"vader_rule_positive", "vader_rule_negative", "no_evidence", "exclamation", "negation", "contrast"}
)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_NEGATIONS = frozenset("not no never none nobody nothing neither nor nowhere cannot without hardly barely".split())
_CONTRASTS = frozenset("but however although though yet".split())


@dataclass(frozen=True)
class SentimentFeatures:
    vader_compound: float
    vader_pos: float
    vader_neg: float
    textblob_polarity: float
    textblob_subjectivity: float
    words: int
    exclamations: int
    negation: bool
    contrast: bool

    def vector(self) -> list[float]:
        """The features in `FEATURE_NAMES` order."""
        compound, polarity = self.vader_compound, self.textblob_polarity
        return [
            compound,
            self.vader_pos,
            self.vader_neg,
            polarity,
            self.textblob_subjectivity,
            abs(compound),
            abs(polarity),
            1.0 if compound >= 0.05 else 0.0,
            1.0 if compound <= -0.05 else 0.0,
            1.0 if compound == 0.0 and polarity == 0.0 else 0.0,
            math.log1p(self.words),
            1.0 if self.exclamations else 0.0,
            1.0 if self.negation else 0.0,
            1.0 if self.contrast else 0.0,
        ]


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _textblob() -> Any:
    # The Pattern sentiment lexicon that TextBlob's default analyser uses, without building a TextBlob
    # (which would tokenise through NLTK). Importing textblob loads its lexicons once (~2 s).
    from textblob.en import sentiment

    return sentiment


def warm_up() -> None:
    """Load the analysers now (a worker does it once, not on its first text)."""
    _vader()
    _textblob()


def sentiment_features(text: str) -> SentimentFeatures:
    """The features of one prepared (cleaned, truncated, scrubbed) text."""
    scores = _vader().polarity_scores(text)
    polarity, subjectivity = _textblob()(text)
    words = _WORD.findall(text)
    negation = contrast = False
    for word in words:
        lowered = word.lower()
        if lowered in _NEGATIONS or lowered.endswith(("n't", "n’t")):
            negation = True
        elif lowered in _CONTRASTS:
            contrast = True
    return SentimentFeatures(
        vader_compound=float(scores["compound"]),
        vader_pos=float(scores["pos"]),
        vader_neg=float(scores["neg"]),
        textblob_polarity=float(polarity),
        textblob_subjectivity=float(subjectivity),
        words=len(words),
        exclamations=text.count("!"),
        negation=negation,
        contrast=contrast,
    )
