"""AI understanding and prediction: sentiment, behaviour profiles, segments and personas (and, later,
churn, attendance, forecasting, anomalies, recommendations, insights).

Each model module exposes `train`, `predict`/`score` and `evaluate`; quality lives in `make eval`
(docs/evaluation.md), never in unit tests asserting prose. `llm.py` is the only module that imports
openai.
"""
