# SliceWise developer commands. Every target creates .venv on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench fuzz lint clean venv system-packages

# Debian packages some tests use (dcm2niix: geometry oracle; dicom3tools: DICOM validator;
# orthanc + its DICOMweb plugin: PACS tests; desktop-file-utils: the desktop entry check). `make test` installs the missing ones when run as
# root with apt; elsewhere it prints one line and those tests skip with their own message.
SYSTEM_PACKAGES ?= dcm2niix dicom3tools orthanc orthanc-dicomweb desktop-file-utils
APT_GET ?= apt-get

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench,pacs]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/slicewise $(ARGS)

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v $(APT_GET) >/dev/null 2>&1 \
	    || ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make test: Debian packages$$missing not installed (needs root and apt): their tests skip"; \
	  exit 0; \
	fi; \
	{ DEBIAN_FRONTEND=noninteractive $(APT_GET) update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	} >/dev/null 2>&1 \
	  || echo "make test: could not install Debian packages$$missing (apt unreachable?): their tests skip"

test: $(STAMP) system-packages
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# Style (ruff) and the architecture contracts of ../shared/DESIGN.md (import-linter, also run by
# the test suite as tests/test_import_rules.py).
lint: $(STAMP)
	$(BIN)/ruff check viewer inference tests
	$(BIN)/lint-imports

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.benchmarks $(ARGS)

# DICOM fuzzer: 10,000 mutants of real files, fixed seed, 2 worker processes (about 5 minutes).
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --count 10000 --seed 1 --workers 2 $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
