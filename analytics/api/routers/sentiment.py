"""POST /api/analytics/sentiment — the sentiment of one text or of up to 1,000 (analyst, admin)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from analytics.api.deps import AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.sentiment import SentimentBatchOut, SentimentIn, SentimentOut
from analytics.intelligence.sentiment.service import sentiment_analyze

router = APIRouter(prefix=API_PREFIX, tags=["sentiment"])
logger = logging.getLogger(__name__)


@router.post("/sentiment", response_model=SentimentOut | SentimentBatchOut, summary="Sentiment of text")
async def sentiment(principal: AdminOrAnalyst, body: SentimentIn) -> SentimentOut | SentimentBatchOut:
    """`{"text": …}` → one result; `{"texts": [...]}` (1–1,000) → `{"count", "results"}` in the same order.

    Each result: `sentiment` (positive, neutral or negative), `score` (−1…1), `confidence` (the calibrated
    probability of that label) and `details` (VADER and TextBlob scores, emotions, language check, and
    OpenAI's reading when it is configured). Texts are cleaned of HTML, truncated (first 3,000 and last
    2,000 characters) and scrubbed of emails and phone numbers before any analysis; nothing is stored.
    """
    texts = [body.text] if body.text is not None else list(body.texts or [])
    results = await run_in_threadpool(sentiment_analyze, texts=texts)
    logger.info("sentiment.api_request texts=%d role=%s", len(texts), principal.role.value)
    outs = [SentimentOut.model_validate(r.as_dict()) for r in results]
    if body.text is not None:
        return outs[0]
    return SentimentBatchOut(count=len(outs), results=outs)
