# Steward: every command a person runs. `make run` and `make test` are the whole quick start.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv manages the Python environment; when it is not on PATH it is installed into .tools/ with pip.
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
# The CDK app (cdk.json) and its layer build call uv by name.
export PATH := $(dir $(UV)):$(PATH)
PORT ?= 8080
PYTEST_ARGS ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export UV_LINK_MODE := copy

.PHONY: help install run test test-fast lint format synth deploy bootstrap bench fuzz load clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: .venv/.synced node_modules/.installed ## install everything (Python from uv.lock, the CDK CLI from package-lock.json)

run: .venv/.synced ## run the whole system locally on moto, with sample data (PORT=8080)
	$(UV) run steward local --port $(PORT)

test: .venv/.synced ## run every test: unit, integration, infrastructure, end-to-end
	$(UV) run pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: .venv/.synced ## ruff and mypy
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: .venv/.synced ## apply ruff's fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

synth: install ## synthesize the CloudFormation template with the real dependency layer (no Docker, no AWS credentials)
	npx cdk synth --quiet
	$(UV) run python -m infrastructure.layer_build cdk.out

bootstrap: install ## once per account and region: cdk bootstrap
	npx cdk bootstrap

deploy: install ## deploy to the AWS account of your current credentials
	npx cdk deploy --require-approval broadening

bench: .venv/.synced ## benchmarks: a table and bench/results.json
	$(UV) run python -m bench

FUZZ_EXAMPLES ?= 50
fuzz: .venv/.synced ## the schema fuzz at length: FUZZ_EXAMPLES new examples per route, role and mode
	STEWARD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) STEWARD_FUZZ_RANDOM=1 $(UV) run pytest -q -p no:cacheprovider tests/e2e/test_fuzz.py

DELIVERIES ?= 10000
SENDERS ?= 20
load: .venv/.synced ## load test: DELIVERIES signed webhooks from SENDERS senders on loopback; lost, duplicated, latency
	$(UV) run python -m bench.load --deliveries $(DELIVERIES) --senders $(SENDERS)

clean: ## remove build output
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache
