# shipyard.ec2_compose — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)
# The integration tests start their own emulator on this port, apart from `make sandbox-up`'s.
TEST_SANDBOX_PORT ?= 5055
# The end-to-end tests run on this many pytest-xdist workers, each a sandbox of its own on
# TEST_SANDBOX_PORT + N, a whole test file per worker (0: one process, no workers). Three on two cores:
# a worker often waits (a first boot, a drain, a waiter's poll), and the CPU stayed 20% idle with two.
TEST_WORKERS ?= 3
# A test that runs longer than this (seconds) fails, named, instead of holding CI to its limit.
TEST_TIMEOUT ?= 1200
# pytest on the end-to-end tests: whole files per worker, handed out longest first in the order of
# tests/integration/durations.json (xdist's own reordering off), the 20 slowest tests printed.
E2E_PYTEST = SANDBOX_PORT=$(TEST_SANDBOX_PORT) pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
  --timeout $(TEST_TIMEOUT) --durations=20 --durations-min=5
# The development venv lives outside the clone, one per set of requirements, so that a new clone of
# the same tree reuses it; .venv is a link to it.
VENV_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/shipyard-ec2_compose
VENV_KEY := $(shell cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -c1-16)
VENV_TARGET := $(VENV_CACHE)/venv-$(VENV_KEY)
# The demo's SSH key: `make demo` creates it, `make demo-down` logs in with it (the backup play).
DEMO_KEY := $(CURDIR)/.sandbox/ssh/demo

.PHONY: help setup demo demo-down test lint unit e2e integration test-hardening molecule sanity bench sandbox-up sandbox-down sandbox-reset build clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup:  ## .venv: the development tools (requirements-dev.txt) at the versions of constraints.txt
	@mkdir -p "$(VENV_CACHE)"
	@exec 9>"$(VENV_CACHE)/.lock" && flock 9 && \
	if [ ! -f "$(VENV_TARGET)/.installed" ]; then \
	  echo "creating the venv $(VENV_TARGET)"; rm -rf "$(VENV_TARGET)" && python3 -m venv "$(VENV_TARGET)" && \
	  "$(VENV_TARGET)/bin/python" -m pip install --quiet --upgrade pip && \
	  "$(VENV_TARGET)/bin/python" -m pip install --quiet -r requirements-dev.txt -c constraints.txt && \
	  touch "$(VENV_TARGET)/.installed"; \
	fi
	@if [ "$$(readlink $(VENV))" != "$(VENV_TARGET)" ]; then rm -rf $(VENV) && ln -s "$(VENV_TARGET)" $(VENV); fi
	@touch "$(VENV_TARGET)" && find "$(VENV_CACHE)" -maxdepth 1 -name 'venv-*' -mtime +14 -exec rm -rf {} +  # unused for two weeks

sandbox-up: setup  ## start the sandbox (emulator, backer, Docker, images, git daemon); then: . .sandbox/env
	$(PYTHON) sandbox/sandboxctl.py up

sandbox-down:  ## stop the sandbox and remove its containers
	@if [ -x $(PYTHON) ]; then $(PYTHON) sandbox/sandboxctl.py down; fi

sandbox-reset: setup  ## empty the local AWS emulator
	$(PYTHON) sandbox/sandboxctl.py reset

# The demo prints its progress for a person (the collection's progress callback: a line per play,
# change, wait and failure); `make demo V=1` prints every task with Ansible's default output.
DEMO_OUTPUT := $(if $(V),default,shipyard.ec2_compose.progress)

demo: sandbox-up  ## in the sandbox: playbooks/site.yml from nothing to the Task List running; prints its URL (V=1: every task)
	. .sandbox/env && ANSIBLE_STDOUT_CALLBACK=$(DEMO_OUTPUT) ansible-playbook playbooks/site.yml -e ssh_key_path=$(DEMO_KEY)
	@echo; echo "The Task List is up (make demo-down removes it):"; $(PYTHON) sandbox/sandboxctl.py urls

demo-down:  ## tear the demo down: teardown.yml (every tagged resource, the containers) and the sandbox
	@if [ -f .sandbox/env ] && $(PYTHON) sandbox/sandboxctl.py status >/dev/null; then \
	  . .sandbox/env && ansible-playbook playbooks/teardown.yml -e teardown_confirm=dev -e ssh_key_path=$(DEMO_KEY); fi
	$(MAKE) sandbox-down

test: setup  ## everything CI runs, stage by stage (lint, unit, e2e, sanity); prints each stage's wall time
	@bash tests/stages.sh lint unit e2e sanity

lint: setup  ## ansible-lint (production profile), ruff, the changelog fragments
	ansible-lint
	ruff check .
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

unit: setup  ## unit tests of the plugins, the roles' files, the policy and the sandbox (two workers)
	pytest -n 2 tests/unit

e2e: setup  ## every end-to-end test (integration, hardening, molecule) in one session; FILES=... runs some
	$(E2E_PYTEST) $(or $(FILES),tests/integration)

integration: setup  ## the end-to-end tests but the hardening proofs
	$(E2E_PYTEST) -m "not hardening" tests/integration

test-hardening: setup  ## the hardening proofs: bad input, least privilege, throttling, interruptions, host faults
	$(E2E_PYTEST) -m hardening tests/integration

molecule: setup  ## molecule: scenario aws (provision/teardown) and default (docker + app roles on Debian 13 and 12)
	SANDBOX_PORT=$(TEST_SANDBOX_PORT) SANDBOX_DIR=$(CURDIR)/.sandbox/molecule $(PYTHON) sandbox/sandboxctl.py up
	set -a && . .sandbox/molecule/env && set +a && molecule test -s aws && molecule test -s default; \
	  status=$$?; SANDBOX_PORT=$(TEST_SANDBOX_PORT) SANDBOX_DIR=$(CURDIR)/.sandbox/molecule $(PYTHON) sandbox/sandboxctl.py down; exit $$status

sanity: setup  ## ansible-test sanity on a copy of the collection
	bash tests/sanity/run.sh

bench: sandbox-up  ## wall time: playbooks vs a plain boto3 script (AWS side), configure vs the seed's script (host side)
	. .sandbox/env && $(PYTHON) benchmarks/lifecycle.py
	. .sandbox/env && $(PYTHON) benchmarks/hosts.py

build: setup  ## build the collection tarball
	ansible-galaxy collection build --force

clean: sandbox-down  ## remove the venv, the sandbox state and build output
	rm -rf $(VENV) .sandbox .ansible tests/output *.tar.gz
