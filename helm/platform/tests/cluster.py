"""What the real-cluster tests share: the tools and the test cluster's admin
kubeconfig from the environment (set by scripts/test-deploy), and small
helpers to run kubectl and helm against it."""

import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHART = os.path.join(ROOT, "helm", "platform")
HELM = os.environ["HELM"]
KUBECTL = os.environ["KUBECTL"]
ADMIN = os.environ["KUBECONFIG_ADMIN"]
# The platform's namespace (docs/development.md, "Names in a cluster").
NS = "storefleet"


def run(args, kubeconfig=ADMIN, stdin=None, check=True):
    r = subprocess.run(args + ["--kubeconfig", kubeconfig], input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def kubectl(*args, kubeconfig=ADMIN, stdin=None, check=True):
    return run([KUBECTL, *args], kubeconfig=kubeconfig, stdin=stdin, check=check)


def sa_kubeconfig(name, namespace=NS):
    """A kubeconfig with a real token of ServiceAccount namespace/name (TokenRequest)."""
    return subprocess.run([os.path.join(ROOT, "scripts", "test-cluster"), "sa-kubeconfig", namespace, name],
                          check=True, capture_output=True, text=True).stdout.strip()
