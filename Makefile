# Lotsen: `make run` serves the app, `make test` runs the whole suite. Both set up what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup system-packages venv translations translations-update db demo run test lint bench load clean

setup: system-packages venv translations

system-packages:
	@scripts/system-packages.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lotsen needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

translations: venv
	@$(BIN)/pybabel compile --statistics -d app/translations 2>&1 | grep -v "^compiling" || true

db: setup
	$(FLASK) db upgrade

demo: db
	@# the demo's cases queue mails whose links must point where `make run` serves
	LOTSEN_BASE_URL="$${LOTSEN_BASE_URL:-http://$(HOST):$(PORT)}" $(FLASK) demo load

run: demo
	@echo "Lotsen: http://$(HOST):$(PORT)/login  (demo users: see README; stop with Ctrl-C)"
	@# gunicorn as in production (processes and threads: see gunicorn.conf.py), the background worker (e-mail
	@# outbox, routing model) beside it; links in mails follow HOST and PORT unless LOTSEN_BASE_URL is set
	export LOTSEN_BASE_URL="$${LOTSEN_BASE_URL:-http://$(HOST):$(PORT)}"; \
		$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: venv
	$(BIN)/ruff check .

test: setup lint
	@scripts/run-tests.sh

bench: setup
	$(BIN)/python -m bench

# 200 concurrent users for 60 s against gunicorn through the real pages, on SQLite and on PostgreSQL (bench/load.py)
load: setup
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# After changing UI text: extract it, merge into the Swedish catalog, then translate the empty entries.
translations-update: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=".* __pycache__" --no-location -o app/translations/messages.pot app templates
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching -w 110
