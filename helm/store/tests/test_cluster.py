"""The store chart on a real kube-apiserver (scripts/test-cluster, kwok nodes):
installed the way create-store installs it, then upgraded, rolled back and
uninstalled. The API server's admission (ResourceQuota, LimitRange, Pod
Security `restricted`) and its controllers judge the chart; kwok only fakes
the containers (no WordPress runs, see docs/store-chart.md).

Run by `make test-chart` with HELM, KUBECTL and STORE_KUBECONFIG (a cluster of
its own, `STOREFLEET_TEST_CLUSTER=store-chart`, because the test gives its fake
node the ephemeral-storage capacity every real kubelet reports and kwok's
default node lacks).
"""

import json
import os
import secrets
import subprocess
import time
import unittest

import yaml

import cert_manager
from chart import ADMIN_KEYS, CHART, ROOT, SECRET_KEYS, interface, pod_share, quantity

HELM = os.environ.get("HELM", "helm")
KUBECTL = os.environ.get("KUBECTL", "kubectl")
KUBECONFIG = os.environ.get("STORE_KUBECONFIG", "")


def run(*args, check=True, env=None, stdin=None):
    # HELM_DRIVER: release records in ConfigMaps, as create-store runs helm
    # (shared/kube/src/helm/process.rs).
    r = subprocess.run(list(args), capture_output=True, text=True, input=stdin,
                       env={**os.environ, "KUBECONFIG": KUBECONFIG, "HELM_DRIVER": "configmap", **(env or {})})
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def kubectl(*args, check=True):
    return run(KUBECTL, *args, check=check)


def get(ns, what):
    return json.loads(kubectl("-n", ns, "get", what, "-o", "json").stdout)


def until(what, seconds, probe):
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(1)


def give_nodes_ephemeral_storage():
    """kwok's default node reports cpu, memory and pods only; a real kubelet
    also reports ephemeral-storage, which every container of this chart
    requests. Add it to the fake nodes that lack it (status subresource)."""
    for node in json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]:
        if "ephemeral-storage" not in node["status"].get("allocatable", {}):
            patch = {"status": {"capacity": {"ephemeral-storage": "100Gi"},
                                "allocatable": {"ephemeral-storage": "100Gi"}}}
            kubectl("patch", "node", node["metadata"]["name"], "--subresource=status", "--type=merge",
                    "-p", json.dumps(patch))


def prepare_namespace(store_id, enforce="restricted"):
    """What create-store does before helm: the labelled namespace and the two Secrets."""
    ns = f"store-{store_id}"
    kubectl("create", "namespace", ns)
    kubectl("label", "namespace", ns, "app.kubernetes.io/managed-by=storefleet", f"storefleet.io/store-id={store_id}",
            "storefleet.io/engine=woocommerce", f"pod-security.kubernetes.io/enforce={enforce}",
            "pod-security.kubernetes.io/warn=restricted")
    values = {k: secrets.token_urlsafe(24) for k in SECRET_KEYS}
    for name, keys in [("store-credentials", set(SECRET_KEYS) - set(ADMIN_KEYS)), ("store-admin", ADMIN_KEYS)]:
        kubectl("-n", ns, "create", "secret", "generic", name, *[f"--from-literal={k}={values[k]}" for k in keys])
    return ns


def helm_install(store_id, *extra):
    """The exact command create-store runs (shared/kube/src/helm/mod.rs)."""
    ns = f"store-{store_id}"
    return run(HELM, "upgrade", "--install", ns, CHART, "--namespace", ns,
               "-f", os.path.join(CHART, "values-local.yaml"), *interface(store_id), "--timeout", "2m", *extra)


def store_ready(ns):
    deploy = get(ns, "deployment/wordpress")
    sts = get(ns, "statefulset/mysql")
    ds, ss = deploy["status"], sts["status"]
    return (ds.get("observedGeneration") == deploy["metadata"]["generation"]
            and ds.get("availableReplicas", 0) == deploy["spec"]["replicas"]
            and ds.get("updatedReplicas", 0) == deploy["spec"]["replicas"]
            and ds.get("replicas", 0) == deploy["spec"]["replicas"]
            and ss.get("readyReplicas", 0) == sts["spec"]["replicas"])


