# The store lifecycle on a real cluster: the function binaries and the local
# broker, authenticated by real ServiceAccount tokens of helm/platform's RBAC,
# against the test cluster, real PostgreSQL and the real helm.
# See docs/lifecycle-tests.md.

TEST_TARGETS += test-lifecycle
BENCH_TARGETS += bench-lifecycle

.PHONY: test-lifecycle test-lifecycle-rbac bench-lifecycle

test-lifecycle: ## the store lifecycle through the function binaries + local broker on the lifecycle test cluster (RBAC, create, delete, failures, faults)
	scripts/lifecycle-run test

test-lifecycle-rbac: ## only the functions' permissions, judged with their own tokens
	scripts/lifecycle-run test --test rbac

bench-lifecycle: ## 50 stores at once, event-to-status latency next to helm install time, 100 create/delete cycles and what they leave behind
	scripts/lifecycle-run bench
