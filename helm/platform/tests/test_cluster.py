"""The platform chart installed on a real kube-apiserver (scripts/test-cluster):
RBAC and the ValidatingAdmissionPolicies judged by the API server itself, with
real ServiceAccount tokens of the functions.

Run by scripts/test-deploy --cluster. Installs release `storefleet` in
namespace `storefleet` with --no-hooks (kwok runs no containers, so the
migration Job could never finish) and leaves it installed: the test cluster is
shared, and the platform's RBAC is what other tests expect there too. Every
namespace it makes for the checks is deleted at the end.
"""

import base64
import json
import os
import secrets
import time
import unittest

from cluster import (CHART, HELM, NS, POD_SECURITY_LABELS, deployment, kubectl, restricted_pod_spec, run,
                     sa_kubeconfig, wait_until)
from platform_pods import FUNCTIONS, platform_pods
from platform_pods import render as platform_pods_render


def store_namespace(store_id, labelled=True, pod_security=None):
    """The store namespace as create-store applies it (namespace.rs); `pod_security`
    replaces its Pod Security labels."""
    labels = {"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": store_id} if labelled else {}
    if labelled:
        labels.update(POD_SECURITY_LABELS if pod_security is None else pod_security)
    return json.dumps({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": f"store-{store_id}", "labels": labels}})


# The per-store bindings as create-store makes them with the chart's defaults
# (rbac.storeManagerSubjects, rbac.storeReaderSubjects).
DEFAULT_SUBJECTS = {"storefleet-store-manager": ("create-store",),
                    "storefleet-store-reader": ("list-stores",),
                    "storefleet-store-deleter": ("delete-store",),
                    "storefleet-store-checker": ("readiness-checker",),
                    "storefleet-store-watcher": ("storefleet-apiserver-source",)}


def role_binding(namespace, role="storefleet-store-manager", name=None, subjects=None):
    return json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name or role, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects or [{"kind": "ServiceAccount", "name": n, "namespace": NS}
                                 for n in DEFAULT_SUBJECTS.get(role, ("create-store",))],
    })


def reader_binding(namespace):
    return role_binding(namespace, role="storefleet-store-reader")


def deleter_binding(namespace):
    return role_binding(namespace, role="storefleet-store-deleter")


def apply_as(kubeconfig, manifest):
    return kubectl("apply", "--server-side", "--field-manager=storefleet", "-f", "-",
                   kubeconfig=kubeconfig, stdin=manifest, check=False)


def can_i(kubeconfig, *args):
    r = kubectl("auth", "can-i", *args, kubeconfig=kubeconfig, check=False)
    return r.stdout.strip() == "yes"


class PlatformOnARealApiServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A namespace left Terminating by another test must finish first.
        for _ in range(60):
            r = kubectl("get", "namespace", NS, "-o", "jsonpath={.status.phase}", check=False)
            if r.stdout != "Terminating":
                break
            time.sleep(2)
        cls.install()
        cls.suffix = secrets.token_hex(3)  # 6 chars; ids are 8
        cls.store_id = f"t{cls.suffix}0"
        cls.other_id = f"u{cls.suffix}0"
        cls.decoy = f"decoy-{cls.suffix}"
        kubectl("create", "namespace", cls.decoy)
        cls.create = sa_kubeconfig("create-store")
        cls.delete = sa_kubeconfig("delete-store")
        cls.list = sa_kubeconfig("list-stores")
        cls.ready = sa_kubeconfig("readiness-checker")
        # ValidatingAdmissionPolicies take effect once the API server has
        # compiled them; wait until a plainly bad request is refused.
        for _ in range(30):
            r = apply_as(cls.create, store_namespace(cls.other_id, labelled=False))
            if r.returncode != 0 and "create-store may only" in r.stderr:
                break
            kubectl("delete", "namespace", f"store-{cls.other_id}", "--ignore-not-found", "--wait=false")
            time.sleep(1)
        else:
            raise AssertionError("the admission policy never took effect")

    @classmethod
    def install(cls):
        # The platform namespace as docs/production.md and scripts/up make it:
        # Pod Security restricted, enforced by the API server for every pod
        # the chart, Knative Serving and Knative Eventing run there.
        kubectl("apply", "--server-side", "--field-manager=storefleet-tests", "-f", "-",
                stdin=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": NS, "labels": POD_SECURITY_LABELS}}))
        run([HELM, "upgrade", "--install", "storefleet", CHART, "--namespace", NS,
             "--no-hooks", "-f", os.path.join(CHART, "values-local.yaml")])

    @classmethod
    def tearDownClass(cls):
        for ns in (f"store-{cls.store_id}", f"store-{cls.other_id}", cls.decoy):
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)

    def test_1_create_store_makes_a_labelled_store_namespace_and_its_bindings(self):
        r = apply_as(self.create, store_namespace(self.store_id))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = apply_as(self.create, role_binding(f"store-{self.store_id}"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = apply_as(self.create, reader_binding(f"store-{self.store_id}"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = apply_as(self.create, deleter_binding(f"store-{self.store_id}"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_2_create_store_cannot_make_other_namespaces(self):
        r = apply_as(self.create, json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": f"evil-{self.suffix}"}}))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("create-store may only", r.stderr)
        r = apply_as(self.create, store_namespace(self.other_id, labelled=False))
        self.assertNotEqual(r.returncode, 0, "an unlabelled store-<id> namespace is refused")
        self.assertIn("create-store may only", r.stderr)

    def test_3_create_store_cannot_bind_outside_store_namespaces_or_other_roles(self):
        r = apply_as(self.create, role_binding(self.decoy))
        self.assertNotEqual(r.returncode, 0, "a RoleBinding outside a store namespace")
        self.assertIn("create-store may only", r.stderr)
        r = apply_as(self.create, store_namespace(self.store_id))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = apply_as(self.create, role_binding(f"store-{self.store_id}", role="admin", name="sneaky"))
        self.assertNotEqual(r.returncode, 0, "binding ClusterRole admin")
        self.assertRegex(r.stderr, r"forbidden|cannot bind|create-store may only")
        r = apply_as(self.create, role_binding(f"store-{self.store_id}", role="storefleet-store-reader",
                                               name="sneaky-reader"))
        self.assertNotEqual(r.returncode, 0, "a reader binding under another name")
        self.assertIn("create-store may only", r.stderr)
        r = apply_as(self.create, reader_binding(self.decoy))
        self.assertNotEqual(r.returncode, 0, "a reader binding outside a store namespace")
        self.assertIn("create-store may only", r.stderr)
        r = apply_as(self.create, role_binding(
            f"store-{self.store_id}", subjects=[{"kind": "User", "name": "mallory",
                                                "apiGroup": "rbac.authorization.k8s.io"}]))
        self.assertNotEqual(r.returncode, 0, "binding a user who is not a Storefleet function")

    def test_4_what_each_function_may_do(self):
        ns = f"store-{self.store_id}"
        apply_as(self.create, store_namespace(self.store_id))
        apply_as(self.create, role_binding(ns))
        apply_as(self.create, reader_binding(ns))
        apply_as(self.create, deleter_binding(ns))
        apply_as(self.create, role_binding(ns, role="storefleet-store-checker"))
        # Through the per-store RoleBinding (helm install / upgrade needs).
        for verb, res in [("create", "deployments.apps"), ("patch", "statefulsets.apps"),
                          ("create", "secrets"), ("delete", "ingresses.networking.k8s.io"),
                          ("create", "networkpolicies.networking.k8s.io"), ("list", "configmaps"),
                          ("update", "configmaps")]:
            self.assertTrue(can_i(self.create, verb, res, "-n", ns), f"create-store {verb} {res} in {ns}")
        # No Secret read or change at all: helm's release records are ConfigMaps (item 5).
        for verb, res in [("get", "secrets"), ("get", "secrets/store-credentials"), ("list", "secrets"),
                          ("watch", "secrets"), ("patch", "secrets"), ("update", "secrets"), ("delete", "secrets")]:
            self.assertFalse(can_i(self.create, verb, res, "-n", ns), f"create-store {verb} {res} in {ns}")
        # delete-store, through its own binding: what helm uninstall needs, no write.
        for verb, res in [("delete", "deployments.apps"), ("delete", "statefulsets.apps"), ("list", "configmaps"),
                          ("delete", "configmaps"), ("delete", "ingresses.networking.k8s.io"),
                          ("watch", "persistentvolumeclaims")]:
            self.assertTrue(can_i(self.delete, verb, res, "-n", ns), f"delete-store {verb} {res} in {ns}")
        for verb, res in [("create", "deployments.apps"), ("patch", "deployments.apps"), ("create", "secrets"),
                          ("get", "secrets"), ("list", "secrets"), ("delete", "secrets"),
                          ("patch", "secrets"), ("update", "secrets"), ("patch", "resourcequotas"),
                          ("create", "networkpolicies.networking.k8s.io"), ("create", "pods")]:
            self.assertFalse(can_i(self.delete, verb, res, "-n", ns), f"delete-store {verb} {res} in {ns}")
        # list-stores, through the reader binding: get store-credentials, and
        # nothing else in the store namespace.
        self.assertTrue(can_i(self.list, "get", "secrets/store-admin", "-n", ns))
        for verb, res in [("get", "secrets/sh.helm.release.v1.store-x.v1"), ("list", "secrets"),
                          ("watch", "secrets"), ("create", "secrets"), ("patch", "secrets/store-admin"),
                          ("update", "secrets/store-admin"), ("delete", "secrets/store-admin"),
                          ("get", "secrets/store-credentials"),
                          ("create", "deployments.apps"), ("patch", "deployments.apps"),
                          ("delete", "deployments.apps"), ("patch", "statefulsets.apps"),
                          ("create", "configmaps"), ("get", "configmaps")]:
            self.assertFalse(can_i(self.list, verb, res, "-n", ns), f"list-stores {verb} {res} in {ns}")
        # Never: exec, cluster-wide secrets, other namespaces, escalation.
        for kc, who in [(self.create, "create-store"), (self.delete, "delete-store"),
                        (self.list, "list-stores"), (self.ready, "readiness-checker")]:
            self.assertFalse(can_i(kc, "create", "pods/exec", "-n", ns), f"{who} pods/exec")
            self.assertFalse(can_i(kc, "get", "secrets", "-n", "kube-system"), f"{who} secrets in kube-system")
            self.assertFalse(can_i(kc, "get", "secrets", "-n", NS), f"{who} the platform's own Secrets")
            self.assertFalse(can_i(kc, "create", "deployments.apps", "-n", self.decoy), f"{who} outside stores")
            self.assertFalse(can_i(kc, "escalate", "clusterroles"), f"{who} escalate")
            self.assertFalse(can_i(kc, "create", "clusterrolebindings"), f"{who} clusterrolebindings")
        # readiness-checker reads the store through storefleet-store-checker,
        # and no other namespace's pods or events (issue 11 item 11)
        self.assertTrue(can_i(self.ready, "list", "pods", "-n", ns))
        self.assertTrue(can_i(self.ready, "list", "statefulsets.apps", "-n", ns))
        for where in ("kube-system", self.decoy, NS):
            for res in ("pods", "events"):
                self.assertFalse(can_i(self.ready, "list", res, "-n", where), f"readiness-checker {res} in {where}")
        self.assertFalse(can_i(self.ready, "list", "pods", "--all-namespaces"))
        self.assertFalse(can_i(self.ready, "delete", "pods", "-n", ns))
        self.assertFalse(can_i(self.list, "list", "namespaces"))

    def test_5_delete_store_deletes_only_store_namespaces(self):
        r = kubectl("delete", "namespace", self.decoy, "--wait=false", kubeconfig=self.delete, check=False)
        self.assertNotEqual(r.returncode, 0, "delete-store deleted a namespace that is not a store's")
        self.assertIn("delete-store may only delete", r.stderr)
        apply_as(self.create, store_namespace(self.store_id))
        r = kubectl("delete", "namespace", f"store-{self.store_id}", "--wait=false", kubeconfig=self.delete,
                    check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_6_generated_secrets_survive_an_upgrade(self):
        def token():
            out = kubectl("-n", NS, "get", "secret", "storefleet-bootstrap-admin",
                          "-o", "jsonpath={.data.token}").stdout
            return base64.b64decode(out)

        def db():
            return kubectl("-n", NS, "get", "secret", "storefleet-database", "-o", "jsonpath={.data.url}").stdout

        before = (token(), db())
        self.assertEqual(len(before[0]), 48)
        self.install()
        self.assertEqual((token(), db()), before, "helm upgrade must keep the generated token and password")

    # --- The fence against a stolen token (issue 11, items 1, 2, 3, 7) ---

    def store_with_bindings(self, prefix):
        """A store namespace and its two bindings, made with create-store's own
        token as create-store makes them; deleted after the test."""
        store_id = f"{prefix}{secrets.token_hex(3)}0"
        ns = f"store-{store_id}"
        self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
        for manifest in (store_namespace(store_id), role_binding(ns), reader_binding(ns), deleter_binding(ns),
                         role_binding(ns, role="storefleet-store-checker"),
                         role_binding(ns, role="storefleet-store-watcher")):
            r = apply_as(self.create, manifest)
            self.assertEqual(r.returncode, 0, r.stderr)
        wait_until(lambda: can_i(self.create, "create", "deployments.apps", "-n", ns)
                   and can_i(self.delete, "delete", "deployments.apps", "-n", ns), "the bindings take effect")
        return store_id, ns

    def labels_of(self, ns):
        return json.loads(kubectl("get", "namespace", ns, "-o", "json").stdout)["metadata"].get("labels", {})

    def test_7_store_namespaces_enforce_restricted_and_nothing_else(self):
        weaker = [({"pod-security.kubernetes.io/enforce": "privileged"}, "enforce privileged"),
                  ({"pod-security.kubernetes.io/enforce": "baseline"}, "enforce baseline"),
                  ({"pod-security.kubernetes.io/warn": "restricted"}, "no enforce label (privileged on k3s)"),
                  ({**POD_SECURITY_LABELS, "pod-security.kubernetes.io/enforce-version": "v1.24"},
                   "an enforce-version pin")]
        new_id = f"n{self.suffix}1"
        self.addCleanup(kubectl, "delete", "namespace", f"store-{new_id}", "--ignore-not-found", "--wait=false",
                        check=False)
        for labels, what in weaker:
            with self.subTest(create=what):
                r = apply_as(self.create, store_namespace(new_id, pod_security=labels))
                self.assertNotEqual(r.returncode, 0, f"create-store made a store namespace with {what}")
                self.assertIn("create-store may", r.stderr)
                self.assertEqual(kubectl("get", "namespace", f"store-{new_id}", "--ignore-not-found",
                                         "-o", "name").stdout, "", "nothing was created")
        # An existing store namespace cannot be weakened either (the apply
        # drops or replaces the label, as a relabel by a stolen token would).
        _, ns = self.store_with_bindings("w")
        store_id = ns.removeprefix("store-")
        for labels, what in weaker:
            with self.subTest(relabel=what):
                r = apply_as(self.create, store_namespace(store_id, pod_security=labels))
                self.assertNotEqual(r.returncode, 0, f"create-store relabelled {ns} to {what}")
                self.assertIn("create-store may", r.stderr)
                self.assertEqual({k: v for k, v in self.labels_of(ns).items() if k.startswith("pod-security")},
                                 POD_SECURITY_LABELS)
        r = kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged", "--overwrite",
                    kubeconfig=self.create, check=False)
        self.assertNotEqual(r.returncode, 0, "kubectl label as create-store")
        # The store namespace as create-store writes it is still admitted (control).
        r = apply_as(self.create, store_namespace(store_id))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_8_no_pod_in_a_store_namespace_reaches_the_node(self):
        _, ns = self.store_with_bindings("e")
        # Whatever the namespace's labels say: someone relabelled it
        # privileged, so Pod Security admission lets everything through.
        kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged", "--overwrite")
        # The issue's attack: a privileged pod in the node's PID and network
        # namespaces with the node's / mounted.
        attack = restricted_pod_spec()
        attack.update(hostPID=True, hostNetwork=True,
                      volumes=[{"name": "node", "hostPath": {"path": "/"}}])
        attack["containers"][0]["securityContext"] = {"privileged": True}
        attack["containers"][0]["volumeMounts"] = [{"name": "node", "mountPath": "/node"}]
        for kind in ("Deployment", "StatefulSet"):
            with self.subTest(who="create-store", kind=kind):
                r = self.create_as(self.create, ns, workload(kind, attack))
                self.assertNotEqual(r.returncode, 0, f"create-store created a privileged hostPath {kind}")
                self.assertIn("store namespaces admit no", r.stderr)
                r = self.create_as(self.create, ns, workload(kind, restricted_pod_spec()), dry_run=True)
                self.assertEqual(r.returncode, 0, f"create-store: a restricted {kind} is admitted: {r.stderr}")
            with self.subTest(who="delete-store", kind=kind):
                # delete-store creates nothing at all (its own role: item 4).
                r = self.create_as(self.delete, ns, workload(kind, attack))
                self.assertTrue(r.returncode != 0 and "forbidden" in r.stderr,
                                f"delete-store created a privileged hostPath {kind}: {r.stderr}")
        r = self.create_as(self.create, ns, deployment("web"))
        self.assertEqual(r.returncode, 0, f"create-store creates a restricted Deployment: {r.stderr}")
        # Every kind that carries a pod, for everyone (the cluster admin too).
        for kind in WORKLOAD_KINDS:
            with self.subTest(kind=kind, admin=True):
                r = self.create_as(None, ns, workload(kind, attack), dry_run=True)
                self.assertNotEqual(r.returncode, 0, f"a privileged hostPath {kind} was admitted")
                self.assertIn("store namespaces admit no", r.stderr)
                r = self.create_as(None, ns, workload(kind, restricted_pod_spec()), dry_run=True)
                self.assertEqual(r.returncode, 0, f"a restricted {kind} is refused: {r.stderr}")
        # Each rule on its own, so none is dead weight.
        for kind in ("Pod", "Deployment", "CronJob"):
            for what, mutate, words in VIOLATIONS:
                with self.subTest(kind=kind, violation=what):
                    spec = restricted_pod_spec()
                    mutate(spec)
                    r = self.create_as(self.create if kind == "Deployment" else None, ns, workload(kind, spec),
                                       dry_run=True)
                    self.assertNotEqual(r.returncode, 0, f"{kind} with {what} was admitted")
                    self.assertIn(words, r.stderr)
        # A namespace that is not a store's is not the policy's business.
        kubectl("label", "namespace", self.decoy, "pod-security.kubernetes.io/enforce=privileged", "--overwrite")
        r = self.create_as(None, self.decoy, workload("Pod", attack), dry_run=True)
        self.assertEqual(r.returncode, 0, f"the pod policy reaches beyond store namespaces: {r.stderr}")

    def create_as(self, kubeconfig, ns, obj, dry_run=False):
        args = ["-n", ns, "create", "-f", "-"] + (["--dry-run=server"] if dry_run else [])
        if kubeconfig is None:
            return kubectl(*args, stdin=json.dumps(obj), check=False)
        return kubectl(*args, kubeconfig=kubeconfig, stdin=json.dumps(obj), check=False)

    def test_9_create_store_cannot_adopt_a_foreign_store_namespace(self):
        for i, labels in enumerate([{}, {"app.kubernetes.io/managed-by": "storefleet"},
                                    {"team": "payments"}]):
            store_id = f"f{self.suffix}{i}"
            ns = f"store-{store_id}"
            self.addCleanup(kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
            kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                          "metadata": {"name": ns, "labels": labels}}))
            with self.subTest(labels=labels):
                r = apply_as(self.create, store_namespace(store_id))
                self.assertNotEqual(r.returncode, 0, f"create-store adopted {ns}")
                self.assertIn("refused to adopt", r.stderr)
                after = {k: v for k, v in self.labels_of(ns).items() if k != "kubernetes.io/metadata.name"}
                self.assertEqual(after, labels, "the namespace was relabelled")
                # ... so delete-store cannot delete it either.
                r = kubectl("delete", "namespace", ns, "--wait=false", kubeconfig=self.delete, check=False)
                self.assertNotEqual(r.returncode, 0, f"delete-store deleted {ns}")

    def test_10_per_store_bindings_name_only_their_functions(self):
        _, ns = self.store_with_bindings("b")

        def sa(name, namespace=NS):
            return {"kind": "ServiceAccount", "name": name, "namespace": namespace}

        for role, subjects in [
            ("storefleet-store-manager", [sa("default")]),
            ("storefleet-store-manager", [sa("create-store"), sa("delete-store"), sa("default")]),
            ("storefleet-store-manager", [sa("create-store"), sa("list-stores")]),
            ("storefleet-store-manager", [sa("create-store"), sa("readiness-checker")]),
            ("storefleet-store-manager", [sa("create-store", "kube-system")]),
            ("storefleet-store-reader", [sa("default")]),
            ("storefleet-store-reader", [sa("create-store")]),
            ("storefleet-store-reader", [sa("list-stores"), sa("delete-store")]),
            # delete-store has its own role (item 4), not the writer's.
            ("storefleet-store-manager", [sa("create-store"), sa("delete-store")]),
            ("storefleet-store-deleter", [sa("create-store")]),
            ("storefleet-store-deleter", [sa("delete-store"), sa("default")]),
            # the observers' roles (item 11) are pinned as well
            ("storefleet-store-checker", [sa("default")]),
            ("storefleet-store-checker", [sa("readiness-checker"), sa("create-store")]),
            ("storefleet-store-watcher", [sa("readiness-checker")]),
            ("storefleet-store-watcher", [sa("storefleet-apiserver-source", "kube-system")]),
        ]:
            with self.subTest(role=role, subjects=[s["namespace"] + "/" + s["name"] for s in subjects]):
                r = apply_as(self.create, role_binding(ns, role=role, subjects=subjects))
                self.assertNotEqual(r.returncode, 0, "create-store bound a role to another ServiceAccount")
                self.assertIn("create-store may bind", r.stderr)
                got = json.loads(kubectl("-n", ns, "get", "rolebinding", role, "-o", "json").stdout)["subjects"]
                self.assertEqual(sorted(s["name"] for s in got), sorted(DEFAULT_SUBJECTS[role]))
        self.assertFalse(can_i(sa_kubeconfig("default"), "create", "deployments.apps", "-n", ns))

    def test_11_store_ingresses_serve_only_the_store_host(self):
        store_id, ns = self.store_with_bindings("i")
        host = f"{store_id}.localhost"  # config.storeHostPattern of values-local.yaml
        r = self.create_as(self.create, ns, ingress(host))
        self.assertEqual(r.returncode, 0, f"the store's own Ingress is admitted: {r.stderr}")
        solver = ingress(host, name="cm-acme-http-solver-abcde", path="/.well-known/acme-challenge/token")
        solver["metadata"]["annotations"] = {"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"}
        r = self.create_as(self.create, ns, solver, dry_run=True)
        self.assertEqual(r.returncode, 0, f"cert-manager's HTTP-01 solver Ingress is admitted: {r.stderr}")

        def changed(change):
            obj = ingress(host, name="hijack")
            change(obj)
            return obj

        attacks = [
            ("the dashboard's host", lambda o: o["spec"]["rules"][0].update(host="storefleet.localhost"),
             "every Ingress rule must have host"),
            ("another store's host", lambda o: o["spec"]["rules"][0].update(host="zzzz9999.localhost"),
             "every Ingress rule must have host"),
            ("a second rule for another host", lambda o: o["spec"]["rules"].append(
                {**o["spec"]["rules"][0], "host": "storefleet.localhost"}), "every Ingress rule must have host"),
            ("a hostless rule (every host)", lambda o: o["spec"]["rules"][0].pop("host"),
             "every Ingress rule must have host"),
            ("a defaultBackend", lambda o: o["spec"].update(
                defaultBackend={"service": {"name": "wordpress", "port": {"number": 80}}}),
             "every Ingress rule must have host"),
            ("TLS for another host", lambda o: o["spec"].update(
                tls=[{"hosts": [host, "storefleet.localhost"], "secretName": "x"}]), "TLS entry"),
            ("TLS without hosts", lambda o: o["spec"].update(tls=[{"secretName": "x"}]), "TLS entry"),
            ("another class", lambda o: o["spec"].update(ingressClassName="traefik"), "IngressClass nginx"),
            ("no class", lambda o: o["spec"].pop("ingressClassName"), "IngressClass nginx"),
            ("another class by annotation", lambda o: (o["spec"].pop("ingressClassName"), o["metadata"].update(
                annotations={"kubernetes.io/ingress.class": "traefik"})), "IngressClass nginx"),
            ("configuration-snippet", lambda o: o["metadata"].update(
                annotations={"nginx.ingress.kubernetes.io/configuration-snippet": "return 200;"}), "snippet"),
            ("server-snippet", lambda o: o["metadata"].update(
                annotations={"nginx.ingress.kubernetes.io/server-snippet": "location /api/ {}"}), "snippet"),
        ]
        for what, change, words in attacks:
            with self.subTest(attack=what):
                r = self.create_as(self.create, ns, changed(change), dry_run=True)
                self.assertNotEqual(r.returncode, 0, f"create-store created an Ingress with {what}")
                self.assertIn(words, r.stderr)
        # delete-store creates no Ingress at all (its own role: item 4).
        r = self.create_as(self.delete, ns, changed(attacks[0][1]), dry_run=True)
        self.assertTrue(r.returncode != 0 and "forbidden" in r.stderr, f"delete-store made an Ingress: {r.stderr}")
        # Changing the store's own Ingress is judged the same way.
        r = kubectl("-n", ns, "patch", "ingress", "storefront", "--type=json", "-p",
                    json.dumps([{"op": "replace", "path": "/spec/rules/0/host", "value": "storefleet.localhost"}]),
                    kubeconfig=self.create, check=False)
        self.assertNotEqual(r.returncode, 0, "create-store moved the store's Ingress to the dashboard's host")
        self.assertIn("every Ingress rule must have host", r.stderr)


def ingress(host, name="storefront", path="/"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"ingressClassName": "nginx",
                     "rules": [{"host": host, "http": {"paths": [
                         {"path": path, "pathType": "Prefix",
                          "backend": {"service": {"name": "wordpress", "port": {"number": 80}}}}]}}]}}


# Every kind the pod policy judges (storefleet-store-pods).
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob",
                  "ReplicationController", "PodTemplate")


def workload(kind, pod_spec):
    """An object of `kind` that runs `pod_spec`."""
    pod_spec = json.loads(json.dumps(pod_spec))
    name = f"probe-{kind.lower()}"
    if kind in ("Job", "CronJob"):
        pod_spec["restartPolicy"] = "Never"
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": pod_spec}
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    if kind == "PodTemplate":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "template": template}
    if kind == "ReplicationController":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
                "spec": {"selector": {"app": name}, "template": template}}
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": name}, "spec": {"template": template}}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": name},
                "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}
    spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def container(spec, index=0):
    return spec["containers"][index]


