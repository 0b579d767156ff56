# shipyard.ec2_compose — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)
# The integration tests start their own emulator on this port, apart from `make sandbox-up`'s.
TEST_SANDBOX_PORT ?= 5055

.PHONY: help setup demo test lint unit integration molecule sanity bench sandbox-up sandbox-down sandbox-reset build clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: $(VENV)/.installed  ## create .venv with everything from requirements.txt

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

sandbox-up: setup  ## start the local AWS emulator; then: . .sandbox/env
	$(PYTHON) sandbox/sandboxctl.py up

sandbox-down:  ## stop the local AWS emulator
	@if [ -x $(PYTHON) ]; then $(PYTHON) sandbox/sandboxctl.py down; fi

sandbox-reset: setup  ## empty the local AWS emulator
	$(PYTHON) sandbox/sandboxctl.py reset

demo: sandbox-up  ## the whole lifecycle in the sandbox: provision, re-run, inventory, teardown
	. .sandbox/env && ansible-playbook playbooks/provision.yml -e ssh_key_path=$(CURDIR)/.sandbox/ssh/demo
	. .sandbox/env && ansible-playbook playbooks/provision.yml -e ssh_key_path=$(CURDIR)/.sandbox/ssh/demo
	. .sandbox/env && ansible-inventory --graph
	. .sandbox/env && ansible-playbook playbooks/teardown.yml -e teardown_confirm=dev

test: lint unit integration molecule sanity  ## everything CI runs

lint: setup  ## ansible-lint (production profile) and ruff
	ansible-lint
	ruff check .

unit: setup  ## unit tests of the plugins
	pytest tests/unit

integration: setup  ## the playbooks end to end against a fresh emulator
	SANDBOX_PORT=$(TEST_SANDBOX_PORT) pytest tests/integration

molecule: setup  ## molecule scenario aws: provision -> idempotence -> teardown in the sandbox
	SANDBOX_PORT=$(TEST_SANDBOX_PORT) SANDBOX_DIR=$(CURDIR)/.sandbox/molecule $(PYTHON) sandbox/sandboxctl.py up
	set -a && . .sandbox/molecule/env && set +a && molecule test -s aws; \
	  status=$$?; SANDBOX_PORT=$(TEST_SANDBOX_PORT) SANDBOX_DIR=$(CURDIR)/.sandbox/molecule $(PYTHON) sandbox/sandboxctl.py down; exit $$status

sanity: setup  ## ansible-test sanity on a copy of the collection
	bash tests/sanity/run.sh

bench: sandbox-up  ## wall time and API calls: playbooks vs the plain boto3 baseline
	. .sandbox/env && $(PYTHON) benchmarks/lifecycle.py

build: setup  ## build the collection tarball
	ansible-galaxy collection build --force

clean: sandbox-down  ## remove the venv, the sandbox state and build output
	rm -rf $(VENV) .sandbox .ansible tests/output *.tar.gz
