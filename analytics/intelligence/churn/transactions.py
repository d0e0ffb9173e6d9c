"""Churn on any purchase history: the same kind of model, from `user_id,date,amount` rows alone.

`python manage.py churn_evaluate` runs this: customers with at least one purchase before the cutoff,
features from what happened before it (recency, frequency and money over several windows, the habit
— mean and spread of the gaps between purchases — and how overdue the next purchase is), the label
"no purchase in the horizon after the cutoff", a fixed seeded 70/30 split of the customers, and
ROC-AUC for the calibrated boosting model beside a recency/frequency logistic baseline. Nothing here
knows Loopin: it is the evidence that the churn model does not need Loopin's own signals.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np

from analytics.intelligence.probability import CalibratedBoosting, LogisticBaseline, binary_scores

COLUMNS = ("user_id", "date", "amount")
SPLIT_SEED = 7
TEST_SHARE = 0.3
MIN_CUSTOMERS = 50
MIN_CLASS = 5
FEATURES: tuple[str, ...] = (
    "recency_days",
    "log_purchases",
    "tenure_days",
    "purchases_30",
    "purchases_90",
    "purchases_180",
    "purchases_365",
    "purchase_days_90",
    "amount_total",
    "amount_90",
    "amount_mean",
    "amount_max",
    "gap_mean_days",
    "gap_std_days",
    "overdue_ratio",
    "trend_90",
    "amount_trend_90",
)
BASELINE_FEATURES = ("recency_days", "log_purchases")


class TransactionsInvalid(Exception):
    """The file or the cutoff cannot be used; the message is one line a person can act on."""


@dataclass(frozen=True)
class ChurnEvaluation:
    customers: int
    train_customers: int
    test_customers: int
    churn_share: float
    auc: float
    baseline_auc: float
    brier: float
    baseline_brier: float


def _parse_date(text: str, line: int) -> date:
    value = text.strip()
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
    except ValueError:
        raise TransactionsInvalid(f"line {line}: date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _parse_amount(text: str, line: int) -> float:
    try:
        amount = float(text.strip())
    except ValueError:
        raise TransactionsInvalid(f"line {line}: amount {text.strip()!r} is not a number") from None
    if not math.isfinite(amount):
        raise TransactionsInvalid(f"line {line}: amount {text.strip()!r} is not a finite number")
    if amount < 0:
        raise TransactionsInvalid(f"line {line}: amount {amount:g} is negative (refunds are not purchases)")
    return amount


def transactions_read(path: Path) -> dict[str, list[tuple[date, float]]]:
    """{customer: [(date, amount), …]} from a CSV with a header row naming user_id, date and amount."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise TransactionsInvalid(f"cannot read {path}: {exc.strerror or exc}") from None
    purchases: dict[str, list[tuple[date, float]]] = defaultdict(list)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise TransactionsInvalid(f"{path} is not a readable CSV file: {exc}") from None
        if header is None:
            raise TransactionsInvalid(f"{path} is empty: expected a header row user_id,date,amount")
        names = [column.strip().lower() for column in header]
        missing = [column for column in COLUMNS if column not in names]
        if missing:
            raise TransactionsInvalid(f"{path}: missing column(s) {', '.join(missing)} in the header {header}")
        index = [names.index(column) for column in COLUMNS]
        width = max(index)
        try:
            for line, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) <= width:
                    raise TransactionsInvalid(f"line {line}: expected {len(header)} columns, found {len(row)}")
                user = row[index[0]].strip()
                if not user:
                    raise TransactionsInvalid(f"line {line}: user_id is empty")
                purchases[user].append((_parse_date(row[index[1]], line), _parse_amount(row[index[2]], line)))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise TransactionsInvalid(f"{path} is not a readable CSV file: {exc}") from None
    if not purchases:
        raise TransactionsInvalid(f"{path} has a header but no purchases")
    return purchases


