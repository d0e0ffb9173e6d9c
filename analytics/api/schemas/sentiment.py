"""Sentiment shapes: one text or a batch in, one result or a list of results out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_TEXTS = 1000
MAX_TEXT_CHARS = 200_000  # one text; longer texts are refused, long ones are analysed truncated
MAX_TOTAL_CHARS = 5_000_000  # all the texts of one request


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("the text is empty")
    return value


# The schema says "not blank" as a pattern (some character that is not white space), so generated clients
# and the fuzzing tier know the rule; the validator enforces it with its own message.
Text = Annotated[
    str, Field(max_length=MAX_TEXT_CHARS, json_schema_extra={"pattern": r"\S"}), AfterValidator(_not_blank)
]


class SentimentIn(BaseModel):
    """Either `text` (one) or `texts` (1 to 1,000), not both."""

    model_config = ConfigDict(
        extra="forbid",
        # "exactly one of": documented in the schema too, as the validator below enforces it
        json_schema_extra={
            "oneOf": [
                {"properties": {"text": {"type": "string"}}, "required": ["text"]},
                {"properties": {"texts": {"type": "array"}}, "required": ["texts"]},
            ]
        },
    )
    text: Text | None = Field(default=None, description=f"one text (at most {MAX_TEXT_CHARS:,} characters)")
    texts: list[Text] | None = Field(
        default=None, min_length=1, max_length=MAX_TEXTS, description=f"1 to {MAX_TEXTS:,} texts"
    )

    @model_validator(mode="after")
    def _one_of(self) -> SentimentIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send either 'text' or 'texts' (a list of 1 to 1,000 texts), not both and not neither")
        if self.texts is not None and sum(len(t) for t in self.texts) > MAX_TOTAL_CHARS:
            raise ValueError(f"the texts hold more than {MAX_TOTAL_CHARS:,} characters together; send fewer per call")
        return self


class LanguageOut(BaseModel):
    english: bool
    words: int
    english_share: float | None
    detected: str | None


class SentimentDetailsOut(BaseModel):
    vader_compound: float
    textblob_polarity: float
    textblob_subjectivity: float
    probabilities: dict[str, float]
    emotions: dict[str, float]
    emotions_source: Literal["lexicon", "openai", "none"]
    language: LanguageOut
    truncated: bool
    method: Literal["combined", "combined+openai", "openai", "unsupported_language", "empty"]
    model_version: str
    openai_sentiment: Literal["positive", "neutral", "negative"] | None = None
    openai_score: float | None = None


class SentimentOut(BaseModel):
    sentiment: Literal["positive", "neutral", "negative"]
    score: float = Field(description="-1 (most negative) … 1 (most positive): the predicted mean human rating / 4")
    confidence: float = Field(description="the calibrated probability that `sentiment` is right")
    details: SentimentDetailsOut


class SentimentBatchOut(BaseModel):
    count: int
    results: list[SentimentOut]
