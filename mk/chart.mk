# The store chart (helm/store): lint and tests. See docs/store-chart.md.

LINT_TARGETS += lint-chart
TEST_TARGETS += test-chart store-acceptance
BENCH_TARGETS += bench-store-setup

STORE_CHART := helm/store
STORE_VALUES := values.yaml values-local.yaml values-prod.yaml values-prod-ingress-nginx.yaml values-mail-catcher.yaml
# What create-store always passes (docs/development.md); the chart refuses to
# render without a store id and a host.
STORE_INTERFACE := --set storeId=abcd1234 --set-string ingress.host=abcd1234.localhost \
  --set existingSecret=store-credentials
# kube-score flags, each justified in the file (comments and blank lines dropped).
STORE_KUBE_SCORE_FLAGS = $(shell sed -e 's/\#.*//' $(STORE_CHART)/lint/kube-score.conf)

.PHONY: lint-chart test-chart bench-store-setup store-acceptance

lint-chart: shellcheck-installed ## helm lint --strict + kube-score of helm/store with each values file; shellcheck of its setup script and tests
	@helm="$$(scripts/tool helm)"; kube_score="$$(scripts/tool kube-score)"; \
	for f in $(STORE_VALUES); do \
	  echo "helm lint --strict $(STORE_CHART) -f $$f"; \
	  "$$helm" lint --strict $(STORE_CHART) -f "$(STORE_CHART)/$$f" $(STORE_INTERFACE) >/dev/null || \
	    { "$$helm" lint --strict $(STORE_CHART) -f "$(STORE_CHART)/$$f" $(STORE_INTERFACE); exit 1; }; \
	  echo "kube-score $(STORE_CHART) -f $$f"; \
	  "$$helm" template store-abcd1234 $(STORE_CHART) --namespace store-abcd1234 -f "$(STORE_CHART)/$$f" \
	    $(STORE_INTERFACE) | "$$kube_score" score $(STORE_KUBE_SCORE_FLAGS) - ; \
	done
	shellcheck -s sh $(STORE_CHART)/files/wordpress-files.sh $(STORE_CHART)/files/setup-woocommerce.sh
	shellcheck -x $(STORE_CHART)/tests/run
	shellcheck -s sh $(STORE_CHART)/tests/acceptance/*.sh $(STORE_CHART)/tests/acceptance/apache2-foreground

test-chart: ## helm/store: rendering assertions, kubeconform with the API server's schemas, install/upgrade/rollback/uninstall on the test cluster
	$(STORE_CHART)/tests/run

# The real WordPress, WooCommerce and WP-CLI are not on the build machines:
# without STOREFLEET_BENCH_WORDPRESS/_WOOCOMMERCE/_WP_CLI it prints skipped.
bench-store-setup: ## woocommerce-setup's first install and no-op re-run with the real WordPress/WooCommerce/WP-CLI (STOREFLEET_BENCH_*), as a table
	cd $(STORE_CHART)/tests && HELM="$$(../../../scripts/tool helm)" python3 bench_setup.py

# The chart run for real with released WordPress, WooCommerce and WP-CLI files
# the user has (docs/store-acceptance.md): skipped, exit 0, when
# STOREFLEET_ACCEPTANCE_WORDPRESS / _WOOCOMMERCE / _WP_CLI are not set, as on
# the build machines (no wordpress.org there; nothing here fetches the files).
store-acceptance: ## helm/store run for real (WordPress, WooCommerce, WP-CLI files from STOREFLEET_ACCEPTANCE_*; skipped without them): Chromium order, smoke-order, re-run, upgrade
	scripts/store-acceptance --skip-if-missing
