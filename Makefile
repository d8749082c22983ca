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

# Four workers, also on two cores: the longest end-to-end tests mostly wait (on a 30 s fault window, the flood
# limits, a killed bot's restart), and the extra workers fill that time (measured back to back on two cores: 160 s
# with four, 190 s with three, 276 s with two). Each takes whole test files (the end-to-end tests of one file never
# overlap) except the few that tests/conftest.py splits, longest first in the order it sets; serially:
# `make test XDIST=`.
XDIST ?= -n 4 --dist loadgroup --no-loadscope-reorder

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
