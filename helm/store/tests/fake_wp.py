#!/usr/bin/python3
"""A recording stand-in for WP-CLI (`wp`), for tests of the setup script.

It keeps a small WordPress + WooCommerce "database" (a JSON file in the
working directory, the WordPress volume, so it outlives a pod as the real
database does), records every call (argv, stdin, what it printed) and prints
what WP-CLI prints — including the completed command that `--prompt` echoes
to stdout (wp-cli's Subcommand::invoke logs `wp <cmd> <args>` with the
prompted values), which is how the real setup leaked the admin password.

Only the commands and output formats the setup script uses are known; any
other call fails loudly, so a new `wp` call in the script needs a stand-in
here first. Not a WordPress: the point is what the script asks for and
prints, not what WordPress does with it.

`wp eval-file PROGRAM` runs the program with Debian's PHP against
fake_wp_functions.php, the WordPress and WooCommerce functions it calls over
the same state (a unit test of that one program with stubs).

Files in the working directory:
  .fake-wp-db.json     the state (options, plugins, posts, shipping methods)
  .fake-wp-calls.jsonl one JSON object a call: argv, stdin, stdout, stderr, exit;
                       a write of an eval-file program: argv of the wp command it
                       stands for, "in": "eval-file"
"""

import json
import os
import shlex
import secrets
import subprocess
import sys
import zipfile

DB = ".fake-wp-db.json"
CALLS = ".fake-wp-calls.jsonl"
LATEST_WOOCOMMERCE = "10.3.0"
# eval-file: Debian's PHP (the podrun root's /usr) and the functions it runs a program with
PHP = "/usr/bin/php"
FUNCTIONS = os.environ.get("FAKE_WP_FUNCTIONS", "/usr/local/lib/fake_wp_functions.php")


class Exit(Exception):
    def __init__(self, code):
        self.code = code


