# Loopin Analytics. `make run` serves on the embedded default; `make test` runs every test tier.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format bench bench-ingest worker beat flower migrate clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# A development .env (DEBUG on, a random SECRET_KEY) is written once if there is none.
.env:
	@$(PY) -c "import secrets; print('DEBUG=true'); print('SECRET_KEY=' + secrets.token_urlsafe(48))" > .env
	@echo "wrote .env (DEBUG=true, random SECRET_KEY) for local use"

migrate: $(STAMP) .env
	$(PY) manage.py migrate --noinput

# migrate; on an empty database simulate a default platform (once) and compute its metrics; serve.
run: migrate
	$(PY) manage.py bootstrap
	$(PY) -m uvicorn loopin_backend.asgi:application --host $(HOST) --port $(PORT)

# serve without populating
serve: migrate
	$(PY) -m uvicorn loopin_backend.asgi:application --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m tests.tiers

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy analytics loopin_backend

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: bench-ingest

bench-ingest: $(STAMP)
	$(PY) bench/ingest.py

worker: $(STAMP) .env
	$(VENV)/bin/celery -A loopin_backend worker --loglevel=info

beat: $(STAMP) .env
	$(VENV)/bin/celery -A loopin_backend beat --loglevel=info

flower: $(STAMP) .env
	$(VENV)/bin/celery -A loopin_backend flower

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