def init_container(spec):
    spec["initContainers"] = [json.loads(json.dumps(spec["containers"][0]))]
    spec["initContainers"][0]["name"] = "init"
    return spec["initContainers"][0]


# One violation of Pod Security `restricted` each, on an otherwise restricted
# pod: (what, change, words of the policy's message).
VIOLATIONS = [
    ("privileged", lambda s: container(s)["securityContext"].update(privileged=True,
                                                                   allowPrivilegeEscalation=True),
     "no privileged"),
    ("a privileged init container", lambda s: init_container(s)["securityContext"].update(
        privileged=True, allowPrivilegeEscalation=True), "no privileged"),
    ("hostPID", lambda s: s.update(hostPID=True), "hostNetwork/hostPID/hostIPC"),
    ("hostNetwork", lambda s: s.update(hostNetwork=True), "hostNetwork/hostPID/hostIPC"),
    ("hostIPC", lambda s: s.update(hostIPC=True), "hostNetwork/hostPID/hostIPC"),
    ("a hostPath volume", lambda s: s.update(volumes=[{"name": "v", "hostPath": {"path": "/var/run"}}]),
     "no hostPath"),
    ("an nfs volume", lambda s: s.update(volumes=[{"name": "v", "nfs": {"server": "10.0.0.1", "path": "/"}}]),
     "no hostPath"),
    ("a hostPort", lambda s: container(s).update(ports=[{"containerPort": 80, "hostPort": 80}]), "no hostPort"),
    ("an added capability", lambda s: container(s)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
     "capabilities"),
    ("NET_BIND_SERVICE added", lambda s: container(s)["securityContext"]["capabilities"].update(
        add=["NET_BIND_SERVICE"]), "capabilities"),
    ("capabilities not dropped", lambda s: container(s)["securityContext"].pop("capabilities"), "capabilities"),
    ("allowPrivilegeEscalation", lambda s: container(s)["securityContext"].update(allowPrivilegeEscalation=True),
     "allowPrivilegeEscalation"),
    ("allowPrivilegeEscalation unset", lambda s: container(s)["securityContext"].pop("allowPrivilegeEscalation"),
     "allowPrivilegeEscalation"),
    ("seccomp Unconfined", lambda s: s["securityContext"].update(seccompProfile={"type": "Unconfined"}),
     "seccomp"),
    ("seccomp Unconfined in a container", lambda s: container(s)["securityContext"].update(
        seccompProfile={"type": "Unconfined"}), "seccomp"),
    ("no seccomp profile", lambda s: s["securityContext"].pop("seccompProfile"), "seccomp"),
    ("AppArmor Unconfined", lambda s: container(s)["securityContext"].update(
        appArmorProfile={"type": "Unconfined"}), "AppArmor"),
    ("root", lambda s: s["securityContext"].update(runAsNonRoot=False), "non-root"),
    ("runAsUser 0", lambda s: container(s)["securityContext"].update(runAsUser=0), "non-root"),
    ("an SELinux user", lambda s: s["securityContext"].update(seLinuxOptions={"user": "system_u"}), "SELinux"),
    ("an unsafe sysctl", lambda s: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
     "sysctls"),
]


