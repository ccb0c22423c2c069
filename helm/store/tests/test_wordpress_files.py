"""The init container wordpress-files, run as the pod spec says (podrun.py):
its rendered command, env and mounts, as uid 33 with fsGroup 33, no
capabilities, a read-only root, on the two volume layouts a real node gives a
pod — root:33 2775 (a volume whose ownership the kubelet manages for fsGroup)
and root:root 0777 (local-path) — with a WordPress tree standing in for the
image's /usr/src/wordpress.

The tree is a small one written here, or the real release when
STOREFLEET_WORDPRESS_RELEASE names its directory (e.g. an unpacked
wordpress-6.8.3.tar.gz; the acceptance harness does the same with it). With
STOREFLEET_WORDPRESS_ENTRYPOINT (the official image's docker-entrypoint.sh)
the image's own scripts are laid in /usr/local/bin as in the image, which is
how the old command (docker-ensure-installed.sh) was shown to fail here.

Needs root (mount and PID namespaces; the container itself runs as uid 33).
"""

import os
import shutil
import tempfile
import unittest

from chart import named, render, store_secret
from podrun import Image, Pod, prepare_claim, require_root

VOLUME_MODES = ["fsgroup", "local-path"]
RELEASE = os.environ.get("STOREFLEET_WORDPRESS_RELEASE", "")
ENTRYPOINT = os.environ.get("STOREFLEET_WORDPRESS_ENTRYPOINT", "")

WP_CONFIG_DOCKER = """<?php
function getenv_docker($env, $default) { return getenv($env) ?: $default; }
define('AUTH_KEY', getenv_docker('WORDPRESS_AUTH_KEY', 'put your unique phrase here'));
define('NONCE_SALT', getenv_docker('WORDPRESS_NONCE_SALT', 'put your unique phrase here'));
"""


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def chown_tree(top, below):
    """What the store's own processes (uid 33) made, from `top` down to `below`."""
    path = below
    while True:
        os.chown(path, 33, 33)
        for dirpath, dirnames, filenames in os.walk(path) if os.path.isdir(path) else []:
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), 33, 33)
        if os.path.dirname(path) == top or path == top:
            return
        path = os.path.dirname(path)


def store_writes(volume, rel, text):
    """A file the store wrote into its volume (as uid 33)."""
    path = os.path.join(volume, rel)
    write(path, text)
    chown_tree(volume, path)


def read(path):
    with open(path) as fh:
        return fh.read()


def stand_in_release(root, version, *, extra_core_file=None):
    """A WordPress tree with what the copy must handle: top-level files,
    wp-admin and wp-includes, a dotfile, bundled plugins and themes."""
    files = {
        "index.php": "<?php require __DIR__ . '/wp-blog-header.php';\n",
        "wp-blog-header.php": f"<?php // {version}\n",
        "wp-login.php": f"<?php // {version}\n",
        "wp-config-docker.php": WP_CONFIG_DOCKER,
        ".htaccess": "# BEGIN WordPress\n# END WordPress\n",
        "wp-includes/version.php": f"<?php\n$wp_version = '{version}';\n$wp_db_version = 60421;\n",
        "wp-includes/functions.php": f"<?php // {version}\n",
        "wp-admin/index.php": f"<?php // {version}\n",
        "wp-admin/css/admin.css": f"/* {version} */\n",
        "wp-content/index.php": "<?php\n",
        "wp-content/plugins/index.php": "<?php\n",
        "wp-content/plugins/hello.php": f"<?php // {version}\n",
        "wp-content/plugins/akismet/akismet.php": f"<?php // akismet of {version}\n",
        "wp-content/themes/twentytwentyfive/style.css": f"/* {version} */\n",
    }
    if extra_core_file:
        files[extra_core_file] = f"<?php // only in {version}\n"
    for rel, text in files.items():
        write(os.path.join(root, rel), text)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), 33, 33)  # chown -R www-data in the image
    return root


