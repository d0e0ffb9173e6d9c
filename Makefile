# Loopin Analytics. `make run` serves on the embedded default; `make test` runs every test tier.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# A deadline for request headers (loopin_backend/server_protocol.py) and uvicorn's close of idle connections;
# forwarding headers are judged by the service alone (ANALYTICS_TRUSTED_PROXIES), never by uvicorn.
UVICORN := $(PY) -m uvicorn loopin_backend.asgi:application \
	--http loopin_backend.server_protocol:HeaderDeadlineProtocol --timeout-keep-alive 5 --no-proxy-headers

.PHONY: run serve test lint format requirements eval bench bench-ingest bench-sentiment bench-bi bench-models bench-dashboard bench-admin soak worker beat flower migrate clean

# The pinned run-time closure first (requirements.txt, the lock a deploy uses), then the project and its
# test tools: a fresh environment runs exactly the versions the suite was run with.
$(STAMP): pyproject.toml requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements.txt
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Regenerate requirements.txt from pyproject.toml and the installed versions (after changing a dependency).
requirements: $(STAMP)
	$(PY) -m loopin_backend.lock

# A development .env (DEBUG on, a random SECRET_KEY) is written once if there is none.
.env:
	@$(PY) -c "import secrets; print('DEBUG=true'); print('SECRET_KEY=' + secrets.token_urlsafe(48)); print('FLOWER_BASIC_AUTH=flower:' + secrets.token_urlsafe(18))" > .env
	@echo "wrote .env (DEBUG=true, random SECRET_KEY and Flower password) for local use"

migrate: $(STAMP) .env
	$(PY) manage.py migrate --noinput

# migrate; on an empty database simulate a default platform (once) and compute its metrics; serve.
run: migrate
	$(PY) manage.py bootstrap --base-url http://$(HOST):$(PORT)
	$(UVICORN) --host $(HOST) --port $(PORT)

# serve without populating
serve: migrate
	$(UVICORN) --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m tests.tiers

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy analytics loopin_backend

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every model evaluation, written to docs/evaluation.md. Platforms are simulated into a scratch SQLite
# database under var/eval/ (never the service's own); about 30 minutes on 2 cores.
EVAL_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/eval/eval.sqlite3 ANALYTICS_DATA_DIR=$(CURDIR)/var/eval \
	CELERY_BROKER_URL= OPENAI_API_KEY= POSTHOG_API_KEY= ANALYTICS_EMBEDDED_SCHEDULER=false LOG_LEVEL=WARNING

eval: $(STAMP) .env
	rm -rf var/eval && mkdir -p var/eval
	$(EVAL_ENV) $(PY) manage.py migrate --noinput -v0
	$(EVAL_ENV) $(PY) manage.py evaluate --output docs/evaluation.md

bench: bench-ingest bench-sentiment bench-bi bench-models bench-dashboard

bench-ingest: $(STAMP)
	$(PY) bench/ingest.py

bench-sentiment: $(STAMP)
	$(PY) bench/sentiment.py

# Business intelligence on ~5.9 million simulated events on PostgreSQL (docs/benchmarks.md). Builds its
# database loopin_bench_bi once (about 40 minutes) and reuses it; BENCH_BI_DROP=1 drops it afterwards.
bench-bi: $(STAMP)
	$(PY) bench/bi.py

# Training and scoring every prediction model on 100,000 simulated users × 60 days on PostgreSQL
# (docs/benchmarks.md). Builds its database loopin_bench_models once per day and simulator version.
bench-models: $(STAMP)
	$(PY) bench/models.py

# The admin's tracked-event list at a million rows on PostgreSQL (docs/benchmarks.md).
bench-admin: $(STAMP)
	$(PY) bench/admin.py

# Each dashboard page's server time and browser load on the make run demo (docs/benchmarks.md).
bench-dashboard: $(STAMP) .env
	$(PY) bench/dashboard.py

# 30 minutes of ingestion and reads, the worker killed every 5 (docs/reliability.md); not in test or bench.
soak: $(STAMP)
	$(PY) bench/soak.py

worker: $(STAMP) .env
	$(VENV)/bin/celery -A loopin_backend worker --loglevel=info

beat: $(STAMP) .env
	$(VENV)/bin/celery -A loopin_backend beat --loglevel=info

# Flower behind basic authentication from FLOWER_BASIC_AUTH (user:password); it refuses to start without it.
flower: $(STAMP) .env
	$(VENV)/bin/python -m loopin_backend.flower

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
