# Studio: `make run` starts the studio with the sandbox gateway; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The interpreter that makes the venv: python3.12 if present, else python3 (pyenv reads .python-version).
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
STAMP := $(VENV)/.installed
DEV_ENV := DEBUG=true

.PHONY: run test test-services install lint migrate demo messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "Studio needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install it (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(DEV_ENV) $(BIN)/python manage.py demo

run: demo
	$(DEV_ENV) $(BIN)/python manage.py runstudio 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/python -m pytest

# The same suite on PostgreSQL + Redis + moto's S3, started on loopback (as CI's second run).
test-services: $(STAMP)
	eval "$$(bash .ci/services)" && $(BIN)/python -m pytest

# Style (ruff) and the layer rules (import-linter contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The zh-Hans catalog: gather every marked string into locale/zh_Hans/LC_MESSAGES/django.po
# (GNU gettext's xgettext and msgmerge), then, once translated, compile django.mo, which is
# committed, so running the studio needs no gettext. tests/test_i18n.py checks both.
MESSAGE_IGNORE := --ignore=.venv --ignore=bench --ignore=tests --ignore=docs --ignore=media --ignore=staticfiles
messages: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --add-location file $(MESSAGE_IGNORE)
	$(DEV_ENV) $(BIN)/python manage.py compilemessages --locale zh_Hans --ignore .venv

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles
