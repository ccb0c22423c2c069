# storefleet-kube (shared/kube): the Kubernetes actions the functions call.
# Its unit tests (fixtures, tower-test mocks, a fake helm, a loopback HTTP
# server) run in every `cargo test --workspace`; this target adds the
# real-cluster tests: the test cluster's kube-apiserver and the pinned helm.
# See docs/kubernetes-actions.md.

TEST_TARGETS += test-kube

.PHONY: test-kube
test-kube: ## storefleet-kube against the test cluster and the real helm (namespace, Secret, RoleBinding, install/uninstall, stuck releases)
	scripts/test-cluster up >/dev/null
	kubeconfig="$$(scripts/test-cluster kubeconfig)"; \
	helm="$$(scripts/tool helm)"; \
	STOREFLEET_TEST_KUBECONFIG="$$kubeconfig" STOREFLEET_TEST_HELM_BIN="$$helm" \
	  cargo test -p storefleet-kube --test real_cluster -- --nocapture

BENCH_TARGETS += bench-kube

.PHONY: bench-kube
bench-kube: ## durations of the store actions on the test cluster (namespace, Secret, helm, readiness, teardown) as a table
	scripts/test-cluster up >/dev/null
	kubeconfig="$$(scripts/test-cluster kubeconfig)"; \
	helm="$$(scripts/tool helm)"; \
	STOREFLEET_TEST_KUBECONFIG="$$kubeconfig" STOREFLEET_TEST_HELM_BIN="$$helm" \
	  cargo test -p storefleet-kube --test real_cluster -- --ignored --nocapture bench_store_actions
