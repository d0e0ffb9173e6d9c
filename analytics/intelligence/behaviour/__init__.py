"""Behaviour analysis: snapshots of what users did (features), the engagement score (engagement), the
documented analysis (profile) and the stored profiles (service)."""
