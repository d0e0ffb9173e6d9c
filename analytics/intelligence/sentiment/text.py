"""Getting a text ready for analysis: HTML removed, cut to a bounded length, PII scrubbed.

The truncation rule (docs/sentiment.md): a text is analysed on its first `HEAD_CHARS` and last
`TAIL_CHARS` characters after HTML removal — reviews state their verdict at the start or the end, and
VADER and TextBlob cost time in proportion to length. Each cut falls back to the nearest space so no
word is split, and the two parts are joined by " … ". Before HTML removal a raw text past
`RAW_MAX_CHARS` is cut the same way (first `RAW_HEAD_CHARS`, last `RAW_TAIL_CHARS`), which bounds the
cost of the clean-up itself.

Emails and phone numbers are masked (`analytics.privacy.scrubbing.scrub_text`) in every prepared text,
so nothing downstream — a local model or an external call — ever sees them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from analytics.privacy.scrubbing import scrub_text

HEAD_CHARS = 3_000
TAIL_CHARS = 2_000
MAX_CHARS = HEAD_CHARS + TAIL_CHARS
RAW_HEAD_CHARS = 30_000
RAW_TAIL_CHARS = 20_000
RAW_MAX_CHARS = RAW_HEAD_CHARS + RAW_TAIL_CHARS
JOINER = " … "

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<[A-Za-z][^<>]*$")
_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|blockquote|hr)\b[^<>]*>",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class PreparedText:
    text: str  # cleaned, truncated and scrubbed: the only form analysed or sent anywhere
    truncated: bool


def _cut(text: str, head: int, tail: int) -> str:
    """The first `head` and last `tail` characters, each cut back to a space when one is near."""
    start = text[:head]
    space = start.rfind(" ", head - 200)
    if space > 0:
        start = start[:space]
    end = text[-tail:]
    space = end.find(" ", 0, 200)
    if space >= 0:
        end = end[space + 1 :]
    return f"{start.rstrip()}{JOINER}{end.lstrip()}"


def clean_text(text: str) -> str:
    """Plain text: HTML comments, scripts, styles and tags removed, entities decoded, whitespace collapsed."""
    if "<" in text:
        text = _COMMENT.sub(" ", text)
        text = _SCRIPT_OR_STYLE.sub(" ", text)
        text = _BLOCK_TAG.sub(" ", text)  # block elements separate words; inline ones (<b>, <a>) do not
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # entity-encoded markup ("&lt;b&gt;") is markup too
            text = _TAG.sub("", _BLOCK_TAG.sub(" ", text))
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def prepare_text(text: str) -> PreparedText:
    """The text as it is analysed: cleaned, truncated by the documented rule, PII scrubbed."""
    truncated = False
    if len(text) > RAW_MAX_CHARS:
        text = _cut(text, RAW_HEAD_CHARS, RAW_TAIL_CHARS)
        truncated = True
    text = clean_text(text)
    if len(text) > MAX_CHARS:
        text = _cut(text, HEAD_CHARS, TAIL_CHARS)
        truncated = True
    return PreparedText(text=scrub_text(text), truncated=truncated)
