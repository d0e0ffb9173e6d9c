"""`make eval`: the engagement score against simple baselines and the simulator's activity oracle.

Two simulated platforms (different seeds). At each platform's activity checkpoint (30 days before the end
of its window) every user registered by then is scored from the behaviour before the checkpoint; the label
is whether they opened the app (a `page_view`) in the 30 days that followed — observed in the data. The
oracle is the simulator's `p_any_session`, computed from the latent state the models never see (docs/
simulator.md). The committed weights are measured on the platform they were NOT fitted on.

Reported: ROC-AUC of the engagement score, of two baselines (browsing sessions in the last 30 days; days
since the last session) and of the oracle; Spearman correlation with the latent activity level (the
oracle's expected sessions); calibration (Brier score, expected calibration error); and the AUC within the
latent states, which says where the gap to the oracle comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from analytics.intelligence.behaviour.engagement import model_load, model_write, train
from analytics.intelligence.behaviour.features import BehaviourSnapshot, behaviour_snapshots
from analytics.intelligence.evaluation import (
    EvaluationSection,
    SimulatedPlatform,
    Target,
    platform_simulate,
    targets_table,
)
from analytics.models import UserEvent

TRAIN = {"users": 3000, "days": 120, "seed": 101}
TEST = {"users": 3000, "days": 120, "seed": 202}
SMOKE_TRAIN = {"users": 450, "days": 75, "seed": 101}
SMOKE_TEST = {"users": 450, "days": 75, "seed": 202}
AUC_GAP_TARGET = 0.03
SPEARMAN_TARGET = 0.7


@dataclass
class CheckpointData:
    platform: SimulatedPlatform
    users: list[str]
    snapshots: list[BehaviourSnapshot | None]
    labels: list[int]
    oracle_p: list[float]
    oracle_expected: list[float]
    status: list[str]


def checkpoint_data(platform: SimulatedPlatform) -> CheckpointData:
    checkpoint: Any = platform.truth["activity_checkpoint"]
    start, end = datetime.fromisoformat(checkpoint["start"]), datetime.fromisoformat(checkpoint["end"])
    users = [u for u in platform.truth["users"] if u["activity_checkpoint"]]  # type: ignore[attr-defined]
    ids = [u["user_id"] for u in users]
    snapshots = behaviour_snapshots(user_ids=ids, as_of=start)
    opened = set(
        UserEvent.objects.filter(event_name="page_view", timestamp__gte=start, timestamp__lt=end, user_id__in=ids)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return CheckpointData(
        platform=platform,
        users=ids,
        snapshots=[snapshots.get(i) for i in ids],
        labels=[int(i in opened) for i in ids],
        oracle_p=[u["activity_checkpoint"]["p_any_session"] for u in users],
        oracle_expected=[u["activity_checkpoint"]["expected_sessions"] for u in users],
        status=[u["activity_checkpoint"]["status"] for u in users],
    )


def _scores(data: CheckpointData) -> dict[str, list[float]]:
    model = model_load()
    return {
        "engagement score": [model.score(s) if s is not None else 0.0 for s in data.snapshots],
        "baseline: sessions in the last 30 days": [float(s.sessions_within(30)) if s else 0.0 for s in data.snapshots],
        "baseline: recency (−days since last session)": [
            -s.days_since_last_session() if s else -90.0 for s in data.snapshots
        ],
        "oracle: p_any_session (latent state)": data.oracle_p,
    }


def _ece(probabilities: list[float], labels: list[int], bins: int = 10) -> float:
    total = len(labels)
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, p in enumerate(probabilities) if low <= p < high or (b == bins - 1 and p == 1.0)]
        if members:
            confidence = sum(probabilities[i] for i in members) / len(members)
            accuracy = sum(labels[i] for i in members) / len(members)
            error += len(members) / total * abs(confidence - accuracy)
    return error


def _train_and_store(train_data: CheckpointData, *, version: str) -> None:
    keep = [i for i, s in enumerate(train_data.snapshots) if s is not None]
    model = train(
        [train_data.snapshots[i] for i in keep],  # type: ignore[misc]
        [train_data.labels[i] for i in keep],
        version=version,
        trained_on={
            "simulator": {k: v for k, v in TRAIN.items()},
            "users": len(keep),
            "label": "page_view in the 30 days after the activity checkpoint",
        },
    )
    model_write(model)


def evaluate(*, smoke: bool = False, refit: bool = False) -> EvaluationSection:
    from scipy.stats import spearmanr
    from sklearn.metrics import brier_score_loss, roc_auc_score

    data_dir = Path(settings.DATA_DIR) / "eval"
    train_spec, test_spec = (SMOKE_TRAIN, SMOKE_TEST) if smoke else (TRAIN, TEST)
    if refit:
        train_data = checkpoint_data(platform_simulate(**train_spec, data_dir=data_dir / "behaviour-train"))
        _train_and_store(train_data, version=f"sim-{train_spec['seed']}-{train_spec['users']}x{train_spec['days']}")
    test = checkpoint_data(platform_simulate(**test_spec, data_dir=data_dir / "behaviour-test"))
    scores = _scores(test)
    aucs = {name: float(roc_auc_score(test.labels, values)) for name, values in scores.items()}
    engagement = scores["engagement score"]
    oracle_auc = aucs["oracle: p_any_session (latent state)"]
    gap = oracle_auc - aucs["engagement score"]
    rho = float(spearmanr(engagement, test.oracle_expected).statistic)
    rho_baseline = float(spearmanr(scores["baseline: sessions in the last 30 days"], test.oracle_expected).statistic)
    brier = float(brier_score_loss(test.labels, engagement))
    ece = _ece(engagement, test.labels)
    status_rank = [{"active": 2, "fading": 1, "churned": 0}[s] for s in test.status]
    status_auc = float(roc_auc_score(test.labels, status_rank))
    within = {}
    for state in ("active", "fading"):
        idx = [i for i, s in enumerate(test.status) if s == state]
        labels = [test.labels[i] for i in idx]
        if 0 < sum(labels) < len(labels):
            within[state] = (
                len(idx),
                float(roc_auc_score(labels, [engagement[i] for i in idx])),
                float(roc_auc_score(labels, [test.oracle_p[i] for i in idx])),
            )
    targets = [
        Target(
            "engagement ROC-AUC within 0.03 of the oracle",
            aucs["engagement score"],
            f"≥ {oracle_auc - AUC_GAP_TARGET:.3f} (oracle {oracle_auc:.3f} − 0.03)",
            gap <= AUC_GAP_TARGET,
            ""
            if gap <= AUC_GAP_TARGET
            else f"{gap:.3f} below the oracle, which sees the hidden churn state (section 'Behaviour')",
        ),
        Target("Spearman with the latent activity level", rho, f"≥ {SPEARMAN_TARGET}", rho >= SPEARMAN_TARGET),
    ]
    model = model_load()
    rows = "\n".join(f"| {name} | {auc:.3f} |" for name, auc in aucs.items())
    within_rows = "\n".join(
        f"| {state} | {n} | {model_auc:.3f} | {oracle:.3f} |" for state, (n, model_auc, oracle) in within.items()
    )
    markdown = f"""