def quota_count(ns):
    """(the ResourceQuota's `used`, the same four sums computed from the
    namespace's pods the way test_rendering computes them). Pods in a terminal
    phase are left out, as the quota leaves them out."""
    pods = [p for p in get(ns, "pods")["items"] if p["status"].get("phase") not in ("Succeeded", "Failed")]
    used = get(ns, "resourcequota/store-quota")["status"].get("used", {})
    keys = ("requests.cpu", "requests.memory", "limits.memory", "requests.ephemeral-storage")
    got = {k: quantity(used.get(k, 0)) for k in keys}
    want = {k: sum(pod_share(p["spec"], *k.split(".", 1)) for p in pods) for k in keys}
    return got, want


def settled_quota(ns, seconds=30):
    """Wait until the quota's `used` equals the pods' sums; return (got, want).

    Quota admission charges each pod as the API server admits it, but the
    quota controller's first count of a new ResourceQuota can race a pod
    admitted at that moment: it writes `used` from a pod cache that does not
    have the pod yet, and recounts only on its full resync (every 5 minutes by
    default) or when spec.hard changes. On a busy machine that left `used` one
    pod short (seen in CI-like runs: the count test failed, and the surge pod
    of the refusal test was admitted). So when the numbers still differ after
    `seconds`, change spec.hard (add, then remove, a limit the chart never
    comes near) to make the controller count again, and wait once more."""
    def agreed():
        got, want = quota_count(ns)
        return (got, want) if got == want else None
    try:
        return until("the quota's usage to match the pods", seconds, agreed)
    except AssertionError:
        pass
    for value in ("1000", None):
        kubectl("-n", ns, "patch", "resourcequota/store-quota", "--type=merge",
                "-p", json.dumps({"spec": {"hard": {"count/configmaps": value}}}))
    try:
        return until("the quota's usage to match the pods after a recount", seconds, agreed)
    except AssertionError:
        return quota_count(ns)


def refusals(ns):
    """Admission refusals (quota, LimitRange, Pod Security: FailedCreate of the
    ReplicaSet or StatefulSet) and pods the scheduler cannot place for lack
    of resources. Other scheduling messages are kwok's fake volume binding
    catching up (the scheduler retries; readiness is awaited separately)."""
    events = get(ns, "events")["items"]
    return [f"{e['reason']}: {e['message']}" for e in events
            if e["reason"] == "FailedCreate"
            or (e["reason"] == "FailedScheduling" and "Insufficient" in e["message"])]


