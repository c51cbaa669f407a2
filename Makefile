# Two commands: `make run` starts the app, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test bench checkpoints figure clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --json docs/bench.json

checkpoints: $(VENV)/.installed
	$(BIN)/python scripts/checkpoints.py

figure: $(VENV)/.installed-dev
	$(BIN)/python -m ae.evaluate checkpoints/*.safetensors --markdown --noise gaussian --level 0.4 > docs/results.md
	$(BIN)/python scripts/figure.py --out docs/reconstructions.png
	$(BIN)/python scripts/screenshots.py --out docs
