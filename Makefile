# Qunex: `make run` serves the app on http://127.0.0.1:8000, `make admin` creates a staff user,
# `make test` runs the test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run admin test install lint format browser clean

$(BIN)/.installed: requirements.txt requirements-dev.txt package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund; else echo "npm not found: the workflow lint test will skip"; fi
	touch $@

install: $(BIN)/.installed

# SITE_URL follows HOST/PORT, so links in emails (printed to the console) and the site's name
# in them (synced on migrate) open this server. Set-up ends with the staff panel's address and
# the demo login; once the server answers, the keyless refreshes (official news, BLS and FOMC
# schedules) run in the background, or one line says there is no network.
run: install
	@export SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py seed_demo && \
	{ $(BIN)/python manage.py refresh_keyless --wait-for "http://$(HOST):$(PORT)/health" & } && \
	exec $(BIN)/python manage.py runserver $(HOST):$(PORT)

# A staff user for the admin whose email counts as verified (asks for email and password).
admin: install
	@SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(BIN)/python manage.py create_admin

# pytest-xdist workers, each with its own test database and Redis database: one per core
# and one more, since browser, subprocess and deadline tests spend seconds waiting rather
# than computing (16 at most: Redis has 16 databases). An idle worker takes tests from a
# busy one (worksteal). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min((os.cpu_count() or 1) + 1, 16))")
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	apt-get install -y chromium

clean:
	rm -rf $(VENV) node_modules staticfiles
