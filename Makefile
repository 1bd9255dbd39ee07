# Idmaj — developer commands. `make run` and `make test` are all a newcomer needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
export IDMAJ_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: lock run test test-postgres test-browser lint format translations bench bench-http bench-instructions venv migrations-check clean

LOCK := requirements.lock
UV_VERSION := 0.13.9

# Installs exactly what requirements.lock pins (with hashes), then the project itself without
# resolving anything: a new release on the package index never changes what a clone runs.
# Modules shipped as their own distributions (packages/*: remote purchasing) are installed
# beside the core the same way: no dependency of their own beyond idmaj, nothing resolved.
PACKAGES := packages/idmaj-purchasing

$(STAMP): pyproject.toml $(LOCK) $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	for p in $(PACKAGES); do $(BIN)/pip install --quiet --no-deps --no-build-isolation -e $$p || exit 1; done
	$(BIN)/pip check
	touch $(STAMP)

venv: $(STAMP)

# Refresh the lock on purpose (newest releases allowed by pyproject.toml), then `make test`.
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --quiet -o $(LOCK)
	rm -f $(STAMP)

compile-translations: $(STAMP)
	@$(BIN)/python -m core.i18n_tools compile

run: $(STAMP) compile-translations
	$(BIN)/idmaj db upgrade
	$(BIN)/idmaj demo seed --if-empty
	$(BIN)/idmaj dev-server --host 127.0.0.1 --port 5000 --with-worker

# SQLite: everything but the browser tests and the PostgreSQL tests (markers concurrency and
# postgresql: racing connections that SQLite's BEGIN IMMEDIATE would serialise, triggers).
test: $(STAMP) compile-translations
	$(BIN)/python -m pytest -m "not browser and not concurrency and not postgresql" $(PYTEST_ARGS)

# PostgreSQL: everything but the browser tests, the concurrency and postgresql ones included.
test-postgres: $(STAMP) compile-translations
	IDMAJ_TEST_BACKEND=postgresql $(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP) compile-translations
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

translations: $(STAMP)
	$(BIN)/python -m core.i18n_tools update

migrations-check: $(STAMP)
	$(BIN)/python -m core.migration_check

bench: $(STAMP) compile-translations
	$(BIN)/python -m bench.run

# Idmaj against its bare twins over HTTP (gunicorn + wrk, PostgreSQL): ≤ 15 min, writes the
# section "HTTP cost against bare twins" of docs/performance.md. BENCH_HTTP_ARGS="--quick" for
# a smoke run, "--label before" to record the figures before a change.
BENCH_HTTP_ARGS ?=
bench-http: $(STAMP) compile-translations
	command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python -m bench.http $(BENCH_HTTP_ARGS)

# Instructions per request on the hot paths (valgrind's callgrind, PostgreSQL): exact where
# time is not. BENCH_INSTR_ARGS="--source ../baseline-worktree --source ." to compare two trees.
BENCH_INSTR_ARGS ?=
bench-instructions: $(STAMP) compile-translations
	command -v valgrind >/dev/null || apt-get install -y valgrind || sudo apt-get install -y valgrind
	$(BIN)/python -m bench.instructions $(BENCH_INSTR_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
