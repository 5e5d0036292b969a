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
# Processes the fast suite runs in (pytest-xdist; "auto": one per core, 0: in this process). The
# slow tests (browser, sandbox stress, cluster) run in one process: they time and load the machine.
TEST_WORKERS ?= auto

.PHONY: help install npm serve catalogue test test-slow test-all bench bundles clean cluster

help: ## Show this help
	@grep -hE '^[a-zA-Z_%./-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# Reinstall only when the project's metadata changes.
$(INSTALL_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@# cadquery-ocp and build123d's cadquery-ocp-novtk install the same OCP package; when
	@# novtk lands last (adding build123d to an existing venv), cadquery cannot import: put
	@# cadquery's own OCP files back.
	$(BIN)/python -c 'import cadquery' 2>/dev/null || $(BIN)/python -m pip install --quiet \
	  --disable-pip-version-check --force-reinstall --no-deps \
	  "cadquery-ocp==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("cadquery-ocp"))')"
	$(BIN)/python -c 'import cadquery, build123d'
	touch $@

install: $(INSTALL_STAMP) ## Create .venv and install opendesign with its test extra

catalogue: install ## Import designs/ into the embedded catalogue ($$OPENDESIGN_HOME)
	$(BIN)/opendesign import

# Front-end packages (Pico CSS, three.js) for the web catalogue; reinstalled only when the lock changes.
NPM_STAMP := node_modules/.npm-stamp
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

npm: $(NPM_STAMP) ## Install the web front-end packages from package-lock.json

serve: catalogue $(NPM_STAMP) ## Install, import designs/, build the search index and serve http://127.0.0.1:5000
	$(BIN)/opendesign serve --host 127.0.0.1 --port 5000

test: install $(NPM_STAMP) ## Run the fast test suite (on every core: TEST_WORKERS=auto)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-slow: install $(NPM_STAMP) ## Run only the slow tests (browser, sandbox stress)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-all: install $(NPM_STAMP) ## Run every test (the fast ones on every core, then the slow ones)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }

bench: install ## Run the benchmarks and print their tables
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

# --- A render cluster on one machine (#10) -------------------------------------
# PostgreSQL (the one already running here), its own Redis, two render workers and two web
# processes (gunicorn) behind one port, from Procfile.cluster via honcho. designs/ is imported first.
CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/opendesign
CLUSTER_REDIS_PORT ?= 6380
CLUSTER_BIND ?= 127.0.0.1:5000
CLUSTER_HOME ?= $(CURDIR)/var/cluster

cluster: install $(NPM_STAMP) ## Start PostgreSQL-backed web x2 + render workers x2 + Redis on $(CLUSTER_BIND)
	@command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
	@db=$${CLUSTER_DATABASE_URL##*/}; base=$${CLUSTER_DATABASE_URL%/*}/postgres; \
	  $(BIN)/python -c 'import sqlalchemy as sa, sys; e = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT"); \
	  c = e.connect(); n = sys.argv[2]; \
	  c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": n}).first() or c.execute(sa.text(f"CREATE DATABASE \"{n}\""))' "$$base" "$$db"
	mkdir -p $(CLUSTER_HOME)
	OPENDESIGN_HOME=$(CLUSTER_HOME) OPENDESIGN_DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/opendesign import $(DESIGNS_DIR)
	PATH=$(CURDIR)/$(BIN):$$PATH OPENDESIGN_HOME=$(CLUSTER_HOME) OPENDESIGN_DATABASE_URL=$(CLUSTER_DATABASE_URL) \
	  OPENDESIGN_BROKER_URL=redis://127.0.0.1:$(CLUSTER_REDIS_PORT)/0 CLUSTER_REDIS_PORT=$(CLUSTER_REDIS_PORT) \
	  CLUSTER_BIND=$(CLUSTER_BIND) $(BIN)/honcho -f Procfile.cluster start

# --- Bundles (#6) ------------------------------------------------------------
# dist/<slug>-<version>.zip is a real file target. Its prerequisites are the
# design folder's files (listed in the generated $(BUNDLES_MK)) and a stamp of
# everything else that shapes its bytes (renderer, CadQuery/OCP, license data,
# bundle code), so a second `make bundles` does nothing and editing one design
# rebuilds that bundle only. The catalogue import runs once, before any bundle
# (order-only), so `make -j2 bundles` is safe. A bundle is one render job, so
# each bundle process keeps a one-worker pool: parallelism comes from make -j.
DESIGNS_DIR ?= designs
DIST ?= dist
#: What must exist before bundling; `make bundles BUNDLE_REQUIRES=` skips the install check.
BUNDLE_REQUIRES ?= $(INSTALL_STAMP)
BUNDLES_MK := $(DIST)/.bundles.mk
BUNDLER_STAMP := $(DIST)/.bundler-version
CATALOGUE_STAMP := $(OPENDESIGN_HOME)/.bundles-catalogue-stamp
SITE_PACKAGES = $(wildcard $(VENV)/lib/python3*/site-packages)
BUNDLER_SOURCES := $(wildcard renderers/*.py renderers/*/*.py opendesign/bundles/*.py \
  opendesign/commons/attribution.py opendesign/licenses/*.py opendesign/licenses/data/*.py) \
  $(foreach d,cadquery cadquery_ocp trimesh numpy licensedcode_data lxml tomlkit,$(wildcard $(SITE_PACKAGES)/$(d)-*.dist-info/METADATA))
BUNDLES :=
DESIGN_FILES :=
-include $(BUNDLES_MK)

bundles: $(BUNDLES) ## Build dist/<slug>-<version>.zip for every design (reuses the render cache)

$(BUNDLES_MK): $(wildcard $(DESIGNS_DIR)/*/design.toml) | $(BUNDLE_REQUIRES)
	$(BIN)/python -m renderers.bundle_make rules $(DESIGNS_DIR) $(DIST) $@

$(BUNDLER_STAMP): $(BUNDLER_SOURCES) | $(BUNDLE_REQUIRES)
	$(BIN)/python -m renderers.bundle_make stamp $@

# An invalid design does not stop the others: its own bundle then fails, naming it.
$(CATALOGUE_STAMP): $(DESIGN_FILES) | $(BUNDLE_REQUIRES)
	$(BIN)/opendesign import $(DESIGNS_DIR) >/dev/null || echo "warning: some designs did not import (see above)" >&2
	@mkdir -p $(@D) && touch $@

$(DIST)/%.zip: $(BUNDLER_STAMP) | $(CATALOGUE_STAMP)
	$(if $(filter undefined,$(origin REF_$*)),$(error no design in $(DESIGNS_DIR)/ builds $@))
	OPENDESIGN_RENDER_POOL_SIZE=$${OPENDESIGN_RENDER_POOL_SIZE:-1} \
	  $(BIN)/opendesign bundle build $(REF_$*) --check-folder $(DIR_$*) -o $(DIST)

clean: ## Remove the catalogue, caches and build output (keeps .venv)
	rm -rf var dist .pytest_cache
