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

from cluster import CHART, HELM, NS, kubectl, run, sa_kubeconfig


def store_namespace(store_id, labelled=True):
    labels = {"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": store_id} if labelled else {}
    return json.dumps({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": f"store-{store_id}", "labels": labels}})


# The per-store bindings as create-store makes them with the chart's defaults
# (rbac.storeManagerSubjects, rbac.storeReaderSubjects).
DEFAULT_SUBJECTS = {"storefleet-store-manager": ("create-store", "delete-store"),
                    "storefleet-store-reader": ("list-stores",)}


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
        run([HELM, "upgrade", "--install", "storefleet", CHART, "--namespace", NS, "--create-namespace",
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
        # Through the per-store RoleBinding (helm install / uninstall needs).
        for verb, res in [("create", "deployments.apps"), ("patch", "statefulsets.apps"),
                          ("create", "secrets"), ("delete", "ingresses.networking.k8s.io"),
                          ("create", "networkpolicies.networking.k8s.io"), ("list", "secrets")]:
            self.assertTrue(can_i(self.create, verb, res, "-n", ns), f"create-store {verb} {res} in {ns}")
            self.assertTrue(can_i(self.delete, verb, res, "-n", ns), f"delete-store {verb} {res} in {ns}")
        # list-stores, through the reader binding: get store-credentials, and
        # nothing else in the store namespace.
        self.assertTrue(can_i(self.list, "get", "secrets/store-credentials", "-n", ns))
        for verb, res in [("get", "secrets/sh.helm.release.v1.store-x.v1"), ("list", "secrets"),
                          ("watch", "secrets"), ("create", "secrets"), ("patch", "secrets/store-credentials"),
                          ("update", "secrets/store-credentials"), ("delete", "secrets/store-credentials"),
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
        self.assertTrue(can_i(self.ready, "list", "pods", "-n", ns))
        self.assertTrue(can_i(self.ready, "list", "statefulsets.apps", "-n", ns))
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


if __name__ == "__main__":
    unittest.main()
