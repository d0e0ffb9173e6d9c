"""Business intelligence: the metric registry, its families, daily rollups and the calculation.

`from analytics.metrics import MetricsProcessor` works as documented.
"""

from analytics.metrics import families  # noqa: F401  (registers every metric)
from analytics.metrics.processor import KPICalculator, KRCalculator, KRICalculator, MetricsProcessor
from analytics.metrics.registry import REGISTRY, MetricDefinition, metric_get, metric_list

__all__ = [
    "REGISTRY",
    "KPICalculator",
    "KRCalculator",
    "KRICalculator",
    "MetricDefinition",
    "MetricsProcessor",
    "metric_get",
    "metric_list",
]