class PlatformNamespace(unittest.TestCase):
    """The namespace storefleet itself (issue 11 item 10): its NetworkPolicies
    are accepted by the API server as rendered, and Pod Security restricted,
    enforced there, admits every pod that runs in it — and refuses one that
    does not meet it."""

    @classmethod
    def setUpClass(cls):
        PlatformOnARealApiServer.install()

    def dry_run_pod(self, name, labels, spec):
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"psa-{name}"[:63], "namespace": NS, "labels": labels}, "spec": spec}
        return kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(pod), check=False)

    def test_network_policies_are_accepted_as_rendered(self):
        rendered = [d for d in platform_pods_render("values-local.yaml") if d["kind"] == "NetworkPolicy"]
        names = {d["metadata"]["name"] for d in rendered}
        self.assertLessEqual({"storefleet-default-deny", "storefleet-apiserver-source", "storefleet-postgresql",
                              "storefleet-dashboard", "storefleet-migrations", "mailpit",
                              *(f"storefleet-{f}" for f in FUNCTIONS)}, names)
        installed = set(kubectl("-n", NS, "get", "networkpolicies", "-o", "jsonpath={.items[*].metadata.name}")
                        .stdout.split())
        # --no-hooks: the migration Job's policy is a hook; it gets a server-side dry run instead
        self.assertEqual(names - {"storefleet-migrations"}, installed & names)
        hook = next(d for d in rendered if d["metadata"]["name"] == "storefleet-migrations")
        r = kubectl("apply", "--dry-run=server", "-n", NS, "-f", "-", stdin=json.dumps(hook), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_restricted_is_enforced_and_admits_every_platform_pod(self):
        labels = json.loads(kubectl("get", "namespace", NS, "-o", "jsonpath={.metadata.labels}").stdout)
        self.assertEqual({k: v for k, v in labels.items() if k.startswith("pod-security")}, POD_SECURITY_LABELS)
        pods = platform_pods("values-local.yaml")
        self.assertLessEqual({"storefleet-postgresql", "storefleet-dashboard", "storefleet-migrations", "mailpit",
                              "apiserver-source-adapter", *FUNCTIONS}, set(pods))
        for name, (pod_labels, spec) in sorted(pods.items()):
            with self.subTest(pod=name):
                spec = {k: v for k, v in spec.items() if k != "serviceAccountName"}
                r = self.dry_run_pod(name, pod_labels, spec)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotIn("PodSecurity", r.stderr, "no warning either")
        # and it is enforced: the dashboard's pod without runAsNonRoot is refused
        labels, spec = pods["storefleet-dashboard"]
        spec = json.loads(json.dumps(spec))
        spec["securityContext"].pop("runAsNonRoot")
        r = self.dry_run_pod("not-restricted", labels, spec)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('violates PodSecurity "restricted:latest"', r.stderr)


if __name__ == "__main__":
    unittest.main()
