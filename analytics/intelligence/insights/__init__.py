"""Actionable insights: findings about the platform, its cohorts and its hosts, each citing its evidence
(docs/insights.md). Generators (one module per kind) → drafts → the store (store.py) → the API and digests."""
