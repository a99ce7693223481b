# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := examples/ludb-1/1.hea examples/cinc-E07500/E07500.hea

.PHONY: run test install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# TORCH_INDEX: extra index for torch, e.g. https://download.pytorch.org/whl/cpu on a machine
# where PyPI would give the CUDA build and you want the CPU one (this machine has the CPU
# wheel locally, so it is left empty here).
TORCH_INDEX ?=
PIP_EXTRA := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(PIP_EXTRA) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ecg-assistant measure $(EXAMPLES)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV)
