# One command to check, one to test. `make` builds .venv from pyproject.toml (dev extra).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_ARGS ?=

.PHONY: venv test test-fast check image-install golden bench demo wheel-smoke clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile
	$(BIN)/reconciler validate sample-repo

test-fast: venv
	$(BIN)/python -m pytest -q -n 2 -m "not e2e and not slow"

check: venv
	$(BIN)/ruff format --check reconciler tests bench deploy
	$(BIN)/ruff check reconciler tests bench deploy
	$(BIN)/mypy
	$(BIN)/zizmor --offline --quiet action.yml .github/workflows/mesh-check.yml
	$(BIN)/actionlint .github/workflows/mesh-check.yml
	$(BIN)/python deploy/check_deploy.py

# Replays deploy/Dockerfile's install steps in a fresh venv and starts the result (needs PyPI;
# also run by the test suite, tests/deploy).
image-install: venv
	$(BIN)/python deploy/check_install.py

golden: venv
	UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/golden

bench: venv
	$(BIN)/python bench/run.py

demo: venv
	$(BIN)/python -m reconciler.demo $(DEMO_ARGS)

# The wheel, installed (not editable) in a fresh venv outside the repo: every subcommand once.
wheel-smoke:
	PYTHON=$(PYTHON) .ci/wheel-smoke

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
