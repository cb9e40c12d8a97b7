# Lifeline — every target is idempotent and installs what is missing.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.PHONY: help setup deps system sandbox-bin build demo test test-only bench bench-nab lint typecheck clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup: deps system sandbox-bin build ## install everything the demo and the tests need

deps: node_modules/.lifeline-stamp ## npm ci when the lockfile changed
node_modules/.lifeline-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

system: ## Debian packages (prometheus, alertmanager, postgresql, ansible) and moto, when missing
	@scripts/setup-system.sh

sandbox-bin: ## build (or reuse) kube-apiserver, kcm, scheduler, kubectl, etcd, kwok
	@scripts/build-sandbox.sh >/dev/null

build: deps ## compile TypeScript to dist/
	npx tsc -p tsconfig.build.json

demo: setup ## primary + standby sandboxes, moto, demo app, lifeline serve on localhost
	node bin/lifeline.js demo

test: setup ## run every suite inside a loopback-only network namespace
	scripts/hermetic.sh node scripts/run-tests.mjs
	@scripts/check-leftovers.sh

test-only: ## run the suites without set-up (TESTS="store kube" filters by path)
	scripts/hermetic.sh node scripts/run-tests.mjs $(TESTS)

bench: setup ## benchmarks: each prints its figure and a ratio to a same-run baseline
	scripts/hermetic.sh node --import tsx bench/sandbox-scale.ts

bench-nab: deps ## anomaly detectors on the NAB dev subset: 3 scores, label-free score, points/s
	scripts/hermetic.sh node --import tsx bench/nab.ts

lint: deps ## typed lint (typescript-eslint strictTypeChecked) + prettier + typecheck
	npx tsc -p tsconfig.json --noEmit
	npx eslint .
	npx prettier --check .

clean: ## remove build output
	rm -rf dist
