# schemathesis against the API as the gateway serves it (docs/api.md, "Schema
# tests"): the real functions and local broker, real PostgreSQL, no cluster.

TEST_TARGETS += test-api-schema

.PHONY: test-api-schema
test-api-schema: ## schemathesis (pinned, scripts/ensure-schemathesis) against the served openapi.json: all checks, stateful, two tenants
	scripts/test-api-schema
