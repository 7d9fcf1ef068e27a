# dlmskit: two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# The main job: a simulated fleet of 2,000 meters (GPRS, Wi-SUN, RF mesh) with a fault
# plan, one day's block load collected by the reference head-end, gaps back-read, KPIs,
# and the stored readings checked against the simulator's ground truth.
demo: $(STAMP)
	$(VENV)/bin/dlmskit-hes demo --meters 2000 --workdir hes-demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# `make bench BENCH=--quick` for a smoke run; `make bench BENCH="axdr security"` for some
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) bench/run.py $(BENCH)

# coverage-guided fuzzing (atheris) of every decoder, FUZZ_SECONDS per target (default 30);
# new corpus entries and findings go to fuzz/.work/
FUZZ_SECONDS ?= 30
fuzz: $(STAMP)
	$(PY) -m pip install --quiet -e '.[fuzz]'
	$(PY) -m fuzz.run --all --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis fuzz/.work
