"""Loopin Analytics: the Django app (label "analytics")."""
