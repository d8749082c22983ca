# Every target creates the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test run bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

# Three workers (also on two cores: the longest end-to-end tests mostly wait, on a 30 s fault window or on the flood
# limits, and a third worker fills that time; 200 s against 276 s with two, measured back to back), each taking
# whole test files (the end-to-end tests of one file never overlap) except the few that tests/conftest.py splits,
# longest first in the order it sets; serially: `make test XDIST=`.
XDIST ?= -n 3 --dist loadgroup --no-loadscope-reorder

test: $(STAMP)
	$(PY) -m pytest -q $(XDIST)

run: $(STAMP)
	$(PY) -m bot run

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
