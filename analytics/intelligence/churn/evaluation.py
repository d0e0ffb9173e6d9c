"""`make eval` for churn risk and conversion probability: the service's own training path (temporal
split, registry spec) on a simulated platform, each model beside the recency/frequency logistic
baseline and, for churn, the oracle `1 − p_any_session` of the simulator's activity checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from analytics.intelligence.churn.features import FEATURES, HORIZON_DAYS
from analytics.intelligence.churn.service import (
    CHURN,
    CONVERSION,
    TRAINING_OFFSETS_DAYS,
    PersonModel,
    Split,
    temporal_split,
)
from analytics.intelligence.evaluation import EvaluationSection, Target, platform_simulate, targets_table
from analytics.intelligence.probability import BinaryScores, binary_scores

# The churn target is judged on the mean over three platforms: on one, the share of the distance closed moves by
# several points from seed to seed (docs/predictions.md). Seed 303 comes first and is the one described in full
# (attendance, revenue, recommendations and insights use it too); 404 and 505 were added, unseen, when that rule
# was set.
PLATFORMS = (
    {"users": 10_000, "days": 120, "seed": 303},
    {"users": 10_000, "days": 120, "seed": 404},
    {"users": 10_000, "days": 120, "seed": 505},
)
PLATFORM = PLATFORMS[0]
SMOKE_PLATFORM = {"users": 1_200, "days": 120, "seed": 5}
GAP_SHARE_TARGET = 0.5
MIN_GAIN = 0.02


def _reliability(scores: BinaryScores) -> str:
    rows = ["| predicted | users | mean predicted | observed share |", "|---|---|---|---|"]
    rows += [f"| {label} | {n:,} | {mean:.3f} | {share:.3f} |" for label, n, mean, share in scores.reliability]
    return "\n".join(rows)


def _auc(probabilities: np.ndarray, labels: np.ndarray) -> float:
    value = binary_scores(probabilities, labels).auc
    return float("nan") if value is None else value


@dataclass(frozen=True)
class _PlatformFigures:
    """Everything measured on one simulated platform."""

    spec: dict[str, int]
    split: Split
    model_auc: float
    base_auc: float
    oracle_auc: float
    known: int
    churn: BinaryScores
    base: BinaryScores
    oracle: BinaryScores
    conversion: BinaryScores
    conversion_base: BinaryScores
    state_rows: list[str]

    @property
    def share(self) -> float:
        """The share of the distance from the baseline to the oracle that the model closes."""
        gap = self.oracle_auc - self.base_auc
        return (self.model_auc - self.base_auc) / gap if gap > 0 else float("nan")


def _platform_figures(spec: dict[str, int]) -> _PlatformFigures:
    # The first platform's directory is the one the evaluations that share it use.
    name = "churn" if spec in (PLATFORM, SMOKE_PLATFORM) else f"churn-{spec['seed']}"
    platform = platform_simulate(**spec, data_dir=Path(settings.DATA_DIR) / "eval" / name)
    truth: Any = platform.truth
    end = datetime.fromisoformat(truth["parameters"]["window_end"])
    split = temporal_split(as_of=end)
    evaluation = split.evaluation
    churned = evaluation.churned
    converted = evaluation.converted
    assert churned is not None and converted is not None

    churn_model: PersonModel = CHURN.train_on(split).estimator
    conversion_model: PersonModel = CONVERSION.train_on(split).estimator
    churn_p = churn_model.predict(evaluation)
    churn_base = churn_model.baseline.predict(evaluation.matrix)
    conversion_p = conversion_model.predict(evaluation)
    conversion_base = conversion_model.baseline.predict(evaluation.matrix)

    oracle_of = {u["user_id"]: u["activity_checkpoint"] for u in truth["users"] if u["activity_checkpoint"]}
    known = np.array([user in oracle_of for user in evaluation.user_ids])
    oracle = np.array([1.0 - oracle_of[u]["p_any_session"] if u in oracle_of else np.nan for u in evaluation.user_ids])

    status = np.array([oracle_of[u]["status"] if u in oracle_of else "" for u in evaluation.user_ids])
    trial_of = {u["user_id"]: u["traits"].get("trial_only", False) for u in truth["users"]}
    trial = np.array([trial_of.get(u, False) for u in evaluation.user_ids])
    state_rows = []
    for label, mask in (
        ("active", status == "active"),
        ("fading", status == "fading"),
        ("churned — left after using the app", (status == "churned") & ~trial),
        ("churned — trial only (never came back)", (status == "churned") & trial),
    ):
        if mask.any():
            state_rows.append(
                f"| {label} | {int(mask.sum()):,} | {churned[mask].mean():.1%} | {churn_p[mask].mean():.3f} | "
                f"{np.nanmean(oracle[mask]):.3f} |"
            )
    return _PlatformFigures(
        spec=spec,
        split=split,
        model_auc=_auc(churn_p[known], churned[known]),
        base_auc=_auc(churn_base[known], churned[known]),
        oracle_auc=_auc(oracle[known], churned[known]),
        known=int(known.sum()),
        churn=binary_scores(churn_p, churned),
        base=binary_scores(churn_base, churned),
        oracle=binary_scores(oracle[known], churned[known]),
        conversion=binary_scores(conversion_p, converted),
        conversion_base=binary_scores(conversion_base, converted),
        state_rows=state_rows,
    )


def evaluate(*, smoke: bool = False) -> EvaluationSection:
    specs = (SMOKE_PLATFORM,) if smoke else PLATFORMS
    # The shared platform is simulated last, so the evaluations after this one find it in the database.
    measured = {spec["seed"]: _platform_figures(spec) for spec in (*specs[1:], specs[0])}
    every = [measured[spec["seed"]] for spec in specs]
    main = every[0]  # described in full below
    split, evaluation = main.split, main.split.evaluation
    assert evaluation.churned is not None and evaluation.converted is not None
    share = float(np.mean([f.share for f in every]))
    model_auc, base_auc = float(np.mean([f.model_auc for f in every])), float(np.mean([f.base_auc for f in every]))
    oracle_auc = float(np.mean([f.oracle_auc for f in every]))
    conv_auc = float(np.mean([f.conversion.auc or 0.0 for f in every]))
    conv_base_auc = float(np.mean([f.conversion_base.auc or 0.0 for f in every]))
    over = f"the mean of {len(every)} platforms" if len(every) > 1 else "one platform"

    targets = [
        Target(
            "churn ROC-AUC closes half the distance from the baseline to the oracle",
            share,
            (
                f"≥ {GAP_SHARE_TARGET}: the mean of the {len(every)} platforms' shares (each in the table below)"
                if len(every) > 1
                else f"≥ {GAP_SHARE_TARGET} (baseline {base_auc:.3f}, oracle {oracle_auc:.3f}: model ≥ "
                f"{base_auc + GAP_SHARE_TARGET * (oracle_auc - base_auc):.3f})"
            ),
            share >= GAP_SHARE_TARGET,
            "" if share >= GAP_SHARE_TARGET else f"model {model_auc:.3f} closes {share:.0%} (section 'Churn risk')",
        ),
        Target(
            "churn ROC-AUC at least the baseline + 0.02",
            model_auc,
            f"≥ {base_auc + MIN_GAIN:.3f} on {over} (baseline {base_auc:.3f} + {MIN_GAIN})",
            model_auc >= base_auc + MIN_GAIN,
        ),
        Target(
            "conversion ROC-AUC beats the recency/frequency baseline",
            conv_auc,
            f"> {conv_base_auc:.3f} on {over} (baseline)",
            conv_auc > conv_base_auc,
        ),
    ]
    platform_rows = "\n".join(
        f"| {f.spec['seed']} | {f.split.evaluation.rows:,} | {f.known:,} | {f.model_auc:.3f} | {f.base_auc:.3f} | "
        f"{f.oracle_auc:.3f} | {f.share:.1%} | {f.conversion.auc or 0.0:.3f} | {f.conversion_base.auc or 0.0:.3f} |"
        for f in every
    )
    mean_row = (
        f"| **mean** | | | {model_auc:.3f} | {base_auc:.3f} | {oracle_auc:.3f} | **{share:.1%}** | {conv_auc:.3f} | "
        f"{conv_base_auc:.3f} |"
    )
    conversion_row = (
        f"| baseline: recency/frequency logistic | {main.conversion_base.auc:.3f} | "
        f"{main.conversion_base.brier:.4f} | {main.conversion_base.ece:.3f} |"
    )
    churned, converted = evaluation.churned, evaluation.converted
    spec = main.spec
    cutoffs = ", ".join(str(d) for d in TRAINING_OFFSETS_DAYS)
    markdown = f"""
