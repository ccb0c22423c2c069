"""What the store chart's tests share: rendering with the real helm, the
interface create-store passes (docs/development.md), and the arithmetic of
Kubernetes quantities and of a pod's share of a ResourceQuota."""

import os
import subprocess
from fractions import Fraction

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHART = os.path.join(ROOT, "helm", "store")
HELM = os.environ.get("HELM", "helm")
VALUES_FILES = ["values.yaml", "values-local.yaml", "values-prod.yaml"]
STORE_ID = "abcd1234"
SECRET_KEYS = [
    "mysql-root-password", "mysql-password", "wordpress-admin-user", "wordpress-admin-password",
    "wordpress-admin-email", "wordpress-auth-key", "wordpress-secure-auth-key", "wordpress-logged-in-key",
    "wordpress-nonce-key", "wordpress-auth-salt", "wordpress-secure-auth-salt", "wordpress-logged-in-salt",
    "wordpress-nonce-salt",
]


ADMIN_KEYS = ["wordpress-admin-user", "wordpress-admin-password", "wordpress-admin-email"]


def interface(store_id=STORE_ID, host=None, existing_secret="store-credentials", existing_admin_secret="store-admin"):
    """The arguments create-store passes (shared/kube/src/helm/mod.rs)."""
    args = ["--set", f"storeId={store_id}", "--set-string", f"ingress.host={host or store_id + '.localhost'}"]
    if existing_secret is not None:
        args += ["--set", f"existingSecret={existing_secret}"]
    if existing_admin_secret is not None:
        args += ["--set", f"existingAdminSecret={existing_admin_secret}"]
    return args


def helm_template(values_file="values.yaml", *extra, store_id=STORE_ID, existing_secret="store-credentials",
                  existing_admin_secret="store-admin", chart_dir=CHART):
    cmd = [HELM, "template", f"store-{store_id}", chart_dir, "--namespace", f"store-{store_id}",
           "-f", os.path.join(chart_dir, values_file),
           *interface(store_id, existing_secret=existing_secret, existing_admin_secret=existing_admin_secret), *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


def render(values_file="values.yaml", *extra, **kw):
    r = helm_template(values_file, *extra, **kw)
    if r.returncode != 0:
        raise AssertionError(f"helm template failed:\n{r.stderr}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    if not found:
        raise AssertionError(f"the chart renders no {kind} {name}")
    return found[0]


def workloads(docs):
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]


def containers(pod_spec):
    """(is_init, container) for every container of a pod spec."""
    return [(True, c) for c in pod_spec.get("initContainers", [])] + [(False, c) for c in pod_spec["containers"]]


SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": Fraction(1, 1000),
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def quantity(value):
    """A Kubernetes quantity as an exact number (cores, bytes, counts)."""
    s = str(value)
    for suffix, factor in SUFFIXES.items():
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            return Fraction(s[: -len(suffix)]) * factor
    return Fraction(s)


def pod_share(pod_spec, kind, resource):
    """What one pod counts against a ResourceQuota for `requests`/`limits` of
    a resource: the larger of the sum of its containers and its largest init
    container (init containers run one at a time, before the others)."""
    def amount(c):
        return quantity(c.get("resources", {}).get(kind, {}).get(resource, 0))
    regular = sum(amount(c) for c in pod_spec["containers"])
    init = max([amount(c) for c in pod_spec.get("initContainers", [])] or [0])
    return max(regular, init)


def pods_at_worst(workload):
    """How many pods of a workload can exist at once: a Deployment's replicas
    plus its surge during a rolling update; a StatefulSet replaces pods one at
    a time (delete, then create), so never more than its replicas."""
    replicas = workload["spec"].get("replicas", 1)
    if workload["kind"] == "Deployment":
        strategy = workload["spec"].get("strategy", {})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            surge = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
            if isinstance(surge, str) and surge.endswith("%"):
                surge = -(-replicas * int(surge[:-1]) // 100)
            return replicas + surge
    return replicas


def store_secret():
    """A Secret of the keys create-store writes, with fresh random values
    (shared/kube/src/secret.rs makes them the same way: letters and digits)."""
    import secrets
    import string
    alphabet = string.ascii_letters + string.digits
    value = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))  # noqa: E731
    data = {k: value(64 if "key" in k or "salt" in k else 24) for k in SECRET_KEYS}
    data["wordpress-admin-user"] = "admin-" + value(6).lower()
    data["wordpress-admin-email"] = "admin@example.com"
    return data
