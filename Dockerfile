# Loopin Analytics: one image for the web server, the Celery worker, beat and Flower (docker-compose.yml).
# The same commands and settings as the Makefile and docs/operations.md; settings come from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ANALYTICS_DATA_DIR=/var/lib/loopin
WORKDIR /app

# The pinned run-time closure first (requirements.txt, the lock), then the project without re-resolving.
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY pyproject.toml README.md manage.py ./
COPY loopin_backend ./loopin_backend
COPY analytics ./analytics
RUN pip install --no-deps . && useradd --system --home /var/lib/loopin loopin \
    && mkdir -p /var/lib/loopin && chown loopin /var/lib/loopin
USER loopin

EXPOSE 8000
# The web process (compose overrides the command for worker, beat and flower).
CMD ["uvicorn", "loopin_backend.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--http", "loopin_backend.server_protocol:HeaderDeadlineProtocol", "--timeout-keep-alive", "5", \
     "--no-proxy-headers"]
