# Deployment: the platform chart (helm/platform), the images (functions/Dockerfile,
# dashboard/Dockerfile), skaffold and `make up` / `make down` on k3d.
# See docs/local-cluster.md and docs/production.md.

LINT_TARGETS += lint-deploy
TEST_TARGETS += test-deploy test-skaffold test-knative

DOCKER ?= docker
# Tag of the images `make images` builds.
IMAGE_TAG ?= dev
IMAGE_REGISTRY ?= dev.local/storefleet
PLATFORM_VALUES := values.yaml values-local.yaml values-prod.yaml
# kube-score checks left out, each for a reason:
#  container-image-pull-policy        images are tagged immutably; dev.local/ images loaded
#                                      into k3d must not be pulled (Always would break them)
#  deployment-has-host-podantiaffinity the dashboard spreads with topologySpreadConstraints
#                                      (soft), which also works on a one-node k3s
#  deployment-replicas                 one dashboard replica is right on a laptop;
#                                      values-prod.yaml runs two (with a PDB)
#  --ignore-container-cpu-limit        CPU requests only: limits throttle bursts while the
#                                      node idles; memory and ephemeral storage are limited
KUBE_SCORE_FLAGS := --ignore-container-cpu-limit \
  --ignore-test container-image-pull-policy \
  --ignore-test deployment-has-host-podantiaffinity \
  --ignore-test deployment-replicas \
  --exit-one-on-warning

# When LOCAL_BASES=1, build on the images made by scripts/build-base-images
# (for machines that reach no registry); otherwise the Dockerfiles' public defaults.
ifeq ($(LOCAL_BASES),1)
FUNCTION_BASE_ARGS := --build-arg RUST_IMAGE=storefleet-local/rust:local \
  --build-arg GO_IMAGE=storefleet-local/golang:local \
  --build-arg RUNTIME_IMAGE=storefleet-local/static:bookworm
DASHBOARD_BASE_ARGS := --build-arg NODE_IMAGE=storefleet-local/node:local \
  --build-arg NGINX_IMAGE=storefleet-local/nginx:bookworm
endif
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
FUNCTIONS := create-store delete-store list-stores readiness-checker

.PHONY: lint-deploy test-deploy test-skaffold test-knative images base-images test-images up down

lint-deploy: shellcheck-installed ## helm lint --strict and kube-score of helm/platform with each values file; shellcheck of the gateway entrypoint
	@helm="$$(scripts/tool helm)"; kube_score="$$(scripts/tool kube-score)"; \
	for f in $(PLATFORM_VALUES); do \
	  echo "helm lint --strict helm/platform -f $$f"; \
	  "$$helm" lint --strict helm/platform -f "helm/platform/$$f" >/dev/null || \
	    { "$$helm" lint --strict helm/platform -f "helm/platform/$$f"; exit 1; }; \
	  echo "kube-score helm/platform -f $$f"; \
	  "$$helm" template storefleet helm/platform --namespace storefleet -f "helm/platform/$$f" | \
	    "$$kube_score" score $(KUBE_SCORE_FLAGS) - ; \
	done
	shellcheck dashboard/nginx/entrypoint.sh

test-deploy: ## assertions on the platform chart's rendering and a real nginx running the production gateway
	scripts/test-deploy

test-skaffold: ## skaffold diagnose + render of skaffold.yaml (skaffold built from Go modules), dry-run on the test cluster
	scripts/test-deploy skaffold

# tests/knative-validate is a Go test program built from Knative's own modules
# (the versions of scripts/tool-versions.env); Go caches its build outside the
# repo, so only the first run compiles Knative (minutes).
test-knative: ## Knative's own admission (its webhooks' defaulting + validation, with the release's ConfigMaps) of every resource in knative/, mistakes it must refuse, and make up's Knative = the checked one
	cd tests/knative-validate && test -z "$$(gofmt -l .)" || { gofmt -d .; exit 1; }
	cd tests/knative-validate && go vet . && go test -count=1 -v . | grep -E '^(=== RUN|--- |\s+main_test|ok|FAIL|PASS)'

base-images: ## make local base images with debootstrap + docker import (no registry needed; root + Docker)
	scripts/build-base-images

images: ## build every image: dev.local/storefleet/<function>:$(IMAGE_TAG) and .../dashboard (LOCAL_BASES=1 for local bases)
	@for fn in $(FUNCTIONS); do \
	  echo "building $(IMAGE_REGISTRY)/$$fn:$(IMAGE_TAG)"; \
	  DOCKER_BUILDKIT=1 $(DOCKER) build -f functions/Dockerfile --build-arg FUNCTION=$$fn \
	    --build-arg SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(FUNCTION_BASE_ARGS) \
	    -t $(IMAGE_REGISTRY)/$$fn:$(IMAGE_TAG) . || exit 1; \
	done
	DOCKER_BUILDKIT=1 $(DOCKER) build -f dashboard/Dockerfile \
	  --build-arg SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(DASHBOARD_BASE_ARGS) \
	  -t $(IMAGE_REGISTRY)/dashboard:$(IMAGE_TAG) dashboard
	@$(DOCKER) image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' '$(IMAGE_REGISTRY)/*'

test-images: ## the built images: static, non-root, no shell, sizes; DNS in the static binary; the store lifecycle with the images as the functions (needs Docker; after make images)
	DOCKER=$(DOCKER) IMAGE_REGISTRY=$(IMAGE_REGISTRY) IMAGE_TAG=$(IMAGE_TAG) scripts/test-images

up: ## a k3d cluster with ingress-nginx, Knative and Storefleet on this laptop (needs Docker, k3d, kubectl, helm, skaffold)
	scripts/up

down: ## delete the k3d cluster `make up` made
	scripts/down
