"""scripts/smoke-order against a stand-in for one store, to check the script's
own logic: the Store API handshake (Nonce and Cart-Token headers, cookies),
the JSON it sends, and that it fails loudly when the store or the admin check
says no. This is a unit test of the script, not proof that a store sells:
that proof is the script run against a real store (docs/store-chart.md).

Needs curl and jq (the script's own requirements).
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chart import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "smoke-order")
PREFIX = "/wp-json/wc/store/v1"


class FakeStore(BaseHTTPRequestHandler):
    """Answers like the WooCommerce Store API does, and refuses what it refuses."""
    checkout_payment = None
    refuse_checkout = False

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        return (self.headers.get("Nonce") == "nonce-1" and self.headers.get("Cart-Token") == "token-1"
                and "woocommerce_cart=1" in (self.headers.get("Cookie") or ""))

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def do_GET(self):
        if self.path == PREFIX + "/products?per_page=1":
            return self.reply(200, [{"id": 15, "name": "Storefleet T-shirt"}])
        if self.path == PREFIX + "/cart":
            return self.reply(200, {"items": []}, [("Nonce", "nonce-1"), ("Cart-Token", "token-1"),
                                                   ("Set-Cookie", "woocommerce_cart=1; Path=/")])
        self.reply(404, {"code": "rest_no_route"})

    def do_POST(self):
        if not self.authorised():
            return self.reply(401, {"code": "woocommerce_rest_missing_nonce"})
        body = self.body()
        if self.path == PREFIX + "/cart/add-item" and body == {"id": 15, "quantity": 1}:
            return self.reply(201, {"items": [{"id": 15, "quantity": 1}]})
        if self.path == PREFIX + "/checkout":
            FakeStore.checkout_payment = body.get("payment_method")
            if self.refuse_checkout or not body["billing_address"].get("email"):
                return self.reply(400, {"code": "woocommerce_rest_invalid_shipping_option"})
            return self.reply(200, {"order_id": 42, "status": "processing"})
        self.reply(400, {"code": "bad_request"})


class SmokeOrder(unittest.TestCase):
    def setUp(self):
        for tool in ("curl", "jq"):
            self.assertTrue(shutil.which(tool), f"{tool} is missing (helm/store/tests/run installs it)")
        FakeStore.refuse_checkout = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStore)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.tmp = tempfile.mkdtemp()
        self.kubectl = os.path.join(self.tmp, "kubectl")
        self.fake_kubectl('{"id":42,"status":"processing","payment_method":"cod","total":"19.99"}')

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp)

    def fake_kubectl(self, order_json):
        """Records its arguments; answers `exec ... wp wc shop_order get` with order_json."""
        with open(self.kubectl, "w") as f:
            f.write(f"#!/bin/sh\necho \"$*\" >> {self.tmp}/argv\necho '{order_json}'\n")
        os.chmod(self.kubectl, 0o755)

    def smoke(self):
        url = f"http://127.0.0.1:{self.server.server_port}"
        return subprocess.run([SCRIPT, "abcd1234", "--url", url], capture_output=True, text=True,
                              env={**os.environ, "STOREFLEET_KUBECTL_BIN": self.kubectl}, timeout=60)

    def test_an_order_placed_and_found_in_admin_passes(self):
        r = self.smoke()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(FakeStore.checkout_payment, "cod")
        self.assertIn("order 42, status processing", r.stdout)
        with open(os.path.join(self.tmp, "argv")) as f:
            argv = f.read()
        self.assertIn("-n store-abcd1234 exec deploy/wordpress -c wordpress -- php /opt/wp-cli/wp wc shop_order get 42",
                      argv)

    def test_a_refused_checkout_fails_with_the_store_answer(self):
        FakeStore.refuse_checkout = True
        r = self.smoke()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("answered 400", r.stderr)
        self.assertIn("woocommerce_rest_invalid_shipping_option", r.stderr)

    def test_an_order_admin_does_not_confirm_fails(self):
        self.fake_kubectl('{"id":42,"status":"pending","payment_method":"bacs","total":"19.99"}')
        r = self.smoke()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not a Cash on delivery order", r.stderr)

    def test_a_bad_store_id_is_refused_before_anything_runs(self):
        r = subprocess.run([SCRIPT, "Not-An-Id"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("8 characters of [a-z0-9]", r.stderr)


if __name__ == "__main__":
    unittest.main()