@unittest.skipUnless(KUBECONFIG, "STORE_KUBECONFIG is not set (make test-chart sets it)")
class StoreOnARealApiServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        give_nodes_ephemeral_storage()
        cls.store_id = "t" + secrets.token_hex(4)[:7]
        cls.ns = prepare_namespace(cls.store_id)

    @classmethod
    def tearDownClass(cls):
        run(HELM, "uninstall", cls.ns, "--namespace", cls.ns, "--wait", check=False)
        kubectl("delete", "namespace", cls.ns, "--ignore-not-found", "--wait=false", check=False)

    def test_1_installed_as_create_store_does_it_the_pods_are_admitted_and_ready(self):
        r = helm_install(self.store_id)
        self.assertNotIn("violate PodSecurity", r.stderr, "the pods meet Pod Security 'restricted'")
        until("the store's workloads to be available", 90, lambda: store_ready(self.ns))
        self.assertEqual(refusals(self.ns), [])
        pods = get(self.ns, "pods")["items"]
        self.assertEqual(sorted(p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods),
                         ["mysql", "wordpress"])
        for p in pods:
            self.assertEqual(p["metadata"]["labels"]["storefleet.io/store-id"], self.store_id)
        pvcs = get(self.ns, "pvc")["items"]
        self.assertEqual(sorted(p["status"]["phase"] for p in pvcs), ["Bound", "Bound"])

    def test_2_the_quota_counts_what_the_rendering_tests_compute(self):
        """The quota controller's own sum equals the arithmetic of test_rendering."""
        until("the quota's usage", 30, lambda: get(self.ns, "resourcequota/store-quota")["status"].get("used"))
        got, want = settled_quota(self.ns)
        self.assertEqual(got, want, "quota usage (first) != the pods' shares computed like test_rendering (second)")
        used = get(self.ns, "resourcequota/store-quota")["status"]["used"]
        self.assertEqual(used["persistentvolumeclaims"], "2")

    def test_3_a_rolling_update_whose_new_pod_never_gets_ready_is_admitted_and_rolled_back(self):
        # The new pod's image is marked to crash (test cluster stage): the old
        # pod keeps serving, and both must fit the quota at once.
        helm_install(self.store_id, "--set-string", "wordpress.image.tag=0.0.0-crash-loop-backoff")
        wordpress = lambda: [p for p in get(self.ns, "pods")["items"]  # noqa: E731
                             if p["metadata"]["labels"]["app.kubernetes.io/component"] == "wordpress"
                             and not p["metadata"].get("deletionTimestamp")]
        until("old and new WordPress pods side by side", 60, lambda: len(wordpress()) == 2)
        self.assertEqual(refusals(self.ns), [], "the surge pod was refused")
        ready = [p for p in wordpress() if any(c["type"] == "Ready" and c["status"] == "True"
                                               for c in p["status"].get("conditions", []))]
        self.assertEqual(len(ready), 1, "the old pod keeps serving during the update")
        # Roll back with the script users run (docs/store-chart.md, "Rollback").
        r = run(os.path.join(ROOT, "scripts", "store-rollback"), self.store_id,
                env={"STOREFLEET_HELM_BIN": HELM, "STOREFLEET_KUBECTL_BIN": KUBECTL})
        self.assertIn("rolled back", r.stdout + r.stderr)
        until("the rollback to finish", 90, lambda: store_ready(self.ns) and len(wordpress()) == 1)
        image = get(self.ns, "deployment/wordpress")["spec"]["template"]["spec"]["containers"][0]["image"]
        self.assertNotIn("crash-loop-backoff", image)
        history = json.loads(run(HELM, "history", self.ns, "--namespace", self.ns, "-o", "json").stdout)
        self.assertEqual([h["revision"] for h in history], [1, 2, 3])
        self.assertIn("Rollback to 1", history[-1]["description"])

    def test_4_uninstall_leaves_no_volume_behind(self):
        pvs_before = {pv["spec"]["claimRef"]["name"] for pv in json.loads(
            kubectl("get", "pv", "-o", "json").stdout)["items"]
            if pv["spec"].get("claimRef", {}).get("namespace") == self.ns}
        self.assertEqual(pvs_before, {"wordpress-content", "mysql-data"})
        run(HELM, "uninstall", self.ns, "--namespace", self.ns, "--wait", "--cascade", "foreground", "--timeout", "2m")
        left = kubectl("-n", self.ns, "get", "all,pvc,configmap,ingress,networkpolicy,resourcequota,limitrange",
                       "-l", f"storefleet.io/store-id={self.store_id}", "-o", "name").stdout.split()
        self.assertEqual(left, [])
        until("the volumes to be deleted", 60, lambda: not [
            pv for pv in json.loads(kubectl("get", "pv", "-o", "json").stdout)["items"]
            if pv["spec"].get("claimRef", {}).get("namespace") == self.ns])


# The platform's admission policies that judge every store namespace
# (helm/platform/templates/admission-policy.yaml), rendered with the values
# whose store host and IngressClass match the store installed here
# (values-local: {id}.localhost, nginx).
STORE_POLICIES = ("storefleet-store-pods", "storefleet-store-ingresses")


def platform_store_policies():
    out = run(HELM, "template", "storefleet", os.path.join(ROOT, "helm", "platform"), "--namespace", "storefleet",
              "-f", os.path.join(ROOT, "helm", "platform", "values-local.yaml"),
              "--show-only", "templates/admission-policy.yaml").stdout
    return [d for d in yaml.safe_load_all(out) if d and d["metadata"]["name"] in STORE_POLICIES]


def create(ns, obj, check=True):
    """kubectl create (generateName needs create, not apply); the created object."""
    r = run(KUBECTL, "-n", ns, "create", "-o", "json", "-f", "-", check=False, stdin=json.dumps(obj))
    if check and r.returncode != 0:
        raise AssertionError(f"{obj['kind']} refused:\n{r.stderr}")
    return json.loads(r.stdout) if r.returncode == 0 else r


