# fwsiem developer and operator commands. `make help` lists them.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# MySQL/MariaDB needs its driver (and client headers) only when chosen.
ifneq (,$(findstring mysql,$(FWSIEM_DATABASE_URL)))
MYSQL_REQ := -r requirements-mysql.txt
endif

.DEFAULT_GOAL := help
.PHONY: help install install-dev run migrate demo test lint fmt check bench bench-geo bench-dashboard clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -m venv $(VENV) || { echo "Cannot create a virtual environment. On Debian: apt-get install python3-venv"; exit 1; }
	$(PIP) install --quiet --upgrade pip

install: $(PY) ## Create .venv and install what fwsiem needs to run
	$(PIP) install --quiet -r requirements.txt $(MYSQL_REQ)

install-dev: $(PY) ## Install the test and lint tools too
	$(PIP) install --quiet -r requirements-dev.txt $(MYSQL_REQ)

migrate: install ## Create or upgrade the database
	$(PY) manage.py migrate --no-input -v 0

run: migrate ## Install, migrate, create the admin, start listener + web + scheduler
	$(PY) manage.py createadmin
	$(PY) manage.py runall

test: install-dev ## Run the test suite (SQLite, or FWSIEM_DATABASE_URL)
	$(PY) -m pytest

lint: install-dev ## Check formatting and lint rules
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

fmt: install-dev ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: lint ## Everything CI checks: lint, Django checks, migrations, tests
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

bench: install-dev ## Print parse and end-to-end ingest figures
	$(PY) benchmarks/ingest.py

bench-geo: install-dev ## Print registry load and country lookup figures
	$(PY) benchmarks/geo.py

bench-dashboard: install-dev ## Print the default dashboard's panel and page times
	$(PY) benchmarks/dashboard.py

clean: ## Remove the virtual environment (var/ keeps your data)
	rm -rf $(VENV)