Engagement score `{model.version}` (logistic regression on {len(model.weights)} time-decayed activity
features, weights committed in `analytics/intelligence/behaviour/engagement_model.json`, fitted on the
simulated platform seed {model.trained_on.get("simulator", {}).get("seed", "?")}). Measured on a platform it
was not fitted on: {test_spec["users"]:,} users × {test_spec["days"]} days, seed {test_spec["seed"]};
{len(test.users):,} users registered by the checkpoint, {sum(test.labels) / len(test.labels):.1%} of them
opened the app in the 30 days after it.

{targets_table(targets)}

| predictor of next-30-day activity | ROC-AUC |
|---|---|
{rows}
| oracle reduced to the latent state alone (active > fading > churned) | {status_auc:.3f} |

- Spearman correlation with the latent activity level (the oracle's expected sessions): engagement score
  **{rho:.3f}**, baseline (sessions in the last 30 days) {rho_baseline:.3f}.
- Calibration of the score as a probability: Brier score {brier:.3f}, expected calibration error (10 bins)
  {ece:.3f}.

**Where the gap to the oracle comes from.** The oracle knows each user's hidden state at the checkpoint:
who has already left for good (churned users never come back; their `p_any_session` is 0) and who has
started to fade. From behaviour, a user who left a few days ago looks like an active user between two
visits, and one who has just started to fade still looks active. Ranking by the hidden state alone already
gives {status_auc:.3f}. Within a state the oracle still leads, because it also knows each user's true rate
of visits and churn hazard, which a few months of behaviour only estimate:

| latent state at the checkpoint | users | engagement score AUC | oracle AUC |
|---|---|---|---|
{within_rows}

Most of the gap is the separation between states, which behaviour before the checkpoint only partly
reveals (a churned user's last visit is a few days old as often as a regular user's). In development,
neither richer models (gradient boosting) nor more features (visit rate over the whole tenure, visits
missed since the last one, recent declined requests, failed payments, app errors, low ratings — the
simulator's sources of frustration) moved the AUC by more than 0.003 on the held-out platform, so the target
is reported as missed rather than chased with a model that cannot see what the oracle sees.
"""
    return EvaluationSection(
        key="behaviour",
        title="Behaviour: the engagement score",
        markdown=markdown,
        targets=targets,
        beats_baseline={
            "engagement score (AUC)": (aucs["engagement score"], aucs["baseline: sessions in the last 30 days"])
        },
    )
