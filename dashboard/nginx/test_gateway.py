"""The production gateway (this folder's nginx config) routes /api exactly like
the local broker's gateway, and serves the SPA with the right caching.

A real nginx runs the real entrypoint.sh and config (paths moved into a
temporary directory) in front of three small HTTP servers on 127.0.0.1 that
stand for create-store, delete-store and list-stores and echo who answered.
The expected answer of every request comes from the local broker's routing
table, parsed out of local-broker/src/gateway.rs (ROUTES, API_PATHS + decide),
so the two gateways cannot drift apart silently (local-broker/tests/gateway.rs
checks API_PATHS against docs/openapi.json).

Run by scripts/test-deploy: NGINX_BIN=... NGINX_MIME_TYPES=... python3 -m unittest -v test_gateway
"""

import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GATEWAY_RS = os.path.join(ROOT, "local-broker", "src", "gateway.rs")
FUNCTIONS = ["create-store", "delete-store", "list-stores"]
# The functions' problem types (shared/src/error.rs) for the gateway's own answers.
PROBLEM_TYPES = {404: "https://storefleet.dev/problems/not-found",
                 405: "https://storefleet.dev/problems/method-not-allowed",
                 413: "https://storefleet.dev/problems/payload-too-large",
                 429: "https://storefleet.dev/problems/rate-limited",
                 502: "https://storefleet.dev/problems/bad-gateway"}
# Store ids the stand-in functions hang up on without answering, or answer
# with their own 502.
HANG_UP, OWN_502 = "hangup00", "own50200"


def local_broker_routes():
    """[(method, kind, prefix, function)] from the ROUTES const of gateway.rs."""
    with open(GATEWAY_RS) as fh:
        src = fh.read()
    table = src[src.index("pub const ROUTES"):]
    table = table[: table.index("];")]
    routes = re.findall(
        r'method:\s*Method::(\w+),\s*path:\s*PathPattern::(\w+)\("([^"]+)"\),\s*function:\s*"([^"]+)"', table)
    if not routes:
        raise AssertionError("could not read ROUTES from local-broker/src/gateway.rs")
    return routes


def local_broker_api_paths():
    """[(kind, args, allow)] from the API_PATHS const of gateway.rs."""
    with open(GATEWAY_RS) as fh:
        src = fh.read()
    table = src[src.index("pub const API_PATHS"):]
    table = table[: table.index("];")]
    paths = re.findall(r'PathPattern::(\w+)\(\s*((?:"[^"]*",?\s*)+)\)\s*,\s*"([^"]+)"', table)
    if not paths:
        raise AssertionError("could not read API_PATHS from local-broker/src/gateway.rs")
    return [(kind, re.findall(r'"([^"]*)"', args), allow) for kind, args, allow in paths]


def matches(kind, prefix, path, suffix=None):
    if kind == "Exact":
        return path == prefix
    if kind == "SegmentBetween":
        if not path.startswith(prefix) or not path.endswith(suffix):
            return False
        segment = path[len(prefix):len(path) - len(suffix)]
        return segment != "" and "/" not in segment
    rest = path[len(prefix):] if path.startswith(prefix) else None
    if kind == "OneSegmentUnder":
        return rest is not None and rest != "" and "/" not in rest
    if kind == "AnythingUnder":
        return rest is not None and rest != ""
    raise AssertionError(f"unknown PathPattern::{kind} in gateway.rs: teach this test about it")


def expected(routes, method, path, api_paths=None):
    """The local broker's decide(): ('function', name) | (405, allow) | (404, None)."""
    m = "GET" if method == "HEAD" else method
    for r in routes:
        if r[0] == m and matches(r[1], r[2], path):
            return ("function", r[3])
    for kind, args, allow in api_paths if api_paths is not None else local_broker_api_paths():
        if matches(kind, args[0], path, *args[1:]):
            return (405, allow)
    return (404, None)


