# The test cluster: a real control plane built from Go modules (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd) with kwok faking the nodes.
# See docs/test-cluster.md.

LINT_TARGETS += lint-shell
TEST_TARGETS += test-cluster

.PHONY: tools test-cluster-up test-cluster-down test-cluster-status test-cluster lint-shell shellcheck-installed

tools: ## build (or find) every pinned tool: helm, kubectl, kube-apiserver, etcd, kwok, ...
	scripts/tool --all

test-cluster-up: ## start the test cluster (builds the control plane the first time); prints the kubeconfig path
	scripts/test-cluster up

test-cluster-down: ## stop the test cluster and delete its state
	scripts/test-cluster down

test-cluster-status: ## is the test cluster running?
	scripts/test-cluster status

test-cluster: ## the test cluster's own checks, then server-side dry-run of every chart rendering and knative/ manifest
	scripts/test-cluster up >/dev/null
	scripts/test-cluster-test
	scripts/test-cluster-dry-run

shellcheck-installed:
	@command -v shellcheck >/dev/null 2>&1 || { \
	  echo "installing shellcheck from apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }

# Every shell script under scripts/ and .ci/ (found by its #! line, so files
# without an extension are included and YAML/env files are not).
lint-shell: shellcheck-installed ## shellcheck every shell script under scripts/ and .ci/
	@files=$$(find scripts .ci -type f 2>/dev/null | sort | while read -r f; do \
	  if head -n1 "$$f" | grep -qE '^#!.*(/|env )(ba)?sh\b'; then echo "$$f"; fi; done); \
	  echo "shellcheck: $$(echo $$files | wc -w) scripts"; \
	  shellcheck -x --source-path=SCRIPTDIR $$files
