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

# $(call make_venv,DIR,PIP ARGUMENTS): a fresh virtualenv with those packages, consistent by pip check.
define make_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(1)/bin/pip install -q --disable-pip-version-check $(2)
	$(1)/bin/pip check
	@touch $(1)/.installed
endef

venv: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt constraints-test.txt
	@echo "[venv] creating $(VENV) and installing pinned Python packages"
	$(call make_venv,$(VENV),-r requirements-test.txt)

lint-venv: $(LINT_STAMP)

eda-venv: $(EDA_STAMP)

$(EDA_STAMP): requirements.txt constraints-test.txt requirements-eda.txt
	@echo "[venv] creating $(EDA_VENV) for ansible-rulebook"
	$(call make_venv,$(EDA_VENV),-r requirements-eda.txt)

$(LINT_STAMP): requirements-lint.txt
	@echo "[venv] creating $(LINT_VENV) for ansible-lint and antsibull-docs"
	$(call make_venv,$(LINT_VENV),-r requirements-lint.txt)

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
	$(call make_venv,$(BENCH_VENV),-r requirements-test.txt -r requirements-bench.txt)

changelog: venv
	$(VENV)/bin/antsibull-changelog lint

clean: down
	rm -rf tests/output