The service's own training path (`analytics/intelligence/churn/`, the registry's `churn` and `conversion`
specs) on {len(every)} simulated platform{"s" if len(every) > 1 else ""} of {spec["users"]:,} users ×
{spec["days"]} days (seeds {", ".join(str(f.spec["seed"]) for f in every)}). The targets are judged on the
mean over them: on a single platform the share of the distance closed moves by several points from one seed to
another (docs/predictions.md, "How the churn target is judged").

{targets_table(targets)}

| seed | users scored | with an oracle | churn model AUC | baseline | oracle | closed | conversion AUC | baseline |
|---|---|---|---|---|---|---|---|---|
{platform_rows}
{mean_row}

The rest of this section describes the platform of seed {spec["seed"]}. Temporal split: the evaluation cutoff
is the simulator's activity checkpoint ({HORIZON_DAYS} days before the end of the window; the events after it
are simulated, the oracle is computed at it); the models are trained on the cutoffs {cutoffs} days before it,
whose {HORIZON_DAYS}-day labels all end by then ({sum(f.rows for f in split.train):,} rows of
{len(split.train)} cutoffs). {len(FEATURES)} features (docs/predictions.md); the model is gradient boosting
with isotonic calibration on held-out (out-of-fold) predictions; the baseline is a logistic regression on
recency and 30-day frequency trained on the same rows.

