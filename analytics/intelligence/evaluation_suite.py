"""Every evaluation `make eval` runs, by key, in report order (each imported only when it runs)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib import import_module

from analytics.intelligence.evaluation import EvaluationSection

Evaluation = Callable[..., EvaluationSection]

_MODULES = {
    "sentiment": "analytics.intelligence.sentiment.evaluation",
    "behaviour": "analytics.intelligence.behaviour.evaluation",
    "personas": "analytics.intelligence.segments.evaluation",
    "churn": "analytics.intelligence.churn.evaluation",
    "attendance": "analytics.intelligence.attendance.evaluation",
    "revenue": "analytics.intelligence.forecasting.evaluation",
    "anomalies": "analytics.intelligence.anomalies.evaluation",
    "recommendations": "analytics.intelligence.recommendations.evaluation",
    "insights": "analytics.intelligence.insights.evaluation",
}


def _lazy(module: str) -> Evaluation:
    def run(*, smoke: bool = False, refit: bool = False) -> EvaluationSection:
        evaluate: Evaluation = import_module(module).evaluate
        if refit and "refit" in inspect.signature(evaluate).parameters:
            return evaluate(smoke=smoke, refit=True)
        return evaluate(smoke=smoke)

    return run


EVALUATIONS: dict[str, Evaluation] = {key: _lazy(module) for key, module in _MODULES.items()}
