# shipyard.ec2_compose — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)
# The integration tests start their own emulator on this port, apart from `make sandbox-up`'s.
TEST_SANDBOX_PORT ?= 5055
# The end-to-end tests run on this many pytest-xdist workers, each a sandbox of its own on
# TEST_SANDBOX_PORT + N, a whole test file per worker (0: one process, no workers).
TEST_WORKERS ?= 2
# The demo's SSH key: `make demo` creates it, `make demo-down` logs in with it (the backup play).
DEMO_KEY := $(CURDIR)/.sandbox/ssh/demo

.PHONY: help setup demo demo-down test lint unit integration test-hardening molecule sanity bench sandbox-up sandbox-down sandbox-reset build clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: $(VENV)/.installed  ## create .venv: the development tools (requirements-dev.txt) at the versions of constraints.txt

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

sandbox-up: setup  ## start the sandbox (emulator, backer, Docker, images, git daemon); then: . .sandbox/env
	$(PYTHON) sandbox/sandboxctl.py up

sandbox-down:  ## stop the sandbox and remove its containers
	@if [ -x $(PYTHON) ]; then $(PYTHON) sandbox/sandboxctl.py down; fi

sandbox-reset: setup  ## empty the local AWS emulator
	$(PYTHON) sandbox/sandboxctl.py reset

demo: sandbox-up  ## in the sandbox: playbooks/site.yml from nothing to the Task List running; prints its URL
	. .sandbox/env && ansible-playbook playbooks/site.yml -e ssh_key_path=$(DEMO_KEY)
	@echo; echo "The Task List is up (make demo-down removes it):"; $(PYTHON) sandbox/sandboxctl.py urls

demo-down:  ## tear the demo down: teardown.yml (every tagged resource, the containers) and the sandbox
	@if [ -f .sandbox/env ] && $(PYTHON) sandbox/sandboxctl.py status >/dev/null; then \
	  . .sandbox/env && ansible-playbook playbooks/teardown.yml -e teardown_confirm=dev -e ssh_key_path=$(DEMO_KEY); fi
	$(MAKE) sandbox-down

test: lint unit integration test-hardening molecule sanity  ## everything CI runs

lint: setup  ## ansible-lint (production profile), ruff, the changelog fragments
	ansible-lint
	ruff check .
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

unit: setup  ## unit tests of the plugins
	pytest tests/unit

integration: setup  ## the playbooks end to end against a fresh emulator
	SANDBOX_PORT=$(TEST_SANDBOX_PORT) pytest -m "not hardening" -n $(TEST_WORKERS) --dist loadfile --durations=0 --durations-min=10 tests/integration

test-hardening: setup  ## the hardening proofs: bad input, least privilege, throttling, interruptions, secrets, backup and restore
	SANDBOX_PORT=$(TEST_SANDBOX_PORT) pytest -m hardening -n $(TEST_WORKERS) --dist loadfile --durations=0 --durations-min=10 tests/integration

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
