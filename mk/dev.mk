# make dev: the whole platform on this machine (PostgreSQL, the four functions,
# the local broker with the gateway and the dashboard) against the current
# kubeconfig. See docs/dev.md.

.PHONY: dev dev-stop dev-token

dev: ## run Storefleet locally: http://127.0.0.1:8080 and a dev admin token; Ctrl-C stops everything
	scripts/dev

dev-stop: ## stop a stack started with scripts/dev --background
	scripts/dev stop

dev-token: ## print the dev admin token
	@scripts/dev token
