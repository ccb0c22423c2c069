# The store chart (helm/store): lint and tests. See docs/store-chart.md.

LINT_TARGETS += lint-chart
TEST_TARGETS += test-chart

STORE_CHART := helm/store
STORE_VALUES := values.yaml values-local.yaml values-prod.yaml
# What create-store always passes (docs/development.md); the chart refuses to
# render without a store id and a host.
STORE_INTERFACE := --set storeId=abcd1234 --set-string ingress.host=abcd1234.localhost \
  --set existingSecret=store-credentials
# kube-score flags, each justified in the file (comments and blank lines dropped).
STORE_KUBE_SCORE_FLAGS = $(shell sed -e 's/\#.*//' $(STORE_CHART)/lint/kube-score.conf)

.PHONY: lint-chart test-chart

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

test-chart: ## helm/store: rendering assertions, kubeconform with the API server's schemas, install/upgrade/rollback/uninstall on the test cluster
	$(STORE_CHART)/tests/run
