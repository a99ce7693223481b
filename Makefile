# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := examples/ludb-1/1.hea examples/cinc-E07500/E07500.hea

.PHONY: run test install browser bench clean llama-source

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# TORCH_INDEX: extra index for torch, e.g. https://download.pytorch.org/whl/cpu on a machine
# where PyPI would give the CUDA build and you want the CPU one (this machine has the CPU
# wheel locally, so it is left empty here).
TORCH_INDEX ?=
PIP_EXTRA := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(PIP_EXTRA) -e '.[dev,llm]'
	touch $(STAMP)

# Optional fallback embedded server (ECG_ASSISTANT_EMBEDDED_BACKEND=llama-cpp-python), built
# from source for AVX2 without AMX/AVX-512 and without -march=native: the native build crashed
# (general protection fault in ggml's AMX path) on this kind of VM. About 10 minutes.
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

llama-source: install
	$(BIN)/python -c "import llama_cpp" 2>/dev/null || \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip install --quiet --no-cache-dir \
	  'llama-cpp-python[server]==0.3.36'

install: $(STAMP)

# The main job on the embedded default: measure the bundled examples, then a grounded report
# written by the embedded local LLM (started and stopped by the command itself).
run: install
	$(BIN)/ecg-assistant measure $(EXAMPLES)
	$(BIN)/ecg-assistant report examples/cinc-E07500/E07500.hea
	$(BIN)/ecg-assistant ask examples/cinc-E07500/E07500.hea "Which rhythm is this?"

# Debian's chromium + chromium-driver for the browser end-to-end test (tests/test_browser.py).
browser:
	scripts/install_browser.sh

test: install browser
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV)
