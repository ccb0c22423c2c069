# Storefleet — the commands a developer and CI use.
#
#   make test   everything CI checks: lint, unit + integration tests (real PostgreSQL,
#               real helm, real kube-apiserver), the dashboard in a real browser.
#   make bench  speed and memory figures as tables (never asserted in tests).
#   make dev    the whole platform on this machine, against the current kubeconfig.
#   make up     a k3d cluster with Knative and Storefleet on a laptop with Docker.
#
# Each part of the system keeps its targets in mk/<part>.mk and adds them to the
# lists below, so `make test` always runs every part.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Built tools (helm, kube-apiserver, kwok, ...) are cached here, outside the repo.
export STOREFLEET_CACHE ?= $(HOME)/.cache/storefleet

LINT_TARGETS :=
TEST_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help lint test bench
help: ## list the targets, grouped by part: this Makefile's, then each mk/<part>.mk's
	@for file in $(MAKEFILE_LIST); do \
	  targets="$$({ grep -E '^[a-zA-Z0-9_-]+:.*## ' "$$file" || true; } | sort \
	    | awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}')"; \
	  [ -n "$$targets" ] || continue; \
	  part="$$(basename "$$file" .mk)"; \
	  [ "$$part" != Makefile ] || part="every part"; \
	  printf '\n%s (%s)\n%s\n' "$$part" "$$file" "$$targets"; \
	done

lint: $(LINT_TARGETS) ## every linter (fmt, clippy, shellcheck, helm lint, eslint)

test: lint $(TEST_TARGETS) ## everything CI runs
	@echo "make test: all parts passed"

bench: $(BENCH_TARGETS) ## speed and memory tables
