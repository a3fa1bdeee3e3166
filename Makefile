# Two commands on a fresh clone: `make demo` (set up, run the demo store) and `make test`.
VENV ?= .venv
PLUGINS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench system-deps

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(MAKE) system-deps
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]' $(foreach p,$(PLUGINS),-e $(p))
	touch $@

setup: $(STAMP)

demo: setup
	$(VENV)/bin/backorder demo --fresh

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(VENV)/bin/pytest

bench: setup
	$(VENV)/bin/python -m bench
