"""Each function holds exactly the permissions its code uses: none missing,
none spare. Judged by the real kube-apiserver of scripts/test-cluster with
real ServiceAccount tokens.

Run by scripts/test-deploy after test_cluster (which installs the platform
chart as release `storefleet` in namespace `storefleet`).

What each function does to the Kubernetes API is listed once, below, with the
place in shared/kube/src that does it. The tests then prove three things:

1. the chart grants exactly that list (a spare or a missing verb fails);
2. every call succeeds with the function's own token (the list is enough);
3. every granted verb is needed: a copy of the role without it, bound to a
   throwaway ServiceAccount, makes the calls fail with "forbidden" (the list
   holds nothing the API server does not ask for). The copies and the
   throwaway ServiceAccounts live in a scratch namespace deleted at the end;
   the chart's own roles are never touched, so tests running at the same
   time are not disturbed.

The per-store role storefleet-store-manager is what `helm upgrade --install`,
`history`, `status`, `rollback` and `uninstall --wait --cascade foreground`
of the store chart need (shared/kube/src/helm): it is checked against the
kinds helm/store renders and by running the real helm with the functions'
tokens. The per-store role storefleet-store-reader is list-stores' only
permission: get the Secret store-admin (shared/kube/src/secret.rs
read_credentials), checked with list-stores' token to read it and to write
nothing in a store namespace.
"""

import base64
import gzip
import json
import os
import secrets
import subprocess
import unittest

import yaml

from cluster import (ADMIN, CHART, HELM, KUBECTL, NS, POD_SECURITY_LABELS, ROOT, STORE_HELM_ENV, deployment, kubectl,
                     run, sa_kubeconfig, wait_until)

# STOREFLEET_STORE_CHART_UNDER_TEST: another chart to check the role against (trying a chart).
STORE_CHART = os.environ.get("STOREFLEET_STORE_CHART_UNDER_TEST") or os.path.join(ROOT, "helm", "store")
RBAC = "rbac.authorization.k8s.io"

# What each function does outside a store namespace's RoleBinding, as
# (verb, apiGroup, resource, resourceName or None, where in the code).
CLUSTER_CALLS = {
    "create-store": [
        ("get", "", "namespaces", None, "namespace.rs apply_store_namespace: get_opt (refuse a foreign namespace)"),
        ("patch", "", "namespaces", None, "namespace.rs apply_store_namespace: server-side apply"),
        ("create", "", "namespaces", None, "server-side apply of a new object: the API server also asks for create"),
        ("patch", RBAC, "rolebindings", None,
         "rbac.rs apply_store_role_binding / apply_store_reader_binding: server-side apply"),
        ("create", RBAC, "rolebindings", None, "server-side apply of a new RoleBinding"),
        ("bind", RBAC, "clusterroles", "storefleet-store-manager",
         "a RoleBinding to a role whose permissions create-store does not hold itself"),
        ("bind", RBAC, "clusterroles", "storefleet-store-reader",
         "the reader RoleBinding (list-stores), applied before create-store holds the manager role's reads"),
        ("bind", RBAC, "clusterroles", "storefleet-store-deleter",
         "the deleter RoleBinding (delete-store): create-store holds no `update` on helm's release records"),
        ("bind", RBAC, "clusterroles", "storefleet-store-checker",
         "the checker RoleBinding (readiness-checker): create-store holds no list on pods or events"),
        ("bind", RBAC, "clusterroles", "storefleet-store-watcher",
         "the watcher RoleBinding (the ApiServerSource): create-store holds no get/list/watch on pods"),
    ],
    "delete-store": [
        ("get", "", "namespaces", None, "namespace.rs delete_store_namespace / actions.rs teardown: get_opt"),
        ("delete", "", "namespaces", None, "namespace.rs delete_store_namespace: foreground, UID precondition"),
    ],
    # The lists of its verdict come through the per-store RoleBinding
    # storefleet-store-checker (CHECKER_CALLS).
    "readiness-checker": [
        ("get", "", "namespaces", None, "namespace.rs store_namespace_state: get_opt"),
    ],
    # list-stores reads PostgreSQL; the store's Secret comes through the
    # per-store RoleBinding storefleet-store-reader (READER_CALLS).
    "list-stores": [],
}

# What list-stores does inside a store namespace (through storefleet-store-reader).
READER_CALLS = [
    ("get", "", "secrets", "store-admin", "secret.rs read_credentials (GET /api/stores/{id}/credentials)"),
]

# What readiness-checker does inside a store namespace (through storefleet-store-checker).
CHECKER_CALLS = [
    ("list", "apps", "deployments", None, "readiness/mod.rs list_observed"),
    ("list", "apps", "statefulsets", None, "readiness/mod.rs list_observed"),
    ("list", "", "pods", None, "readiness/mod.rs list_observed"),
    ("list", "", "events", None, "readiness/mod.rs list_observed (reason=FailedMount)"),
]

# What create-store does to Secrets in a store namespace itself (through
# storefleet-store-manager): create store-credentials, nothing else — no
# read, no list, no change. (create cannot be limited by resourceNames.)
MANAGER_SECRET_CALLS = [
    ("create", "", "secrets", None, "secret.rs ensure_store_secret: create, 409 keeps the existing one"),
]

# Verbs helm needs on every kind the store chart renders: get (does it
# exist?), create + patch (server-side apply), delete (uninstall), watch
# (uninstall --wait); list too, because client-go falls back to LIST + WATCH
# where the API server does not stream the initial list (WatchList).
HELM_VERBS = {"get", "list", "watch", "create", "patch", "delete"}
# Helm's release records are ConfigMaps (HELM_DRIVER=configmap), rewritten in
# place (update) when a release is superseded; ConfigMap is also a kind the
# store chart renders.
HELM_RELEASE_VERBS = HELM_VERBS | {"update"}
# Every value of a store-credentials made like create-store's (secret.rs):
# the release record must hold none of them.
CREDENTIAL_KEYS = ["mysql-root-password", "mysql-password", "wordpress-admin-password"] + [
    f"wordpress-{k}-{kind}" for k in ("auth", "secure-auth", "logged-in", "nonce") for kind in ("key", "salt")]


def store_credentials(ns):
    """store-credentials and store-admin like create-store's (secret.rs), with
    fresh random values; returns the secret ones."""
    values = {k: secrets.token_urlsafe(24) for k in CREDENTIAL_KEYS}
    admin = {"wordpress-admin-user": "admin", "wordpress-admin-email": "owner@example.com",
             "wordpress-admin-password": values["wordpress-admin-password"]}
    for name, data in [("store-credentials", {k: v for k, v in values.items() if k not in admin}),
                       ("store-admin", admin)]:
        kubectl("-n", ns, "create", "secret", "generic", name, *[f"--from-literal={k}={v}" for k, v in data.items()])
    return values


