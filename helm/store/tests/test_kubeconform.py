"""kubeconform on every rendering of the store chart, with strict schemas made
from the real kube-apiserver's OpenAPI document (kube_schemas.py).

Run by `make test-chart` with HELM, KUBECONFORM, KUBECTL, KUBERNETES_VERSION,
STOREFLEET_CACHE and, for the first run only (the document is cached),
SCHEMA_KUBECONFIG: a kubeconfig of the test cluster.
"""

import os
import subprocess
import tempfile
import unittest

import yaml

import kube_schemas
from chart import VALUES_FILES, helm_template

KUBECONFORM = os.environ.get("KUBECONFORM", "kubeconform")
VERSION = os.environ.get("KUBERNETES_VERSION", "v1.36.3")
CACHE = os.path.join(os.environ.get("STOREFLEET_CACHE", os.path.expanduser("~/.cache/storefleet")),
                     "kube-schemas", VERSION)


def openapi():
    if not os.path.exists(os.path.join(CACHE, "openapi-v2.json")) and not os.environ.get("SCHEMA_KUBECONFIG"):
        raise unittest.SkipTest("no cached OpenAPI document and no SCHEMA_KUBECONFIG to fetch it from")
    return kube_schemas.fetch_openapi(CACHE, os.environ.get("KUBECTL", "kubectl"),
                                      os.environ.get("SCHEMA_KUBECONFIG", ""))


class Kubeconform(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.openapi = openapi()
        cls.schemas = os.path.join(CACHE, "strict")

    def kubeconform(self, manifest_text):
        docs = [d for d in yaml.safe_load_all(manifest_text) if d]
        unknown = kube_schemas.write_schemas(self.openapi, self.schemas,
                                             {(d["apiVersion"], d["kind"]) for d in docs})
        self.assertEqual(unknown, [], f"kinds this Kubernetes ({VERSION}) does not serve")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(manifest_text)
            f.flush()
            return subprocess.run([KUBECONFORM, "-strict", "-summary", "-kubernetes-version", VERSION.lstrip("v"),
                                   "-schema-location", os.path.join(self.schemas, kube_schemas.FILE_TEMPLATE),
                                   f.name], capture_output=True, text=True)

    def test_every_values_file_renders_valid_objects(self):
        for values in VALUES_FILES:
            for existing_secret in ("store-credentials", None):
                with self.subTest(values=values, existing_secret=existing_secret):
                    r = helm_template(values, existing_secret=existing_secret)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    out = self.kubeconform(r.stdout)
                    self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                    self.assertRegex(out.stdout, r"Invalid: 0, Errors: 0, Skipped: 0")

    def test_the_schemas_are_strict_enough_to_catch_a_misspelt_field(self):
        """Proof that the check can fail: a typo and a wrong type are rejected."""
        r = helm_template("values-local.yaml")
        broken = r.stdout.replace("  revisionHistoryLimit: 3", "  revisionHistoryLimt: 3", 1)
        self.assertNotEqual(broken, r.stdout)
        out = self.kubeconform(broken)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn("revisionHistoryLimt", out.stdout)
        wrong_type = r.stdout.replace("automountServiceAccountToken: false", "automountServiceAccountToken: nope", 1)
        self.assertNotEqual(self.kubeconform(wrong_type).returncode, 0)


if __name__ == "__main__":
    unittest.main()
