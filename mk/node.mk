# The real test node (scripts/test-node): a control plane plus one real
# kubelet node in a network namespace with no route out, with CoreDNS,
# kube-proxy, local-path, kube-router's firewall, Traefik and Knative Eventing.
# See docs/test-cluster.md, "The real node".
#
# Not yet in TEST_TARGETS: it joins `make test` once its suite has passed a
# CI-like run (docs/test-cluster.md, "The real node", says what it covers).

LINT_TARGETS += lint-node

.PHONY: test-node test-node-up test-node-down node-images lint-node

lint-node: shellcheck-installed ## shellcheck of the real node's suite (tests/node/) and a syntax check of scripts/node-image
	shellcheck -x tests/node/run tests/node/check-node
	python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' scripts/node-image

node-images: ## build (or find, cached by content) the real node's images: pause, busybox, CoreDNS, Traefik, Knative Eventing
	scripts/node-images build

test-node-up: ## start the real test node (root; builds what is missing); prints its kubeconfig path
	scripts/test-node up

test-node-down: ## stop the real test node and remove every trace of it
	scripts/test-node down

test-node: ## the real node's suite: up, pods/DNS/PVC/ingress/NetworkPolicy/Knative checks on it, down leaving nothing behind
	tests/node/run
