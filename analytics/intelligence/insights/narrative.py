"""Written narratives for insights: from the facts the system computed and nothing else.

With OpenAI configured (analytics/intelligence/llm.py), the highest-priority findings of a generation are
sent — their title, description, figures and suggested actions, never a person's id — with the instruction
to write two or three plain sentences for an events business using only those facts. A narrative is kept
only if every number in it appears in the facts it was given (`numbers_supported`); otherwise, and whenever
OpenAI is off, slow or failing, the narrative is the template's: the description the generator wrote.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.conf import settings

from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.llm import LlmUnavailable, llm_chat_json, llm_enabled
from analytics.models.insights import PRIORITY_RANK

MAX_WRITTEN = 10  # per generation: the highest-priority findings
BUDGET_SECONDS = 20.0
SYSTEM_PROMPT = (
    "You write short insight narratives for the team running an events marketplace. You get the facts of one "
    "insight as JSON. Write two or three plain sentences saying what happened, why it matters and what to do, "
    "using only the facts given: every number you write must appear in the facts exactly as written there; "
    "do not compute new numbers, round them or add any. "
    'Answer with one JSON object: {"narrative": "..."}.'
)
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> set[Decimal]:
    found = set()
    for token in _NUMBER.findall(text):
        try:
            found.add(Decimal(token.replace(",", "").replace("−", "-")).normalize())
        except InvalidOperation:
            continue
    return found


def numbers_supported(narrative: str, facts: str) -> bool:
    """Every number of the narrative (sign ignored: "fell 12%" for a change of −12%) is among the facts'."""
    known = {abs(n) for n in numbers_in(facts)}
    return all(abs(n) in known for n in numbers_in(narrative))


def facts_of(draft: InsightDraft) -> str:
    return json.dumps(
        {
            "title": draft.title,
            "description": draft.description,
            "figures": draft.evidence,
            "suggested_actions": draft.suggested_actions,
        },
        ensure_ascii=False,
        default=str,
    )


def narratives_write(drafts: Sequence[InsightDraft]) -> dict[str, tuple[str, str]]:
    """{dedup key: (narrative, "openai")} for those the model wrote and the check accepted; the store uses
    the template for the rest."""
    if not llm_enabled() or not drafts:
        return {}
    written: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + BUDGET_SECONDS
    chosen = sorted(drafts, key=lambda d: (-PRIORITY_RANK[d.priority], -d.confidence))[:MAX_WRITTEN]
    for draft in chosen:
        remaining = deadline - time.monotonic()
        if remaining <= 0.5:
            break
        facts = facts_of(draft)
        try:
            answer = llm_chat_json(
                system=SYSTEM_PROMPT,
                user=facts,
                max_tokens=220,
                timeout=min(float(settings.OPENAI_TIMEOUT_SECONDS), remaining),
            )
        except LlmUnavailable:
            break  # down or slow: every other narrative falls back to its template too
        text = answer.content.get("narrative")
        if isinstance(text, str) and text.strip() and numbers_supported(text, facts):
            written[draft.dedup_key] = (text.strip()[:2000], "openai")
    return written
