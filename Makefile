# Two entry points for a fresh clone (Python 3.11+ and make only):
#   make run    set up, then serve the API on the embedded platform and run one heat1d job
#               through it (Ctrl-C stops the server)
#   make test   set up, then run linters, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint unit contract integration e2e pact bench pex sim-image epx-venv clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "simdock needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

run: setup
	$(BIN)/simdock serve --demo

lint: setup
	$(BIN)/ruff check src adapters sim tests benchmarks examples
	$(BIN)/mypy

test: lint epx-venv
	$(BIN)/python -m pytest -q

unit: setup
	$(BIN)/python -m pytest -q tests/unit tests/sim

contract: setup
	$(BIN)/python -m pytest -q tests/contract

integration: setup
	$(BIN)/python -m pytest -q tests/integration

e2e: setup
	$(BIN)/python -m pytest -q tests/e2e

bench: setup
	$(BIN)/python -m benchmarks.bench_sweep
	$(BIN)/python -m benchmarks.bench_heat1d
	$(BIN)/python -m benchmarks.bench_persistence
	$(BIN)/python -m benchmarks.bench_listing
	$(BIN)/python -m benchmarks.bench_claims
	$(BIN)/python -m benchmarks.bench_submit_sweep
	$(BIN)/python -m benchmarks.bench_fairness
	$(BIN)/python -m benchmarks.bench_http
	$(BIN)/python -m benchmarks.bench_dramatiq
	$(BIN)/python -m benchmarks.bench_s3
	$(BIN)/python -m benchmarks.bench_recovery
	$(BIN)/python -m benchmarks.bench_isolation
	$(BIN)/python -m benchmarks.bench_docker
	$(BIN)/python -m benchmarks.bench_epistemix
	$(BIN)/python -m benchmarks.bench_cancel
	$(BIN)/python -m benchmarks.bench_starvation
	$(BIN)/python -m benchmarks.bench_dashboard
	$(BIN)/python -m benchmarks.bench_replication
	$(BIN)/python -m benchmarks.bench_reuse

pact: setup epx-venv
	PACT_DO_NOT_TRACK=true SIMDOCK_RECORD_PACT=1 $(BIN)/python -m pytest -q tests/epistemix_pact

epx-venv:
	PYTHON=$(PYTHON) build-support/epx-venv.sh .venv-epx

sim-image:
	build-support/sim-image.sh sim:local

pex:
	build-support/install-pants.sh
	build-support/pants package //:migration-runner

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache simdock-artifacts simdock.db* dist .pants.d
