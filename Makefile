# Two commands on a fresh clone: `make demo` (set up, run the demo store) and `make test`.
VENV ?= .venv
STAMP := $(VENV)/.installed
# The core with every extra and each plugin with every extra of its own, all editable.
INSTALL := $(shell python3 scripts/install-specs.py)
# Exact versions of every package installed; regenerate with `make constraints`.
CONSTRAINTS := constraints.txt
FRESH := .venv-constraints

.PHONY: setup demo test lint typecheck bench system-deps constraints

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) $(CONSTRAINTS)
	$(MAKE) system-deps
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -c $(CONSTRAINTS) --upgrade pip
	$(VENV)/bin/pip install -q -c $(CONSTRAINTS) $(INSTALL)
	@bash scripts/check-constraints.sh $(VENV) $(CONSTRAINTS)
	touch $@

setup: $(STAMP)

# Newest releases of everything `make setup` installs, in a throwaway venv, pinned exactly.
constraints:
	rm -rf $(FRESH)
	python3 -m venv $(FRESH)
	$(FRESH)/bin/pip install -q --upgrade pip
	$(FRESH)/bin/pip install -q $(INSTALL)
	{ echo "# Written by \`make constraints\`: exact versions of every package \`make setup\` installs."; \
	  $(FRESH)/bin/pip freeze --all --exclude-editable | grep -v '^setuptools=='; } > $(CONSTRAINTS)
	rm -rf $(FRESH)

demo: setup
	$(VENV)/bin/backorder demo --fresh

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

test: setup lint typecheck
	$(VENV)/bin/pytest

bench: setup
	$(VENV)/bin/python -m bench
