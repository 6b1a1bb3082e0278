# Two commands for a new user:
#   make demo   install what is needed, start the local environment, run playbooks/demo.yml
#   make test   lint, sanity, unit, kubelet-oracle, environment, live, reliability, integration, rulebook and
#               end-to-end (kubelet) tests
#   make bench  the benchmarks; writes docs/benchmarks.md and docs/benchmarks.png (not part of make test)
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed
LINT_VENV ?= .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
# The benchmarks' own virtualenv: it adds the ansible package (kubernetes.core), kept out of .venv.
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# ansible-rulebook's own virtualenv for the rulebook tests (tests/eda), kept out of .venv.
EDA_VENV ?= .venv-eda
EDA_STAMP := $(EDA_VENV)/.installed

.PHONY: demo test bench deps venv lint-venv eda-venv up down lint docs sanity units oracle environment live reliability integration eda e2e changelog clean

demo: deps venv
	scripts/localenv up
	scripts/run-demo

test: deps venv lint-venv eda-venv
	scripts/test all

deps:
	scripts/install-system-deps

venv: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt constraints-test.txt
	@echo "[venv] creating $(VENV) and installing pinned Python packages"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	@touch $@

lint-venv: $(LINT_STAMP)

eda-venv: $(EDA_STAMP)

$(EDA_STAMP): requirements.txt constraints-test.txt requirements-eda.txt
	@echo "[venv] creating $(EDA_VENV) for ansible-rulebook"
	$(PYTHON) -m venv $(EDA_VENV)
	$(EDA_VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(EDA_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-eda.txt
	$(EDA_VENV)/bin/pip check
	@touch $@

$(LINT_STAMP): requirements-lint.txt
	@echo "[venv] creating $(LINT_VENV) for ansible-lint and antsibull-docs"
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(LINT_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-lint.txt
	$(LINT_VENV)/bin/pip check
	@touch $@

# ansible-lint, antsibull-docs lint-collection-docs and the generated-docs check.
lint: venv lint-venv
	scripts/test lint

# Regenerates docs/reference/ (one page per module and role) with antsibull-docs.
docs: venv lint-venv
	scripts/lint docs

up: deps venv
	scripts/localenv up

down:
	scripts/localenv down

sanity units oracle environment live integration: deps venv
	scripts/test $@

# The event source and rulebook with the real ansible-rulebook (Java 17) against the local apiserver.
eda: deps venv eda-venv
	scripts/test eda

# A kubelet with containerd pulls the private test image with the collection's Secrets; starts the
# local environment with its node (scripts/localenv up --node) when it is not running.
e2e: deps venv
	scripts/test e2e

# Runs the reliability suite and writes its summary to docs/reliability.md.
reliability: deps venv
	scripts/test reliability
	cp tests/output/reliability/summary.md docs/reliability.md

bench: deps venv $(BENCH_STAMP)
	REGCRED_BENCH_VENV=$(BENCH_VENV) scripts/bench

$(BENCH_STAMP): requirements.txt requirements-test.txt constraints-test.txt requirements-bench.txt
	@echo "[venv] creating $(BENCH_VENV) for the benchmarks"
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt -r requirements-bench.txt
	@touch $@

changelog: venv
	$(VENV)/bin/antsibull-changelog lint

clean: down
	rm -rf tests/output
