"""Daily, weekly and monthly digests (docs/reports.md): what moved, open alerts, hosts, forecasts."""

from analytics.metrics.reports.delivery import digest_send_due
from analytics.metrics.reports.digest import PERIODS, Digest, digest_build

__all__ = ["PERIODS", "Digest", "digest_build", "digest_send_due"]
