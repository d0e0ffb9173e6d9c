"""A digest as Markdown (the e-mail's text part and the terminal's fallback), as HTML (the e-mail's rich
part, a Django template) and as rows for the terminal's tables."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from analytics.metrics.display import number
from analytics.metrics.reports.digest import Digest, Mover


def _change(mover: Mover) -> str:
    arrow = "▲" if mover.change_percentage > 0 else "▼"
    verdict = "good" if mover.good_news else "bad"
    return f"{arrow} {abs(mover.change_percentage):.0f}% ({verdict})"


def mover_rows(digest: Digest) -> list[list[str]]:
    return [
        [m.metric_name, m.kind, number(m.value, m.unit), number(m.baseline, m.unit), _change(m), f"{m.volume:,}"]
        for m in digest.movers
    ]


def alert_rows(digest: Digest) -> list[list[str]]:
    return [
        [
            str(a["severity"]),
            str(a["title"]),
            f"{a['period_type']} {a['period_start']}",
            f"{a['opened_at']:%d %b %H:%M}",
        ]
        for a in digest.alerts
    ]


def host_rows(digest: Digest) -> list[list[str]]:
    return [
        [
            h.host_id,
            number(h.net_revenue, "currency"),
            "—" if h.change_percentage is None else f"{h.change_percentage:+.0f}%",
        ]
        for h in digest.hosts
    ]


def anomaly_rows(digest: Digest) -> list[list[str]]:
    return [
        [
            str(a["date"]),
            str(a["metric_name"]),
            number(a["expected_value"], "count"),
            number(a["actual_value"], "count"),
            str(a["severity"]),
        ]
        for a in digest.anomalies
    ]


def insight_rows(digest: Digest) -> list[list[str]]:
    return [
        [
            str(i["priority"]),
            str(i["title"]),
            f"{100 * float(i['confidence_score']):.0f}%",
            str((i["suggested_actions"] or ["—"])[0]),
        ]
        for i in digest.insights
    ]


MOVER_COLUMNS = ["metric", "kind", "value", "baseline (median of 4)", "change", "events behind it"]
ALERT_COLUMNS = ["severity", "alert", "period", "opened"]
HOST_COLUMNS = ["host", "net revenue", "vs previous"]
ANOMALY_COLUMNS = ["day", "series", "expected", "observed", "severity"]
INSIGHT_COLUMNS = ["priority", "insight", "confidence", "first suggested action"]


def sections(digest: Digest) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(heading, columns, rows, what to say when empty) — the digest's tables, in order."""
    return [
        ("What moved", MOVER_COLUMNS, mover_rows(digest), "Nothing moved by 25% or more against its baseline."),
        (f"Open alerts ({len(digest.alerts)})", ALERT_COLUMNS, alert_rows(digest), "No open alerts."),
        ("Hosts with the most net revenue", HOST_COLUMNS, host_rows(digest), "No host revenue in the period."),
        ("Anomalies in the period", ANOMALY_COLUMNS, anomaly_rows(digest), "No anomalies detected."),
        ("New insights", INSIGHT_COLUMNS, insight_rows(digest), "No new insight in the period."),
    ]


def outlook_line(digest: Digest) -> str:
    if digest.outlook is None:
        return "Revenue outlook: no forecast yet (not enough history)."
    return (
        f"Revenue outlook: {number(digest.outlook['expected'], 'currency')} expected over the next "
        f"{digest.outlook['days']} days ({digest.outlook['method']})."
    )


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def digest_markdown(digest: Digest) -> str:
    lines = [f"# {digest.title}", "", f"Period: {digest.period.start} – {digest.period.end} (business days).", ""]
    for heading, columns, rows, empty in sections(digest):
        lines += [f"## {heading}", ""]
        if rows:
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        else:
            lines.append(empty)
        lines.append("")
    lines += [outlook_line(digest)]
    return "\n".join(lines) + "\n"


def digest_html(digest: Digest) -> str:
    context: dict[str, Any] = {"digest": digest, "sections": sections(digest), "outlook": outlook_line(digest)}
    return render_to_string("reports/digest.html", context)
