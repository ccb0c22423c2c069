"""The init container woocommerce-setup (files/setup-woocommerce.sh), run as
the pod spec says (podrun.py: its rendered command, env, mounts and Secret
files, uid 33, a read-only root), with a recording stand-in for WP-CLI
(fake_wp.py as /usr/local/bin/wp) and for PHP's database wait. The setup's PHP
program (files/setup-woocommerce.php, run with `wp eval-file`) runs with
Debian's PHP against stubs of the WordPress and WooCommerce functions it calls
(fake_wp_functions.php, over the stand-in's state): a unit test of that one
program. What WordPress does is not tested here (there is no WordPress on this
machine; `make bench-store-setup` runs the real one); what the script and the
program ask for, when, and what reaches the container's log is.

Needs root (mount and PID namespaces; the container itself runs as uid 33).
"""

import json
import os
import shutil
import tempfile
import unittest
import zipfile

from chart import named, render, store_secret
from podrun import Image, Pod, prepare_claim, require_root

HERE = os.path.dirname(os.path.abspath(__file__))

# The database wait (`php -r '...mysqli_connect...'`) succeeds once the
# password file is readable; any other PHP call fails loudly.
FAKE_PHP = """#!/bin/sh
case "$*" in
  *mysqli_connect*) exec test -r "$WORDPRESS_DB_PASSWORD_FILE" ;;
esac
echo "the fake php stands in only for the database wait, not for: $*" >&2
exit 1
"""


def secret_values(secret):
    """Every value of the store's Secret that must never be logged (the
    admin's user name and email are not secret: the dashboard shows them)."""
    return {k: v for k, v in secret.items() if k not in ("wordpress-admin-user", "wordpress-admin-email")}


class SetupScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root("test_setup_script")
        cls.docs = render()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="setup-script-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.volume = prepare_claim(os.path.join(self.dir, "volume"), "fsgroup")
        self.secret = store_secret()
        bin_dir = os.path.join(self.dir, "bin")
        os.makedirs(bin_dir)
        shutil.copy(os.path.join(HERE, "fake_wp.py"), os.path.join(bin_dir, "wp"))
        shutil.copy(os.path.join(HERE, "fake_wp_functions.php"), os.path.join(bin_dir, "fake_wp_functions.php"))
        with open(os.path.join(bin_dir, "php"), "w") as fh:
            fh.write(FAKE_PHP)
        for name in ("wp", "php"):
            os.chmod(os.path.join(bin_dir, name), 0o755)
        self.image = Image("wordpress:cli (stand-in)", workdir="/var/www/html",
                           files={"/usr/local/bin/wp": os.path.join(bin_dir, "wp"),
                                  "/usr/local/bin/php": os.path.join(bin_dir, "php"),
                                  "/usr/local/lib/fake_wp_functions.php": os.path.join(bin_dir, "fake_wp_functions.php")})
        self.runs = 0

    def run_setup(self, docs=None, files=None):
        docs = docs or self.docs
        image = Image(self.image.name, workdir=self.image.workdir, files={**self.image.files, **(files or {})})
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        configmap = named(docs, "ConfigMap", "woocommerce-setup")["data"]
        self.runs += 1
        pod = Pod(f"wordpress-{self.runs}", spec, claims={"wordpress-content": self.volume},
                  configmaps={"woocommerce-setup": configmap},
                  secrets={"store-credentials": self.secret, "store-admin": self.secret},
                  workdir=os.path.join(self.dir, f"pod-{self.runs}"))
        r = pod.run("woocommerce-setup", image, timeout=120)
        r.termination_log = pod.termination_message("woocommerce-setup")
        return r

    def calls(self):
        with open(os.path.join(self.volume, ".fake-wp-calls.jsonl")) as fh:
            return [json.loads(line) for line in fh]

    def db(self):
        with open(os.path.join(self.volume, ".fake-wp-db.json")) as fh:
            return json.load(fh)

    def change_db(self, change):
        """What the merchant did in wp-admin between two runs."""
        db = self.db()
        change(db)
        with open(os.path.join(self.volume, ".fake-wp-db.json"), "w") as fh:
            json.dump(db, fh)

    def writes(self, calls):
        """What a run changed: the options it updated, the other writing calls."""
        options = [c["argv"][2] for c in calls if c["argv"][:2] == ["option", "update"]]
        others = [" ".join(c["argv"][:3]) for c in calls
                  if c["argv"][:2] in (["rewrite", "structure"], ["transient", "delete"], ["plugin", "install"],
                                       ["plugin", "activate"])
                  or (c["argv"][:1] == ["wc"] and c["argv"][2:3] in (["create"], ["run"], ["enable"]))]
        return options, others

    def assert_ok(self, r):
        self.assertEqual(r.returncode, 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n"
                         f"termination log: {r.termination_log}")

    def test_no_secret_value_reaches_the_log(self):
        r = self.run_setup()
        self.assert_ok(r)
        log = r.stdout + r.stderr + r.termination_log
        for key, value in secret_values(self.secret).items():
            with self.subTest(key=key):
                self.assertNotIn(value, log, f"the value of {key} is in the setup's log")
        # the stand-in did get the password (on stdin) and echoed it as WP-CLI
        # does: so the log is clean because the script silenced it
        install = [c for c in self.calls() if c["argv"][:2] == ["core", "install"]]
        self.assertEqual(len(install), 1)
        self.assertEqual(install[0]["stdin"], self.secret["wordpress-admin-password"] + "\n")
        self.assertIn(self.secret["wordpress-admin-password"], install[0]["stdout"])
        self.assertEqual(self.db()["admin_password"], self.secret["wordpress-admin-password"])
        # and no call carries a Secret value on its command line
        for call in self.calls():
            for key, value in secret_values(self.secret).items():
                self.assertNotIn(value, " ".join(call["argv"]), f"{key} on the command line of {call['argv']}")
        self.assertIn("==> the store is ready to sell", r.stdout)

    def test_a_failing_install_shows_its_error_and_still_no_secret(self):
        # WordPress refuses the install (here: a bad admin email): the error is
        # shown, the password is not
        self.secret["wordpress-admin-email"] = "not-an-email"
        r = self.run_setup()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("The 'not-an-email' email address is invalid.", r.stderr)
        self.assertIn("setup failed at step: 2/", r.termination_log)
        log = r.stdout + r.stderr + r.termination_log
        for key, value in secret_values(self.secret).items():
            self.assertNotIn(value, log, f"the value of {key} is in the setup's log")


    # -- speed: WordPress and WooCommerce load once a run, not once a step --

    def wp_processes(self, calls):
        """The wp processes of a run (not the program's writes), and those that load the plugins."""
        processes = [c["argv"] for c in calls if "in" not in c]
        return processes, [a for a in processes if "--skip-plugins" not in a]

    def test_each_run_loads_wordpress_with_woocommerce_once(self):
        self.assert_ok(self.run_setup())
        processes, loading = self.wp_processes(self.calls())
        # is-installed, install, plugin install, activate, the program
        self.assertEqual([a[:2] for a in loading],
                         [["core", "install"], ["plugin", "install"], ["plugin", "activate"],
                          ["eval-file", "/opt/storefleet/setup-woocommerce.php"]])
        self.assertLessEqual(len(processes), 5, processes)

        seen = len(self.calls())
        self.assert_ok(self.run_setup())
        processes, loading = self.wp_processes(self.calls()[seen:])
        self.assertEqual([a[:2] for a in processes],
                         [["core", "is-installed"], ["plugin", "is-active"],
                          ["eval-file", "/opt/storefleet/setup-woocommerce.php"]])
        self.assertEqual(len(loading), 1, "a no-op run loads WooCommerce once: the program")

    def test_a_failing_step_of_the_program_is_the_termination_message(self):
        # a store from before the marker whose merchant drafted every product:
        # the first-install check fails, and says which check and why
        self.assert_ok(self.run_setup())
        self.change_db(lambda db: (db["options"].pop("storefleet_first_install"),
                                   [p.update(post_status="draft") for p in db["posts"] if p["post_type"] == "product"]))
        r = self.run_setup()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no published product", r.stderr)
        self.assertIn("setup failed at step: check: the new store can sell (exit 1)", r.termination_log)

    def test_the_database_follows_an_upgraded_wordpress_once(self):
        self.assert_ok(self.run_setup())
        self.change_db(lambda db: db["options"].update(db_version="58975"))   # WordPress 6.6's
        seen = len(self.calls())
        r = self.run_setup()
        self.assert_ok(r)
        self.assertIn(["core", "update-db"], [c["argv"] for c in self.calls()[seen:]])
        self.assertEqual(self.db()["options"]["db_version"], "60421")
        seen = len(self.calls())
        self.assert_ok(self.run_setup())
        self.assertNotIn(["core", "update-db"], [c["argv"] for c in self.calls()[seen:]])

    def test_the_rewrite_rules_are_made_anew_for_the_new_permalinks(self):
        # Rules made in the program's process would lack WooCommerce's
        # /checkout/order-received/ (registered there under the old structure):
        # the real store answered 404 after every order. They are deleted, for
        # WordPress to make on the next request.
        self.assert_ok(self.run_setup())
        options = self.db()["options"]
        self.assertEqual(options["permalink_structure"], "/%postname%/")
        self.assertNotIn("rewrite_rules", options)

    # -- defect 5: first-install settings once, later runs repair only reachability --

    def test_a_second_run_writes_none_of_the_first_install_settings(self):
        self.assert_ok(self.run_setup())
        first = len(self.calls())
        options, others = self.writes(self.calls())
        for name in ("woocommerce_cod_settings", "woocommerce_cheque_settings", "woocommerce_currency",
                     "woocommerce_default_country", "woocommerce_store_address", "blogname", "show_on_front",
                     "storefleet_first_install"):
            self.assertIn(name, options, "the first install writes it")
        self.assertIn("wc hpos enable", others)
        self.assertEqual(self.db()["options"]["woocommerce_custom_orders_table_enabled"], "yes",
                         "high-performance order storage on, whatever the admin did first")
        self.assertIn("wc shipping_zone_method create", others)
        self.assertIn("wc product create", others)

        r = self.run_setup()
        self.assert_ok(r)
        self.assertIn("first-install settings applied on", r.stdout)
        options, others = self.writes(self.calls()[first:])
        # only what makes the store reachable, each already as it should be
        self.assertEqual(set(options), {"home", "siteurl", "woocommerce_coming_soon", "woocommerce_store_pages_only"})
        self.assertEqual(others, [], "a second run re-did a first-install step")

    def test_the_first_install_mails_nobody(self):
        # WooCommerce mails the admin "Payment gateway ... was just enabled, if
        # you did not enable it ..." with the admin's login when a gateway is
        # turned on: the acceptance run caught two at each store's creation.
        self.assert_ok(self.run_setup())
        self.assertEqual([c["argv"] for c in self.calls() if c["argv"][:1] == ["mail"]], [])
        self.assertEqual(self.db()["options"]["woocommerce_cod_settings"]["enabled"], "yes")

    def test_what_the_merchant_changed_survives_a_restart_and_an_unreachable_store_is_repaired(self):
        self.assert_ok(self.run_setup())
        sample_page = next(p["ID"] for p in self.db()["posts"] if p["post_title"] == "Sample Page")

        def merchant(db):
            db["options"]["woocommerce_cod_settings"]["enabled"] = "no"      # turned COD off
            db["options"]["woocommerce_currency"] = "EUR"
            db["options"]["blogname"] = "Anna's shop"
            db["options"]["page_on_front"] = str(sample_page)               # another front page
            db["shipping"]["0"] = []                                         # deleted free shipping
            for p in db["posts"]:
                if p["post_type"] == "product":
                    p["post_status"] = "draft"                               # drafted every product
            # and what makes the store unreachable: coming soon on, WooCommerce off
            db["options"]["woocommerce_coming_soon"] = "yes"
            db["plugins"]["woocommerce"]["active"] = False
        self.change_db(merchant)

        r = self.run_setup()
        self.assert_ok(r)
        db = self.db()
        self.assertEqual(db["options"]["woocommerce_cod_settings"]["enabled"], "no")
        self.assertEqual(db["options"]["woocommerce_currency"], "EUR")
        self.assertEqual(db["options"]["blogname"], "Anna's shop")
        self.assertEqual(db["options"]["page_on_front"], str(sample_page))
        self.assertEqual(db["shipping"]["0"], [])
        self.assertEqual({p["post_status"] for p in db["posts"] if p["post_type"] == "product"}, {"draft"})
        self.assertEqual(len([p for p in db["posts"] if p["post_type"] == "product"]), 3, "samples re-added")
        # repaired
        self.assertEqual(db["options"]["woocommerce_coming_soon"], "no")
        self.assertTrue(db["plugins"]["woocommerce"]["active"])

    def test_a_first_install_cut_off_before_its_check_is_applied_again(self):
        # the pod died after the settings, before the marker: the next run does it all
        self.assert_ok(self.run_setup())
        self.change_db(lambda db: (db["options"].pop("storefleet_first_install"),
                                   db["options"]["woocommerce_cod_settings"].update(enabled="no")))
        r = self.run_setup()
        self.assert_ok(r)
        self.assertEqual(self.db()["options"]["woocommerce_cod_settings"]["enabled"], "yes")
        self.assertIn("storefleet_first_install", self.db()["options"])

    def test_orders_in_the_legacy_tables_keep_hpos_off_without_failing_the_store(self):
        # a store from before the marker, with an order in the posts tables
        self.assert_ok(self.run_setup())
        self.change_db(lambda db: (db["options"].pop("storefleet_first_install"),
                                   db["options"].pop("woocommerce_custom_orders_table_enabled"),
                                   db["posts"].append({"ID": 999, "post_type": "shop_order",
                                                       "post_title": "Order", "post_status": "wc-processing"})))
        r = self.run_setup()
        self.assert_ok(r)
        self.assertIn("high-performance order storage stays off", r.stderr)
        self.assertNotIn("woocommerce_custom_orders_table_enabled", self.db()["options"])

    # -- defect 4: the shop is the front page, unless the merchant chose another --

    def test_the_shop_is_the_front_page_of_a_new_store(self):
        self.assert_ok(self.run_setup())
        options = self.db()["options"]
        self.assertEqual(options["show_on_front"], "page")
        self.assertEqual(options["page_on_front"], options["woocommerce_shop_page_id"])

    def test_a_front_page_the_merchant_chose_is_kept(self):
        # a store set up before the marker existed, whose merchant chose a front page
        self.assert_ok(self.run_setup())
        sample_page = next(p["ID"] for p in self.db()["posts"] if p["post_title"] == "Sample Page")
        self.change_db(lambda db: (db["options"].pop("storefleet_first_install"),
                                   db["options"].update(show_on_front="page", page_on_front=str(sample_page))))
        self.assert_ok(self.run_setup())
        self.assertEqual(self.db()["options"]["page_on_front"], str(sample_page))


    # -- defect 6: with woocommerce.source, the zip's own version decides --

    def plugin_zip(self, version, main_file="woocommerce/woocommerce.php"):
        """A small WooCommerce zip: the header WordPress reads, as the release has it."""
        path = os.path.join(self.dir, f"woocommerce-{version}.zip")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(main_file, "<?php\n/**\n * Plugin Name: WooCommerce\n * Plugin URI: https://woocommerce.com/\n"
                                  " * Description: An ecommerce toolkit.\n"
                                  f" * Version: {version}\n * Requires at least: 6.7\n */\n")
            z.writestr("woocommerce/readme.txt", f"Stable tag: {version}\n")
        return path

    def run_with_source(self, zip_path):
        # a path in a pre-baked setup image; the version pin differs from the zip
        docs = render("values.yaml", "--set-string", "woocommerce.source=/opt/plugins/woocommerce.zip",
                      "--set-string", "woocommerce.version=10.2.2")
        return self.run_setup(docs, files={"/opt/plugins/woocommerce.zip": zip_path})

    def installs(self, calls):
        return [c["argv"] for c in calls if c["argv"][:2] == ["plugin", "install"]]

    def test_a_source_zip_is_installed_once_and_again_only_for_another_version(self):
        r = self.run_with_source(self.plugin_zip("10.2.4"))
        self.assert_ok(r)
        self.assertEqual(self.installs(self.calls()), [["plugin", "install", "/opt/plugins/woocommerce.zip"]])
        self.assertEqual(self.db()["plugins"]["woocommerce"]["version"], "10.2.4")
        self.assertIn("woocommerce.version 10.2.2 is not used", r.stdout)

        # a restart with the same zip: no reinstall, with or without --force
        seen = len(self.calls())
        r = self.run_with_source(self.plugin_zip("10.2.4"))
        self.assert_ok(r)
        self.assertEqual(self.installs(self.calls()[seen:]), [])
        self.assertIn("WooCommerce 10.2.4 (woocommerce.source) is installed", r.stdout)

        # the source now has another version: replaced, once
        seen = len(self.calls())
        r = self.run_with_source(self.plugin_zip("10.3.1"))
        self.assert_ok(r)
        self.assertEqual(self.installs(self.calls()[seen:]),
                         [["plugin", "install", "/opt/plugins/woocommerce.zip", "--force"]])
        self.assertEqual(self.db()["plugins"]["woocommerce"]["version"], "10.3.1")
        self.assertEqual(self.db()["plugins"]["woocommerce"]["installs"], 2)

    def test_a_source_that_is_not_a_woocommerce_zip_says_so(self):
        r = self.run_with_source(self.plugin_zip("1.0.0", main_file="other/other.php"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not a WooCommerce zip", r.stderr)
        self.assertIn("setup failed at step: 3/9", r.termination_log)
        self.assertEqual(self.installs(self.calls()), [])


if __name__ == "__main__":
    unittest.main()
