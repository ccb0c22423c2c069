# The Rust workspace: formatting, clippy, and every crate's tests against a
# real PostgreSQL (scripts/ensure-postgres installs and starts one if needed).

LINT_TARGETS += lint-rust
TEST_TARGETS += test-rust
BENCH_TARGETS += bench-api

.PHONY: lint-rust test-rust bench-api
lint-rust: ## cargo fmt --check and clippy -D warnings over the whole workspace
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: ## cargo test --workspace against a real PostgreSQL (#[sqlx::test] databases), after ensure-postgres survives a SIGKILLed server
	scripts/ensure-postgres-test
	database_url="$$(scripts/ensure-postgres)"; \
	DATABASE_URL="$$database_url" cargo test --workspace

bench-api: ## API latency (p50/p99), start time, idle RSS and binary sizes of the functions, as a table
	scripts/bench-api
