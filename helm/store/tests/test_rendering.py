"""Assertions on the store chart's rendering (helm template), per values file.

Run by `make test-chart`:  HELM=/path/to/helm python3 -m unittest -v test_rendering
Each test checks a property the issue asks for, on the real helm's output, in
a way that fails when the property breaks.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

import cert_manager
from chart import (ADMIN_KEYS, CHART, SECRET_KEYS, STORE_ID, VALUES_FILES, by_kind, containers, helm_template, named,
                   pod_share, pods_at_worst, quantity, render, workloads)

SCRIPTS = ["wordpress-files.sh", "setup-woocommerce.sh"]


def each_values_file(test):
    for f in VALUES_FILES:
        with test.subTest(values=f):
            yield f, render(f)


def setup_script(docs):
    return named(docs, "ConfigMap", "woocommerce-setup")["data"]["setup-woocommerce.sh"]


class Resources(unittest.TestCase):
    def test_every_container_has_requests_and_limits(self):
        for _, docs in each_values_file(self):
            for w in workloads(docs):
                for is_init, c in containers(w["spec"]["template"]["spec"]):
                    where = f"{w['metadata']['name']}/{c['name']}{' (init)' if is_init else ''}"
                    for kind in ("requests", "limits"):
                        for r in ("cpu", "memory", "ephemeral-storage"):
                            self.assertIn(r, c.get("resources", {}).get(kind, {}), f"{where}: {kind}.{r}")
                    for r in ("cpu", "memory", "ephemeral-storage"):
                        self.assertLessEqual(quantity(c["resources"]["requests"][r]),
                                             quantity(c["resources"]["limits"][r]), f"{where}: {r}")

    def test_the_quota_admits_a_rolling_update_with_the_setup_running(self):
        """Worst moment: every Deployment at replicas + surge (the new pod still
        in its init containers) and the StatefulSet's pod, all at once, while
        cert-manager solves the certificate's HTTP-01 challenge (its solver
        pod, after the LimitRange's defaults, and its Service)."""
        for _, docs in each_values_file(self):
            hard = named(docs, "ResourceQuota", "store-quota")["spec"]["hard"]
            solver = cert_manager.with_limit_range_defaults(
                cert_manager.pod(f"{STORE_ID}.localhost", "t", "k")["spec"], named(docs, "LimitRange", "store-limits"))
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory", "ephemeral-storage"):
                    total = sum(pods_at_worst(w) * pod_share(w["spec"]["template"]["spec"], kind, r)
                                for w in workloads(docs)) + pod_share(solver, kind, r)
                    self.assertLessEqual(total, quantity(hard[f"{kind}.{r}"]), f"{kind}.{r}: {total} needed")
            peak_pods = sum(pods_at_worst(w) for w in workloads(docs))
            self.assertGreaterEqual(peak_pods, 3, "a rolling update of WordPress overlaps two pods")
            self.assertLessEqual(peak_pods + 1, int(hard["pods"]), "the update's pods and the solver's")
            pvcs = by_kind(docs, "PersistentVolumeClaim")
            self.assertLessEqual(len(pvcs), int(hard["persistentvolumeclaims"]))
            self.assertLessEqual(sum(quantity(p["spec"]["resources"]["requests"]["storage"]) for p in pvcs),
                                 quantity(hard["requests.storage"]))
            self.assertLessEqual(len(by_kind(docs, "Service")) + 1, int(hard["services"]),
                                 "the chart's Services and the solver's")
            self.assertEqual(hard["services.nodeports"], "0", "a store is reached only through the ingress")
            self.assertEqual(hard["services.loadbalancers"], "0")

    def test_every_volume_can_be_expanded_to_twice_its_size(self):
        """A quota of exactly the volumes' sum refuses every PVC expansion
        (issue 11 item 8): the quota and the LimitRange leave room to double
        each volume."""
        for _, docs in each_values_file(self):
            hard = named(docs, "ResourceQuota", "store-quota")["spec"]["hard"]
            lr = named(docs, "LimitRange", "store-limits")["spec"]["limits"]
            pvc_max = quantity(next(i["max"]["storage"] for i in lr if i["type"] == "PersistentVolumeClaim"))
            sizes = [quantity(p["spec"]["resources"]["requests"]["storage"])
                     for p in by_kind(docs, "PersistentVolumeClaim")]
            self.assertGreaterEqual(quantity(hard["requests.storage"]), 2 * sum(sizes), "quota: twice the volumes")
            for size in sizes:
                self.assertGreaterEqual(pvc_max, 2 * size, "LimitRange: twice each volume")

    def test_the_quota_arithmetic_counts_the_largest_init_container(self):
        """The helper itself, on a pod whose init container outweighs its containers."""
        spec = {"initContainers": [{"resources": {"requests": {"memory": "1Gi"}}}],
                "containers": [{"resources": {"requests": {"memory": "256Mi"}}},
                               {"resources": {"requests": {"memory": "256Mi"}}}]}
        self.assertEqual(pod_share(spec, "requests", "memory"), 2**30)
        spec["initContainers"][0]["resources"]["requests"]["memory"] = "100Mi"
        self.assertEqual(pod_share(spec, "requests", "memory"), 512 * 2**20)

    def test_a_quota_too_small_for_the_rolling_update_is_caught(self):
        docs = render("values.yaml", "--set-string", "resourceQuota.hard.requests\\.memory=768Mi")
        hard = named(docs, "ResourceQuota", "store-quota")["spec"]["hard"]
        total = sum(pods_at_worst(w) * pod_share(w["spec"]["template"]["spec"], "requests", "memory")
                    for w in workloads(docs))
        self.assertGreater(total, quantity(hard["requests.memory"]), "the check above would fail on this")

    def wordpress(self, docs):
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        container = next(c for c in spec["containers"] if c["name"] == "wordpress")
        workers = int(container["args"][2].removeprefix("MaxRequestWorkers "))
        env = {e["name"]: e.get("value") for e in container["env"]}
        php = re.search(r"define\('WP_MEMORY_LIMIT', '(\d+)M'\);", env["WORDPRESS_CONFIG_EXTRA"]).group(1)
        return container, workers, int(php)

    def test_apache_workers_and_php_memory_are_sized_to_the_memory_limit(self):
        for f, docs in each_values_file(self):
            container, workers, php = self.wordpress(docs)
            self.assertEqual(container["args"][:2], ["apache2-foreground", "-c"], "the image's CMD, with -c")
            limit = quantity(container["resources"]["limits"]["memory"]) / 2**20
            self.assertEqual(workers, max(1, int((limit - 64) // 64)), "(limit - reserve) / per-worker budget")
            self.assertLess(workers, 150, "prefork's default would not fit")
            self.assertLessEqual(workers * 64 + 64, limit, "the workers' budget fits the limit")
            self.assertEqual(php, min(512, int(limit // 2)))
        # a larger limit gets more workers and more PHP memory; explicit values win
        _, workers, php = self.wordpress(render("values.yaml", "--set-string", "wordpress.resources.limits.memory=1Gi"))
        self.assertEqual((workers, php), (15, 512))
        _, workers, php = self.wordpress(render("values.yaml", "--set", "wordpress.apache.maxRequestWorkers=3",
                                                "--set-string", "wordpress.phpMemoryLimit=192M"))
        self.assertEqual((workers, php), (3, 192))
        # the setup's WP-CLI has the same PHP memory (one environment)
        spec = named(render(), "Deployment", "wordpress")["spec"]["template"]["spec"]
        setup = next(c for c in spec["initContainers"] if c["name"] == "woocommerce-setup")
        self.assertIn("define('WP_MEMORY_LIMIT', '256M');",
                      next(e["value"] for e in setup["env"] if e["name"] == "WORDPRESS_CONFIG_EXTRA"))

    def test_every_container_and_volume_fits_the_limit_range(self):
        for _, docs in each_values_file(self):
            lr = named(docs, "LimitRange", "store-limits")["spec"]["limits"]
            container_max = next(item["max"] for item in lr if item["type"] == "Container")
            pvc_max = next(item["max"]["storage"] for item in lr if item["type"] == "PersistentVolumeClaim")
            for w in workloads(docs):
                for _, c in containers(w["spec"]["template"]["spec"]):
                    for r, limit in container_max.items():
                        self.assertLessEqual(quantity(c["resources"]["limits"][r]), quantity(limit), c["name"])
            for p in by_kind(docs, "PersistentVolumeClaim"):
                self.assertLessEqual(quantity(p["spec"]["resources"]["requests"]["storage"]), quantity(pvc_max))


def named_repo(docs, workload):
    """The repository part of the values' image (what precedes the tag)."""
    with open(os.path.join(CHART, "values.yaml")) as fh:
        return yaml.safe_load(fh)[workload]["image"]["repository"]


class Security(unittest.TestCase):
    def test_pods_are_hardened_and_carry_no_api_token(self):
        for _, docs in each_values_file(self):
            sa = named(docs, "ServiceAccount", "store")
            self.assertFalse(sa["automountServiceAccountToken"])
            for w in workloads(docs):
                spec = w["spec"]["template"]["spec"]
                name = w["metadata"]["name"]
                self.assertEqual(spec["serviceAccountName"], "store", name)
                self.assertFalse(spec["automountServiceAccountToken"], name)
                self.assertTrue(spec["securityContext"]["runAsNonRoot"], name)
                self.assertGreater(spec["securityContext"]["runAsUser"], 0, name)
                self.assertEqual(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", name)
                self.assertNotIn("hostNetwork", spec)
                for _, c in containers(spec):
                    sc = c["securityContext"]
                    self.assertFalse(sc["allowPrivilegeEscalation"], c["name"])
                    self.assertTrue(sc["readOnlyRootFilesystem"], c["name"])
                    self.assertEqual(sc["capabilities"], {"drop": ["ALL"]}, c["name"])
                    self.assertNotIn("privileged", sc)
                    self.assertRegex(c["image"], r"^[a-z0-9./-]+:[A-Za-z0-9._-]+$", f"{c['name']}: pinned tag")
                    self.assertNotRegex(c["image"], r":latest$")

    def test_secrets_are_mounted_only_into_the_containers_that_read_them(self):
        salts = {k for k in SECRET_KEYS if k.endswith(("-key", "-salt"))}
        expected = {
            ("wordpress", "wordpress-files"): set(),
            ("wordpress", "woocommerce-setup"): {"mysql-password", "wordpress-admin-user",
                                                 "wordpress-admin-password", "wordpress-admin-email"} | salts,
            ("wordpress", "wordpress"): {"mysql-password"} | salts,
            ("mysql", "mysql"): {"mysql-root-password", "mysql-password"},
        }
        for _, docs in each_values_file(self):
            seen = {}
            for w in workloads(docs):
                spec = w["spec"]["template"]["spec"]
                volumes = {v["name"]: v for v in spec["volumes"]}
                for _, c in containers(spec):
                    keys = set()
                    for m in c.get("volumeMounts", []):
                        secret = volumes[m["name"]].get("secret")
                        if secret:
                            # The admin login comes from store-admin only (list-stores
                            # may read it); everything else from store-credentials.
                            items = {i["key"] for i in secret["items"]}
                            self.assertEqual(secret["secretName"],
                                             "store-admin" if items <= set(ADMIN_KEYS) else "store-credentials")
                            self.assertTrue(items <= set(ADMIN_KEYS) or not items & set(ADMIN_KEYS), items)
                            keys |= items
                    for e in c.get("env", []):
                        self.assertNotIn("valueFrom", e, f"{c['name']}: secrets come as files, not env")
                    seen[(w["metadata"]["name"], c["name"])] = keys
            self.assertEqual(seen, expected)

    def test_mysql_root_logs_in_only_locally_and_wordpress_has_no_file_editor(self):
        # Issue 11 item 24.
        for _, docs in each_values_file(self):
            mysql = named(docs, "StatefulSet", "mysql")["spec"]["template"]["spec"]["containers"][0]
            self.assertIn({"name": "MYSQL_ROOT_HOST", "value": "localhost"}, mysql["env"])
            spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
            for _, c in containers(spec):
                extra = {e["name"]: e.get("value") for e in c.get("env", [])}.get("WORDPRESS_CONFIG_EXTRA")
                if extra is not None:
                    self.assertIn("define('DISALLOW_FILE_EDIT', true);", extra, c["name"])
                    tls = named(docs, "Ingress", "storefront")["spec"].get("tls")
                    self.assertEqual("define('FORCE_SSL_ADMIN', true);" in extra, bool(tls), c["name"])

    def test_only_the_setup_may_install_or_update_plugins(self):
        # Issue 11 item 24: DISALLOW_FILE_MODS in the serving container (no
        # plugin/theme install, update or delete from wp-admin), not in the
        # setup, which installs and updates WooCommerce. The value is what
        # PHP makes of the config, as wp-config-docker.php evaluates it.
        php = shutil.which("php")
        if not php:
            self.fail("php is missing (apt-get install php-cli; helm/store/tests/run installs it)")
        for _, docs in each_values_file(self):
            spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
            seen = {}
            for _, c in containers(spec):
                extra = {e["name"]: e.get("value") for e in c.get("env", [])}.get("WORDPRESS_CONFIG_EXTRA")
                if extra is None:
                    continue
                r = subprocess.run([php, "-r", "eval(getenv('EXTRA')); var_export(defined('DISALLOW_FILE_MODS') "
                                    "? DISALLOW_FILE_MODS : null);"], env={"EXTRA": extra},
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                seen[c["name"]] = r.stdout
            self.assertEqual(seen, {"wordpress-files": "true", "woocommerce-setup": "NULL", "wordpress": "true"})

    def test_wp_cron_is_spawned_to_the_pods_own_apache(self):
        # WordPress spawns WP-Cron with a request to the site's public URL,
        # which a store without internet egress (values-prod) drops: the
        # serving container's cron_request filter sends it to its own Apache
        # on loopback, with the site's Host header. The request is the one
        # spawn_cron() builds, run through the filter as WordPress applies it.
        php = shutil.which("php")
        if not php:
            self.fail("php is missing (apt-get install php-cli; helm/store/tests/run installs it)")
        spawn = """eval(getenv('EXTRA'));
$url = WP_SITEURL . '/wp-cron.php?doing_wp_cron=1764750000.1234';
$request = array('url' => $url, 'key' => '1764750000.1234',
                 'args' => array('timeout' => 0.01, 'blocking' => false, 'sslverify' => true));
foreach ($GLOBALS['wp_filter']['cron_request'] ?? array() as $hooks) {
    foreach ($hooks as $hook) { $request = $hook['function']($request); }
}
echo json_encode(array('site' => WP_SITEURL, 'request' => $request));"""
        for _, docs in each_values_file(self):
            spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
            wordpress = next(c for _, c in containers(spec) if c["name"] == "wordpress")
            self.assertEqual([p["containerPort"] for p in wordpress["ports"]], [80], "the loopback call's port")
            seen = {}
            for _, c in containers(spec):
                extra = {e["name"]: e.get("value") for e in c.get("env", [])}.get("WORDPRESS_CONFIG_EXTRA")
                if extra is None:
                    continue
                r = subprocess.run([php, "-r", spawn], env={"EXTRA": extra}, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                out = json.loads(r.stdout)
                seen[c["name"]] = out["request"]
            site = out["site"]
            host = re.match(r"https?://([^/]+)", site).group(1)
            self.assertEqual(seen["wordpress"]["url"], "http://127.0.0.1:80/wp-cron.php?doing_wp_cron=1764750000.1234")
            self.assertEqual(seen["wordpress"]["args"], {"timeout": 0.01, "blocking": False, "sslverify": False,
                                                         "headers": {"Host": host}})
            # The setup container runs no Apache: its spawns stay WordPress's own.
            self.assertEqual(seen["woocommerce-setup"]["url"], f"{site}/wp-cron.php?doing_wp_cron=1764750000.1234")
            self.assertTrue(seen["woocommerce-setup"]["args"]["sslverify"])

    def test_a_bare_digest_renders_repo_at_digest(self):
        digest = "sha256:" + "a" * 64
        docs = render("values-local.yaml", "--set-string", f"mysql.image.tag=@{digest}",
                      "--set-string", f"wordpress.image.tag=6.8.3-php8.3-apache@{digest}")
        mysql = named(docs, "StatefulSet", "mysql")["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(mysql["image"], f"{named_repo(docs, 'mysql')}@{digest}")
        wordpress = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]["containers"][0]
        self.assertTrue(wordpress["image"].endswith(f":6.8.3-php8.3-apache@{digest}"), wordpress["image"])

    def test_a_store_from_before_the_split_reads_its_admin_login_from_existing_secret(self):
        # Upgraded with --reuse-values (docs/production.md, section 9): no
        # existingAdminSecret, every key still in store-credentials.
        docs = render("values-local.yaml", existing_admin_secret=None)
        self.assertEqual(by_kind(docs, "Secret"), [])
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        admin = next(v for v in spec["volumes"] if v["name"] == "admin-secrets")
        self.assertEqual(admin["secret"]["secretName"], "store-credentials")

    def test_no_secret_value_in_values_files_or_rendered_configmaps(self):
        for f in VALUES_FILES:
            with open(os.path.join(CHART, f)) as fh:
                values = yaml.safe_load(fh) or {}

            def walk(node, path):
                if isinstance(node, dict):
                    for k, v in node.items():
                        walk(v, f"{path}.{k}")
                        if re.search(r"password|secret|salt|token|key$", str(k), re.I) and not isinstance(v, dict):
                            self.assertIn(v, ("", None), f"{f}: {path}.{k} holds a secret value")
                elif isinstance(node, list):
                    for i, v in enumerate(node):
                        walk(v, f"{path}[{i}]")
            walk(values, "")
        # Without existingSecret the chart generates the values: none of them
        # may appear anywhere but in the Secret.
        docs = render("values-local.yaml", existing_secret=None, existing_admin_secret=None)
        secret = named(docs, "Secret", "store-credentials")
        admin = named(docs, "Secret", "store-admin")
        self.assertEqual(sorted(secret["data"]), sorted(set(SECRET_KEYS) - set(ADMIN_KEYS)))
        self.assertEqual(sorted(admin["data"]), sorted(ADMIN_KEYS))
        generated = [base64.b64decode(v).decode() for k, v in {**secret["data"], **admin["data"]}.items()
                     if k not in ("wordpress-admin-user", "wordpress-admin-email")]
        self.assertTrue(all(len(v) >= 32 for v in generated))
        for d in docs:
            if d["kind"] == "Secret":
                continue
            text = yaml.safe_dump(d)
            for v in generated:
                self.assertNotIn(v, text, f"{d['kind']} {d['metadata']['name']} carries a secret value")

    def test_the_given_secret_is_used_and_none_is_rendered(self):
        for _, docs in each_values_file(self):
            self.assertEqual(by_kind(docs, "Secret"), [], "create-store's Secret is used; the chart makes none")


class Probes(unittest.TestCase):
    def test_every_main_container_has_startup_readiness_and_liveness(self):
        for _, docs in each_values_file(self):
            for w in workloads(docs):
                for c in w["spec"]["template"]["spec"]["containers"]:
                    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
                        self.assertIn(p, c, f"{c['name']}: {p}")
                    self.assertNotEqual(c["readinessProbe"], c["livenessProbe"], c["name"])
                    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
                        command = " ".join(c[p].get("exec", {}).get("command", []))
                        self.assertNotRegex(command, r"(^|\s)-p\S|--password", f"{c['name']}: password on a command line")

    def test_wordpress_liveness_is_tcp_and_setup_precedes_readiness(self):
        docs = render()
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        wp = spec["containers"][0]
        self.assertIn("tcpSocket", wp["livenessProbe"], "no HTTP liveness that could restart a busy store")
        self.assertEqual(wp["readinessProbe"]["httpGet"]["path"], "/wp-login.php")
        self.assertEqual([c["name"] for c in spec["initContainers"]], ["wordpress-files", "woocommerce-setup"])
        files = spec["initContainers"][0]
        # the chart's own copy (test_wordpress_files runs it), a command that exits
        self.assertEqual(files["command"], ["/bin/sh", "/opt/storefleet/wordpress-files.sh"])
        self.assertNotIn("args", files)


class Labels(unittest.TestCase):
    REQUIRED = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"]

    def test_every_object_and_pod_carries_the_store_labels(self):
        for _, docs in each_values_file(self):
            for d in docs:
                for labels in [d["metadata"]["labels"]] + (
                        [d["spec"]["template"]["metadata"]["labels"]] if d["kind"] in ("Deployment", "StatefulSet") else []):
                    where = f"{d['kind']} {d['metadata']['name']}"
                    self.assertEqual(labels.get("storefleet.io/store-id"), STORE_ID, where)
                    for key in self.REQUIRED:
                        self.assertIn(key, labels, where)
                if d["kind"] != "Namespace":
                    self.assertEqual(d["metadata"]["namespace"], f"store-{STORE_ID}", d["metadata"]["name"])

    def test_an_all_digit_id_from_set_is_printed_back_as_it_was(self):
        docs = render(store_id="12345678")
        self.assertEqual(named(docs, "Deployment", "wordpress")["metadata"]["labels"]["storefleet.io/store-id"],
                         "12345678")

    def test_bad_interface_values_fail_with_a_message_that_says_what_to_fix(self):
        cases = [
            (["--set", "storeId=Bad_Id"], "storeId"),
            (["--set-string", "ingress.host=http://shop.example.com"], "ingress/host"),
            (["--set", "ingress.tls.enabled=true", "--set", "ingress.tls.clusterIssuer="], "clusterIssuer"),
            (["--set", "wordpress.image.tag=latest"], "tag"),
            # a moving major or minor is not a pin
            (["--set-string", "wordpress.image.tag=6"], "wordpress/image/tag"),
            (["--set-string", "mysql.image.tag=8.4"], "mysql/image/tag"),
            (["--set", "wordpress.resources.limits.memory=null"], "memory"),
        ]
        for extra, mentions in cases:
            with self.subTest(extra=extra):
                r = helm_template("values.yaml", *extra)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(mentions, r.stderr)


class Setup(unittest.TestCase):
    def test_the_configmap_carries_the_script_files_unchanged(self):
        data = named(render(), "ConfigMap", "woocommerce-setup")["data"]
        for name in SCRIPTS + ["setup-woocommerce.php"]:
            with self.subTest(script=name), open(os.path.join(CHART, "files", name)) as fh:
                self.assertEqual(data[name], fh.read())

    def test_the_rendered_scripts_pass_shellcheck(self):
        shellcheck = shutil.which("shellcheck")
        if not shellcheck:
            self.fail("shellcheck is missing (apt-get install shellcheck; `make lint-chart` installs it)")
        data = named(render(), "ConfigMap", "woocommerce-setup")["data"]
        for name in SCRIPTS:
            with self.subTest(script=name), tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
                f.write(data[name])
                f.flush()
                r = subprocess.run([shellcheck, "-s", "sh", f.name], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout)

    def test_the_rendered_program_passes_php_lint(self):
        program = named(render(), "ConfigMap", "woocommerce-setup")["data"]["setup-woocommerce.php"]
        with tempfile.NamedTemporaryFile("w", suffix=".php") as f:
            f.write(program)
            f.flush()
            r = subprocess.run(["php", "-l", f.name], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def steps(self, key="setup-woocommerce.sh"):
        """The script's (or the program's) lines, in order, without comments."""
        lines = []
        for line in named(render(), "ConfigMap", "woocommerce-setup")["data"][key].splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "//", "*", "/**")):
                lines.append(line)
        return lines

    def first(self, lines, pattern):
        for i, line in enumerate(lines):
            if re.search(pattern, line):
                return i
        self.fail(f"the setup never runs {pattern!r}")

    def assert_in_order(self, lines, order):
        positions = [self.first(lines, p) for p in order]
        self.assertEqual(positions, sorted(positions), list(zip(order, positions)))

    def test_the_steps_run_in_the_order_that_makes_a_store_sellable(self):
        # the script: what must come before WooCommerce can load, then the program
        self.assert_in_order(self.steps(), [
            r"mysqli_connect",                                   # a real database connection
            r"wp core install",
            r"wp plugin install",
            r"wp plugin activate woocommerce",
            r'wp eval-file "\$SETUP_PROGRAM"',
        ])
        # the program (its main function): coming-soon off every run, then the
        # first install's steps, then the checks
        program = self.steps("setup-woocommerce.php")
        self.assert_in_order(program[self.first(program, r"^function storefleet_setup\("):], [
            r"storefleet_every_run\(",
            r"storefleet_first_install\(",
            r"storefleet_check_reachable\(",
            r"storefleet_check_can_sell\(",
            r"storefleet_set\( 'storefleet_first_install'",      # the marker only after the checks
        ])
        every_run = program[self.first(program, r"^function storefleet_every_run"):
                            self.first(program, r"^function storefleet_has_products")]
        self.assertIn("storefleet_set( 'woocommerce_coming_soon', 'no' );", every_run)
        self.assertIn("storefleet_set( 'woocommerce_store_pages_only', 'no' );", every_run)
        self.assert_in_order(program[self.first(program, r"^function storefleet_first_install"):], [
            r"woocommerce_onboarding_profile",
            r"'woocommerce_cod_settings'",
            r"add_shipping_method\( 'free_shipping' \)",
            r"new WC_Product_Simple\(\)",
        ])

    def test_payment_and_shipping_are_enabled_and_checked(self):
        program = named(render(), "ConfigMap", "woocommerce-setup")["data"]["setup-woocommerce.php"]
        self.assertRegex(program, r"'woocommerce_cod_settings',\s+array\(\s+'enabled'\s+=> 'yes'")
        self.assertRegex(program, r"'woocommerce_cheque_settings',\s+array\(\s+'enabled'\s+=> 'yes'")
        check = program[program.index("function storefleet_check_can_sell"):]
        self.assertIn("foreach ( array( 'cod', 'cheque' ) as $gateway )", check)
        self.assertIn("get_shipping_methods()", check)
        # the pages a customer walks through are checked, not just created
        self.assertIn("foreach ( array( 'shop', 'cart', 'checkout' ) as $page )", check)
        self.assertIn("get_post_status(", check)

    def test_every_step_is_guarded_for_a_rerun(self):
        lines = self.steps()
        self.assertIn("if ! wp core is-installed --skip-plugins --skip-themes; then", lines)
        self.assertIn("elif wp plugin is-active woocommerce --skip-plugins --skip-themes; then", lines)
        self.assertIn('if [ "$woocommerce_active" = no ]; then', lines)
        self.assertEqual(lines[0], "set -eu", "any failing step stops the setup (and the pod stays unready)")
        program = self.steps("setup-woocommerce.php")
        self.assertIn("if ( ! $zone->get_shipping_methods() ) {", program)
        self.assertIn("if ( ! storefleet_has_products() ) {", program)
        self.assertIn("if ( 'posts' === get_option( 'show_on_front' ) ) {", program)

    def test_no_password_reaches_a_command_line(self):
        script = setup_script(render())
        self.assertIn('--prompt=admin_password \\\n    <"$SECRETS_DIR/wordpress-admin-password"', script)
        self.assertNotRegex(script, r"--admin_password=")

    def test_settings_reach_the_setup_as_environment(self):
        docs = render("values.yaml", "--set-string", "store.currency=EUR", "--set-string", "woocommerce.version=9.9.9",
                      "--set-string", "woocommerce.source=https://mirror.example/woocommerce.zip")
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        setup = next(c for c in spec["initContainers"] if c["name"] == "woocommerce-setup")
        env = {e["name"]: e.get("value") for e in setup["env"]}
        self.assertEqual(env["STORE_CURRENCY"], "EUR")
        self.assertEqual(env["WOOCOMMERCE_VERSION"], "9.9.9")
        self.assertEqual(env["WOOCOMMERCE_SOURCE"], "https://mirror.example/woocommerce.zip")
        self.assertEqual(env["STORE_URL"], f"http://{STORE_ID}.localhost")
        self.assertIn(f"define('WP_HOME', 'http://{STORE_ID}.localhost');", env["WORDPRESS_CONFIG_EXTRA"])
        products = named(docs, "ConfigMap", "woocommerce-setup")["data"]["products.txt"]
        self.assertEqual(len([line for line in products.splitlines() if line.count("|") == 2]), 3)

    def test_a_changed_setting_rolls_the_pod_so_the_setup_runs_again(self):
        def checksum(*extra):
            docs = render("values.yaml", *extra)
            return named(docs, "Deployment", "wordpress")["spec"]["template"]["metadata"]["annotations"]
        self.assertNotEqual(checksum(), checksum("--set-string", "store.title=Other"))
        self.assertEqual(checksum(), checksum())


SMTP = ["--set", "smtp.enabled=true", "--set-string", "smtp.host=smtp.example.com", "--set-string",
        "smtp.from=shop@example.com", "--set-string", "smtp.existingSecret=smtp-credentials"]

# What PHPMailer exposes to phpmailer_init, and the way wp-config-docker.php
# evaluates WORDPRESS_CONFIG_EXTRA; then the hooks as WordPress would call them.
SMTP_HARNESS = r"""<?php
class Mailer { public $Mailer = 'mail'; public $Host = 'localhost'; public $Port = 25; public $SMTPSecure = '';
  public $SMTPAutoTLS = true; public $SMTPAuth = false; public $Username = ''; public $Password = '';
  public function isSMTP() { $this->Mailer = 'smtp'; } }
eval(str_replace('/run/secrets/smtp', $argv[2], file_get_contents($argv[1])));
$mail = new Mailer();
foreach ($GLOBALS['wp_filter']['phpmailer_init'][10] as $hook) { $hook['function']($mail); }
// WordPress applies a filter's callbacks by priority, each in the order added;
// WooCommerce's WC_Email::send() adds its settings' From at 10 for its emails.
function apply_filter_as_wordpress($hook, $value) {
  $callbacks = $GLOBALS['wp_filter'][$hook]; ksort($callbacks);
  foreach ($callbacks as $at) { foreach ($at as $c) { $value = $c['function']($value); } }
  return $value; }
$from = apply_filter_as_wordpress('wp_mail_from', 'wordpress@localhost');
$name = apply_filter_as_wordpress('wp_mail_from_name', 'WordPress');
$GLOBALS['wp_filter']['wp_mail_from'][10][] = array('function' => function () { return 'merchant@woo.example'; });
$GLOBALS['wp_filter']['wp_mail_from_name'][10][] = array('function' => function () { return 'Merchant name'; });
$woo_from = apply_filter_as_wordpress('wp_mail_from', 'wordpress@localhost');
$woo_name = apply_filter_as_wordpress('wp_mail_from_name', 'WordPress');
echo json_encode(['mail' => get_object_vars($mail), 'from' => $from, 'name' => $name, 'woo_from' => $woo_from,
                  'woo_name' => $woo_name]);
"""


class Mail(unittest.TestCase):
    def config_extra(self, docs, container="wordpress"):
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        c = next(c for _, c in containers(spec) if c["name"] == container)
        return next(e["value"] for e in c["env"] if e["name"] == "WORDPRESS_CONFIG_EXTRA")

    def run_hooks(self, extra, username=None, password=None):
        php = shutil.which("php")
        if not php:
            self.fail("php is missing (apt-get install php-cli; helm/store/tests/run installs it)")
        with tempfile.TemporaryDirectory() as d:
            secrets = os.path.join(d, "smtp")
            os.mkdir(secrets)
            if username is not None:
                for key, value in (("smtp-username", username), ("smtp-password", password)):
                    with open(os.path.join(secrets, key), "w") as fh:
                        fh.write(value + "\n")
            for name, text in (("extra.php", extra), ("harness.php", SMTP_HARNESS)):
                with open(os.path.join(d, name), "w") as fh:
                    fh.write(text)
            r = subprocess.run([php, os.path.join(d, "harness.php"), os.path.join(d, "extra.php"), secrets],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            return json.loads(r.stdout)

    def test_smtp_settings_reach_wordpress_mailer(self):
        docs = render("values.yaml", *SMTP, "--set-string", "store.title=Anna's shop")
        out = self.run_hooks(self.config_extra(docs), "mailer", "s3cret pass")
        self.assertEqual({k: out["mail"][k] for k in ("Mailer", "Host", "Port", "SMTPSecure", "SMTPAutoTLS",
                                                         "SMTPAuth", "Username", "Password")},
                         {"Mailer": "smtp", "Host": "smtp.example.com", "Port": 587, "SMTPSecure": "tls",
                          "SMTPAutoTLS": True, "SMTPAuth": True, "Username": "mailer", "Password": "s3cret pass"})
        self.assertEqual((out["from"], out["name"]), ("shop@example.com", "Anna's shop"))
        # WooCommerce's emails: the relay's sender still (its own From address
        # would be refused), the merchant's From name
        self.assertEqual((out["woo_from"], out["woo_name"]), ("shop@example.com", "Merchant name"))
        # without credentials: no authentication; plain SMTP to a catcher
        docs = render("values.yaml", *SMTP[:-2], "--set", "smtp.port=1025", "--set-string", "smtp.encryption=none")
        out = self.run_hooks(self.config_extra(docs))
        self.assertEqual((out["mail"]["Port"], out["mail"]["SMTPSecure"], out["mail"]["SMTPAutoTLS"],
                          out["mail"]["SMTPAuth"]), (1025, "", False, False))

    def test_smtp_credentials_only_in_the_wordpress_container_and_egress_to_the_relay(self):
        docs = render("values.yaml", *SMTP)
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        for _, c in containers(spec):
            mounted = [m["name"] for m in c.get("volumeMounts", [])]
            self.assertEqual("smtp-secrets" in mounted, c["name"] == "wordpress", c["name"])
        volume = next(v for v in spec["volumes"] if v["name"] == "smtp-secrets")
        self.assertEqual(volume["secret"]["secretName"], "smtp-credentials")
        egress = named(docs, "NetworkPolicy", "wordpress")["spec"]["egress"]
        self.assertIn({"protocol": "TCP", "port": 587}, [p for rule in egress for p in rule.get("ports", [])])
        # off by default: no hook, no volume, no egress
        docs = render()
        self.assertNotIn("phpmailer_init", self.config_extra(docs))
        self.assertNotIn("smtp-secrets", [v["name"] for v in
                                          named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]["volumes"]])

    def test_bad_smtp_values_fail_with_a_message(self):
        for extra, message in ((["--set", "smtp.enabled=true", "--set-string", "smtp.from=a@b.c"], "smtp.host is required"),
                               ([*SMTP, "--set-string", "smtp.from=x'); evil();//@b.c"], "/smtp/from"),
                               ([*SMTP, "--set-string", "smtp.encryption=starttls"], "/smtp/encryption")):
            with self.subTest(extra=extra):
                r = helm_template("values.yaml", *extra)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(message, r.stderr)


class Storage(unittest.TestCase):
    def test_no_volume_outlives_the_release(self):
        for _, docs in each_values_file(self):
            sts = named(docs, "StatefulSet", "mysql")
            self.assertNotIn("volumeClaimTemplates", sts["spec"], "helm never deletes template PVCs")
            self.assertEqual(sts["spec"]["persistentVolumeClaimRetentionPolicy"],
                             {"whenDeleted": "Delete", "whenScaled": "Delete"})
            pvcs = {p["metadata"]["name"]: p for p in by_kind(docs, "PersistentVolumeClaim")}
            self.assertEqual(set(pvcs), {"wordpress-content", "mysql-data"})
            for p in pvcs.values():
                self.assertNotIn("helm.sh/resource-policy", p["metadata"].get("annotations", {}))
            claims = {v["persistentVolumeClaim"]["claimName"] for w in workloads(docs)
                      for v in w["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v}
            self.assertEqual(claims, set(pvcs))


class Network(unittest.TestCase):
    def policies(self, docs):
        return {p["metadata"]["name"]: p["spec"] for p in by_kind(docs, "NetworkPolicy")}

    def test_default_deny_and_the_configured_ingress_namespace(self):
        expected = {"values.yaml": "ingress-nginx", "values-local.yaml": "ingress-nginx",
                    "values-prod.yaml": "kube-system"}
        for f, docs in each_values_file(self):
            nps = self.policies(docs)
            self.assertEqual(nps["default-deny"], {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
            sources = nps["wordpress"]["ingress"][0]["from"]
            self.assertEqual(len(sources), 1)
            self.assertEqual(sources[0]["namespaceSelector"]["matchLabels"],
                             {"kubernetes.io/metadata.name": expected[f]})
            self.assertEqual(nps["wordpress"]["ingress"][0]["ports"], [{"protocol": "TCP", "port": "http"}])
        docs = render("values-local.yaml", "--set", "networkPolicy.ingressController.namespace=traefik-system")
        sel = self.policies(docs)["wordpress"]["ingress"][0]["from"][0]["namespaceSelector"]
        self.assertEqual(sel["matchLabels"], {"kubernetes.io/metadata.name": "traefik-system"})

    def test_mysql_admits_only_wordpress_and_wordpress_reaches_no_private_range(self):
        for _, docs in each_values_file(self):
            nps = self.policies(docs)
            mysql = nps["mysql"]["ingress"]
            self.assertEqual(len(mysql), 1)
            self.assertEqual(mysql[0]["from"], [{"podSelector": {"matchLabels": {
                "app.kubernetes.io/name": "woocommerce", "app.kubernetes.io/instance": f"store-{STORE_ID}",
                "app.kubernetes.io/component": "wordpress"}}}])
            for rule in nps["wordpress"]["egress"]:
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        self.assertIn("10.0.0.0/8", peer["ipBlock"]["except"])


def internet_ports(docs):
    """The ports of the WordPress pod's egress rules to addresses outside the cluster."""
    egress = named(docs, "NetworkPolicy", "wordpress")["spec"]["egress"]
    return sorted(p["port"] for rule in egress if any("ipBlock" in peer for peer in rule["to"])
                  for p in rule["ports"])


class Egress(unittest.TestCase):
    """Issue 11 item 9: HTTPS only where the setup downloads WooCommerce, and
    no internet at all for production stores (WooCommerce from the setup image)."""

    def test_only_https_where_the_setup_downloads_from_wordpress_org(self):
        for f in ("values.yaml", "values-local.yaml"):
            with self.subTest(values=f):
                self.assertEqual(internet_ports(render(f)), [443], "no plain HTTP to the internet")

    def test_production_stores_reach_nothing_outside_the_cluster(self):
        docs = render("values-prod.yaml")
        self.assertEqual(internet_ports(docs), [])
        wordpress = named(docs, "NetworkPolicy", "wordpress")["spec"]["egress"]
        self.assertEqual([peer for rule in wordpress for peer in rule["to"]], [{"podSelector": {"matchLabels": {
            "app.kubernetes.io/name": "woocommerce", "app.kubernetes.io/instance": f"store-{STORE_ID}",
            "app.kubernetes.io/component": "mysql"}}}], "MySQL only (DNS is the dns policy's)")
        for p in by_kind(docs, "NetworkPolicy"):
            for rule in p["spec"].get("egress", []):
                for peer in rule["to"]:
                    self.assertNotIn("ipBlock", peer, p["metadata"]["name"])
        # ... because WooCommerce comes from the setup image
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        setup = next(c for c in spec["initContainers"] if c["name"] == "woocommerce-setup")
        env = {e["name"]: e.get("value") for e in setup["env"]}
        self.assertTrue(env["WOOCOMMERCE_SOURCE"].startswith("/"), "a path in the setup image, not a URL")
        self.assertIn("woocommerce", setup["image"].split("/")[-1])

    def test_smtp_still_goes_out_with_internet_egress_off(self):
        docs = render("values-prod.yaml", *SMTP)
        self.assertEqual(internet_ports(docs), [587])
        docs = render("values-prod.yaml", *SMTP, "--set", "smtp.port=465")
        self.assertEqual(internet_ports(docs), [465])

    def test_internet_off_needs_a_woocommerce_source(self):
        off = ["--set", "networkPolicy.internetEgress.enabled=false"]
        r = helm_template("values.yaml", *off)
        self.assertNotEqual(r.returncode, 0, "rendered a store that cannot download WooCommerce")
        self.assertIn("set woocommerce.source", r.stderr)
        docs = render("values.yaml", *off, "--set-string", "woocommerce.source=/opt/woocommerce/woocommerce.zip")
        self.assertEqual(internet_ports(docs), [])
        r = helm_template("values-prod.yaml", "--set-string", "woocommerce.source=")
        self.assertNotEqual(r.returncode, 0)


# The controller pods' labels as the ingress-nginx chart (4.13) and k3s's
# Traefik chart set them.
INGRESS_NGINX_POD = ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx",
                                       "app.kubernetes.io/instance": "ingress-nginx",
                                       "app.kubernetes.io/component": "controller",
                                       "app.kubernetes.io/part-of": "ingress-nginx"})
TRAEFIK_POD = ("kube-system", {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system"})


def selects(selector, labels):
    """A NetworkPolicy's podSelector (matchLabels only, as this chart writes them)."""
    return set(selector.get("matchLabels", {}).items()) <= set(labels.items())


def peer_admits(peer, namespace, labels):
    """Whether a NetworkPolicy `from` peer (namespaceSelector by name + podSelector) admits a pod."""
    ns_ok = peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": namespace}
    return ns_ok and selects(peer.get("podSelector", {}), labels)


class CertManagerSolver(unittest.TestCase):
    """cert-manager's HTTP-01 solver pod (cert_manager.py, as v1.18.2 builds it)
    is reached by the ingress controller on 8089 and by nothing else."""

    def ingress_rules_for(self, docs, labels):
        return [(p["metadata"]["name"], rule) for p in by_kind(docs, "NetworkPolicy")
                if selects(p["spec"]["podSelector"], labels) and "Ingress" in p["spec"]["policyTypes"]
                for rule in p["spec"].get("ingress", [])]

    def test_only_the_ingress_controller_reaches_the_solver_on_its_port(self):
        solver = cert_manager.pod(f"{STORE_ID}.localhost", "tok", "key")
        labels = solver["metadata"]["labels"]
        port = solver["spec"]["containers"][0]["ports"][0]["containerPort"]
        for f, docs in each_values_file(self):
            nps = {p["metadata"]["name"]: p["spec"] for p in by_kind(docs, "NetworkPolicy")}
            rules = self.ingress_rules_for(docs, labels)
            self.assertEqual([name for name, _ in rules], ["acme-http-solver"], "one policy admits traffic to it")
            rule = rules[0][1]
            self.assertEqual(rule["ports"], [{"protocol": "TCP", "port": port}])
            self.assertEqual(rule["from"], nps["wordpress"]["ingress"][0]["from"], "the storefront's controller")
            self.assertTrue(selects(nps["default-deny"]["podSelector"], labels), "and default-deny covers it")
            self.assertNotIn("Egress", nps["acme-http-solver"]["policyTypes"], "no egress of its own")
            # nothing of the store's own is opened by it
            for w in workloads(docs):
                self.assertFalse(selects(nps["acme-http-solver"]["podSelector"],
                                         w["spec"]["template"]["metadata"]["labels"]), w["metadata"]["name"])

    def test_the_ingress_controller_of_the_values_reaches_the_store_and_the_solver(self):
        def admitted(docs, pod):
            nps = {p["metadata"]["name"]: p["spec"] for p in by_kind(docs, "NetworkPolicy")}
            return {name: any(peer_admits(peer, *pod) for peer in nps[name]["ingress"][0]["from"])
                    for name in ("wordpress", "acme-http-solver")}
        both, neither = {"wordpress": True, "acme-http-solver": True}, {"wordpress": False, "acme-http-solver": False}
        prod = render("values-prod.yaml")
        self.assertEqual(admitted(prod, TRAEFIK_POD), both)
        self.assertEqual(admitted(prod, INGRESS_NGINX_POD), neither, "values-prod alone admits only Traefik")
        # k3s with ingress-nginx (docs/production.md): values-prod.yaml, then the overlay
        nginx = render("values-prod.yaml", "-f", os.path.join(CHART, "values-prod-ingress-nginx.yaml"))
        self.assertEqual(admitted(nginx, INGRESS_NGINX_POD), both)
        self.assertEqual(admitted(nginx, TRAEFIK_POD), neither)
        self.assertEqual(admitted(nginx, ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx",
                                                            "app.kubernetes.io/component": "admission-webhook"})),
                         neither, "only the controller, not the chart's webhook Jobs")
        self.assertEqual(named(nginx, "Ingress", "storefront")["spec"]["ingressClassName"], "nginx")
        self.assertEqual(admitted(render("values-local.yaml"), INGRESS_NGINX_POD), both)


class Ingress(unittest.TestCase):
    def test_local_is_plain_http_on_the_given_host(self):
        ing = named(render("values-local.yaml"), "Ingress", "storefront")
        self.assertEqual(ing["spec"]["ingressClassName"], "nginx")
        self.assertEqual(ing["spec"]["rules"][0]["host"], f"{STORE_ID}.localhost")
        self.assertNotIn("tls", ing["spec"])

    def test_prod_has_tls_from_cert_manager_and_https_urls(self):
        docs = render("values-prod.yaml", "--set-string", f"ingress.host={STORE_ID}.shops.example.com")
        ing = named(docs, "Ingress", "storefront")
        self.assertEqual(ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt-prod")
        self.assertEqual(ing["spec"]["tls"], [{"hosts": [f"{STORE_ID}.shops.example.com"],
                                               "secretName": "storefront-tls"}])
        env = {e["name"]: e.get("value") for e in
               named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertIn(f"'https://{STORE_ID}.shops.example.com'", env["WORDPRESS_CONFIG_EXTRA"])

    def test_local_and_prod_differ_only_in_values(self):
        kinds = lambda f: sorted((d["kind"], d["metadata"]["name"]) for d in render(f))  # noqa: E731
        self.assertEqual(kinds("values-local.yaml"), kinds("values-prod.yaml"))


class Namespace(unittest.TestCase):
    def test_rendered_only_when_asked(self):
        for _, docs in each_values_file(self):
            self.assertEqual(by_kind(docs, "Namespace"), [])
        docs = render("values.yaml", "--set", "namespace.create=true", "--set", "namespace.name=store-manual1")
        ns = named(docs, "Namespace", "store-manual1")
        self.assertEqual(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted")
        self.assertTrue(all(d["metadata"].get("namespace") == "store-manual1" for d in docs if d["kind"] != "Namespace"))


class Kinds(unittest.TestCase):
    def test_the_kinds_helm_manages_for_a_store(self):
        """What the per-store role storefleet-store-manager (helm/platform) must grant."""
        kinds = set()
        for _, docs in each_values_file(self):
            kinds |= {(d["apiVersion"], d["kind"]) for d in docs}
        self.assertEqual(kinds, {
            ("v1", "ConfigMap"), ("v1", "PersistentVolumeClaim"), ("v1", "Service"), ("v1", "ServiceAccount"),
            ("v1", "ResourceQuota"), ("v1", "LimitRange"), ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"),
            ("networking.k8s.io/v1", "Ingress"), ("networking.k8s.io/v1", "NetworkPolicy"),
        })


if __name__ == "__main__":
    unittest.main()
