# Two commands: `make run` starts the app, `make test` runs every test. Both set up .venv first
# and fetch MNIST if it is missing (the app starts without it: its pages then offer the download).
# .venv has everything (serving, training, the tests); `make serve-venv` builds .venv-serve from
# requirements.txt alone, what a public deployment installs (no torch), which the tests also serve from.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast test-unit format bench checkpoints figure readme clean python-version serve-venv

python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || \
	  { echo "The lab needs Python 3.10 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Run make with PYTHON=python3.11 (for example)."; exit 1; }

$(BIN)/python: | python-version
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-train.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-train.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

SERVE_VENV := .venv-serve
$(SERVE_VENV)/.installed: requirements.txt | python-version
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet --upgrade pip
	$(SERVE_VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

serve-venv: $(SERVE_VENV)/.installed

run: python-version $(VENV)/.installed
	@$(BIN)/python -m ae.download || echo "The app starts without MNIST; its pages say so and offer the download."
	$(BIN)/python -m ae.serve --server.port $(PORT)

test: python-version $(VENV)/.installed-dev $(SERVE_VENV)/.installed
	@$(BIN)/python -m ae.download || true
	@$(BIN)/python -m tests.harness.appserver --ensure-browser || true
	AE_SERVE_PYTHON=$(SERVE_VENV)/bin/python $(BIN)/python -m pytest -q -rs --durations=15 $(PYTEST_ARGS)

# The inner loop: everything but the browsers and the full-test-set rescoring, with MNIST, on a
# worker a core (up to four) of one thread each; the tiny checkpoints are kept in .cache/tiny for the
# next run while nothing they are made of changes (tests/harness/tiny.py). `make test` trains them afresh.
test-fast: python-version $(VENV)/.installed-dev
	@$(BIN)/python -m ae.download || true
	OMP_NUM_THREADS=1 AE_TINY_CACHE=.cache/tiny $(BIN)/python -m pytest -q -rs -n auto --maxprocesses 4 -m "not browser and not slow" --durations=5 $(PYTEST_ARGS)

# The tests that need neither MNIST nor a browser, by name: everything else is skipped, and says so.
test-unit: python-version $(VENV)/.installed-dev
	AE_TESTS=unit $(BIN)/python -m pytest -q -rs -m "not browser and not slow" $(PYTEST_ARGS)

# ruff's formatter, configured in ruff.toml (tests/test_format.py holds the tree to it).
format: $(VENV)/.installed-dev
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(SERVE_VENV) .pytest_cache

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --json docs/bench.json

checkpoints: $(VENV)/.installed
	$(BIN)/python scripts/checkpoints.py

figure: $(VENV)/.installed-dev
	$(BIN)/python scripts/figure.py --out docs/reconstructions.png
	$(BIN)/python scripts/screenshots.py --out docs

# The README's measured blocks (and docs/results.md, docs/bench.md) from the commands that measure them.
readme: $(VENV)/.installed-dev
	$(BIN)/python scripts/readme.py
