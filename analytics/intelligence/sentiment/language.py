"""Is a text English? VADER and TextBlob read English only; other languages must not be scored.

The rule (measured in `make eval`, docs/sentiment.md):
1. words = runs of letters (URLs, @handles and digits left out). A text with no word at all (emoji,
   numbers, punctuation) is language-neutral and analysed — VADER reads emoji.
2. share = the fraction of words found in an English vocabulary of about 90,000 words: the word lists
   that ship inside the TextBlob package (the Brill tagger lexicon and the spelling corpus of
   Pattern, en-lexicon.txt and en-spelling.txt) and VADER's lexicon.
3. share < 0.5 → not English. share ≥ 0.95 → English. In between, the language identifier
   py3langid (BSD, its model ships inside the package) decides: not English when its best guess is
   another language with a probability of at least 0.5.
Nothing is downloaded: every list and model comes from an installed package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

MIN_ENGLISH_SHARE = 0.5
SURE_ENGLISH_SHARE = 0.95
LANGID_MIN_PROBABILITY = 0.5

_URL_OR_HANDLE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass(frozen=True)
class LanguageCheck:
    english: bool
    words: int  # letter words found (0: language-neutral, such as emoji only)
    english_share: float | None  # share of words in the English vocabulary (None without words)
    detected: str | None  # py3langid's best guess when it was consulted

    def as_dict(self) -> dict[str, Any]:
        return {
            "english": self.english,
            "words": self.words,
            "english_share": None if self.english_share is None else round(self.english_share, 3),
            "detected": self.detected,
        }


def _words_in(package: str, name: str, *, separator: str | None = None) -> set[str]:
    out: set[str] = set()
    with resources.files(package).joinpath(name).open(encoding="utf-8", errors="ignore") as handle:
        for line in handle:
            if not line.strip() or line.startswith(";;;"):
                continue
            word = line.split(separator, 1)[0].strip().lower()
            if word.isalpha():
                out.add(word)
    return out


@cache
def english_vocabulary() -> frozenset[str]:
    """About 90,000 lower-case English words from word lists that ship inside installed packages."""
    words = _words_in("textblob.en", "en-lexicon.txt")
    words |= _words_in("textblob.en", "en-spelling.txt")
    words |= _words_in("vaderSentiment", "vader_lexicon.txt", separator="\t")
    return frozenset(words)


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _langid(text: str) -> tuple[str, float]:
    label, probability = _identifier().classify(text)  # stateless per call: safe across threads
    return str(label), float(probability)


def language_check(text: str) -> LanguageCheck:
    """Whether `text` (already cleaned) is English enough for the English-only analysers."""
    words = _WORD.findall(_URL_OR_HANDLE.sub(" ", text))
    if not words:
        return LanguageCheck(english=True, words=0, english_share=None, detected=None)
    vocabulary = english_vocabulary()
    known = 0
    for word in words:
        lowered = word.lower().replace("’", "'")
        if lowered in vocabulary or lowered.split("'", 1)[0] in vocabulary:
            known += 1
    share = known / len(words)
    if share < MIN_ENGLISH_SHARE:
        return LanguageCheck(english=False, words=len(words), english_share=share, detected=None)
    if share >= SURE_ENGLISH_SHARE:
        return LanguageCheck(english=True, words=len(words), english_share=share, detected=None)
    label, probability = _langid(text)
    english = not (label != "en" and probability >= LANGID_MIN_PROBABILITY)
    return LanguageCheck(english=english, words=len(words), english_share=share, detected=label)
