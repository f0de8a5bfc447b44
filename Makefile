# SliceWise developer commands. Every target creates .venv on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench fuzz lint clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/slicewise $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.benchmarks $(ARGS)

# DICOM fuzzer: 10,000 mutants of real files, fixed seed, 2 worker processes (about 5 minutes).
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --count 10000 --seed 1 --workers 2 $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