class Wp:
    def __init__(self, argv):
        self.argv = argv
        self.out = []
        self.err = []
        self.stdin = ""
        self.args, self.assoc = [], {}
        for a in argv:
            if a.startswith("--"):
                k, _, v = a[2:].partition("=")
                self.assoc[k] = v if "=" in a else True
            else:
                self.args.append(a)
        try:
            with open(DB) as fh:
                self.db = json.load(fh)
        except FileNotFoundError:
            self.db = {"installed": False, "options": {}, "plugins": {}, "posts": [], "next_id": 1,
                       "shipping": {}, "transients": {}}

    # -- output as WP-CLI prints it -----------------------------------------
    def line(self, text):
        self.out.append(text + "\n")

    def success(self, text):
        self.line(f"Success: {text}")

    def warning(self, text):
        self.err.append(f"Warning: {text}\n")

    def error(self, text):
        self.err.append(f"Error: {text}\n")
        raise Exit(1)

    # -- state ---------------------------------------------------------------
    def save(self):
        tmp = DB + ".new"
        with open(tmp, "w") as fh:
            json.dump(self.db, fh, indent=1, sort_keys=True)
        os.replace(tmp, DB)

    def new_post(self, post_type, title, status="publish", **meta):
        post = {"ID": self.db["next_id"], "post_type": post_type, "post_title": title, "post_status": status,
                **meta}
        self.db["next_id"] += 1
        self.db["posts"].append(post)
        return post

    def post(self, post_id):
        for p in self.db["posts"]:
            if str(p["ID"]) == str(post_id):
                return p
        return None

    def option(self, name):
        return self.db["options"].get(name)

    def need_installed(self):
        if not self.db["installed"]:
            self.error("The site you have requested is not installed.\n"
                       "Run `wp core install` to create database tables.")

    def need_woocommerce(self):
        self.need_installed()
        if not self.db["plugins"].get("woocommerce", {}).get("active"):
            self.error("'wc' is not a registered wp command. See 'wp help' for available commands.")
        if self.args[1:2] == ["hpos"]:
            return  # WooCommerce's own CLI runner, not the REST-based commands: no acting user
        user = self.assoc.get("user")
        if user not in (self.db.get("admin_user"), "1"):
            self.error(f"Invalid user ID, email or login: '{user}'")

    # -- commands ------------------------------------------------------------
    def run(self):
        a = self.args
        if a[:2] == ["core", "is-installed"]:
            raise Exit(0 if self.db["installed"] else 1)
        if a[:2] == ["core", "install"]:
            return self.core_install()
        if a[:2] == ["core", "update-db"]:
            self.need_installed()
            return self.success("WordPress database already at latest db version 60421.")
        if a[:1] == ["option"]:
            return self.option_cmd(a[1:])
        if a[:2] == ["rewrite", "structure"]:
            self.need_installed()
            self.db["options"]["permalink_structure"] = a[2]
            return self.success("Rewrite structure set.")
        if a[:1] == ["plugin"]:
            return self.plugin_cmd(a[1:])
        if a[:2] == ["transient", "delete"]:
            self.need_installed()
            if self.db["transients"].pop(a[2], None) is None:
                self.warning(f"Transient with key \"{a[2]}\" is not deleted.")
                raise Exit(1)
            return self.success("Transient deleted.")
        if a[:2] == ["post", "get"]:
            self.need_installed()
            p = self.post(a[2])
            if p is None:
                self.error(f"Could not find the post with ID {a[2]}.")
            return self.line(str(p[self.assoc["field"]]))
        if a[:1] == ["wc"]:
            return self.wc_cmd(a[1:])
        if a[:1] == ["eval-file"]:
            return self.eval_file(a[1])
        self.error(f"the fake wp does not know `wp {shlex.join(self.argv)}`: add it to helm/store/tests/fake_wp.py")

    def core_install(self):
        if self.db["installed"]:
            self.success("WordPress is already installed.")  # WP-CLI: exit 0, nothing changed
            return
        given = dict(self.assoc)
        prompt = given.pop("prompt", None)
        if prompt:
            for name in str(prompt).split(","):
                self.out.append(f"1/1 --{name}=<{name}>: ")
                given[name] = sys.stdin.readline().rstrip("\n")
                self.stdin += given[name] + "\n"
            # wp-cli Subcommand::invoke: WP_CLI::log( 'wp core install ' . assoc_args_to_str( ... ) )
            self.line("wp core install " + " ".join(f"--{k}={shlex.quote(str(v))}" if v is not True else f"--{k}"
                                                    for k, v in given.items()))
        for required in ("url", "title", "admin_user", "admin_email"):
            if not given.get(required):
                self.error(f"Parameter errors:\n missing --{required} parameter")
        if "@" not in given["admin_email"]:
            self.error(f"The '{given['admin_email']}' email address is invalid.")
        password = given.get("admin_password")
        if not password:
            password = secrets.token_urlsafe(18)
            self.line(f"Admin password: {password}")
        self.db.update(installed=True, admin_user=given["admin_user"], admin_password=password)
        self.db["options"].update(home=given["url"], siteurl=given["url"], blogname=given["title"],
                                  admin_email=given["admin_email"], show_on_front="posts", page_on_front="0",
                                  page_for_posts="0", permalink_structure="", db_version="60421",
                                  # wp_install flushes the rules, made for the plain structure
                                  rewrite_rules={"made for": "the plain permalink structure"})
        self.new_post("post", "Hello world!")
        self.new_post("page", "Sample Page")
        self.success("WordPress installed successfully.")

    def eval_file(self, program):
        """`wp eval-file`: the program, with PHP, against fake_wp_functions.php
        (the WordPress and WooCommerce functions it calls, over this state).
        Its writes are recorded as the `wp` commands they stand for, each a
        call of its own marked "in": "eval-file"."""
        self.need_installed()
        user = self.assoc.get("user")
        if user is not None and user not in (self.db.get("admin_user"), "1"):
            self.error(f"Invalid user ID, email or login: '{user}'")
        if not os.path.isfile(program):
            self.error(f"'{program}' does not exist.")
        writes = ".fake-wp-writes.json"
        active = self.db["plugins"].get("woocommerce", {}).get("active")
        r = subprocess.run([PHP, "-d", "display_errors=stderr", FUNCTIONS, program], capture_output=True, text=True,
                           env={**os.environ, "FAKE_WP_WRITES": writes, "FAKE_WP_WOOCOMMERCE_ACTIVE": "1" if active else "0"})
        with open(DB) as fh:
            self.db = json.load(fh)
        with open(writes) as fh, open(CALLS, "a") as calls:
            for argv in json.load(fh):
                calls.write(json.dumps({"argv": argv, "in": "eval-file"}) + "\n")
        os.remove(writes)
        self.out.append(r.stdout)
        self.err.append(r.stderr)
        raise Exit(r.returncode)

    def option_cmd(self, a):
        self.need_installed()
        verb, name = a[0], a[1]
        fmt = self.assoc.get("format")
        if verb == "get":
            v = self.option(name)
            if v is None:
                self.error(f"Could not get '{name}' option. Does it exist?")
            return self.line(json.dumps(v) if fmt == "json" else (v if isinstance(v, str) else json.dumps(v)))
        if verb == "pluck":
            v = self.option(name)
            for key in a[2:]:
                if not isinstance(v, dict) or key not in v:
                    self.error(f"No data exists for key \"{key}\"")
                v = v[key]
            return self.line(str(v))
        if verb in ("update", "add"):
            raw = a[2] if len(a) > 2 else sys.stdin.read()
            value = json.loads(raw) if fmt == "json" else raw
            if verb == "add":
                if name in self.db["options"]:
                    self.error(f"Could not add option '{name}'. Does it already exist?")
                self.db["options"][name] = value
                return self.success(f"Added '{name}' option.")
            if self.db["options"].get(name) == value:
                return self.success(f"Value passed for '{name}' option is unchanged.")
            self.db["options"][name] = value
            return self.success(f"Updated '{name}' option.")
        if verb == "delete":
            if self.db["options"].pop(name, None) is None:
                self.warning(f"Could not delete '{name}' option. Does it exist?")
                raise Exit(1)
            return self.success(f"Deleted '{name}' option.")
        self.error(f"the fake wp does not know `wp option {verb}`")

    def plugin_cmd(self, a):
        self.need_installed()
        verb = a[0]
        plugins = self.db["plugins"]
        if verb == "get":
            p = plugins.get(a[1])
            if p is None:
                self.error(f"The '{a[1]}' plugin could not be found.")
            return self.line(str(p[self.assoc["field"]]))
        if verb == "is-installed":
            raise Exit(0 if a[1] in plugins else 1)
        if verb == "is-active":
            raise Exit(0 if plugins.get(a[1], {}).get("active") else 1)
        if verb == "install":
            source = a[1]
            if source.endswith(".zip"):
                if not os.path.isfile(source):
                    self.error(f"Can't find the requested plugin's zip: {source}")
                slug, version = zip_plugin(source)
            else:
                slug, version = source, self.assoc.get("version", LATEST_WOOCOMMERCE)
            if slug in plugins and not self.assoc.get("force"):
                self.warning(f"{slug}: Plugin already installed.")
                return self.success("Plugin already installed.")
            self.line(f"Installing WooCommerce ({version})")
            # the plugin's main file, whose header says the installed version
            os.makedirs(f"wp-content/plugins/{slug}", exist_ok=True)
            with open(f"wp-content/plugins/{slug}/{slug}.php", "w") as fh:
                fh.write(f"<?php\n/**\n * Plugin Name: WooCommerce\n * Version: {version}\n */\n")
            plugins[slug] = {"version": version, "active": plugins.get(slug, {}).get("active", False),
                             "installs": plugins.get(slug, {}).get("installs", 0) + 1}
            return self.success("Installed 1 of 1 plugins.")
        if verb == "activate":
            p = plugins.get(a[1])
            if p is None:
                self.error(f"The '{a[1]}' plugin could not be found.")
            p["active"] = True
            # WooCommerce's activation: its pages, and (9.3+) coming-soon mode for a new store
            self.install_pages()
            self.db["options"].setdefault("woocommerce_coming_soon", "yes")
            self.db["options"].setdefault("woocommerce_store_pages_only", "yes")
            self.db["transients"]["_wc_activation_redirect"] = 1
            return self.success("Activated 1 of 1 plugins.")
        self.error(f"the fake wp does not know `wp plugin {verb}`")

    def install_pages(self):
        for page, title in (("shop", "Shop"), ("cart", "Cart"), ("checkout", "Checkout"), ("myaccount", "My account")):
            key = f"woocommerce_{page}_page_id"
            if self.post(self.db["options"].get(key, "")) is None:
                self.db["options"][key] = str(self.new_post("page", title)["ID"])

    def wc_cmd(self, a):
        self.need_woocommerce()
        fmt = self.assoc.get("format")
        if a[:3] == ["tool", "run", "install_pages"]:
            self.install_pages()
            return self.success("Updated install_pages.")
        if a[:2] == ["hpos", "enable"]:
            if any(p["post_type"] == "shop_order" for p in self.db["posts"]):
                self.error("[Failed] There are orders pending sync. Please run `wp wc hpos sync` first.")
            self.db["options"]["woocommerce_custom_orders_table_enabled"] = "yes"
            return self.success("High-Performance Order Storage was enabled.")
        if a[:2] == ["shipping_zone_method", "list"]:
            methods = self.db["shipping"].setdefault(a[2], [])
            return self.line(str(len(methods)) if fmt == "count" else json.dumps(methods))
        if a[:2] == ["shipping_zone_method", "create"]:
            methods = self.db["shipping"].setdefault(a[2], [])
            methods.append({"instance_id": len(methods) + 1, "method_id": self.assoc["method_id"],
                            "enabled": self.assoc.get("enabled") == "true"})
            return self.success(f"Created shipping_zone_method {len(methods)}.")
        if a[:2] == ["product", "list"]:
            status = self.assoc.get("status", "any")
            products = [p for p in self.db["posts"] if p["post_type"] == "product"
                        and (status == "any" or p["post_status"] == status)]
            return self.line(str(len(products)) if fmt == "count" else json.dumps(products))
        if a[:2] == ["product", "create"]:
            p = self.new_post("product", self.assoc["name"], self.assoc.get("status", "publish"),
                              regular_price=self.assoc.get("regular_price", ""))
            return self.line(str(p["ID"])) if self.assoc.get("porcelain") else self.success(
                f"Created product {p['ID']}.")
        self.error(f"the fake wp does not know `wp wc {shlex.join(a)}`")


def zip_plugin(path):
    """(slug, version) of a plugin zip: its top folder and the Version header of its main file."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        slug = names[0].split("/")[0]
        header = z.read(f"{slug}/{slug}.php").decode()
    for line in header.splitlines():
        line = line.strip(" *\t")
        if line.startswith("Version:"):
            return slug, line.split(":", 1)[1].strip()
    return slug, ""


def main():
    wp = Wp(sys.argv[1:])
    code = 0
    try:
        wp.run()
        wp.save()
    except Exit as e:
        code = e.code
        if code == 0:
            wp.save()
    stdout, stderr = "".join(wp.out), "".join(wp.err)
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)
    with open(CALLS, "a") as fh:
        fh.write(json.dumps({"argv": sys.argv[1:], "stdin": wp.stdin, "stdout": stdout, "stderr": stderr,
                             "exit": code}) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
