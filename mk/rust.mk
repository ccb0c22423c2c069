# The Rust workspace: formatting, clippy, and every crate's tests against a
# real PostgreSQL (scripts/ensure-postgres installs and starts one if needed).

LINT_TARGETS += lint-rust lint-sqlx
TEST_TARGETS += test-rust test-sqlx-check
BENCH_TARGETS += bench-api

.PHONY: lint-rust lint-sqlx sqlx-prepare test-sqlx-check test-rust bench-api
lint-rust: ## cargo fmt --check, every crate on [workspace.lints] (unsafe forbidden, no unwrap outside tests), clippy -D warnings over the whole workspace
	cargo fmt --all -- --check
	cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys, tomllib; \
	  off = [p["manifest_path"] for p in json.load(sys.stdin)["packages"] \
	         if tomllib.load(open(p["manifest_path"], "rb")).get("lints", {}).get("workspace") is not True]; \
	  sys.exit("[lints] workspace = true missing in: " + ", ".join(off) if off else 0)'
	cargo clippy --workspace --all-targets -- -D warnings

lint-sqlx: ## .sqlx/ (the query macros' offline data) matches every query: cargo sqlx prepare --workspace --check on a fresh migrated scratch database, in a copy of the workspace with its own target dir (target/sqlx-prepare)
	scripts/sqlx-prepare --check

sqlx-prepare: ## rewrite .sqlx/ after a query or a migration changed (then commit .sqlx/)
	scripts/sqlx-prepare

test-sqlx-check: ## lint-sqlx bites: a copy of the workspace with one query edited is refused
	scripts/sqlx-prepare-test

test-rust: ## cargo test --workspace against a real PostgreSQL (#[sqlx::test] databases), after ensure-postgres survives a SIGKILLed server
	scripts/ensure-postgres-test
	database_url="$$(scripts/ensure-postgres)"; \
	DATABASE_URL="$$database_url" cargo test --workspace

bench-api: ## API latency (p50/p99), start time, idle RSS and binary sizes of the functions, as a table
	scripts/bench-api
