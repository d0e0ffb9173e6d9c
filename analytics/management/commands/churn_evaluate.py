"""python manage.py churn_evaluate --transactions FILE.csv --cutoff YYYY-MM-DD --horizon-days N

Churn on any purchase history (docs/predictions.md, "Churn on any purchase history"): a CSV with a
header row and the columns user_id, date (ISO) and amount; customers with a purchase before the cutoff;
churn = no purchase in the horizon after it; a fixed, seeded 70/30 split of the customers. Prints the
ROC-AUC of the churn model and of a recency/frequency logistic baseline; the last line is exactly
`auc=<model> baseline=<baseline>` with three decimals. Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.intelligence.churn.transactions import (
    TransactionsInvalid,
    churn_evaluate_transactions,
    transactions_read,
)

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Evaluate the churn model on a purchase history CSV (user_id,date,amount) against a baseline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--transactions", required=True, help="CSV with a header row: user_id,date,amount")
        parser.add_argument("--cutoff", required=True, help="YYYY-MM-DD: features before it, churn after it")
        parser.add_argument("--horizon-days", required=True, type=int, help="Churn = no purchase in this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cutoff = date.fromisoformat(options["cutoff"])
        except ValueError:
            raise CommandError(
                f"--cutoff {options['cutoff']!r} is not a date (YYYY-MM-DD)", returncode=BAD_INPUT
            ) from None
        try:
            purchases = transactions_read(Path(options["transactions"]))
            result = churn_evaluate_transactions(purchases, cutoff=cutoff, horizon_days=options["horizon_days"])
        except TransactionsInvalid as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        self.stdout.write(
            f"customers with a purchase before {cutoff}: {result.customers:,} "
            f"({result.train_customers:,} train, {result.test_customers:,} test; seeded 70/30 split); "
            f"churned (no purchase in {options['horizon_days']} days): {result.churn_share:.1%}"
        )
        self.stdout.write(f"model    ROC-AUC {result.auc:.3f}  Brier {result.brier:.4f}")
        self.stdout.write(
            f"baseline ROC-AUC {result.baseline_auc:.3f}  Brier {result.baseline_brier:.4f}"
            "  (recency/frequency logistic)"
        )
        self.stdout.write(f"auc={result.auc:.3f} baseline={result.baseline_auc:.3f}")
