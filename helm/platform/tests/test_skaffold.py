"""skaffold.yaml, read by the real skaffold (built from Go modules by
scripts/tool) with the real helm 4: `skaffold diagnose` accepts it and
`skaffold render` (no build, no cluster) produces the platform chart with
values-local.yaml plus every knative/ manifest, which the test cluster's API
server (with Knative's CRDs) then accepts in a server-side dry run.

Run by `scripts/test-deploy skaffold` (make test-skaffold). Needs SKAFFOLD,
HELM, KUBECTL and KUBECONFIG_ADMIN; skaffold must find helm and itself on
PATH (its Helm 4 post-renderer plugin runs `skaffold filter`), which
scripts/test-deploy arranges.
"""

import glob
import os
import subprocess
import tempfile
import unittest

import yaml

from cluster import CHART, HELM, ROOT, kubectl
# A module import, so unittest does not collect test_rendering's tests here too.
import test_rendering as rendering

SKAFFOLD = os.environ["SKAFFOLD"]


def identity(doc):
    return (doc["kind"], doc["metadata"]["name"])


class SkaffoldConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        # A home of our own: skaffold's global config there (no update check,
        # no metrics prompt), and nothing written to the real ~/.skaffold or
        # helm's plugin folder (skaffold installs a temporary plugin).
        os.makedirs(os.path.join(cls.tmp.name, ".skaffold"))
        with open(os.path.join(cls.tmp.name, ".skaffold", "config"), "w") as f:
            f.write("global:\n  update-check: false\n  collect-metrics: false\n")
        cls.env = dict(os.environ, HOME=cls.tmp.name, SKAFFOLD_UPDATE_CHECK="false")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def skaffold(self, *args):
        r = subprocess.run([SKAFFOLD, *args, "--filename", os.path.join(ROOT, "skaffold.yaml")],
                           cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, f"skaffold {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def test_diagnose_accepts_the_config(self):
        out = self.skaffold("diagnose", "--yaml-only")
        config = yaml.safe_load(out)
        images = {a["image"] for a in config["build"]["artifacts"]}
        self.assertEqual(images, {f"dev.local/storefleet/{n}" for n in
                                  ("create-store", "delete-store", "list-stores", "readiness-checker",
                                   "dashboard")})
        # The local-bases profile patches every artifact's base images.
        out = self.skaffold("diagnose", "--yaml-only", "--profile", "local-bases")
        for artifact in yaml.safe_load(out)["build"]["artifacts"]:
            args = artifact["docker"].get("buildArgs", {})
            self.assertTrue(any(v.startswith("storefleet-local/") for v in args.values()), artifact["image"])

    def test_render_is_the_chart_plus_knative_and_the_api_server_accepts_it(self):
        out_file = os.path.join(self.tmp.name, "rendered.yaml")
        self.skaffold("render", "--offline=true", "--digest-source=tag", "--output", out_file)
        with open(out_file) as f:
            rendered = [d for d in yaml.load_all(f, Loader=rendering.NoDuplicateKeys) if d]
        chart = subprocess.run([HELM, "template", "storefleet", CHART, "--namespace", "storefleet",
                                "-f", os.path.join(CHART, "values-local.yaml")],
                               check=True, capture_output=True, text=True).stdout
        expected = {identity(d) for d in yaml.safe_load_all(chart) if d}
        for path in glob.glob(os.path.join(ROOT, "knative", "*.yaml")):
            with open(path) as f:
                expected |= {identity(d) for d in yaml.safe_load_all(f) if d}
        # Helm hooks (the migration Job) are part of `helm template` too.
        self.assertEqual({identity(d) for d in rendered}, expected)
        # setValueTemplates hand the chart skaffold's image references.
        images = {c["image"] for d in rendered if d["kind"] in ("Deployment", "Job")
                  for c in d["spec"]["template"]["spec"]["containers"]}
        self.assertIn("dev.local/storefleet/dashboard:latest", images)
        self.assertIn("dev.local/storefleet/list-stores:latest", images)
        # The API server (Knative CRDs installed) accepts every object.
        with open(out_file) as f:
            r = kubectl("apply", "--dry-run=server", "--server-side", "--force-conflicts",
                        "--field-manager=skaffold-test", "-f", "-", stdin=f.read(), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
