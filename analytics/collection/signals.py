"""Signals the collection layer sends; receivers live in the layers above (tasks)."""

from django.dispatch import Signal

# Sent after the transaction that stored new tracked events has committed. kwargs: count.
events_stored = Signal()