At the evaluation cutoff {evaluation.rows:,} users were active in the 30 days before it;
{churned.mean():.1%} of them had no user-initiated event in the {HORIZON_DAYS} days after it (churned) and
{converted.mean():.1%} checked in to a listing (converted). The oracle is known for the {main.known:,}
of them registered by the checkpoint (the others signed up on its day, after browsing anonymously); the
churn comparison with the oracle is made on those.

### Churn risk

| predictor of churn in the next {HORIZON_DAYS} days (seed {spec["seed"]}) | ROC-AUC | Brier score | ECE |
|---|---|---|---|
| churn model (calibrated gradient boosting) | {main.model_auc:.3f} | {main.churn.brier:.4f} | {main.churn.ece:.3f} |
| baseline: recency/frequency logistic | {main.base_auc:.3f} | {main.base.brier:.4f} | {main.base.ece:.3f} |
| oracle: 1 − p_any_session (latent state) | {main.oracle_auc:.3f} | {main.oracle.brier:.4f} | {main.oracle.ece:.3f} |

(Brier score and ECE of the model and the baseline are over all {evaluation.rows:,} users; ROC-AUC over the
{main.known:,} with an oracle.) On this platform the model closes **{main.share:.0%}** of the distance from
the baseline to the oracle.

Reliability of the churn model (10 equal-width bins):

{_reliability(main.churn)}

Where the remaining distance is — the mean prediction by the hidden state at the cutoff:

| latent state at the cutoff | users | churned | mean model risk | mean oracle risk |
|---|---|---|---|---|
{chr(10).join(main.state_rows)}

Trial-only users (who signed up, looked around once and never came back) are recognised almost as well as
the oracle does, from the sign-up session itself (profile fields completed, how much was looked at). What
is left is the users who have already left after weeks of use or are fading: the oracle knows who has left,
while from behaviour a user who left a week ago looks like an occasional user between two visits. The
features that describe habit (gaps between active days, sessions per week over the last four weeks,
session depth) narrow it; in development, other hyperparameters and monotonic constraints moved the share
closed by under 0.02.

### Conversion probability

Probability of a check-in (free or paid) in the {HORIZON_DAYS} days after the cutoff, same features, same
training path. The simulator has no oracle for it (a check-in depends on listings not yet published), so
it is judged against the baseline only.

| predictor of a check-in in the next {HORIZON_DAYS} days (seed {spec["seed"]}) | ROC-AUC | Brier score | ECE |
|---|---|---|---|
| conversion model | {main.conversion.auc:.3f} | {main.conversion.brier:.4f} | {main.conversion.ece:.3f} |
{conversion_row}

{_reliability(main.conversion)}
"""
    return EvaluationSection(
        key="churn",
        title="Predictions: churn risk and conversion probability",
        markdown=markdown,
        targets=targets,
        beats_baseline={
            "churn model (AUC)": (model_auc, base_auc),
            "conversion model (AUC)": (conv_auc, conv_base_auc),
        },
    )