def tree(root):
    """Relative paths of every file and directory (volume root excluded)."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
    return out


class WordPressFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root("test_wordpress_files")
        docs = render()
        cls.spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        cls.configmap = named(docs, "ConfigMap", "woocommerce-setup")["data"]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wordpress-files-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def image(self, release):
        files = {"/usr/src/wordpress": release}
        links = {}
        if ENTRYPOINT:
            files["/usr/local/bin/docker-entrypoint.sh"] = ENTRYPOINT
            links["/usr/local/bin/docker-ensure-installed.sh"] = "docker-entrypoint.sh"
        return Image("wordpress (stand-in)", entrypoint=["docker-entrypoint.sh"], cmd=["apache2-foreground"],
                     workdir="/var/www/html", files=files, links=links)

    def release(self, version="6.8.3", **kw):
        if RELEASE:
            return RELEASE
        return stand_in_release(os.path.join(self.dir, f"release-{version}"), version, **kw)

    def run_files(self, volume, release, name="pod"):
        pod = Pod(f"wordpress-{name}", self.spec, claims={"wordpress-content": volume},
                  configmaps={"woocommerce-setup": self.configmap},
                  secrets={"store-credentials": store_secret(), "store-admin": store_secret()},
                  workdir=os.path.join(self.dir, name))
        r = pod.run("wordpress-files", self.image(release))
        return r, pod

    def test_a_fresh_volume_gets_wordpress_as_uid_33_on_both_volume_layouts(self):
        release = self.release()
        for mode in VOLUME_MODES:
            with self.subTest(volume=mode):
                volume = prepare_claim(os.path.join(self.dir, f"volume-{mode}"), mode)
                before = os.stat(volume)
                r, pod = self.run_files(volume, release, name=f"fresh-{mode}")
                self.assertEqual(r.returncode, 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n"
                                 f"termination log: {pod.termination_message('wordpress-files')}")
                self.assertNotIn("Operation not permitted", r.stderr)
                # every file of the release is there, owned by the container's user
                missing = tree(release) - tree(volume)
                self.assertEqual(missing, set(), "files not copied")
                for rel in ("index.php", "wp-includes/version.php", "wp-content/plugins/akismet"):
                    self.assertEqual(os.stat(os.path.join(volume, rel)).st_uid, 33, rel)
                # the volume root is as the node made it: nothing chmods or chowns it
                after = os.stat(volume)
                self.assertEqual((after.st_mode, after.st_uid, after.st_gid),
                                 (before.st_mode, before.st_uid, before.st_gid))
                # wp-config.php from the image's wp-config-docker.php, default salts made unique
                config = read(os.path.join(volume, "wp-config.php"))
                self.assertIn("getenv_docker('WORDPRESS_AUTH_KEY'", config)
                self.assertNotIn("put your unique phrase here", config)

    def test_a_second_run_copies_nothing_and_keeps_what_the_store_changed(self):
        release = self.release()
        volume = prepare_claim(os.path.join(self.dir, "volume"), "fsgroup")
        r, _ = self.run_files(volume, release, name="first")
        self.assertEqual(r.returncode, 0, r.stderr)
        config = read(os.path.join(volume, "wp-config.php"))
        store_writes(volume, "wp-content/uploads/2026/12/shirt.jpg", "jpeg")
        os.remove(os.path.join(volume, "wp-content/plugins/hello.php"))   # the merchant deleted it
        r, _ = self.run_files(volume, release, name="second")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("is in /var/www/html", r.stdout)
        self.assertEqual(read(os.path.join(volume, "wp-config.php")), config, "wp-config.php rewritten")
        self.assertTrue(os.path.exists(os.path.join(volume, "wp-content/uploads/2026/12/shirt.jpg")))
        self.assertFalse(os.path.exists(os.path.join(volume, "wp-content/plugins/hello.php")))

    def test_a_kept_wp_content_keeps_its_own_plugins_and_themes(self):
        release = self.release()
        volume = prepare_claim(os.path.join(self.dir, "volume"), "local-path")
        store_writes(volume, "wp-content/plugins/akismet/akismet.php", "<?php // the store's akismet\n")
        r, _ = self.run_files(volume, release)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(read(os.path.join(volume, "wp-content/plugins/akismet/akismet.php")),
                         "<?php // the store's akismet\n")
        self.assertTrue(os.path.exists(os.path.join(volume, "wp-content/themes/twentytwentyfive/style.css")))

    # the upgrade tests always use stand-in trees: they need two versions
    def test_an_upgrade_brings_the_core_files_to_the_image_version_and_keeps_the_store(self):
        old = stand_in_release(os.path.join(self.dir, "release-6.8.2"), "6.8.2",
                               extra_core_file="wp-includes/removed-in-6.8.3.php")
        new = stand_in_release(os.path.join(self.dir, "release-6.8.3"), "6.8.3")
        for mode in VOLUME_MODES:
            with self.subTest(volume=mode):
                volume = prepare_claim(os.path.join(self.dir, f"volume-{mode}"), mode)
                r, _ = self.run_files(volume, old, name=f"old-{mode}")
                self.assertEqual(r.returncode, 0, r.stderr)
                config = read(os.path.join(volume, "wp-config.php"))
                # what the store did with its files
                store_writes(volume, "wp-content/plugins/woocommerce/woocommerce.php", "<?php // WC\n")
                store_writes(volume, "wp-content/uploads/2026/12/shirt.jpg", "jpeg")
                shutil.rmtree(os.path.join(volume, "wp-content/plugins/akismet"))
                store_writes(volume, ".htaccess", "# the store's rules\n")

                r, _ = self.run_files(volume, new, name=f"new-{mode}")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("bringing the core files to 6.8.3", r.stdout)
                self.assertIn("$wp_version = '6.8.3';", read(os.path.join(volume, "wp-includes/version.php")))
                for rel in ("index.php", "wp-login.php", "wp-admin/index.php", "wp-admin/css/admin.css",
                            "wp-includes/functions.php", "wp-blog-header.php"):
                    self.assertEqual(read(os.path.join(volume, rel)), read(os.path.join(new, rel)), rel)
                self.assertFalse(os.path.exists(os.path.join(volume, "wp-includes/removed-in-6.8.3.php")),
                                 "a core file of the old version was left behind")
                # the store's own files are kept
                self.assertEqual(read(os.path.join(volume, "wp-config.php")), config)
                self.assertEqual(read(os.path.join(volume, ".htaccess")), "# the store's rules\n")
                self.assertTrue(os.path.exists(os.path.join(volume, "wp-content/plugins/woocommerce/woocommerce.php")))
                self.assertTrue(os.path.exists(os.path.join(volume, "wp-content/uploads/2026/12/shirt.jpg")))
                self.assertFalse(os.path.exists(os.path.join(volume, "wp-content/plugins/akismet")),
                                 "an upgrade re-added a plugin the store had deleted")
                self.assertEqual(read(os.path.join(volume, "wp-content/plugins/hello.php")),
                                 "<?php // 6.8.2\n", "an upgrade replaced a file in wp-content")
                self.assertEqual([n for n in os.listdir(volume) if n.startswith(".storefleet")], [])

    def test_an_upgrade_cut_off_between_its_renames_is_finished_by_the_next_run(self):
        old = stand_in_release(os.path.join(self.dir, "release-6.8.2"), "6.8.2")
        new = stand_in_release(os.path.join(self.dir, "release-6.8.3"), "6.8.3")
        volume = prepare_claim(os.path.join(self.dir, "volume"), "fsgroup")
        r, _ = self.run_files(volume, old, name="old")
        self.assertEqual(r.returncode, 0, r.stderr)
        # the pod was killed after `mv wp-includes .storefleet-wp-includes.old`
        os.rename(os.path.join(volume, "wp-includes"), os.path.join(volume, ".storefleet-wp-includes.old"))
        shutil.copytree(os.path.join(new, "wp-includes"), os.path.join(volume, ".storefleet-wp-includes.new"))
        chown_tree(volume, os.path.join(volume, ".storefleet-wp-includes.new"))
        r, _ = self.run_files(volume, new, name="new")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("$wp_version = '6.8.3';", read(os.path.join(volume, "wp-includes/version.php")))
        self.assertEqual([n for n in os.listdir(volume) if n.startswith(".storefleet")], [])


if __name__ == "__main__":
    unittest.main()
