"""Assertions on the platform chart's rendering (helm template), per values file.

Run by scripts/test-deploy:  HELM=/path/to/helm python3 -m unittest -v test_rendering
Checks what a reviewer would check by hand: least-privilege RBAC, every
container hardened and with resources, the fixed names knative/ depends on,
and that knative/ refers only to objects this chart creates.
"""

import glob
import os
import subprocess
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHART = os.path.join(ROOT, "helm", "platform")
HELM = os.environ.get("HELM", "helm")
VALUES_FILES = ["values.yaml", "values-local.yaml", "values-prod.yaml"]
FUNCTIONS = ["create-store", "delete-store", "list-stores", "readiness-checker"]
PER_STORE_ROLES = {"storefleet-store-manager", "storefleet-store-reader", "storefleet-store-deleter",
                   "storefleet-store-checker", "storefleet-store-watcher"}


def render(values_file="values.yaml", *sets):
    cmd = [HELM, "template", "storefleet", CHART, "--namespace", "storefleet",
           "-f", os.path.join(CHART, values_file)]
    for s in sets:
        cmd += ["--set", s]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


class NoDuplicateKeys(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with a key twice. helm and kubectl
    let the last one win silently; skaffold's post-renderer (`skaffold
    render`/`run`) refuses the whole release."""


def _mapping_without_duplicates(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    twice = sorted({k for k in keys if keys.count(k) > 1}, key=str)
    if twice:
        raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {twice}", node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


NoDuplicateKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def render_fails(*sets):
    cmd = [HELM, "template", "storefleet", CHART, "--namespace", "storefleet"]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode != 0, r.stderr


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found[0] if found else None


def pod_specs(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]


class EveryValuesFile(unittest.TestCase):
    def each(self):
        for f in VALUES_FILES:
            with self.subTest(values=f):
                yield f, render(f)

    def test_every_container_has_resources_and_is_hardened(self):
        for _, docs in self.each():
            for name, spec in pod_specs(docs):
                self.assertTrue(spec["securityContext"]["runAsNonRoot"], name)
                self.assertEqual(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", name)
                self.assertFalse(spec.get("automountServiceAccountToken", True),
                                 f"{name}: no pod of this chart talks to the Kubernetes API")
                for c in spec.get("initContainers", []) + spec["containers"]:
                    where = f"{name}/{c['name']}"
                    res = c.get("resources", {})
                    for k in ("cpu", "memory", "ephemeral-storage"):
                        self.assertIn(k, res.get("requests", {}), f"{where}: requests.{k}")
                    for k in ("memory", "ephemeral-storage"):
                        self.assertIn(k, res.get("limits", {}), f"{where}: limits.{k}")
                    sc = c["securityContext"]
                    self.assertFalse(sc["allowPrivilegeEscalation"], where)
                    self.assertTrue(sc["readOnlyRootFilesystem"], where)
                    self.assertEqual(sc["capabilities"]["drop"], ["ALL"], where)
                    self.assertNotIn("add", sc["capabilities"], where)
                    self.assertNotIn("privileged", sc, where)
                    self.assertNotRegex(c["image"], r":latest$|^[^:]+$", f"{where}: image pinned by tag")

    def test_rbac_is_least_privilege(self):
        forbidden_resources = {"pods/exec", "pods/attach", "pods/portforward", "nodes/proxy", "*"}
        forbidden_verbs = {"escalate", "impersonate", "*"}
        for _, docs in self.each():
            roles = {r["metadata"]["name"]: r for r in by_kind(docs, "ClusterRole") + by_kind(docs, "Role")}
            for name, role in roles.items():
                for rule in role["rules"]:
                    self.assertFalse(set(rule.get("resources", [])) & forbidden_resources, f"{name}: {rule}")
                    self.assertFalse(set(rule["verbs"]) & forbidden_verbs, f"{name}: {rule}")
                    self.assertNotIn("*", rule.get("apiGroups", []), f"{name}: {rule}")
                    self.assertNotIn("create", rule["verbs"] if "pods" in rule.get("resources", []) else [],
                                     f"{name}: creates pods directly")
                    if "bind" in rule["verbs"]:
                        self.assertEqual(rule["verbs"], ["bind"], f"{name}: bind rule mixes verbs")
                        self.assertTrue(rule.get("resourceNames"), f"{name}: bind without resourceNames")
                        self.assertLessEqual(set(rule["resourceNames"]), PER_STORE_ROLES, name)
            # Cluster-wide bindings never grant secrets, and the per-store roles
            # are never bound cluster-wide.
            for crb in by_kind(docs, "ClusterRoleBinding"):
                ref = crb["roleRef"]["name"]
                self.assertNotIn(ref, PER_STORE_ROLES, f"{crb['metadata']['name']} binds a per-store role cluster-wide")
                for rule in roles[ref]["rules"]:
                    self.assertNotIn("secrets", rule.get("resources", []), f"{ref} grants secrets cluster-wide")
                    if {"namespaces"} & set(rule.get("resources", [])) and "delete" in rule["verbs"]:
                        self.assertEqual(ref, "storefleet-delete-store", "only delete-store deletes namespaces")
            bound_subjects = {s["name"] for crb in by_kind(docs, "ClusterRoleBinding") for s in crb["subjects"]}
            self.assertNotIn("list-stores", bound_subjects, "list-stores needs no cluster-wide permission")

    def test_function_permissions_are_what_each_uses(self):
        docs = render()
        rules = lambda n: named(docs, "ClusterRole", n)["rules"]  # noqa: E731
        create = {(g, r): set(rule["verbs"]) for rule in rules("storefleet-create-store")
                  for g in rule["apiGroups"] for r in rule["resources"]}
        self.assertEqual(create[("", "namespaces")], {"get", "create", "patch"})
        self.assertEqual(create[("rbac.authorization.k8s.io", "rolebindings")], {"create", "patch"})
        self.assertEqual(create[("rbac.authorization.k8s.io", "clusterroles")], {"bind"})
        self.assertEqual(len(create), 3)
        bind = [rule for rule in rules("storefleet-create-store") if "bind" in rule["verbs"]]
        self.assertEqual([sorted(rule["resourceNames"]) for rule in bind], [sorted(PER_STORE_ROLES)],
                         "create-store binds exactly the five per-store roles")
        deleter = rules("storefleet-store-deleter")
        self.assertFalse({v for rule in deleter for v in rule["verbs"]} & {"create", "patch"},
                         "delete-store's per-store role creates and patches nothing")
        delete = rules("storefleet-delete-store")
        self.assertEqual(delete, [{"apiGroups": [""], "resources": ["namespaces"],
                                   "verbs": ["get", "delete"]}])
        # item 11: cluster-wide only the namespace get; its lists are per store
        self.assertEqual(rules("storefleet-readiness-checker"),
                         [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}])
        for role in ("storefleet-store-checker", "storefleet-store-watcher"):
            self.assertLessEqual({v for rule in rules(role) for v in rule["verbs"]}, {"get", "list", "watch"}, role)
        reader = rules("storefleet-store-reader")
        self.assertEqual(reader, [{"apiGroups": [""], "resources": ["secrets"],
                                   "resourceNames": ["store-admin"], "verbs": ["get"]}])

    def test_list_stores_only_reads_store_credentials(self):
        # list-stores is bound per store to storefleet-store-reader only: get
        # on the Secret store-admin (the admin login), no write anywhere.
        for f, docs in self.each():
            cfg = named(docs, "ConfigMap", "storefleet-config")["data"]
            managers = cfg["STOREFLEET_STORE_MANAGER_SUBJECTS"].split(",")
            readers = cfg["STOREFLEET_STORE_READER_SUBJECTS"].split(",")
            self.assertNotIn("storefleet/list-stores", managers, f"{f}: list-stores must not hold the manager role")
            self.assertIn("storefleet/list-stores", readers, f"{f}: list-stores reads store-credentials")
            reader = named(docs, "ClusterRole", "storefleet-store-reader")["rules"]
            self.assertEqual(reader, [{"apiGroups": [""], "resources": ["secrets"],
                                       "resourceNames": ["store-admin"], "verbs": ["get"]}], f)
            # Nothing else in the chart names list-stores as a subject.
            bindings = by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
            self.assertEqual([b["metadata"]["name"] for b in bindings
                              if any(s["name"] == "list-stores" for s in b.get("subjects") or [])], [], f)

    def test_reader_subjects_may_be_empty(self):
        out = subprocess.run([HELM, "template", "storefleet", CHART, "--namespace", "storefleet",
                              "--set-json", "rbac.storeReaderSubjects=[]"],
                             check=True, capture_output=True, text=True).stdout
        cfg = named([d for d in yaml.safe_load_all(out) if d], "ConfigMap", "storefleet-config")
        self.assertEqual(cfg["data"]["STOREFLEET_STORE_READER_SUBJECTS"], "", "no reader binding")
        cfg = named(render("values.yaml", "rbac.storeManagerSubjects={create-store}"), "ConfigMap", "storefleet-config")
        self.assertEqual(cfg["data"]["STOREFLEET_STORE_MANAGER_SUBJECTS"], "storefleet/create-store")
        # The policy pins each binding's subjects to exactly the configured list.
        rb = named(render("values.yaml", "rbac.storeManagerSubjects={create-store}"), "ValidatingAdmissionPolicy",
                   "storefleet-create-store-rolebindings")
        allowed = next(v["expression"] for v in rb["spec"]["variables"] if v["name"] == "allowed")
        self.assertIn("? ['create-store'] :", allowed)
        self.assertIn("? ['list-stores'] :", allowed)

    def test_admission_policy_confines_create_and_delete(self):
        docs = render()
        create = named(docs, "ValidatingAdmissionPolicy", "storefleet-create-store-namespaces")
        self.assertIn("system:serviceaccount:storefleet:create-store", create["spec"]["matchConditions"][0]["expression"])
        delete = named(docs, "ValidatingAdmissionPolicy", "storefleet-delete-store-scope")
        self.assertIn("'app.kubernetes.io/managed-by'", delete["spec"]["validations"][0]["expression"])
        rb = named(docs, "ValidatingAdmissionPolicy", "storefleet-create-store-rolebindings")
        self.assertIn("namespaceObject", rb["spec"]["validations"][0]["expression"])
        for role in PER_STORE_ROLES:
            self.assertIn(f"'{role}'", rb["spec"]["validations"][1]["expression"], "create-store may bind it")
        for p in ("storefleet-create-store-namespaces", "storefleet-create-store-rolebindings",
                  "storefleet-delete-store-scope", "storefleet-store-pods", "storefleet-store-ingresses"):
            self.assertEqual(named(docs, "ValidatingAdmissionPolicy", p)["spec"]["failurePolicy"], "Fail")
            self.assertEqual(named(docs, "ValidatingAdmissionPolicyBinding", p)["spec"]["validationActions"], ["Deny"])
        # The pod and Ingress policies bind everyone in every store namespace.
        for p in ("storefleet-store-pods", "storefleet-store-ingresses"):
            spec = named(docs, "ValidatingAdmissionPolicy", p)["spec"]
            self.assertNotIn("matchConditions", spec)
            self.assertEqual(spec["matchConstraints"]["namespaceSelector"],
                             {"matchExpressions": [{"key": "storefleet.io/store-id", "operator": "Exists"}]})
        rules = named(docs, "ValidatingAdmissionPolicy", "storefleet-store-pods")["spec"]["matchConstraints"]
        kinds = {r for rule in rules["resourceRules"] for r in rule["resources"]}
        self.assertLessEqual({"pods", "deployments", "statefulsets", "replicasets", "daemonsets", "jobs",
                              "cronjobs"}, kinds)

    def test_ingress_policy_uses_the_configured_host_and_class(self):
        for f, host, cls in (("values-local.yaml", "'{id}.localhost'", "nginx"),
                             ("values-prod.yaml", "'{id}.stores.example.com'", "traefik")):
            spec = named(render(f), "ValidatingAdmissionPolicy", "storefleet-store-ingresses")["spec"]
            variables = {v["name"]: v["expression"] for v in spec["variables"]}
            self.assertIn(host + ".replace('{id}',", variables["host"], f)
            self.assertTrue(any(f"== '{cls}'" in v["expression"] for v in spec["validations"]), f)

    def test_the_fence_cannot_be_switched_off_silently(self):
        failed, err = render_fails("rbac.admissionPolicy=false")
        self.assertTrue(failed, "rbac.admissionPolicy=false without the acknowledgement was accepted")
        self.assertIn("acknowledgeNoAdmissionPolicy", err)
        # The template refuses too, where the schema is skipped.
        r = subprocess.run([HELM, "template", "storefleet", CHART, "--namespace", "storefleet",
                            "--skip-schema-validation", "--set", "rbac.admissionPolicy=false"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("reach cluster-admin", r.stderr)
        docs = render("values.yaml", "rbac.admissionPolicy=false", "rbac.acknowledgeNoAdmissionPolicy=true")
        self.assertEqual(by_kind(docs, "ValidatingAdmissionPolicy"), [])

    def test_fixed_names_of_docs_development(self):
        for f, docs in self.each():
            for fn in FUNCTIONS:
                self.assertIsNotNone(named(docs, "ServiceAccount", fn), fn)
            self.assertIsNotNone(named(docs, "Secret", "storefleet-bootstrap-admin"))
            self.assertIn("token", named(docs, "Secret", "storefleet-bootstrap-admin")["data"])
            db = named(docs, "Secret", "storefleet-database")
            self.assertEqual(set(db["data"]), {"url", "password"})
            cfg = named(docs, "ConfigMap", "storefleet-config")["data"]
            self.assertEqual(cfg["STOREFLEET_STORE_CHART"], "/opt/storefleet/helm/store")
            self.assertTrue(cfg["STOREFLEET_STORE_VALUES"].startswith("/opt/storefleet/helm/store/values-"), f)
            self.assertIn("storefleet/create-store", cfg["STOREFLEET_STORE_MANAGER_SUBJECTS"].split(","))
            self.assertEqual(cfg["STOREFLEET_STORE_READER_SUBJECTS"], "storefleet/list-stores", f)

    def test_config_keys_are_documented(self):
        with open(os.path.join(ROOT, "docs", "development.md")) as fh:
            documented = fh.read()
        cfg = named(render(), "ConfigMap", "storefleet-config")["data"]
        for key in cfg:
            self.assertIn(f"`{key}`", documented, f"{key} is not in docs/development.md")

    def test_no_mapping_has_a_key_twice(self):
        for f in VALUES_FILES:
            with self.subTest(values=f):
                cmd = [HELM, "template", "storefleet", CHART, "--namespace", "storefleet",
                       "-f", os.path.join(CHART, f)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                list(yaml.load_all(out, Loader=NoDuplicateKeys))

    def test_secrets_are_generated_never_from_values(self):
        a = named(render(), "Secret", "storefleet-bootstrap-admin")["data"]["token"]
        b = named(render(), "Secret", "storefleet-bootstrap-admin")["data"]["token"]
        self.assertNotEqual(a, b, "without a cluster to look up, each render generates a new token")
        for name in ("storefleet-bootstrap-admin", "storefleet-database"):
            self.assertEqual(named(render(), "Secret", name)["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        for f in VALUES_FILES:
            with open(os.path.join(CHART, f)) as fh:
                text = fh.read().lower()
            for word in ("password:", "token:", "secret:"):
                self.assertNotIn(word, text, f"{f} must not carry secrets")

    def test_external_database_runs_no_postgresql(self):
        docs = render("values-prod.yaml", "database.mode=external")
        self.assertIsNone(named(docs, "StatefulSet", "storefleet-postgresql"))
        self.assertIsNone(named(docs, "Secret", "storefleet-database"))
        job = named(docs, "Job", "storefleet-migrations")
        self.assertNotIn("initContainers", job["spec"]["template"]["spec"])

    def test_migrations_hook_runs_after_install_and_before_upgrade(self):
        job = named(render("values-local.yaml"), "Job", "storefleet-migrations")
        self.assertEqual(job["metadata"]["annotations"]["helm.sh/hook"], "post-install,pre-upgrade")
        c = job["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["image"], "dev.local/storefleet/list-stores:0.1.0")
        self.assertEqual(c["args"], ["migrate"])
        # The database URL as a mounted file: test_the_database_url_is_a_mounted_file_never_an_environment_variable.
        self.assertEqual(c["env"][0]["name"], "DATABASE_URL_FILE")

    def test_prod_has_tls_and_https_stores(self):
        docs = render("values-prod.yaml")
        ing = named(docs, "Ingress", "storefleet-dashboard")
        self.assertEqual(ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt-prod")
        self.assertEqual(ing["spec"]["tls"][0]["hosts"], ["storefleet.example.com"])
        self.assertEqual(named(docs, "ConfigMap", "storefleet-config")["data"]["STOREFLEET_STORE_URL_SCHEME"], "https")
        np = named(docs, "NetworkPolicy", "storefleet-dashboard")
        self.assertEqual(np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"],
                         {"kubernetes.io/metadata.name": "kube-system"}, "k3s's Traefik lives in kube-system")
        self.assertIsNotNone(named(docs, "PodDisruptionBudget", "storefleet-dashboard"))

    def test_gateway_upstreams_are_knative_cluster_local_urls(self):
        dep = named(render(), "Deployment", "storefleet-dashboard")
        env = {e["name"]: e["value"] for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env, {
            "STOREFLEET_CREATE_STORE_URL": "http://create-store.storefleet.svc.cluster.local",
            "STOREFLEET_DELETE_STORE_URL": "http://delete-store.storefleet.svc.cluster.local",
            "STOREFLEET_LIST_STORES_URL": "http://list-stores.storefleet.svc.cluster.local",
        })

    def test_schema_rejects_bad_values_with_a_clear_message(self):
        for bad, words in [
            ("config.storeUrlScheme=ftp", "storeUrlScheme"),
            ("database.mode=sqlite", "mode"),
            ("config.storeHostPattern=shop.example.com", "storeHostPattern"),
            ("rbac.storeManagerSubjects[0]=default", "storeManagerSubjects"),
            ("rbac.storeReaderSubjects[0]=default", "storeReaderSubjects"),
            ("rbac.storeManagerSubjects={delete-store}", "storeManagerSubjects"),
            ("rbac.storeManagerSubjects={create-store,list-stores}", "storeManagerSubjects"),
            ("rbac.storeReaderSubjects={list-stores,readiness-checker}", "storeReaderSubjects"),
            ("rbac.storeIngressClassName=Not_A_Class", "storeIngressClassName"),
            ("dashboard.replicas=0", "replicas"),
            ("unknownKey=1", "unknownKey"),
        ]:
            with self.subTest(bad=bad):
                failed, err = render_fails(bad)
                self.assertTrue(failed, f"{bad} was accepted")
                self.assertIn(words, err)


STORE_CHART = os.path.join(ROOT, "helm", "store")
MAIL_VALUES = "/opt/storefleet/helm/store/values-mail-catcher.yaml"


def tool_version(name):
    with open(os.path.join(ROOT, "scripts", "tool-versions.env")) as fh:
        for line in fh:
            if line.startswith(name + "="):
                return line.strip().split("=", 1)[1]
    raise AssertionError(f"{name} is not in scripts/tool-versions.env")


def render_store(*values_files):
    """The store chart as create-store renders it: -f each values file
    (paths in the image mapped to helm/store), the three --set keys."""
    cmd = [HELM, "template", "store-abcd1234", STORE_CHART, "--namespace", "store-abcd1234",
           "--set", "storeId=abcd1234", "--set-string", "ingress.host=abcd1234.localhost",
           "--set", "existingSecret=store-credentials"]
    for f in values_files:
        cmd += ["-f", f.replace("/opt/storefleet/helm/store", STORE_CHART)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        (e["key"] in labels) == (e["operator"] == "Exists") for e in selector.get("matchExpressions", []))


class MailCatcher(unittest.TestCase):
    """Mailpit (issue 17, order emails): only with values-local.yaml, and then
    the stores' smtp.* point at it and the NetworkPolicies on both sides let
    exactly that through."""

    def test_only_values_local_runs_it(self):
        for f in VALUES_FILES:
            with self.subTest(values=f):
                docs = render(f)
                mail = [(d["kind"], d["metadata"]["name"]) for d in docs if d["metadata"]["name"] == "mailpit"]
                store_values = named(docs, "ConfigMap", "storefleet-config")["data"]["STOREFLEET_STORE_VALUES"]
                gateway = named(docs, "Deployment", "storefleet-dashboard")["spec"]["template"]["spec"]["containers"][0]
                mail_url = [e["value"] for e in gateway["env"] if e["name"] == "STOREFLEET_MAIL_URL"]
                if f == "values-local.yaml":
                    self.assertEqual(sorted(mail), [("Deployment", "mailpit"), ("Ingress", "mailpit"),
                                                    ("NetworkPolicy", "mailpit"), ("Service", "mailpit")])
                    self.assertEqual(store_values.split(","),
                                     ["/opt/storefleet/helm/store/values-local.yaml", MAIL_VALUES])
                    # the dashboard's Mail link (GET /config.json, dashboard/nginx)
                    self.assertEqual(mail_url, ["http://mail.localhost/"])
                else:
                    self.assertEqual(mail, [])
                    self.assertNotIn("mail-catcher", store_values)
                    self.assertEqual(mail_url, [], "no Mail link in production")

    def test_the_image_is_pinned_to_the_version_make_dev_builds(self):
        d = named(render("values-local.yaml"), "Deployment", "mailpit")
        (c,) = d["spec"]["template"]["spec"]["containers"]
        self.assertEqual(c["image"], f"docker.io/axllent/mailpit:{tool_version('MAILPIT_VERSION')}")
        self.assertIn("--disable-version-check", c["args"])
        self.assertIn("--smtp=0.0.0.0:1025", c["args"])
        ok, err = render_fails("mailCatcher.enabled=true", "mailCatcher.image.tag=latest")
        self.assertTrue(ok)
        self.assertIn("/mailCatcher/image/tag", err)

    def test_the_web_ui_is_served_at_mail_localhost(self):
        ing = named(render("values-local.yaml"), "Ingress", "mailpit")
        self.assertEqual(ing["spec"]["ingressClassName"], "nginx")
        (rule,) = ing["spec"]["rules"]
        self.assertEqual(rule["host"], "mail.localhost")
        self.assertEqual(rule["http"]["paths"][0]["backend"]["service"], {"name": "mailpit", "port": {"name": "http"}})

    def test_another_release_namespace_is_refused(self):
        cmd = [HELM, "template", "storefleet", CHART, "--namespace", "shop", "-f",
               os.path.join(CHART, "values-local.yaml")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("mailCatcher.enabled needs the release namespace storefleet", r.stderr)

    def test_stores_send_their_mail_to_it(self):
        docs = render("values-local.yaml")
        files = named(docs, "ConfigMap", "storefleet-config")["data"]["STOREFLEET_STORE_VALUES"].split(",")
        store = render_store(*files)
        wp = named(store, "Deployment", "wordpress")["spec"]["template"]
        (c,) = [c for c in wp["spec"]["containers"] if c["name"] == "wordpress"]
        extra = next(e["value"] for e in c["env"] if e["name"] == "WORDPRESS_CONFIG_EXTRA")
        svc = named(docs, "Service", "mailpit")
        smtp_port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "smtp")
        self.assertIn("$mail->Host = 'mailpit.storefleet.svc.cluster.local';", extra)
        self.assertIn(f"$mail->Port = {smtp_port};", extra)
        self.assertIn("$mail->SMTPAutoTLS = false;", extra)
        # without the file: no SMTP at all (the image has no sendmail)
        plain = named(render_store(files[0]), "Deployment", "wordpress")["spec"]["template"]
        (c,) = [c for c in plain["spec"]["containers"] if c["name"] == "wordpress"]
        self.assertNotIn("phpmailer_init", next(e["value"] for e in c["env"] if e["name"] == "WORDPRESS_CONFIG_EXTRA"))

    def test_network_policies_let_store_mail_through_and_nothing_else(self):
        docs = render("values-local.yaml")
        mailpit_pod = named(docs, "Deployment", "mailpit")["spec"]["template"]["metadata"]["labels"]
        store = render_store("/opt/storefleet/helm/store/values-local.yaml", MAIL_VALUES)
        wp_labels = named(store, "Deployment", "wordpress")["spec"]["template"]["metadata"]["labels"]
        # the namespace create-store makes (shared/kube/src/namespace.rs)
        store_ns = {"kubernetes.io/metadata.name": "store-abcd1234", "app.kubernetes.io/managed-by": "storefleet",
                    "storefleet.io/store-id": "abcd1234"}
        platform_ns = {"kubernetes.io/metadata.name": "storefleet"}

        # egress of the store's WordPress pods: some rule reaches the Mailpit pod on 1025
        egress = named(store, "NetworkPolicy", "wordpress")
        self.assertTrue(matches(egress["spec"]["podSelector"], wp_labels))
        to_mailpit = [r for r in egress["spec"]["egress"]
                      if any("namespaceSelector" in t and matches(t["namespaceSelector"], platform_ns)
                             and matches(t.get("podSelector", {}), mailpit_pod) for t in r.get("to", []))]
        self.assertEqual([p["port"] for r in to_mailpit for p in r["ports"]], [1025])

        # ingress of the Mailpit pod
        np = named(docs, "NetworkPolicy", "mailpit")
        self.assertTrue(matches(np["spec"]["podSelector"], mailpit_pod))
        self.assertEqual(np["spec"]["policyTypes"], ["Ingress", "Egress"])
        self.assertEqual(np["spec"]["egress"], [], "Mailpit reaches nothing")

        def admitted(ns_labels, pod_labels):
            return sorted(p["port"] for r in np["spec"]["ingress"] for t in r["from"]
                          if matches(t.get("namespaceSelector", {}), ns_labels)
                          and matches(t.get("podSelector", {}), pod_labels) for p in r["ports"])

        self.assertEqual(admitted(store_ns, wp_labels), [1025])
        mysql_labels = named(store, "StatefulSet", "mysql")["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(admitted(store_ns, mysql_labels), [], "only WordPress sends mail")
        self.assertEqual(admitted({"kubernetes.io/metadata.name": "default"}, wp_labels), [],
                         "a pod outside store namespaces is not admitted")
        self.assertEqual(admitted({"kubernetes.io/metadata.name": "ingress-nginx"}, {"app": "x"}), [8025])


class KnativeManifestsReferToThisChart(unittest.TestCase):
    """knative/ (applied next to this release) must only name objects the chart creates."""

    def test_service_accounts_configmaps_and_secrets_exist(self):
        files = sorted(glob.glob(os.path.join(ROOT, "knative", "*.yaml")))
        if not files:
            self.skipTest("knative/ has no manifests yet")
        docs = render("values-local.yaml")
        have = {(d["kind"], d["metadata"]["name"]) for d in docs}
        refs = set()
        for path in files:
            with open(path) as fh:
                for d in yaml.safe_load_all(fh):
                    if not d or d.get("kind") != "Service" or not d["apiVersion"].startswith("serving.knative.dev"):
                        continue
                    spec = d["spec"]["template"]["spec"]
                    refs.add(("ServiceAccount", spec["serviceAccountName"]))
                    for c in spec["containers"]:
                        for ef in c.get("envFrom", []):
                            if "configMapRef" in ef:
                                refs.add(("ConfigMap", ef["configMapRef"]["name"]))
                        for e in c.get("env", []):
                            ref = e.get("valueFrom", {}).get("secretKeyRef")
                            if ref:
                                refs.add(("Secret", ref["name"]))
                    for v in spec.get("volumes", []):
                        if "secret" in v:
                            refs.add(("Secret", v["secret"]["secretName"]))
        self.assertTrue(refs)
        self.assertLessEqual(refs, have, f"knative/ refers to objects the chart does not create: {refs - have}")

    def test_the_database_url_is_a_mounted_file_never_an_environment_variable(self):
        # Issue 11 item 23: an environment variable is inherited by every child
        # (helm, its plugins) and readable in /proc/<pid>/environ.
        pods = []
        for path in sorted(glob.glob(os.path.join(ROOT, "knative", "*.yaml"))):
            with open(path) as fh:
                pods += [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in yaml.safe_load_all(fh)
                         if d and d.get("kind") == "Service" and d["apiVersion"].startswith("serving.knative.dev")]
        job = named(render("values-local.yaml"), "Job", "storefleet-migrations")
        pods.append(("storefleet-migrations", job["spec"]["template"]["spec"]))
        self.assertEqual(len(pods), 5, "the four functions and the migration Job")
        for name, spec in pods:
            with self.subTest(pod=name):
                volumes = {v["name"]: v for v in spec.get("volumes", [])}
                c = spec["containers"][0]
                env = {e["name"]: e for e in c.get("env", [])}
                self.assertNotIn("DATABASE_URL", env)
                for e in env.values():
                    self.assertNotEqual(e.get("valueFrom", {}).get("secretKeyRef", {}).get("name"),
                                        "storefleet-database", f"{e['name']} carries the database Secret")
                path = env["DATABASE_URL_FILE"]["value"]
                mount = next(m for m in c["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
                self.assertTrue(mount.get("readOnly"))
                secret = volumes[mount["name"]]["secret"]
                self.assertEqual(secret["secretName"], "storefleet-database")
                self.assertEqual(secret["items"], [{"key": "url", "path": os.path.basename(path)}])


if __name__ == "__main__":
    unittest.main()
