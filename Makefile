# The README's two commands: `make run` and `make test`. Both create .venv and install the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLAGSHIP := scenarios/traffic_spike.yaml

.PHONY: run test lint typecheck bench gallery notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mqsim run $(FLAGSHIP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy over sim/ with the [tool.mypy] configuration in pyproject.toml.
typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

# Run the notebooks and save them with their outputs (committed so a reader sees the figures).
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py

gallery: $(STAMP)
	$(BIN)/python -m sim.gallery docs/img

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
