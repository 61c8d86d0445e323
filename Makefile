# make run: the whole platform on embedded PostgreSQL and Tansu. make test: every test, servers included.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCAL_PACKAGES := libs/contracts libs/messaging libs/platform \
	services/ingestion services/dunning-scheduler services/notification services/legal-referral
TEST_PATHS = $(wildcard libs/*/tests) $(wildcard services/*/tests) tests

.PHONY: install run test bench test-faults

install: $(STAMP)

# Reinstalls only when the pinned dependencies or a package's metadata change.
$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(LOCAL_PACKAGES))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(addprefix -e ,$(LOCAL_PACKAGES))
	touch $@

run: install
	$(PY) -m dunning_platform.devstack run

test: install
	$(PY) -m pytest $(TEST_PATHS)

# make bench: every service's throughput beside the machine's own limits; writes docs/benchmarks.md.
# `make bench BENCH_ARGS=--quick` checks the harness in a few minutes.
bench: install
	$(PY) -m tests.bench $(BENCH_ARGS)

# The fault suite (tests/faults/README.md): minutes of SIGKILLs, restarts and poison while loans stream in.
# A small run by default (600 loans, about 4 minutes); the short run, 3000 loans at 25/s with 6 kills per
# service, about 5-8 minutes, runs in CI after make test; the bar: make test-faults FAULTS_LOANS=10000 FAULTS_RATE=25 FAULTS_KILLS=20
test-faults: install
	$(PY) -m pytest tests/faults -m faults -s