def release_records(ns):
    """helm's release records in `ns`, decoded: {name: (kind, decoded JSON text, raw stored text)}."""
    out = {}
    for kind in ("configmaps", "secrets"):
        items = json.loads(kubectl("-n", ns, "get", kind, "-l", "owner=helm", "-o", "json").stdout)["items"]
        for item in items:
            raw = item["data"]["release"]
            encoded = base64.b64decode(raw).decode() if kind == "secrets" else raw
            out[item["metadata"]["name"]] = (kind, gzip.decompress(base64.b64decode(encoded)).decode(), raw)
    return out


def rendered(kind, name):
    out = subprocess.run([HELM, "template", "storefleet", CHART, "--namespace", NS,
                          "-f", os.path.join(CHART, "values-local.yaml")],
                         check=True, capture_output=True, text=True).stdout
    for d in yaml.safe_load_all(out):
        if d and d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError(f"the platform chart renders no {kind} {name}")


def triples(rules):
    """Expand RBAC rules into (verb, group, resource, resourceName or None)."""
    out = set()
    for rule in rules:
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                for v in rule["verbs"]:
                    for n in rule.get("resourceNames") or [None]:
                        out.add((v, g, r, n))
    return out


def without(rules, drop):
    """The rules minus the triples in `drop`, one rule per (group, resource, name)."""
    kept = {}
    for v, g, r, n in triples(rules) - set(drop):
        kept.setdefault((g, r, n), []).append(v)
    out = []
    for (g, r, n), verbs in sorted(kept.items(), key=str):
        rule = {"apiGroups": [g], "resources": [r], "verbs": sorted(verbs)}
        if n:
            rule["resourceNames"] = [n]
        out.append(rule)
    return out


def store_namespace(store_id):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": f"store-{store_id}",
                         "labels": {"app.kubernetes.io/managed-by": "storefleet",
                                    "storefleet.io/store-id": store_id, **POD_SECURITY_LABELS}}}


def role_binding(namespace, subjects, role="storefleet-store-manager", name=None):
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
            "metadata": {"name": name or role, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": ns} for ns, n in subjects]}


def apply(obj, kubeconfig=ADMIN, check=True):
    return kubectl("apply", "--server-side", "--field-manager=storefleet", "--force-conflicts", "-f", "-",
                   kubeconfig=kubeconfig, stdin=json.dumps(obj), check=check)


def config_subjects(key):
    """A subject list of the chart's ConfigMap as (namespace, name) pairs."""
    value = rendered("ConfigMap", "storefleet-config")["data"][key]
    return [tuple(item.split("/", 1)) for item in value.split(",") if item]


# The subjects of the per-store bindings as the chart configures create-store.
READERS = config_subjects("STOREFLEET_STORE_READER_SUBJECTS")
DELETERS = config_subjects("STOREFLEET_STORE_DELETER_SUBJECTS")
CHECKERS = config_subjects("STOREFLEET_STORE_CHECKER_SUBJECTS")
WATCHERS = config_subjects("STOREFLEET_STORE_WATCHER_SUBJECTS")


def forbidden(r):
    return r.returncode != 0 and "forbidden" in r.stderr


def can_i(kubeconfig, verb, group, resource, name=None, namespace=None):
    res = f"{resource}.{group}" if group else resource
    if name:
        res += f"/{name}"
    args = ["auth", "can-i", verb, res] + (["-n", namespace] if namespace else [])
    return kubectl(*args, kubeconfig=kubeconfig, check=False).stdout.strip() == "yes"


class Scratch:
    """A namespace for throwaway ServiceAccounts bound to copies of the roles."""

    def __init__(self):
        self.suffix = secrets.token_hex(3)
        self.ns = f"rbac-probe-{self.suffix}"
        self.cluster_objects = []
        kubectl("create", "namespace", self.ns)

    def principal(self, name, cluster_rules=None):
        """A ServiceAccount holding `cluster_rules` cluster-wide; returns its kubeconfig."""
        kubectl("-n", self.ns, "create", "serviceaccount", name)
        if cluster_rules is not None:
            self.grant(name, cluster_rules)
        return sa_kubeconfig(name, self.ns)

    def role(self, name, rules):
        """A copy of a role under a throwaway name (bound by the caller)."""
        role = f"{self.ns}-{name}"
        apply({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": role}, "rules": rules})
        self.cluster_objects.append(("clusterrole", role))
        return role

    def grant(self, name, rules):
        role = self.role(name, rules)
        apply({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role},
               "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": self.ns}]})
        self.cluster_objects.append(("clusterrolebinding", role))
        return role

    def cleanup(self):
        for kind, name in self.cluster_objects:
            kubectl("delete", kind, name, "--ignore-not-found", check=False)
        kubectl("delete", "namespace", self.ns, "--ignore-not-found", "--wait=false", check=False)


def new_store_id(prefix):
    return prefix + secrets.token_hex(4)[: 8 - len(prefix)]


def bound_store(test, prefix, deleters=()):
    """A store namespace (deleted when `test` ends) with create-store's manager
    binding and, given `deleters`, the deleter binding, as create-store makes them."""
    store_id = new_store_id(prefix)
    ns = f"store-{store_id}"
    test.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
    apply(store_namespace(store_id))
    apply(role_binding(ns, [(NS, "create-store")]))
    if deleters:
        apply(role_binding(ns, deleters, role="storefleet-store-deleter"))
    return store_id, ns


class CallsOfEachFunction:
    """The calls of CLUSTER_CALLS, performed as a given principal, in code order."""

    @staticmethod
    def create_store(kubeconfig, store_id, subjects, readers=READERS, deleters=DELETERS, checkers=CHECKERS,
                     watchers=WATCHERS):
        ns = f"store-{store_id}"
        yield "get namespace", kubectl("get", "namespace", ns, "--ignore-not-found", kubeconfig=kubeconfig,
                                       check=False)
        yield "apply namespace (create)", apply(store_namespace(store_id), kubeconfig, check=False)
        yield "apply namespace (patch)", apply(store_namespace(store_id), kubeconfig, check=False)
        yield "apply rolebinding", apply(role_binding(ns, subjects), kubeconfig, check=False)
        yield "apply reader rolebinding", apply(role_binding(ns, readers, role="storefleet-store-reader"),
                                                kubeconfig, check=False)
        yield "apply deleter rolebinding", apply(role_binding(ns, deleters, role="storefleet-store-deleter"),
                                                 kubeconfig, check=False)
        yield "apply checker rolebinding", apply(role_binding(ns, checkers, role="storefleet-store-checker"),
                                                 kubeconfig, check=False)
        yield "apply watcher rolebinding", apply(role_binding(ns, watchers, role="storefleet-store-watcher"),
                                                 kubeconfig, check=False)

    @staticmethod
    def delete_store(kubeconfig, store_id):
        ns = f"store-{store_id}"
        yield "get namespace", kubectl("get", "namespace", ns, kubeconfig=kubeconfig, check=False)
        yield "delete namespace", kubectl("delete", "namespace", ns, "--wait=false", kubeconfig=kubeconfig,
                                          check=False)

    @staticmethod
    def readiness_checker(kubeconfig, store_id):
        ns = f"store-{store_id}"
        yield "get namespace", kubectl("get", "namespace", ns, kubeconfig=kubeconfig, check=False)

    @staticmethod
    def readiness_checker_in_store(kubeconfig, ns):
        """What readiness-checker reads in a store namespace (CHECKER_CALLS)."""
        for res in ("deployments.apps", "statefulsets.apps", "pods"):
            yield f"list {res}", kubectl("-n", ns, "get", res, kubeconfig=kubeconfig, check=False)
        yield "list events", kubectl("-n", ns, "get", "events", "--field-selector", "reason=FailedMount",
                                     kubeconfig=kubeconfig, check=False)


