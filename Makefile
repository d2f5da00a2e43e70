# onetrip — `make run` serves the seeded registry on PORT (default 8000); `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

export PICCOLO_CONF := registry.piccolo_conf

.PHONY: run test install migrate seed lint format browser clean bench bench-large

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
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var tests/artifacts .pytest_cache .ruff_cache

# Public routes as ratios to /livez at 89 and 10 000 items (BENCH_SIZES=89,10000,100000 for more);
# appends to bench/results.md. Needs wrk (apt-get install -y wrk).
bench: install
	$(BIN)/python bench/serve.py

bench-large: install
	BENCH_SIZES=89,10000,100000 $(BIN)/python bench/serve.py