@unittest.skipUnless(KUBECONFIG, "STORE_KUBECONFIG is not set (make test-chart sets it)")
class CertManagerSolverDuringARollingUpdate(unittest.TestCase):
    """Issue 11 item 8: the storefront's certificate can be issued while the
    store rolls over. cert-manager's HTTP-01 solver pod, ClusterIP Service and
    Ingress (cert_manager.py: as cert-manager v1.18.2 builds them) are created
    in the store namespace while the old and the new WordPress pod run side
    by side, and must pass the ResourceQuota, the LimitRange, Pod Security
    `restricted` and the platform's storefleet-store-pods and
    storefleet-store-ingresses policies."""

    @classmethod
    def setUpClass(cls):
        give_nodes_ephemeral_storage()
        cls.policies = platform_store_policies()
        assert sorted(p["metadata"]["name"] for p in cls.policies) == sorted(STORE_POLICIES * 2), cls.policies
        run(KUBECTL, "apply", "--server-side", "-f", "-", stdin="\n---\n".join(yaml.safe_dump(p) for p in cls.policies))
        cls.store_id = "c" + secrets.token_hex(4)[:7]
        cls.ns = prepare_namespace(cls.store_id)
        cls.host = f"{cls.store_id}.localhost"
        # In force once each refuses what only it refuses (policies take a
        # moment to load): an added capability (Pod Security `restricted`
        # allows NET_BIND_SERVICE) and another host's Ingress.
        probe_pod = cert_manager.pod(cls.host, "probe", "k")
        probe_pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
        probe_ingress = cert_manager.ingress("storefleet.localhost", "probe", "x", "nginx")

        def refused(obj, words):
            return words in run(KUBECTL, "-n", cls.ns, "create", "--dry-run=server", "-f", "-", check=False,
                                stdin=json.dumps(obj)).stderr
        until("the platform's store policies to be in force", 60, lambda: refused(
            probe_pod, "adds none") and refused(probe_ingress, "every Ingress rule must have host"))

    @classmethod
    def tearDownClass(cls):
        run(HELM, "uninstall", cls.ns, "--namespace", cls.ns, "--wait", check=False)
        kubectl("delete", "namespace", cls.ns, "--ignore-not-found", "--wait=false", check=False)
        for p in cls.policies:
            kubectl("delete", p["kind"].lower(), p["metadata"]["name"], "--ignore-not-found", check=False)

    def test_the_solver_is_admitted_while_old_and_new_wordpress_pods_run(self):
        tls = ["--set", "ingress.tls.enabled=true", "--set-string", "ingress.tls.clusterIssuer=letsencrypt-prod"]
        helm_install(self.store_id, *tls)
        until("the store's workloads to be available", 90, lambda: store_ready(self.ns))
        helm_install(self.store_id, *tls, "--set-string", "wordpress.image.tag=0.0.0-crash-loop-backoff")
        wordpress = lambda: [p for p in get(self.ns, "pods")["items"]  # noqa: E731
                             if p["metadata"]["labels"].get("app.kubernetes.io/component") == "wordpress"
                             and not p["metadata"].get("deletionTimestamp")]
        until("old and new WordPress pods side by side", 60, lambda: len(wordpress()) == 2)

        token, key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        # cert-manager's default Service type is NodePort, which the store
        # quota refuses: hence serviceType: ClusterIP in docs/production.md.
        r = create(self.ns, cert_manager.service(self.host, token, "NodePort"), check=False)
        self.assertIsInstance(r, subprocess.CompletedProcess, "a NodePort Service was admitted")
        self.assertIn("exceeded quota", r.stderr)
        service = create(self.ns, cert_manager.service(self.host, token))
        ingress = create(self.ns, cert_manager.ingress(self.host, token, service["metadata"]["name"], "nginx"))
        pod = create(self.ns, cert_manager.pod(self.host, token, key))
        self.assertNotIn("pod-security.kubernetes.io", json.dumps(pod["metadata"].get("annotations", {})))
        # LimitRange gave it the ephemeral storage it does not ask for
        resources = pod["spec"]["containers"][0]["resources"]
        self.assertEqual((resources["requests"]["ephemeral-storage"], resources["limits"]["ephemeral-storage"]),
                         ("50Mi", "512Mi"))
        self.assertEqual(ingress["spec"]["rules"][0]["host"], self.host)

        name = pod["metadata"]["name"]
        until("the solver pod to run", 60, lambda: get(self.ns, f"pod/{name}")["status"].get("phase") == "Running")
        self.assertEqual(len(wordpress()), 2, "the rolling update still has both pods")
        self.assertEqual(refusals(self.ns), [])
        got, want = settled_quota(self.ns)
        self.assertEqual(got, want, "quota usage (first) != the shares of the pods, the solver's included (second)")
        used = get(self.ns, "resourcequota/store-quota")["status"]["used"]
        self.assertEqual((used["pods"], used["services"], used["services.nodeports"]), ("4", "3", "0"))


