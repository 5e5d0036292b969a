# opendesign — `make serve` and `make test` are all a newcomer needs.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALL_STAMP := $(VENV)/.installed-stamp
export OPENDESIGN_HOME ?= $(CURDIR)/var
PYTEST_ARGS ?=

.PHONY: help install serve catalogue test test-slow test-all bench bundles clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_%./-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# Reinstall only when the project's metadata changes.
$(INSTALL_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(INSTALL_STAMP) ## Create .venv and install opendesign with its test extra

catalogue: install ## Import designs/ into the embedded catalogue ($$OPENDESIGN_HOME)
	$(BIN)/opendesign import

serve: catalogue ## Install, import designs/ and serve the catalogue on http://127.0.0.1:5000
	@echo "catalogue ready in $(OPENDESIGN_HOME); the web server arrives with the web issue (#7)"

test: install ## Run the fast test suite
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install ## Run only the slow tests (browser, sandbox stress)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-all: install ## Run every test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install ## Run the benchmarks and print their tables
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

bundles: install ## Build dist/<slug>-<version>.zip for every design (bundles issue, #6)
	@echo "bundles arrive with the bundles issue (#6)"

clean: ## Remove the catalogue, caches and build output (keeps .venv)
	rm -rf var dist .pytest_cache