def _features(history: list[tuple[date, float]], cutoff: date) -> list[float]:
    """FEATURES of one customer from their purchases before `cutoff` (every day ≥ 1 day before it)."""
    purchases = sorted(((cutoff - d).days, amount) for d, amount in history)  # most recent first
    days = [d for d, _ in purchases]
    amounts = [a for _, a in purchases]
    recency, tenure = float(days[0]), float(days[-1])
    distinct_days = sorted(set(days))
    gaps = [later - earlier for earlier, later in pairwise(distinct_days)]
    gap_mean = float(np.mean(gaps)) if gaps else math.nan
    gap_std = float(np.std(gaps)) if len(gaps) > 1 else math.nan
    last90 = [a for d, a in purchases if d <= 90]
    prev90 = [a for d, a in purchases if 90 < d <= 180]
    return [
        recency,
        math.log1p(len(days)),
        tenure,
        float(sum(1 for d in days if d <= 30)),
        float(len(last90)),
        float(sum(1 for d in days if d <= 180)),
        float(sum(1 for d in days if d <= 365)),
        float(len({d for d in days if d <= 90})),
        float(sum(amounts)),
        float(sum(last90)),
        float(np.mean(amounts)),
        float(max(amounts)),
        gap_mean,
        gap_std,
        recency / gap_mean if gaps and gap_mean > 0 else math.nan,
        (len(last90) + 1.0) / (len(prev90) + 1.0),
        (sum(last90) + 1.0) / (sum(prev90) + 1.0),
    ]


def churn_evaluate_transactions(
    purchases: dict[str, list[tuple[date, float]]], *, cutoff: date, horizon_days: int
) -> ChurnEvaluation:
    """Train on 70% of the customers (seeded), evaluate on the other 30%; raises TransactionsInvalid."""
    if horizon_days < 1:
        raise TransactionsInvalid(f"--horizon-days must be at least 1 (got {horizon_days})")
    first = min(d for history in purchases.values() for d, _ in history)
    last = max(d for history in purchases.values() for d, _ in history)
    if not first < cutoff <= last:
        raise TransactionsInvalid(
            f"cutoff {cutoff} is outside the data: purchases run from {first} to {last}; "
            "choose a cutoff after the first purchase day and not after the last"
        )
    customers = sorted(user for user, history in purchases.items() if any(d < cutoff for d, _ in history))
    rows: list[list[float]] = []
    labels: list[int] = []
    for user in customers:
        before = [(d, a) for d, a in purchases[user] if d < cutoff]
        rows.append(_features(before, cutoff))
        labels.append(int(not any(0 <= (d - cutoff).days < horizon_days for d, _ in purchases[user])))
    matrix = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=int)
    churned = int(y.sum())
    if len(customers) < MIN_CUSTOMERS or min(churned, len(y) - churned) < 2 * MIN_CLASS:
        raise TransactionsInvalid(
            f"not enough data: {len(customers)} customers bought before {cutoff} ({churned} churned, "
            f"{len(y) - churned} stayed); needs at least {MIN_CUSTOMERS} customers and {2 * MIN_CLASS} of each outcome"
        )
    test = np.random.default_rng(SPLIT_SEED).random(len(y)) < TEST_SHARE
    if min(int(y[test].sum()), int((1 - y[test]).sum()), int(y[~test].sum()), int((1 - y[~test]).sum())) < MIN_CLASS:
        raise TransactionsInvalid(
            f"not enough data: the 70/30 split leaves fewer than {MIN_CLASS} customers of one outcome on a side"
        )
    model = CalibratedBoosting(features=FEATURES).fit(matrix[~test], y[~test])
    baseline = LogisticBaseline(columns=tuple(FEATURES.index(f) for f in BASELINE_FEATURES)).fit(
        matrix[~test], y[~test]
    )
    scores = binary_scores(model.predict(matrix[test]), y[test])
    baseline_scores = binary_scores(baseline.predict(matrix[test]), y[test])
    return ChurnEvaluation(
        customers=len(customers),
        train_customers=int((~test).sum()),
        test_customers=int(test.sum()),
        churn_share=churned / len(y),
        auc=float(scores.auc or 0.0),
        baseline_auc=float(baseline_scores.auc or 0.0),
        brier=scores.brier,
        baseline_brier=baseline_scores.brier,
    )
