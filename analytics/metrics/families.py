"""Imports every metric family so the registry is complete (this order is the documentation's order)."""

# ruff: noqa: I001
from analytics.metrics import (  # noqa: F401
    activity,
    retention,
    conversion,
    revenue,
    payments,
    reliability,
    churn,
    listings,
    satisfaction,
    growth,
)