class FunctionRoles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = Scratch()
        cls.real = {f: sa_kubeconfig(f) for f in CLUSTER_CALLS}
        cls.roles = {f: rendered("ClusterRole", f"storefleet-{f}")["rules"]
                     for f in CLUSTER_CALLS if f != "list-stores"}

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def calls(self, function, kubeconfig, store_id, subjects):
        if function == "create-store":
            return CallsOfEachFunction.create_store(kubeconfig, store_id, subjects)
        if function == "delete-store":
            return CallsOfEachFunction.delete_store(kubeconfig, store_id)
        return CallsOfEachFunction.readiness_checker(kubeconfig, store_id)

    def test_1_the_chart_grants_exactly_what_the_code_calls(self):
        for function, calls in CLUSTER_CALLS.items():
            with self.subTest(function=function):
                used = {(v, g, r, n) for v, g, r, n, _ in calls}
                if function == "list-stores":
                    crbs = kubectl("get", "clusterrolebindings", "-o", "json").stdout
                    bound = [b["metadata"]["name"] for b in json.loads(crbs)["items"]
                             if any(s.get("name") == "list-stores" and s.get("namespace") == NS
                                    for s in b.get("subjects") or [])]
                    self.assertEqual(bound, [], "list-stores needs no cluster-wide permission")
                    continue
                granted = triples(self.roles[function])
                self.assertEqual(sorted(granted - used, key=str), [], f"{function}: granted but never used")
                self.assertEqual(sorted(used - granted, key=str), [], f"{function}: used but not granted")

    def test_2_every_call_succeeds_with_the_functions_own_token(self):
        store_id = new_store_id("r")
        subjects = [(NS, "create-store")]
        try:
            for fn in ("create-store", "readiness-checker", "delete-store"):
                for what, r in self.calls(fn, self.real[fn], store_id, subjects):
                    self.assertEqual(r.returncode, 0, f"{fn}: {what}: {r.stderr}")
                if fn == "create-store":
                    wait_until(lambda: can_i(self.real["readiness-checker"], "list", "", "pods",
                                             namespace=f"store-{store_id}"), "the checker binding takes effect")
                    for what, r in CallsOfEachFunction.readiness_checker_in_store(
                            self.real["readiness-checker"], f"store-{store_id}"):
                        self.assertEqual(r.returncode, 0, f"readiness-checker: {what}: {r.stderr}")
        finally:
            kubectl("delete", "namespace", f"store-{store_id}", "--ignore-not-found", "--wait=false", check=False)

    def test_3_every_granted_verb_is_needed(self):
        for function, rules in self.roles.items():
            for triple in sorted(triples(rules), key=str):
                with self.subTest(function=function, permission=triple):
                    self.assert_needed(function, rules, triple)

    def assert_needed(self, function, rules, triple):
        verb, group, resource, name = triple
        who = f"{function[:6]}-{verb}-{resource[:8]}-{secrets.token_hex(2)}"
        kc = self.scratch.principal(who, without(rules, [triple]))
        wait_until(lambda: not can_i(kc, verb, group, resource, name), f"{who} lost {triple}")
        store_id = new_store_id("p")
        ns = f"store-{store_id}"
        # delete-store and readiness-checker act on a namespace that exists.
        if function != "create-store":
            apply(store_namespace(store_id))
        try:
            subjects = [(NS, "create-store")]
            refused = [what for what, r in self.calls(function, kc, store_id, subjects) if forbidden(r)]
            self.assertTrue(refused, f"{function} works without {triple}: the permission is spare")
        finally:
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)

    def test_4_create_store_needs_the_binding_before_writing_the_secret(self):
        # create-store holds no Secret permission of its own: it may write the
        # store's Secret only once the namespace's RoleBinding exists, so the
        # provision sequence must apply the binding before ensure_store_secret.
        store_id = new_store_id("o")
        ns = f"store-{store_id}"
        kc = self.real["create-store"]
        try:
            self.assertEqual(apply(store_namespace(store_id), kc, check=False).returncode, 0)
            self.assertFalse(can_i(kc, "create", "", "secrets", namespace=ns),
                             "create-store can write Secrets without the per-store binding")
            r = apply(role_binding(ns, [(NS, "create-store")]), kc, check=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            wait_until(lambda: can_i(kc, "create", "", "secrets", namespace=ns), "the binding takes effect")
        finally:
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)


