"""What the real-cluster tests share: the tools and the test cluster's admin
kubeconfig from the environment (set by scripts/test-deploy), and small
helpers to run kubectl and helm against it."""

import os
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHART = os.path.join(ROOT, "helm", "platform")
HELM = os.environ["HELM"]
KUBECTL = os.environ["KUBECTL"]
ADMIN = os.environ["KUBECONFIG_ADMIN"]
# The platform's namespace (docs/development.md, "Names in a cluster").
NS = "storefleet"
# The Pod Security labels create-store gives every store namespace
# (shared/kube/src/namespace.rs); the admission policy refuses any other.
POD_SECURITY_LABELS = {"pod-security.kubernetes.io/enforce": "restricted",
                       "pod-security.kubernetes.io/warn": "restricted",
                       "pod-security.kubernetes.io/audit": "restricted"}


def restricted_pod_spec():
    """A pod spec that meets Pod Security `restricted` (as every store pod does)."""
    return {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "automountServiceAccountToken": False,
            "containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                          "limits": {"memory": "64Mi"}},
                            "securityContext": {"allowPrivilegeEscalation": False,
                                                "capabilities": {"drop": ["ALL"]}}}]}


def deployment(name, pod_spec=None):
    """A Deployment whose pod template is `pod_spec` (default: restricted_pod_spec())."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": pod_spec or restricted_pod_spec()}}}


# How the functions run helm on a store (shared/kube/src/helm/process.rs):
# release records in ConfigMaps.
STORE_HELM_ENV = {"HELM_DRIVER": "configmap"}


def run(args, kubeconfig=ADMIN, stdin=None, check=True, env=None):
    r = subprocess.run(args + ["--kubeconfig", kubeconfig], input=stdin, capture_output=True, text=True,
                       env={**os.environ, **env} if env else None)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def kubectl(*args, kubeconfig=ADMIN, stdin=None, check=True):
    return run([KUBECTL, *args], kubeconfig=kubeconfig, stdin=stdin, check=check)


def sa_kubeconfig(name, namespace=NS):
    """A kubeconfig with a real token of ServiceAccount namespace/name (TokenRequest)."""
    return subprocess.run([os.path.join(ROOT, "scripts", "test-cluster"), "sa-kubeconfig", namespace, name],
                          check=True, capture_output=True, text=True).stdout.strip()


def wait_until(predicate, what, tries=100):
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")
