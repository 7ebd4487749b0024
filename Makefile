# Two entry points, each complete by itself on a fresh clone:
#   make demo   bootstrap .venv, install, run `fixrouter demo`
#   make test   bootstrap .venv, install, lint, type-check, run the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install build compile pure demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (override with PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[sim,test]'
	touch $(STAMP)

install: $(STAMP)

# The order path is compiled by mypyc at install (setup.py). `import fixrouter` refuses to
# run an extension whose source changed since it was built, so `build` recompiles exactly
# when that import fails; `compile` always does, `pure` goes back to interpreted sources.
build: $(STAMP)
	@$(BIN)/python -c "import fixrouter" 2>/dev/null || $(MAKE) compile

compile: $(STAMP)
	$(BIN)/pip install --no-deps -e .

pure: $(STAMP)
	FIXROUTER_PURE=1 $(BIN)/pip install --no-deps -e .

demo: build
	$(BIN)/fixrouter demo

lint: $(STAMP)
	$(BIN)/ruff check src tests setup.py

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/

pytest: build
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: build
	$(BIN)/python tests/bench/bench_codec.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info src/*__mypyc.*.so src/fixrouter/_compiled.json
	find src -name '*.cpython-*.so' -delete
