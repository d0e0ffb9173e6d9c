"""`python manage.py test analytics` runs the pytest suite, tier by tier, like `make test`."""

from __future__ import annotations

import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings

TIERS = ("unit", "clickhouse", "postgresql", "eval", "e2e", "fuzz", "integration")


class PytestTierRunner:
    """Django's test command hands its labels here: `analytics` (or none) means every tier; a
    tier's name (`unit`, `eval`, `integration`) runs just that tier."""

    def __init__(self, **kwargs: Any) -> None:
        self.options = kwargs

    @classmethod
    def add_arguments(cls, parser: ArgumentParser) -> None:
        """No options beyond Django's own."""

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        tiers = [label for label in test_labels if label in TIERS]
        unknown = [label for label in test_labels if label not in (*TIERS, "analytics", "tests")]
        if unknown:
            print(f"unknown test labels {unknown}; use 'analytics' or a tier: {', '.join(TIERS)}")
            return 1
        return subprocess.call([sys.executable, "-m", "tests.tiers", *tiers], cwd=settings.BASE_DIR)
