# Switchboard: `make run` starts everything on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Benchmarks (README.md, "Performance"): `make bench` runs them all, one after the other;
# `make bench BENCH=drain` (or BENCH="drain freshness") runs those named.
BENCHMARKS := receiver drain freshness soak
BENCH ?= $(BENCHMARKS)
SOAK_MINUTES ?= 10

.PHONY: run test lint bench $(addprefix bench-,$(BENCHMARKS)) clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/switchboard migrate
	$(BIN)/switchboard serve

test: $(BIN)/.installed
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(addprefix bench-,$(BENCH))

bench-receiver: $(BIN)/.installed
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/receiver.py

bench-drain: $(BIN)/.installed
	$(BIN)/python -m bench.drain

bench-freshness: $(BIN)/.installed
	$(BIN)/python -m bench.freshness

bench-soak: $(BIN)/.installed
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
