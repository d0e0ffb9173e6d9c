"""The documented face: `analytics.middleware.AnalyticsMiddleware` for the host's Django `MIDDLEWARE`.

The ASGI counterpart for the host's FastAPI/Starlette app is
`analytics.middleware.AnalyticsASGIMiddleware` (`app.add_middleware(AnalyticsASGIMiddleware)`).
"""

from analytics.collection.middleware_asgi import AnalyticsASGIMiddleware
from analytics.collection.middleware_django import AnalyticsMiddleware

__all__ = ["AnalyticsASGIMiddleware", "AnalyticsMiddleware"]