@unittest.skipUnless(KUBECONFIG, "STORE_KUBECONFIG is not set (make test-chart sets it)")
class ProductionVolumesCanGrow(unittest.TestCase):
    """Issue 11 item 8: with values-prod.yaml's volume sizes and storage
    quota, each volume can be expanded to twice its size (a quota of exactly
    their sum refused every expansion). Expansion admission needs a
    StorageClass that allows it; kwok's volume stages bind only claims of
    the test cluster's `kwok-volume`, so the test allows expansion there
    (a mutable field) and restores it afterwards. The quota judges the rest."""

    def test_each_volume_is_expanded_to_twice_its_size(self):
        give_nodes_ephemeral_storage()
        with open(os.path.join(CHART, "values-prod.yaml")) as fh:
            prod = yaml.safe_load(fh)
        sizes = {"wordpress-content": prod["wordpress"]["persistence"]["size"],
                 "mysql-data": prod["mysql"]["persistence"]["size"]}
        allowed = get("default", "storageclass/kwok-volume").get("allowVolumeExpansion", False)
        kubectl("patch", "storageclass", "kwok-volume", "-p", json.dumps({"allowVolumeExpansion": True}))
        store_id = "v" + secrets.token_hex(4)[:7]
        ns = prepare_namespace(store_id)
        try:
            helm_install(store_id, "--set-string", f"wordpress.persistence.size={sizes['wordpress-content']}",
                         "--set-string", f"mysql.persistence.size={sizes['mysql-data']}",
                         "--set-string", "resourceQuota.hard.requests\\.storage="
                         + prod["resourceQuota"]["hard"]["requests.storage"])
            until("both volumes to be bound", 60, lambda: sorted(
                p["status"].get("phase") for p in get(ns, "pvc")["items"]) == ["Bound", "Bound"])
            for name, size in sizes.items():
                doubled = f"{2 * int(size.removesuffix('Gi'))}Gi"
                r = kubectl("-n", ns, "patch", "pvc", name, "--type=merge", "-p", json.dumps(
                    {"spec": {"resources": {"requests": {"storage": doubled}}}}), check=False)
                self.assertEqual(r.returncode, 0, f"{name} could not grow to {doubled}: {r.stderr}")
            used = get(ns, "resourcequota/store-quota")["status"]["used"]
            self.assertEqual(quantity(used["requests.storage"]),
                             2 * sum(quantity(s) for s in sizes.values()), used)
        finally:
            run(HELM, "uninstall", ns, "--namespace", ns, "--wait", check=False)
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
            kubectl("patch", "storageclass", "kwok-volume", "-p", json.dumps({"allowVolumeExpansion": allowed}),
                    check=False)


@unittest.skipUnless(KUBECONFIG, "STORE_KUBECONFIG is not set (make test-chart sets it)")
class TheAdmissionCheckCanFail(unittest.TestCase):
    def test_a_quota_without_room_for_the_surge_pod_refuses_it(self):
        """The same rolling update with requests.memory one pod short: the API
        server refuses the surge pod, and `refusals` sees it."""
        give_nodes_ephemeral_storage()
        store_id = "q" + secrets.token_hex(4)[:7]
        ns = prepare_namespace(store_id)
        try:
            small = ["--set-string", "resourceQuota.hard.requests\\.memory=768Mi"]
            helm_install(store_id, *small)
            until("the store's workloads to be available", 90, lambda: store_ready(ns))
            # The refusal depends on `used` counting both pods (settled_quota).
            got, want = settled_quota(ns)
            self.assertEqual(got, want, "quota usage (first) != the pods' shares (second) before the update")
            helm_install(store_id, *small, "--set-string", "wordpress.image.tag=0.0.0-crash-loop-backoff")
            try:
                found = until("the refusal", 120, lambda: refusals(ns))
            except AssertionError as err:
                # Say what the namespace looked like, so the cause can be read.
                state = kubectl("-n", ns, "get", "deployments,replicasets,pods,resourcequota,events",
                                "-o", "wide", check=False)
                raise AssertionError(f"{err}\n{state.stdout}{state.stderr}") from None
            self.assertIn("exceeded quota", " ".join(found))
        finally:
            run(HELM, "uninstall", ns, "--namespace", ns, "--wait", check=False)
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)


if __name__ == "__main__":
    unittest.main()