class Echo(http.server.BaseHTTPRequestHandler):
    function = "?"

    def answer(self):
        if HANG_UP in self.path:
            self.close_connection = True  # a function that dies mid-request
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        data = json.dumps({"function": self.function, "method": self.command, "path": self.path,
                           "host": self.headers.get("Host"), "auth": self.headers.get("Authorization"),
                           "body": body}).encode()
        self.send_response(502 if OWN_502 in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = answer

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        nginx = os.environ.get("NGINX_BIN") or shutil.which("nginx")
        mime = os.environ.get("NGINX_MIME_TYPES", "/etc/nginx/mime.types")
        if not nginx or not os.path.exists(mime):
            raise unittest.SkipTest("no nginx: scripts/test-deploy provides one")
        cls.routes = local_broker_routes()
        cls.servers = []
        env = dict(os.environ)
        for fn in FUNCTIONS:
            handler = type(f"Echo_{fn}", (Echo,), {"function": fn})
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            cls.servers.append(srv)
            env[f"STOREFLEET_{fn.upper().replace('-', '_')}_URL"] = f"http://127.0.0.1:{srv.server_address[1]}"
        env["NGINX_RESOLVER"] = "127.0.0.1"
        # the platform chart's value with mailCatcher on (values-local.yaml)
        env["STOREFLEET_MAIL_URL"] = "http://mail.localhost/"
        cls.env = env

        # The image's files, with their absolute paths moved into a temp dir.
        cls.tmp = tempfile.mkdtemp(prefix="storefleet-gateway-")
        os.chmod(cls.tmp, 0o755)
        conf_dir, run_dir, html = (os.path.join(cls.tmp, d) for d in ("etc", "run", "html"))
        os.makedirs(conf_dir)
        os.makedirs(os.path.join(html, "assets"))
        cls.port = free_port()

        def moved(text):
            return (text.replace("/etc/nginx/storefleet", conf_dir)
                        .replace("/tmp/nginx", run_dir)
                        .replace("/usr/share/storefleet/dashboard", html)
                        .replace("/etc/nginx/mime.types", mime)
                        .replace("listen 8080", f"listen 127.0.0.1:{cls.port}"))

        for name in ("nginx.conf", "storefleet.conf.template", "security-headers.conf", "entrypoint.sh"):
            with open(os.path.join(HERE, name)) as src, open(os.path.join(conf_dir, name), "w") as dst:
                dst.write(moved(src.read()))
        os.chmod(os.path.join(conf_dir, "entrypoint.sh"), 0o755)
        with open(os.path.join(html, "index.html"), "w") as fh:
            fh.write("<!doctype html><title>Storefleet</title>")
        with open(os.path.join(html, "assets", "index-abc123.js"), "w") as fh:
            fh.write("console.log('storefleet')")
        for d, _, files in os.walk(cls.tmp):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o755)
        env["PATH"] = os.path.dirname(nginx) + os.pathsep + env["PATH"]
        cls.log = open(os.path.join(cls.tmp, "nginx.log"), "w")
        cls.entrypoint, cls.run_dir = os.path.join(conf_dir, "entrypoint.sh"), run_dir
        cls.proc = subprocess.Popen([cls.entrypoint], env=env,
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=0.5).close()
                break
            except OSError:
                if cls.proc.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(cls.tmp, "nginx.log")) as fh:
                        log = fh.read()
                    cls.tearDownClass()
                    raise AssertionError("nginx did not start:\n" + log)
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "proc", None) and cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGQUIT)
            try:
                cls.proc.wait(10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
        for srv in getattr(cls, "servers", []):
            srv.shutdown()
        if getattr(cls, "log", None):
            cls.log.close()
        shutil.rmtree(getattr(cls, "tmp", ""), ignore_errors=True)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data

    def test_api_routing_matches_the_local_broker(self):
        paths = ["/api/stores", "/api/stores/k7m2q9xd", "/api/stores/k7m2q9xd/events",
                 "/api/stores/k7m2q9xd/credentials", "/api/stores/", "/api/users", "/api/me",
                 "/api/engines", "/api/openapi.json", "/api/users/x", "/api/nothing/here", "/api/", "/api"]
        # M-SEARCH: a method name beyond A-Z is still a method, not a 404
        methods = ["GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "M-SEARCH"]
        checked = 0
        for path in paths:
            for method in methods:
                with self.subTest(method=method, path=path):
                    want = expected(self.routes, method, path)
                    r, data = self.request(method, path + ("?limit=2" if method == "GET" else ""),
                                           headers={"Authorization": "Bearer t0k3n"})
                    if want[0] == "function":
                        self.assertEqual(r.status, 200, data)
                        if method != "HEAD":
                            got = json.loads(data)
                            self.assertEqual(got["function"], want[1])
                            self.assertEqual(got["method"], method)
                            self.assertEqual(got["path"], path + ("?limit=2" if method == "GET" else ""),
                                             "the URI is passed on unchanged")
                            self.assertEqual(got["auth"], "Bearer t0k3n", "Authorization is passed on")
                    else:
                        self.assertEqual(r.status, want[0], data)
                        if method != "HEAD":
                            problem = json.loads(data)
                            self.assertEqual(problem["status"], want[0])
                            self.assertEqual(problem["type"], PROBLEM_TYPES[want[0]], "the functions' type")
                            self.assertEqual(r.getheader("Content-Type"), "application/problem+json")
                        if want[0] == 405:
                            self.assertEqual(r.getheader("Allow"), want[1])
                    checked += 1
        self.assertEqual(checked, len(paths) * len(methods))

    def test_request_body_reaches_the_function(self):
        r, data = self.request("POST", "/api/stores", body=b'{"type":"woocommerce","name":"Demo"}',
                               headers={"Content-Type": "application/json", "Idempotency-Key": "k1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(data)["body"], '{"type":"woocommerce","name":"Demo"}')

    def assert_problem(self, r, data, status):
        self.assertEqual(r.status, status, data)
        self.assertEqual(r.getheader("Content-Type"), "application/problem+json")
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        problem = json.loads(data)
        self.assertEqual((problem["status"], problem["type"]), (status, PROBLEM_TYPES[status]))
        return problem

    def test_what_nginx_answers_itself_is_a_problem(self):
        # a body over client_max_body_size never reaches the function
        r, data = self.request("POST", "/api/stores", body=b"x" * (1024 * 1024 + 1),
                               headers={"Content-Type": "application/json"})
        self.assert_problem(r, data, 413)
        # a function that hangs up: 502 naming it, not its address
        r, data = self.request("DELETE", f"/api/stores/{HANG_UP}")
        problem = self.assert_problem(r, data, 502)
        self.assertIn("delete-store", problem["detail"])
        self.assertNotIn("127.0.0.1", problem["detail"])
        # a function's own 502 passes unchanged (no proxy_intercept_errors)
        r, data = self.request("GET", f"/api/stores/{OWN_502}")
        self.assertEqual((r.status, json.loads(data)["function"]), (502, "list-stores"))

    def test_upstream_host_is_the_functions(self):
        r, data = self.request("GET", "/api/me")
        port = self.servers[2].server_address[1]
        self.assertEqual(json.loads(data)["host"], f"127.0.0.1:{port}",
                         "Host is the function's (Knative routes on it), not the dashboard's")

    def test_spa_caching(self):
        r, data = self.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        self.assertIn(b"Storefleet", data)
        r, data = self.request("GET", "/stores/k7m2q9xd")
        self.assertEqual((r.status, r.getheader("Cache-Control")), (200, "no-cache"), "client-side route")
        self.assertIn(b"Storefleet", data)
        r, _ = self.request("GET", "/assets/index-abc123.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Cache-Control"), "public, max-age=31536000, immutable")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        r, _ = self.request("GET", "/assets/missing-123.js")
        self.assertEqual(r.status, 404, "a missing bundle is a 404, never index.html")
        r, _ = self.request("GET", "/api/me")
        self.assertEqual(r.getheader("Cache-Control"), "no-store")

    def test_api_requests_are_rate_limited_per_client(self):
        # issue 11 item 20: a burst far over 20/s + 40 gets 429 problems with
        # Retry-After; the dashboard's files are not limited
        statuses = []
        for _ in range(120):
            r, data = self.request("GET", "/api/me")
            statuses.append(r.status)
            if r.status == 429:
                limited = (r, data)
        self.assertIn(429, statuses)
        self.assertGreaterEqual(statuses.count(200), 40, statuses)
        r, data = limited
        self.assertEqual(r.getheader("Content-Type"), "application/problem+json")
        self.assertEqual(r.getheader("Retry-After"), "1")
        self.assertEqual(json.loads(data)["status"], 429)
        self.assertEqual(json.loads(data)["type"], PROBLEM_TYPES[429])
        r, _ = self.request("GET", "/")
        self.assertEqual(r.status, 200)
        time.sleep(2.5)  # the bucket drains (20/s) so later tests are not limited

    def test_security_headers_and_health(self):
        r, data = self.request("GET", "/healthz")
        self.assertEqual((r.status, data), (200, b"ok\n"))
        r, _ = self.request("GET", "/")
        self.assertIn("frame-ancestors 'none'", r.getheader("Content-Security-Policy"))
        self.assertEqual(r.getheader("X-Frame-Options"), "DENY")
        self.assertIsNone(r.getheader("Server") and re.search(r"\d", r.getheader("Server")), "no version")

    def test_config_json_names_the_mail_catcher(self):
        r, data = self.request("GET", "/config.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        self.assertEqual(r.getheader("X-Frame-Options"), "DENY")
        self.assertEqual(json.loads(data), {"mailUrl": "http://mail.localhost/"})

    def render_config_only(self, mail_url):
        """entrypoint.sh with nginx -t: renders the config and checks it, starts nothing."""
        env = dict(self.env)
        if mail_url is None:
            env.pop("STOREFLEET_MAIL_URL")
        else:
            env["STOREFLEET_MAIL_URL"] = mail_url
        return subprocess.run([self.entrypoint, "-t"], env=env, capture_output=True, text=True, timeout=30)

    def test_config_json_is_empty_without_a_mail_catcher(self):
        r = self.render_config_only(None)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.run_dir, "storefleet.conf")) as fh:
            self.assertIn("return 200 '{}';", fh.read())

    def test_a_mail_url_that_could_break_the_document_is_refused(self):
        for bad in ("http://mail.localhost/'; return 302 http://evil", 'http://x/"}', "javascript:alert(1)", "mail.localhost"):
            with self.subTest(url=bad):
                r = self.render_config_only(bad)
                self.assertEqual(r.returncode, 1)
                self.assertIn("is not a plain http(s) URL", r.stderr)


if __name__ == "__main__":
    unittest.main()
