"""Evaluation smoke: on a small simulated platform the engagement score beats its baseline (sessions in
the last 30 days) and the personas beat theirs (activity tiers) — so `make eval` cannot rot unseen.

Each evaluation simulates platforms into this tier's own database (it empties it first)."""

from __future__ import annotations

import pytest

from analytics.intelligence.behaviour.evaluation import evaluate as evaluate_behaviour
from analytics.intelligence.segments.evaluation import evaluate as evaluate_personas

pytestmark = pytest.mark.django_db(transaction=True)


def test_engagement_score_smoke_evaluation_beats_its_baseline() -> None:
    section = evaluate_behaviour(smoke=True)
    model, baseline = section.beats_baseline["engagement score (AUC)"]
    assert model > baseline, section.markdown
    assert {t.name for t in section.targets} == {
        "engagement ROC-AUC within 0.03 of the oracle",
        "Spearman with the latent activity level",
    }
    assert "| oracle: p_any_session (latent state) |" in section.markdown


def test_persona_smoke_evaluation_beats_its_baseline() -> None:
    section = evaluate_personas(smoke=True)
    model, baseline = section.beats_baseline["persona ARI (k-means vs activity tiers)"]
    assert model > baseline, section.markdown
    assert "bootstrap stability" in section.markdown and "ARI against the true personas" in section.markdown
