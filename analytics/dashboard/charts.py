"""Plotly figures for the dashboard pages, as JSON that dashboard.js hands to plotly.js.

A figure is embedded in the page as `<script type="application/json">` (data, not code: the content
security policy runs scripts from this origin only), escaped so no `</script>` can close it early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go
from django.utils.safestring import SafeString, mark_safe

HEIGHT = 320
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class Chart:
    """One chart on a page: its DOM id, a title above it and the figure as escaped JSON."""

    id: str
    title: str
    figure_json: SafeString
    note: str = ""


def _layout(fig: go.Figure, *, y_title: str = "", height: int = HEIGHT, stacked: bool = False) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 56, "r": 16, "t": 16, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        colorway=list(PALETTE),
        yaxis_title=y_title,
        barmode="relative" if stacked else None,
        hovermode="x unified",
    )
    return fig


def chart(chart_id: str, title: str, fig: go.Figure, *, note: str = "") -> Chart:
    return Chart(id=chart_id, title=title, figure_json=mark_safe(fig.to_json().translate(_ESCAPES)), note=note)  # noqa: S308


def _split(points: Sequence[tuple[date, float | None]], in_progress_from: date | None) -> tuple[list, list]:
    """(settled points, points of periods still in progress)."""
    if in_progress_from is None:
        return list(points), []
    return [p for p in points if p[0] < in_progress_from], [p for p in points if p[0] >= in_progress_from]


def line_chart(
    chart_id: str,
    title: str,
    series: dict[str, Sequence[tuple[date, float | None]]],
    *,
    y_title: str = "",
    note: str = "",
    in_progress_from: date | None = None,
) -> Chart:
    """One line per named series of (day, value) points. Points of a period still in progress (from
    `in_progress_from` on) are drawn as hollow markers apart from the line: a day half over is not a drop."""
    fig = go.Figure()
    for index, (name, points) in enumerate(series.items()):
        settled, partial = _split(points, in_progress_from)
        colour = PALETTE[index % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d, _ in settled],
                y=[v for _, v in settled],
                mode="lines",
                name=name,
                line={"color": colour},
            )
        )
        if partial:
            fig.add_trace(
                go.Scatter(
                    x=[d.isoformat() for d, _ in partial],
                    y=[v for _, v in partial],
                    mode="markers",
                    marker={"color": colour, "symbol": "circle-open", "size": 9},
                    name=f"{name} (in progress)",
                )
            )
    return chart(chart_id, title, _layout(fig, y_title=y_title), note=note)


def forecast_chart(
    chart_id: str,
    title: str,
    *,
    history: Sequence[tuple[date, float | None]],
    forecast: Sequence[dict[str, Any]],
    anomalies: Sequence[tuple[date, float, str]] = (),
    y_title: str = "",
    note: str = "",
    in_progress_from: date | None = None,
) -> Chart:
    """Actuals (a day in progress as a hollow marker), the forecast with its 80% interval as a band, and
    anomalies marked on the actuals."""
    fig = go.Figure()
    settled, partial = _split(history, in_progress_from)
    if history:
        fig.add_trace(
            go.Scatter(x=[d.isoformat() for d, _ in settled], y=[v for _, v in settled], mode="lines", name="actual")
        )
    if partial:
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d, _ in partial],
                y=[v for _, v in partial],
                mode="markers",
                marker={"symbol": "circle-open", "size": 9},
                name="actual (in progress)",
            )
        )
    if forecast:
        days = [str(f["date"]) for f in forecast]
        fig.add_trace(go.Scatter(x=days, y=[f["high"] for f in forecast], line={"width": 0}, showlegend=False))
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[f["low"] for f in forecast],
                fill="tonexty",
                fillcolor="rgba(37,99,235,0.15)",
                line={"width": 0},
                name="80% interval",
            )
        )
        fig.add_trace(go.Scatter(x=days, y=[f["expected"] for f in forecast], line={"dash": "dash"}, name="forecast"))
    if anomalies:
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d, _, _ in anomalies],
                y=[v for _, v, _ in anomalies],
                mode="markers",
                marker={"color": "#dc2626", "size": 11, "symbol": "x"},
                text=[label for _, _, label in anomalies],
                name="anomaly",
            )
        )
    return chart(chart_id, title, _layout(fig, y_title=y_title), note=note)


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    y_title: str = "",
    stacked: bool = False,
    text: Sequence[str] | None = None,
    note: str = "",
) -> Chart:
    """Bars per label, one trace per named series (stacked or grouped)."""
    fig = go.Figure()
    for index, (name, values) in enumerate(series.items()):
        fig.add_trace(
            go.Bar(x=list(labels), y=list(values), name=name, text=list(text) if text and index == 0 else None)
        )
    return chart(chart_id, title, _layout(fig, y_title=y_title, stacked=stacked), note=note)


def heatmap_chart(
    chart_id: str,
    title: str,
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    note: str = "",
) -> Chart:
    """A rows × columns heat map of percentages (blank where a value is not known yet)."""
    fig = go.Figure(
        go.Heatmap(
            z=[list(r) for r in values],
            x=list(columns),
            y=list(rows),
            colorscale="Blues",
            zmin=0,
            zmax=100,
            hoverongaps=False,
            texttemplate="%{z:.0f}",
            colorbar={"title": "%"},
        )
    )
    fig.update_yaxes(autorange="reversed")
    return chart(chart_id, title, _layout(fig, height=max(HEIGHT, 24 * len(rows) + 80)), note=note)
