"""The deployable Django project of Loopin Analytics."""

from loopin_backend.celery import app as celery_app

__all__ = ["celery_app"]
