"""One ASGI application for the whole service.

FastAPI answers `/api/analytics/*`, `/api/docs` and `/api/openapi.json`; Prometheus answers
`/metrics` (for the scraper only: analytics/api/metrics_gate.py); Django answers everything else
(`/admin/`, `/dashboard/`) but never a path under `/api/` (analytics/api/unrouted.py). Serve it with
`uvicorn loopin_backend.asgi:application`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from starlette.staticfiles import StaticFiles  # noqa: E402

from analytics.api.app import create_app  # noqa: E402
from analytics.api.metrics_gate import metrics_app  # noqa: E402
from analytics.api.unrouted import DjangoOutsideApi  # noqa: E402
from analytics.tasks.embedded_scheduler import EmbeddedScheduler  # noqa: E402

django_application = get_asgi_application()


@asynccontextmanager
async def lifespan(app: object) -> AsyncIterator[None]:
    """Embedded mode has no beat process: the server runs the schedule in a thread."""
    scheduler = EmbeddedScheduler() if settings.CELERY_EMBEDDED and settings.ANALYTICS_EMBEDDED_SCHEDULER else None
    if scheduler is not None:
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.stop()


application = create_app(lifespan=lifespan)
scrape = metrics_app()
application.add_route("/metrics", scrape, include_in_schema=False)  # type: ignore[arg-type]
application.mount("/metrics", scrape, name="prometheus")
# The admin's assets, Swagger UI's (for /api/docs, never from a CDN) and the service's own.
STATIC_PACKAGES: list[str | tuple[str, str]] = [
    ("django.contrib.admin", "static"),
    ("drf_spectacular_sidecar", "static"),
    ("plotly", "package_data"),  # plotly.min.js for the dashboard, from the plotly wheel
    ("analytics", "static"),
]
application.mount("/static", StaticFiles(packages=STATIC_PACKAGES, check_dir=False), name="static")
# Last: what no route took. Under /api/ the API answers it (405, 404, HEAD), never Django.
application.mount("/", DjangoOutsideApi(application, django_application), name="django")  # type: ignore[arg-type]

# What is loaded by now lives as long as the process. Moving it out of the cyclic collector's
# generations spares every full collection a scan of ~130,000 objects; without this, collections
# took a quarter of the ingestion path's CPU (docs/benchmarks.md).
gc.freeze()
# A 1,000-event batch allocates some 30,000 containers that live until its answer is sent: at the default
# threshold (700) the young generations were collected ~40 times a batch, each scanning what the batch still
# holds. Every 50,000 allocations instead (a full collection every 10 million): 3-4 µs less CPU an event.
gc.set_threshold(50_000, 20, 10)
