# onetrip — `make run` serves the seeded registry on PORT (default 8000); `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

export PICCOLO_CONF := registry.piccolo_conf

.PHONY: run test install migrate seed lint format browser clean bench bench-large bench-postgres bench-explain

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/onetrip migrate

seed: migrate
	$(BIN)/onetrip seed

run: seed
	PORT=$(PORT) $(BIN)/onetrip serve --port $(PORT)

# Headless Chromium for the browser tests: Debian's package (never a downloaded browser).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and CJK fonts with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "no /usr/bin/chromium: browser tests will be skipped (a failure when CI=true)"; fi

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n auto --dist worksteal --durations=15

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var tests/artifacts .pytest_cache .ruff_cache

# Public routes as ratios to /livez, for one item and over random items, at 89 and 10 000 items
# on 1 and 2 workers (bench-large: also 100 000), with seeding time and peak memory; appends to
# bench/results.md. Needs wrk (apt-get install -y wrk). PostgreSQL: BENCH_DATABASE_URL=postgresql://
# postgres@127.0.0.1:5432/onetrip_bench make bench (a new database per size), or make bench-postgres.
BENCH_PG ?= postgresql://postgres@127.0.0.1:5432/onetrip_bench

bench: install
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/export.py

bench-large: install
	BENCH_SIZES=89,10000,100000 $(BIN)/python bench/serve.py
	BENCH_SIZES=10000 $(BIN)/python bench/export.py

bench-postgres: install
	BENCH_DATABASE_URL=$(BENCH_PG) $(BIN)/python bench/serve.py

# EXPLAIN of every query of every public page at 100 000 items (SQLite; BENCH_EXPLAIN_URL=an existing seeded database).
bench-explain: install
	$(BIN)/python bench/explain.py $(if $(BENCH_EXPLAIN_URL),--database-url $(BENCH_EXPLAIN_URL))
