"""`python manage.py test analytics <tier>` names the same tiers as `make test` (tests/tiers.py): a tier added
there and forgotten here could not be run alone."""

from __future__ import annotations

from pathlib import Path

from loopin_backend.test_runner import TIERS
from tests.tiers import _tiers


def test_manage_py_test_knows_every_tier_make_test_runs(tmp_path: Path) -> None:
    assert sorted(TIERS) == sorted(tier.name for tier in _tiers(tmp_path))
