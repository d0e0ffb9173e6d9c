"""Security alerts (docs/operations.md, "Security alerts"): what the edge and the login forms open through
the existing alerting when someone is refused in bulk — bursts of failed authentications, rate-limit
storms, failed logins from one network and locked accounts. One alert per kind and place (network or
account): the dedup key refreshes it while the trouble lasts."""

from __future__ import annotations

from typing import Any

from analytics import clock

# kind → (title, message); both formatted with the keyword arguments of `security_alert`.
SECURITY_ALERTS = {
    "auth_failures": (
        "Failed authentications from {prefix}",
        "More than {burst} invalid keys or tokens from the network {prefix}: its credentialed requests are refused "
        "(429) until the budget refills. Someone may be guessing keys.",
    ),
    "rate_limited": (
        "Requests refused from {prefix}",
        "The network {prefix} (or a credential used from it) went past its rate limit and is being refused (429): "
        "a runaway client, a retry storm, or abuse.",
    ),
    "login_failures": (
        "Failed logins from {prefix}",
        "More than {burst} failed admin or dashboard logins from the network {prefix}: its login attempts are "
        "refused until the budget refills. Someone may be guessing passwords.",
    ),
    "login_lockout": (
        "Login locked for {account}",
        "The admin/dashboard account {account!r} met {burst} failed logins (wrong password or code): its logins "
        "are refused for {minutes} minutes, then one try every {minutes} minutes. If this is not its owner, "
        "someone is guessing its password.",
    ),
}


def security_alert(kind: str, place: str, **fields: Any) -> None:
    """Open (or refresh) the security alert of `kind` for `place` (an IP prefix, or an account for a
    lockout). Runs database work: call it from a worker thread in async code."""
    from analytics.metrics.alerting.raising import alert_raise
    from analytics.models.alerts import AlertSeverity

    title, message = SECURITY_ALERTS[kind]
    values = {"prefix": place, "account": place, **fields}
    dimension = "account" if kind == "login_lockout" else "ip_prefix"
    alert_raise(
        source="security",
        dedup_key=f"security:{kind}:{place}"[:200],
        subject=f"security_{kind}",
        severity=AlertSeverity.WARNING,
        title=title.format(**values)[:200],
        message=message.format(**values),
        now=clock.now(),
        dimensions={dimension: place},
    )
