from tests.unit.metrics.support import now  # noqa: F401  (fixture)