class StoreReaderRole(unittest.TestCase):
    """storefleet-store-reader: list-stores reads store-admin (the admin login) with its own
    token, through the binding create-store makes, and can do nothing else in
    a store namespace."""

    @classmethod
    def setUpClass(cls):
        cls.rules = rendered("ClusterRole", "storefleet-store-reader")["rules"]
        cls.scratch = Scratch()
        cls.create = sa_kubeconfig("create-store")
        cls.list = sa_kubeconfig("list-stores")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def store(self, prefix):
        """A store namespace with its bindings made by create-store's own token
        (the chart's subjects), and the Secrets store-credentials and store-admin."""
        store_id = new_store_id(prefix)
        ns = f"store-{store_id}"
        self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
        for _, r in CallsOfEachFunction.create_store(
                self.create, store_id, config_subjects("STOREFLEET_STORE_MANAGER_SUBJECTS")):
            self.assertEqual(r.returncode, 0, r.stderr)
        # The two Secrets create-store writes (secret.rs): the admin login
        # apart from MySQL's passwords and the salts.
        store_credentials(ns)
        return ns

    def test_1_it_grants_exactly_what_list_stores_reads(self):
        self.assertIn((NS, "list-stores"), READERS, "the chart binds list-stores read-only")
        self.assertNotIn((NS, "list-stores"), config_subjects("STOREFLEET_STORE_MANAGER_SUBJECTS"),
                         "list-stores must not hold the per-store manager role")
        used = {(v, g, r, n) for v, g, r, n, _ in READER_CALLS}
        self.assertEqual(triples(self.rules), used)

    def test_2_list_stores_reads_store_credentials_and_writes_nothing(self):
        ns = self.store("l")
        kubectl("-n", ns, "create", "secret", "generic", "sh.helm.release.v1.store-x.v1",
                "--from-literal=release=not-for-list-stores")
        kubectl("-n", ns, "apply", "-f", "-", stdin=json.dumps(deployment("web")))
        wait_until(lambda: can_i(self.list, "get", "", "secrets", "store-admin", ns),
                   "the reader binding takes effect")
        r = kubectl("-n", ns, "get", "secret", "store-admin", "-o", "name", kubeconfig=self.list,
                    check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        label = '{"metadata":{"labels":{"written-by":"list-stores"}}}'
        calls = [
            ("get store-credentials (MySQL's passwords, the salts)", ["get", "secret", "store-credentials"]),
            ("get another Secret", ["get", "secret", "sh.helm.release.v1.store-x.v1"]),
            ("list Secrets", ["get", "secrets"]),
            ("create a Secret", ["create", "secret", "generic", "by-list-stores", "--from-literal=x=y"]),
            ("patch store-admin", ["patch", "secret", "store-admin", "--type=merge", "-p", label]),
            ("delete store-admin", ["delete", "secret", "store-admin", "--wait=false"]),
            ("create a Deployment", ["create", "deployment", "by-list-stores",
                                     "--image=registry.k8s.io/pause:3.10"]),
            ("patch a Deployment", ["patch", "deployment", "web", "--type=merge", "-p", label]),
            ("delete a Deployment", ["delete", "deployment", "web", "--wait=false"]),
        ]
        for what, args in calls:
            with self.subTest(call=what):
                r = kubectl("-n", ns, *args, kubeconfig=self.list, check=False)
                self.assertTrue(forbidden(r), f"list-stores may {what} in {ns}: {r.stdout}{r.stderr}")
        for verb, group, resource in [("create", "", "secrets"), ("patch", "", "secrets"),
                                      ("update", "", "secrets"), ("delete", "", "secrets"),
                                      ("create", "apps", "deployments"), ("patch", "apps", "deployments"),
                                      ("update", "apps", "deployments"), ("delete", "apps", "deployments")]:
            self.assertFalse(can_i(self.list, verb, group, resource, namespace=ns),
                             f"list-stores may {verb} {resource} in {ns}")

    def test_3_its_one_permission_is_needed(self):
        ns = self.store("n")
        # A copy of the role bound like the real one works (control) ...
        name = f"reader-full-{secrets.token_hex(2)}"
        full = self.scratch.principal(name)
        role = self.scratch.role(name, self.rules)
        apply(role_binding(ns, [(self.scratch.ns, name)], role=role, name=name))
        wait_until(lambda: can_i(full, "get", "", "secrets", "store-admin", ns), "the copy takes effect")
        r = kubectl("-n", ns, "get", "secret", "store-admin", kubeconfig=full, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        # ... and one without the get cannot read the Secret.
        for triple in sorted(triples(self.rules), key=str):
            with self.subTest(permission=triple):
                who = f"reader-no-{triple[0]}-{secrets.token_hex(2)}"
                kc = self.scratch.principal(who)
                role = self.scratch.role(who, without(self.rules, [triple]))
                apply(role_binding(ns, [(self.scratch.ns, who)], role=role, name=who))
                r = kubectl("-n", ns, "get", "secret", "store-admin", kubeconfig=kc, check=False)
                self.assertTrue(forbidden(r), f"list-stores reads store-admin without {triple}: spare")

    def test_4_a_store_from_before_the_split_gets_its_store_admin(self):
        # An old store: one store-credentials with every key, no store-admin.
        store_id = new_store_id("s")
        ns = f"store-{store_id}"
        self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
        for _, r in CallsOfEachFunction.create_store(
                self.create, store_id, config_subjects("STOREFLEET_STORE_MANAGER_SUBJECTS")):
            self.assertEqual(r.returncode, 0, r.stderr)
        password = secrets.token_urlsafe(24)
        kubectl("-n", ns, "create", "secret", "generic", "store-credentials", "--from-literal=wordpress-admin-user=admin",
                f"--from-literal=wordpress-admin-password={password}", "--from-literal=wordpress-admin-email=o@example.com",
                "--from-literal=mysql-root-password=not-for-list-stores")
        wait_until(lambda: can_i(self.list, "get", "", "secrets", "store-admin", ns), "the reader binding takes effect")
        r = kubectl("-n", ns, "get", "secret", "store-admin", kubeconfig=self.list, check=False)
        self.assertIn("NotFound", r.stderr, "before the split there is nothing list-stores may read")
        script = os.path.join(ROOT, "scripts", "split-store-credentials")
        env = {**os.environ, "KUBECTL": KUBECTL, "KUBECONFIG": ADMIN}
        dry = subprocess.run([script, "--dry-run"], capture_output=True, text=True, env=env)
        self.assertIn(f"would create {ns}/store-admin", dry.stderr)
        r = subprocess.run([script], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"created {ns}/store-admin", r.stderr)
        admin = json.loads(kubectl("-n", ns, "get", "secret", "store-admin", "-o", "json",
                                   kubeconfig=self.list).stdout)
        data = {k: base64.b64decode(v).decode() for k, v in admin["data"].items()}
        self.assertEqual(data, {"wordpress-admin-user": "admin", "wordpress-admin-password": password,
                                "wordpress-admin-email": "o@example.com"})
        self.assertEqual(admin["metadata"]["labels"], {"app.kubernetes.io/managed-by": "storefleet",
                                                       "storefleet.io/store-id": store_id})
        again = subprocess.run([script], capture_output=True, text=True, env=env)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertNotIn(ns, again.stderr, "a store with store-admin is left alone")


def store_chart_kinds():
    kinds = set()
    for values in ("values-local.yaml", "values-prod.yaml"):
        out = subprocess.run([HELM, "template", "store-abcd1234", STORE_CHART, "--namespace", "store-abcd1234",
                              "-f", os.path.join(STORE_CHART, values), "--set", "storeId=abcd1234",
                              "--set-string", "ingress.host=abcd1234.example.com",
                              "--set", "existingSecret=store-credentials", "--set", "existingAdminSecret=store-admin"],
                             check=True, capture_output=True, text=True).stdout
        for d in yaml.safe_load_all(out):
            if d:
                group = d["apiVersion"].rpartition("/")[0]
                kinds.add((group, d["kind"]))
    return kinds


# kind -> resource, for the kinds a store chart may render.
RESOURCES = {
    "Secret": "secrets", "ConfigMap": "configmaps", "Service": "services",
    "PersistentVolumeClaim": "persistentvolumeclaims", "ServiceAccount": "serviceaccounts",
    "ResourceQuota": "resourcequotas", "LimitRange": "limitranges", "Deployment": "deployments",
    "StatefulSet": "statefulsets", "Job": "jobs", "CronJob": "cronjobs", "Ingress": "ingresses",
    "NetworkPolicy": "networkpolicies", "PodDisruptionBudget": "poddisruptionbudgets",
    "Role": "roles", "RoleBinding": "rolebindings", "Namespace": "namespaces",
}


@unittest.skipUnless(os.path.isfile(os.path.join(STORE_CHART, "Chart.yaml")),
                     "helm/store is not in the tree: the per-store role cannot be checked against it")
class StoreManagerRole(unittest.TestCase):
    """storefleet-store-manager against the store chart and the real helm."""

    @classmethod
    def setUpClass(cls):
        cls.rules = rendered("ClusterRole", "storefleet-store-manager")["rules"]
        cls.scratch = Scratch()
        cls.create = sa_kubeconfig("create-store")
        cls.delete = sa_kubeconfig("delete-store")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_1_it_grants_helm_exactly_the_kinds_the_store_chart_renders(self):
        kinds = store_chart_kinds()
        self.assertNotIn(("", "Namespace"), kinds, "the namespace is create-store's, never helm's")
        unknown = {k for _, k in kinds} - set(RESOURCES)
        self.assertFalse(unknown, f"add these kinds to RESOURCES and to the role: {unknown}")
        self.assertNotIn(("", "Secret"), kinds, "with existingSecret the store chart renders no Secret")
        wanted = {(g, RESOURCES[k]) for g, k in kinds} | {("", "configmaps")}
        expected = {(v, g, r, None) for g, r in wanted
                    for v in (HELM_RELEASE_VERBS if r == "configmaps" else HELM_VERBS)}
        expected |= {(v, g, r, n) for v, g, r, n, _ in MANAGER_SECRET_CALLS}
        granted = triples(self.rules)
        self.assertEqual(sorted(granted - expected, key=str), [], "granted but helm/store never needs it")
        self.assertEqual(sorted(expected - granted, key=str), [], "helm needs it for helm/store")

    def helm_sequence(self, create_kc, delete_kc, store_id, debug=False, records=None):
        """The helm runs of shared/kube/src/helm, in order. Returns the first
        step that failed (None if all passed) and everything helm printed:
        a refusal may surface one step late (an install whose last write was
        refused leaves the release pending, and the upgrade after it says so)."""
        ns, release = f"store-{store_id}", f"store-{store_id}"
        values = ["-f", os.path.join(STORE_CHART, "values-local.yaml"), "--set", f"storeId={store_id}",
                  "--set-string", f"ingress.host={store_id}.localhost", "--set", "existingSecret=store-credentials", "--set", "existingAdminSecret=store-admin"]
        steps = [
            ("history", create_kc, ["history", release, "--max", "1", "-o", "json"], "not found"),
            ("upgrade --install", create_kc, ["upgrade", "--install", release, STORE_CHART, *values,
                                              "--timeout", "2m"], None),
            ("upgrade", create_kc, ["upgrade", "--install", release, STORE_CHART, *values,
                                    "--set-string", "store.title=Second revision", "--timeout", "2m"], None),
            ("status", create_kc, ["status", release, "-o", "json"], None),
            ("rollback", create_kc, ["rollback", release, "--timeout", "2m"], None),
            ("uninstall", delete_kc, ["uninstall", release, "--wait", "--cascade", "foreground",
                                      "--timeout", "2m"], None),
        ]
        printed = ""
        for step, kc, args, tolerated in steps:
            if step == "uninstall" and records:
                records(ns)
            r = run([HELM, *args, "--namespace", ns] + (["--debug"] if debug else []), kubeconfig=kc, check=False,
                    env=STORE_HELM_ENV)
            printed += f"--- helm {step}\n{r.stdout}{r.stderr}"
            if r.returncode != 0 and not (tolerated and tolerated in r.stderr):
                return step, printed
        return None, printed

    def prepare_store(self, store_id, subjects, role="storefleet-store-manager", deleters=()):
        ns = f"store-{store_id}"
        apply(store_namespace(store_id))
        apply(role_binding(ns, subjects, role=role))
        if deleters:
            apply(role_binding(ns, deleters, role="storefleet-store-deleter"))
        self.credentials = store_credentials(ns)
        return ns

    def test_2_helm_works_with_the_functions_own_tokens(self):
        store_id = new_store_id("h")
        ns = self.prepare_store(store_id, [(NS, "create-store")], deleters=[(NS, "delete-store")])
        try:
            wait_until(lambda: can_i(self.create, "create", "apps", "deployments", namespace=ns)
                       and can_i(self.delete, "delete", "apps", "deployments", namespace=ns),
                       "the bindings take effect")
            step, printed = self.helm_sequence(self.create, self.delete, store_id, records=self.no_secret_in_records)
            self.assertIsNone(step, f"helm {step} failed with the functions' tokens:\n{printed[-3000:]}")
            self.assertEqual(self.records_seen, 3, "install, upgrade and rollback each wrote a record")
        finally:
            run([HELM, "uninstall", f"store-{store_id}", "--namespace", ns, "--wait"], check=False, env=STORE_HELM_ENV)
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)

    def no_secret_in_records(self, ns):
        """helm's release records are ConfigMaps and hold no value of store-credentials
        (issue 11, item 5: the functions need no access to Secrets)."""
        records = release_records(ns)
        self.assertTrue(records, "helm wrote no release record")
        for name, (kind, decoded, raw) in records.items():
            self.assertEqual(kind, "configmaps", f"{name} is a {kind[:-1]}: helm ran with the Secret driver")
            for key, value in self.credentials.items():
                self.assertNotIn(value, decoded, f"{name} holds the value of {key}")
                self.assertNotIn(value, raw, f"{name} holds the value of {key}")
            self.assertIn('"existingSecret":"store-credentials"', decoded.replace(" ", ""))
        self.records_seen = len(records)

    def test_4_create_store_creates_its_secret_and_reads_none(self):
        _, ns = bound_store(self, "k")
        kubectl("-n", ns, "create", "secret", "generic", "planted", "--from-literal=k=v")
        wait_until(lambda: can_i(self.create, "create", "", "secrets", namespace=ns), "the binding takes effect")
        r = kubectl("-n", ns, "create", "secret", "generic", "store-credentials", "--from-literal=k=v",
                    kubeconfig=self.create, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        for what, args in [("get", ["get", "secret", "planted"]), ("get its own", ["get", "secret", "store-credentials"]),
                           ("list", ["get", "secrets"]), ("watch", ["get", "secrets", "--watch-only", "--request-timeout=2s"]),
                           ("patch", ["patch", "secret", "planted", "--type=merge", "-p", '{"data":{"k":"eA=="}}']),
                           ("delete", ["delete", "secret", "planted", "--wait=false"])]:
            with self.subTest(call=what):
                r = kubectl("-n", ns, *args, kubeconfig=self.create, check=False)
                self.assertTrue(forbidden(r), f"create-store may {what} Secrets in {ns}: {r.stdout}{r.stderr}")
        self.assertFalse(can_i(self.create, "update", "", "secrets", "planted", ns))
        self.assertEqual({t for t in triples(self.rules) if t[2] == "secrets"},
                         {(v, g, r, n) for v, g, r, n, _ in MANAGER_SECRET_CALLS})
        # ... and the create is needed: a copy of the role without it cannot write store-credentials.
        who = f"mgr-no-secret-{secrets.token_hex(2)}"
        kc = self.scratch.principal(who)
        role = self.scratch.role(who, without(self.rules, [t[:4] for t in MANAGER_SECRET_CALLS]))
        apply(role_binding(ns, [(self.scratch.ns, who)], role=role, name=who))
        wait_until(lambda: can_i(kc, "create", "apps", "deployments", namespace=ns), "the copy takes effect")
        r = kubectl("-n", ns, "create", "secret", "generic", "by-copy", "--from-literal=k=v", kubeconfig=kc, check=False)
        self.assertTrue(forbidden(r), f"the role works without create on secrets: {r.stderr}")

    def test_3_every_verb_is_needed_by_helm(self):
        verbs = {v for v, _, _, _ in triples(self.rules)}
        for verb in sorted(verbs):
            with self.subTest(verb=verb):
                drop = [t for t in triples(self.rules) if t[0] == verb]
                who = f"helm-no-{verb}-{secrets.token_hex(2)}"
                kept = without(self.rules, drop)
                kc = self.scratch.principal(who)
                # The copy is bound in the store namespace only, as the real role is.
                role = self.scratch.role(who, kept)
                store_id = new_store_id("v")
                ns = self.prepare_store(store_id, [(self.scratch.ns, who)], role=role)
                probe = sorted(triples(kept), key=str)[0]
                try:
                    wait_until(lambda: can_i(kc, probe[0], probe[1], probe[2], namespace=ns),
                               "the copy's binding takes effect")
                    step, printed = self.helm_sequence(kc, kc, store_id, debug=True)
                    self.assertIsNotNone(step, f"helm works without '{verb}': the verb is spare")
                    self.assertRegex(printed, rf"forbidden: .* cannot {verb} resource",
                                     f"helm {step} failed, but not because '{verb}' was refused:\n{printed[-3000:]}")
                finally:
                    run([HELM, "uninstall", f"store-{store_id}", "--namespace", ns, "--wait"], check=False,
                        env=STORE_HELM_ENV)
                    kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)



# What `helm uninstall --wait --cascade foreground` needs on each kind the
# store chart renders: get it (without, helm answers 0 and leaves it), delete
# it, and watch it until it is gone.
UNINSTALL_VERBS = {"get", "watch", "delete"}
# On helm's release records (ConfigMaps, also a kind of the chart): list them
# by label (the revisions), get and delete each. (helm also updates the
# record to `uninstalling` first, but only logs a refusal: test_3 found
# `update` spare.) No verb on Secrets: the namespace delete removes them.
UNINSTALL_RELEASE_VERBS = UNINSTALL_VERBS | {"list"}
# helm's --wait watches the chart's ConfigMap only when it has not gone by
# the time the wait starts: uninstall failed with "cannot watch configmaps"
# in one run and passed without the verb in another. A race cannot prove a
# verb spare or needed, so test_3 does not drop it (watch is proven on the
# other kinds, where helm always waits).
RACY_DROPS = {"watch on configmaps"}


@unittest.skipUnless(os.path.isfile(os.path.join(STORE_CHART, "Chart.yaml")),
                     "helm/store is not in the tree: the per-store role cannot be checked against it")
class StoreDeleterRole(unittest.TestCase):
    """storefleet-store-deleter: delete-store's only per-store role, exactly
    what the real `helm uninstall` of the store chart needs (issue 11, item 4)."""

    @classmethod
    def setUpClass(cls):
        cls.rules = rendered("ClusterRole", "storefleet-store-deleter")["rules"]
        cls.scratch = Scratch()
        cls.delete = sa_kubeconfig("delete-store")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def installed_store(self, prefix, deleters, role="storefleet-store-deleter"):
        """A store installed by helm as the cluster admin, and a deleter
        binding of `role` to `deleters`."""
        store_id = new_store_id(prefix)
        ns = f"store-{store_id}"
        self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
        self.addCleanup(run, [HELM, "uninstall", f"store-{store_id}", "--namespace", ns, "--wait"], check=False,
                        env=STORE_HELM_ENV)
        apply(store_namespace(store_id))
        apply(role_binding(ns, deleters, role=role, name="storefleet-store-deleter"))
        store_credentials(ns)
        run([HELM, "upgrade", "--install", f"store-{store_id}", STORE_CHART, "--namespace", ns,
             "-f", os.path.join(STORE_CHART, "values-local.yaml"), "--set", f"storeId={store_id}",
             "--set-string", f"ingress.host={store_id}.localhost", "--set", "existingSecret=store-credentials", "--set", "existingAdminSecret=store-admin",
             "--timeout", "2m"], env=STORE_HELM_ENV)
        return store_id, ns

    def uninstall(self, kubeconfig, store_id, timeout="2m"):
        return run([HELM, "uninstall", f"store-{store_id}", "--namespace", f"store-{store_id}", "--wait",
                    "--cascade", "foreground", "--timeout", timeout, "--debug"], kubeconfig=kubeconfig, check=False,
                   env=STORE_HELM_ENV)

    def test_1_it_grants_exactly_what_uninstall_needs_on_the_store_chart_kinds(self):
        self.assertEqual(DELETERS, [(NS, "delete-store")])
        self.assertNotIn((NS, "delete-store"), config_subjects("STOREFLEET_STORE_MANAGER_SUBJECTS"),
                         "delete-store must not hold the per-store manager role")
        kinds = {(g, RESOURCES[k]) for g, k in store_chart_kinds()} | {("", "configmaps")}
        expected = {(v, g, r, None) for g, r in kinds
                    for v in (UNINSTALL_RELEASE_VERBS if r == "configmaps" else UNINSTALL_VERBS)}
        granted = triples(self.rules)
        self.assertEqual(sorted(granted - expected, key=str), [], "granted but helm uninstall never needs it")
        self.assertEqual(sorted(expected - granted, key=str), [], "helm uninstall needs it")
        self.assertFalse({v for v, _, _, _ in granted} & {"create", "patch"}, "the deleter writes nothing new")

    def test_2_delete_store_uninstalls_with_its_own_token_and_can_write_nothing(self):
        store_id, ns = self.installed_store("d", [(NS, "delete-store")])
        wait_until(lambda: can_i(self.delete, "delete", "apps", "deployments", namespace=ns),
                   "the binding takes effect")
        for verb, group, resource in [("create", "apps", "deployments"), ("patch", "apps", "deployments"),
                                      ("update", "apps", "deployments"), ("create", "", "secrets"),
                                      ("patch", "", "secrets"), ("get", "", "secrets"), ("list", "", "secrets"),
                                      ("delete", "", "secrets"), ("create", "", "pods"),
                                      ("patch", "", "resourcequotas"), ("create", "networking.k8s.io", "ingresses"),
                                      ("patch", "networking.k8s.io", "networkpolicies"),
                                      ("create", RBAC, "rolebindings")]:
            self.assertFalse(can_i(self.delete, verb, group, resource, namespace=ns),
                             f"delete-store may {verb} {resource} in {ns}")
        r = self.uninstall(self.delete, store_id)
        self.assertEqual(r.returncode, 0, f"helm uninstall with delete-store's token:\n{r.stderr[-3000:]}")
        kinds = "deployments,statefulsets,services,ingresses,secrets"
        # create-store's Secrets: not the release's, removed with the namespace.
        KEPT = ["secret/store-admin", "secret/store-credentials"]
        # helm may return while a Deployment deleted with --cascade foreground
        # still waits for the garbage collector to remove its ReplicaSets and
        # pods (seen in a CI-like run; delete-store deletes the namespace next
        # anyway). What is left must be on its way out — deleted by this
        # uninstall, with a deletionTimestamp — and gone soon after.
        terminating = kubectl("-n", ns, "get", kinds, "-o",
                              "jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{'\\n'}{end}").stdout
        for line in terminating.splitlines():
            name, _, deleted_at = line.partition(" ")
            if name not in ("store-admin", "store-credentials"):
                self.assertTrue(deleted_at.strip(), f"uninstall did not delete {name}")
        def left():
            return kubectl("-n", ns, "get", kinds, "-o", "name").stdout.split()
        try:
            wait_until(lambda: left() == KEPT, "the deleted objects are gone", tries=600)
        except AssertionError:
            self.assertEqual(left(), KEPT, "uninstall left objects (or release records)")

    def test_3_every_verb_is_needed_by_uninstall(self):
        # Each verb dropped on its own, from ConfigMaps (helm's release records
        # and a chart kind) and from the chart's other kinds separately (they
        # are needed for different reasons).
        drops = []
        for verb in sorted({v for v, _, _, _ in triples(self.rules)}):
            records_part = [t for t in triples(self.rules) if t[0] == verb and t[2] == "configmaps"]
            kinds_part = [t for t in triples(self.rules) if t[0] == verb and t[2] != "configmaps"]
            drops += [(f"{verb} on configmaps", verb, part) for part in [records_part]
                      if part and f"{verb} on configmaps" not in RACY_DROPS]
            drops += [(f"{verb} on the chart's kinds", verb, part) for part in [kinds_part] if part]
        for what, verb, drop in drops:
            with self.subTest(dropped=what):
                who = f"del-no-{verb}-{secrets.token_hex(2)}"
                kept = without(self.rules, drop)
                kc = self.scratch.principal(who)
                role = self.scratch.role(who, kept)
                store_id, ns = self.installed_store("x", [(self.scratch.ns, who)], role=role)
                probe = sorted(triples(kept), key=str)[0]
                wait_until(lambda: can_i(kc, probe[0], probe[1], probe[2], namespace=ns),
                           "the copy's binding takes effect")
                # A refused read makes --wait retry until its timeout: keep it short.
                r = self.uninstall(kc, store_id, timeout="30s")
                printed = r.stdout + r.stderr
                # helm may answer 0 and leave objects behind: both are failures.
                left = kubectl("-n", ns, "get", "all,ingresses,networkpolicies,resourcequotas,limitranges,"
                               "configmaps,serviceaccounts,secrets", "-l", f"storefleet.io/store-id={store_id}",
                               "-o", "name").stdout.split()
                left += kubectl("-n", ns, "get", "configmaps", "-l", "owner=helm", "-o", "name").stdout.split()
                self.assertTrue(r.returncode != 0 or left, f"helm uninstall works without {what}: spare")
                # Without watch, helm's wait falls back to list, which is refused too.
                refused = f"({verb}|list)" if verb == "watch" else verb
                self.assertRegex(printed, rf"forbidden: .* cannot {refused} resource",
                                 f"uninstall failed, but not because {what} was refused:\n{printed[-3000:]}")


@unittest.skipUnless(os.path.isfile(os.path.join(STORE_CHART, "Chart.yaml")),
                     "helm/store is not in the tree")
class StoreObserverRoles(unittest.TestCase):
    """Issue 11 item 11: readiness-checker and the ApiServerSource read pods,
    events and workloads only in store namespaces, through the per-store
    RoleBindings storefleet-store-checker and storefleet-store-watcher that
    create-store makes; their real tokens cannot read kube-system's or any
    other namespace's, and still read a store's."""

    @classmethod
    def setUpClass(cls):
        # The ApiServerSource's ServiceAccount and cluster role, as knative/ applies them.
        with open(os.path.join(ROOT, "knative", "apiserversource.yaml")) as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d]
        cls.source_docs = docs
        for d in docs:
            if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
                apply(d)
        cls.scratch = Scratch()
        cls.create = sa_kubeconfig("create-store")
        cls.ready = sa_kubeconfig("readiness-checker")
        cls.source = sa_kubeconfig("storefleet-apiserver-source")
        cls.checker_rules = rendered("ClusterRole", "storefleet-store-checker")["rules"]
        cls.watcher_rules = rendered("ClusterRole", "storefleet-store-watcher")["rules"]
        cls.other = f"other-{secrets.token_hex(3)}"
        kubectl("create", "namespace", cls.other)

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()
        kubectl("delete", "namespace", cls.other, "--ignore-not-found", "--wait=false", check=False)

    def store(self, prefix):
        """A store namespace with the bindings create-store's own token makes."""
        store_id = new_store_id(prefix)
        ns = f"store-{store_id}"
        self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
        for what, r in CallsOfEachFunction.create_store(
                self.create, store_id, config_subjects("STOREFLEET_STORE_MANAGER_SUBJECTS")):
            self.assertEqual(r.returncode, 0, f"{what}: {r.stderr}")
        kubectl("-n", ns, "apply", "-f", "-", stdin=json.dumps(deployment("web")))
        return ns

    def test_1_the_roles_are_what_the_code_and_knative_use(self):
        self.assertEqual(CHECKERS, [(NS, "readiness-checker")])
        self.assertEqual(WATCHERS, [(NS, "storefleet-apiserver-source")])
        self.assertEqual(triples(self.checker_rules), {(v, g, r, n) for v, g, r, n, _ in CHECKER_CALLS})
        # Knative checks get, list and watch on each namespaced resource of the
        # source in each selected namespace (pkg/reconciler/apiserversource runAccessCheck).
        (source,) = [d for d in self.source_docs if d["kind"] == "ApiServerSource"]
        plural = {"Pod": "pods", "Deployment": "deployments", "StatefulSet": "statefulsets"}
        watched = {(v, res["apiVersion"].rpartition("/")[0], plural[res["kind"]], None)
                   for res in source["spec"]["resources"] if res["kind"] != "Namespace"
                   for v in ("get", "list", "watch")}
        self.assertEqual(triples(self.watcher_rules), watched)
        (cluster_role,) = [d for d in self.source_docs if d["kind"] == "ClusterRole"]
        self.assertEqual(triples(cluster_role["rules"]),
                         {(v, "", "namespaces", None) for v in ("get", "list", "watch")},
                         "cluster-wide only what RBAC cannot narrow: the watched Namespaces")

    def test_2_their_tokens_read_a_store_and_nothing_else(self):
        ns = self.store("w")
        wait_until(lambda: can_i(self.ready, "list", "", "pods", namespace=ns)
                   and can_i(self.source, "watch", "", "pods", namespace=ns), "the observer bindings take effect")
        for what, r in CallsOfEachFunction.readiness_checker_in_store(self.ready, ns):
            self.assertEqual(r.returncode, 0, f"readiness-checker: {what} in {ns}: {r.stderr}")
        for res in ("pods", "deployments.apps", "statefulsets.apps"):
            r = kubectl("-n", ns, "get", res, kubeconfig=self.source, check=False)
            self.assertEqual(r.returncode, 0, f"the ApiServerSource: list {res} in {ns}: {r.stderr}")
        r = kubectl("get", "namespaces", "-l", "storefleet.io/store-id", kubeconfig=self.source, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        for who, kc in (("readiness-checker", self.ready), ("the ApiServerSource", self.source)):
            for where in ("kube-system", self.other, NS):
                for res in ("pods", "events", "deployments.apps", "statefulsets.apps"):
                    with self.subTest(who=who, where=where, resource=res):
                        r = kubectl("-n", where, "get", res, kubeconfig=kc, check=False)
                        self.assertTrue(forbidden(r), f"{who} lists {res} in {where}: {r.stdout}")
            for res in ("pods", "events"):
                r = kubectl("get", res, "--all-namespaces", kubeconfig=kc, check=False)
                self.assertTrue(forbidden(r), f"{who} lists {res} cluster-wide")
        self.assertFalse(can_i(self.source, "list", "", "events", namespace=ns), "the source reads no events")
        self.assertFalse(can_i(self.ready, "watch", "", "pods", namespace=ns), "readiness-checker watches nothing")

    def test_3_every_checker_verb_is_needed(self):
        ns = self.store("x")
        for triple in sorted(triples(self.checker_rules), key=str):
            with self.subTest(permission=triple):
                who = f"checker-no-{triple[0]}-{triple[2][:8]}-{secrets.token_hex(2)}"
                kc = self.scratch.principal(who)
                role = self.scratch.role(who, without(self.checker_rules, [triple]))
                apply(role_binding(ns, [(self.scratch.ns, who)], role=role, name=who))
                still = "events" if triple[2] == "pods" else "pods"  # a verb the copy keeps
                wait_until(lambda: can_i(kc, "list", "", still, namespace=ns), f"{who}'s binding takes effect")
                refused = [what for what, r in CallsOfEachFunction.readiness_checker_in_store(kc, ns) if forbidden(r)]
                self.assertTrue(refused, f"readiness-checker reads the store without {triple}: spare")


class ReleaseRecordMigration(unittest.TestCase):
    """scripts/migrate-helm-releases: a store installed while helm kept its
    release in Secrets (before HELM_DRIVER=configmap) is converted, keeps its
    history, and is then upgraded and uninstalled by the functions' own
    tokens, which can no longer read a Secret (issue 11, item 5)."""

    SCRIPT = os.path.join(ROOT, "scripts", "migrate-helm-releases")

    def migrate(self, *args):
        return subprocess.run([self.SCRIPT, *args], capture_output=True, text=True,
                              env={**os.environ, "KUBECTL": KUBECTL, "KUBECONFIG": ADMIN})

    def helm(self, store_id, *args, kubeconfig=ADMIN, driver="configmap", check=True):
        return run([HELM, *args, "--namespace", f"store-{store_id}"], kubeconfig=kubeconfig, check=check,
                   env={"HELM_DRIVER": driver})

    def install(self, store_id, driver, title):
        return self.helm(store_id, "upgrade", "--install", f"store-{store_id}", STORE_CHART,
                         "-f", os.path.join(STORE_CHART, "values-local.yaml"), "--set", f"storeId={store_id}",
                         "--set-string", f"ingress.host={store_id}.localhost",
                         "--set", "existingSecret=store-credentials", "--set", "existingAdminSecret=store-admin", "--set-string", f"store.title={title}",
                         "--timeout", "2m", driver=driver)

    def test_old_secret_records_become_configmaps_the_functions_can_use(self):
        store_id, ns = bound_store(self, "m", deleters=DELETERS)
        credentials = store_credentials(ns)
        # The old way: helm's default driver, two revisions.
        self.install(store_id, "secret", "First")
        self.install(store_id, "secret", "Second")
        before = json.loads(self.helm(store_id, "history", f"store-{store_id}", "-o", "json", driver="secret").stdout)
        self.assertEqual([r["status"] for r in before], ["superseded", "deployed"])
        old = release_records(ns)
        self.assertEqual({k for k, _, _ in old.values()}, {"secrets"})
        # The functions see no release (and may not read the old records).
        create = sa_kubeconfig("create-store")
        wait_until(lambda: can_i(create, "create", "apps", "deployments", namespace=ns), "the binding takes effect")
        r = self.helm(store_id, "history", f"store-{store_id}", kubeconfig=create, check=False)
        self.assertIn("not found", r.stderr)
        # A platform release outside store namespaces is never touched.
        platform_records = kubectl("-n", NS, "get", "secrets", "-l", "owner=helm", "-o", "name").stdout

        dry = self.migrate("--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertIn(f"would convert {ns}/sh.helm.release.v1.store-{store_id}.v2", dry.stderr)
        self.assertEqual(release_records(ns), old, "--dry-run changed something")

        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stderr)
        new = release_records(ns)
        self.assertEqual(set(new), set(old))
        for name, (kind, decoded, _) in new.items():
            self.assertEqual(kind, "configmaps", name)
            self.assertEqual(decoded, old[name][1], f"{name}: the record changed")
            for key, value in credentials.items():
                self.assertNotIn(value, decoded, f"{name} holds the value of {key}")
        labels = json.loads(kubectl("-n", ns, "get", "configmap", f"sh.helm.release.v1.store-{store_id}.v2",
                                    "-o", "json").stdout)["metadata"]["labels"]
        self.assertEqual({k: labels[k] for k in ("name", "owner", "status", "version")},
                         {"name": f"store-{store_id}", "owner": "helm", "status": "deployed", "version": "2"})
        self.assertEqual(kubectl("-n", NS, "get", "secrets", "-l", "owner=helm", "-o", "name").stdout,
                         platform_records)
        after = json.loads(self.helm(store_id, "history", f"store-{store_id}", "-o", "json",
                                     kubeconfig=create).stdout)
        self.assertEqual([(r["revision"], r["status"]) for r in after],
                         [(r["revision"], r["status"]) for r in before])
        # Run again: nothing left to convert, nothing changed.
        again = self.migrate()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("0 release record(s) converted", again.stderr)
        self.assertEqual(release_records(ns), new)
        # create-store's token upgrades the converted release (revision 3) ...
        r = self.helm(store_id, "upgrade", "--install", f"store-{store_id}", STORE_CHART,
                      "-f", os.path.join(STORE_CHART, "values-local.yaml"), "--set", f"storeId={store_id}",
                      "--set-string", f"ingress.host={store_id}.localhost",
                      "--set", "existingSecret=store-credentials", "--set", "existingAdminSecret=store-admin", "--timeout", "2m", kubeconfig=create, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        history = json.loads(self.helm(store_id, "history", f"store-{store_id}", "-o", "json").stdout)
        self.assertEqual([h["revision"] for h in history], [1, 2, 3])
        # ... and delete-store's uninstalls it, records included.
        delete = sa_kubeconfig("delete-store")
        r = self.helm(store_id, "uninstall", f"store-{store_id}", "--wait", "--cascade", "foreground",
                      "--timeout", "2m", kubeconfig=delete, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(release_records(ns), {})


if __name__ == "__main__":
    unittest.main()
