# Every target installs what it needs (bin/setup) and says what to do when it cannot.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: help demo test lint bench mutation

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: ## Serve the portal, back office, vendor sandbox and mailbox on 127.0.0.1 (Ctrl-C stops all)
	@bin/setup python i18n node
	uv run --frozen campusconf demo

test: ## Run every test, on SQLite and on PostgreSQL, browser tests included
	@bin/setup python i18n browser saml node postgres
	@bin/run-tests

lint: ## ruff, the import contracts and mypy only
	@bin/setup python
	uv run --frozen ruff check src tests bench
	uv run --frozen ruff format --check src tests bench
	uv run --frozen lint-imports
	uv run --frozen mypy --strict src/campusconf --exclude migrations

bench: ## Run the benchmarks under bench/ and print their tables
	@bin/setup python i18n node postgres
	@for script in bench/*.py; do echo "==> $$script"; uv run --frozen python "$$script" || exit 1; done

mutation: ## Mutation-test the core modules with their own tests (slow: docs/testing.md)
	@bin/setup python i18n
	@bin/mutation $(MODULES)
