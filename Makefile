# tracker: make run | make test | make bench | make translations | make lock | make wheel-check
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency pinned with its hashes (pip-tools): the runtime ones for production, and
# with the dev extra for .venv. `make lock` writes both from pyproject.toml.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock

.PHONY: run test lint typecheck pytest bench translations lock wheel-check clean

$(STAMP): pyproject.toml setup.py $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
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
	$(BIN)/ruff check tracker jobs tests bench migrations/env.py setup.py
	$(BIN)/ruff format --check tracker jobs tests bench migrations/env.py setup.py

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

## Re-resolve every dependency from pyproject.toml to the newest allowed versions, with hashes.
## pip-tools runs from a venv of its own, so it never lands in the project's.
lock:
	test -x .venv-lock/bin/pip-compile || ($(PYTHON) -m venv .venv-lock && \
		.venv-lock/bin/python -m pip install --quiet pip-tools)
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
		--no-emit-find-links --upgrade --custom-compile-command "make lock" -o $(LOCK) pyproject.toml
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
		--no-emit-find-links --upgrade --custom-compile-command "make lock" --extra dev -o $(DEV_LOCK) pyproject.toml

## Build the wheel, install it with $(LOCK) in a fresh venv outside the checkout, run
## `tracker setup` and serve the login page (what CI does).
wheel-check:
	bash .ci/wheel-check

clean:
	rm -rf $(VENV) .venv-lock .mypy_cache .ruff_cache .pytest_cache bench/results build dist
