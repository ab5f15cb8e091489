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
.PHONY: help install install-dev run migrate demo test test-deps lint fmt check messages bench bench-geo bench-admin bench-dashboard clean

# `make demo` keeps its own database so demo events never mix with real ones.
DEMO_DATABASE_URL ?= sqlite:///$(CURDIR)/var/demo.sqlite3
DEMO_EVENTS ?= 300000
# Registry files: the shared copy beside the checkout if present, else the
# bundled one.
RIR_DIR := $(firstword $(wildcard ../shared/data/rir) tests/data/rir)

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

demo: install ## Start with registry data and DEMO_EVENTS synthetic events (own database)
	FWSIEM_DATABASE_URL=$(DEMO_DATABASE_URL) $(PY) manage.py migrate --no-input -v 0
	FWSIEM_DATABASE_URL=$(DEMO_DATABASE_URL) $(PY) manage.py refresh_geo --source $(RIR_DIR)
	FWSIEM_DATABASE_URL=$(DEMO_DATABASE_URL) $(PY) manage.py seeddemo --events $(DEMO_EVENTS) --days 30 --if-empty
	FWSIEM_DATABASE_URL=$(DEMO_DATABASE_URL) $(PY) manage.py createadmin
	FWSIEM_DATABASE_URL=$(DEMO_DATABASE_URL) $(PY) manage.py runall

# Debian packages the tests need: Chromium and its driver for the browser
# test, and the MariaDB client headers when mysqlclient has to be built.
TEST_DEBS := chromium chromium-driver
ifneq (,$(MYSQL_REQ))
TEST_DEBS += libmariadb-dev pkg-config
endif

test-deps: ## Install the Debian packages the tests need (asks sudo if not root)
	@command -v dpkg >/dev/null || exit 0; \
	missing=""; \
	for package in $(TEST_DEBS); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	echo "Installing Debian packages for the tests:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
		sudo apt-get install -y $$missing; \
	fi

test: test-deps install-dev ## Run the test suite (SQLite, or FWSIEM_DATABASE_URL)
	$(PY) -m pytest

lint: install-dev ## Check formatting and lint rules
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

fmt: install-dev ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: test-deps lint ## Everything CI checks: lint, Django checks, migrations, tests
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

messages: install ## Update and compile the Japanese catalogue after adding strings
	@command -v xgettext >/dev/null || { echo "make messages needs GNU gettext. On Debian: apt-get install gettext"; exit 1; }
	$(PY) manage.py makemessages -l ja --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

bench: install-dev ## Print parse and end-to-end ingest figures
	$(PY) benchmarks/ingest.py

bench-admin: install-dev ## Print changelist figures at 10 million events (MySQL/MariaDB URL)
	$(PY) benchmarks/admin.py

bench-geo: install-dev ## Print registry load and country lookup figures
	$(PY) benchmarks/geo.py

bench-dashboard: install-dev ## Print the default dashboard's panel and page times
	$(PY) benchmarks/dashboard.py

clean: ## Remove the virtual environment (var/ keeps your data)
	rm -rf $(VENV)
