# tracker: make run | make test | make bench | make translations
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench translations clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the venv, set up an SQLite database under instance/, serve on http://127.0.0.1:5000
run: $(STAMP)
	$(BIN)/tracker run

## Lint, type-check and run the whole suite on SQLite, and on PostgreSQL when
## TRACKER_TEST_DATABASE_URL is set.
test: $(STAMP) lint typecheck
	env -u TRACKER_TEST_DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$TRACKER_TEST_DATABASE_URL)"; \
		$(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check tracker jobs tests bench migrations/env.py
	$(BIN)/ruff format --check tracker jobs tests bench migrations/env.py

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Speed and memory figures: each script prints a table and writes bench/results/<name>.json
bench: $(STAMP)
	@mkdir -p bench/results
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Re-extract translatable strings, merge them into the Swedish catalogue, compile it.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k msg -k _l -k lazy_gettext --no-location --sort-output \
		--omit-header -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations -l sv \
		--no-fuzzy-matching
	$(BIN)/pybabel compile -d tracker/translations -l sv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench/results
