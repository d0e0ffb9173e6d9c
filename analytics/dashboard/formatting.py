"""How the dashboard writes numbers, periods and changes for people who run an events business."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.metrics.catalogue import MetricCard
from analytics.metrics.display import number, period_label

STATUS_LABELS = {
    "green": "on track",
    "amber": "watch",
    "red": "act now",
    "no_data": "no data",
    "partial": "in progress",
    "sparse": "too few to judge",
}

__all__ = ["CardView", "card_view", "change_text", "number", "period_label"]


@dataclass(frozen=True)
class CardView:
    """A metric card as the overview shows it."""

    name: str
    kind: str
    category: str
    question: str
    value: str
    period: str
    change: str
    change_class: str  # good / bad / flat
    status: str
    status_label: str
    so_far: str


def change_text(card: MetricCard) -> tuple[str, str]:
    """The change against the comparable previous period, and whether it is good news."""
    pct = card.change_percentage
    if pct is None or card.value is None:
        return ("no comparable period", "flat")
    if abs(pct) < 0.05:
        return ("unchanged vs previous", "flat")
    arrow = "▲" if pct > 0 else "▼"
    better = (pct > 0) == (card.direction == "up")
    return (f"{arrow} {abs(pct):.1f}% vs previous {card.period_type}", "good" if better else "bad")


def card_view(card: MetricCard, *, note: str = "") -> CardView:
    change, change_class = change_text(card)
    so_far = ""
    if card.so_far is not None:
        so_far = (
            f"{period_label(card.period_type, card.so_far.period_start, card.so_far.period_end)} so far: "
            f"{number(card.so_far.value, card.unit)} (in progress, not judged)"
        )
    return CardView(
        name=card.metric_name,
        kind=card.metric_type.upper(),
        category=card.category,
        question=f"{card.question} ({note})" if note else card.question,
        value=number(card.value, card.unit),
        period=period_label(card.period_type, card.period_start, card.period_end),
        change=change,
        change_class=change_class,
        status=card.status,
        status_label=STATUS_LABELS.get(card.status, card.status),
        so_far=so_far,
    )
