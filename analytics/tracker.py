"""The documented face: `from analytics.tracker import track, identify`."""

from analytics.collection.tracker import identify, track

__all__ = ["identify", "track"]
