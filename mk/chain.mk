# The event chain (docs/events.md): the real local-broker and function
# binaries, a real PostgreSQL, the test cluster's kube-apiserver and the
# pinned helm. `cargo test --workspace` runs only the cluster-free part (the
# dead-letter path); this target runs every chain test.

TEST_TARGETS += test-chain

.PHONY: test-chain
test-chain: ## the event chain end to end: create → ready → deleted, duplicates, late events, 429 back-pressure, dead letters, the sweep, no Secret in logs, one trace POST → ready
	scripts/test-cluster up >/dev/null
	cargo build -p create-store -p delete-store -p list-stores -p readiness-checker -p local-broker
	database_url="$$(scripts/ensure-postgres)"; \
	kubeconfig="$$(scripts/test-cluster kubeconfig)"; \
	helm="$$(scripts/tool helm)"; \
	DATABASE_URL="$$database_url" STOREFLEET_TEST_KUBECONFIG="$$kubeconfig" STOREFLEET_TEST_HELM_BIN="$$helm" \
	  cargo test -p readiness-checker --test chain -- --test-threads 3

BENCH_TARGETS += bench-chain

.PHONY: bench-chain
bench-chain: ## event-to-status latencies of the chain (create → installed → ready, delete → deleted) as a table
	scripts/bench-chain
