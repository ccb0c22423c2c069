"""The local mail catcher (scripts/mail-catcher, Mailpit built by scripts/tool).

Run by `make test-mail`:  python3 -m unittest -v tests/mail/test_mail_catcher.py
Starts the real built Mailpit the way scripts/dev does, on free loopback
ports of its own, sends a message through its SMTP port with Python's
smtplib the way a store's WordPress (PHPMailer: plain SMTP, no encryption,
optional AUTH) does, and reads it back through Mailpit's API
(/api/v1/messages) and its web UI's files.
"""

import json
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import unittest
import urllib.request
from email.message import EmailMessage

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "mail-catcher")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


class RunningCatcher(unittest.TestCase):
    """One catcher for the class, started with extra_env() on ports of its own."""

    @classmethod
    def extra_env(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mail-catcher-test.")
        cls.smtp_port, cls.ui_port = free_port(), free_port()
        cls.env = dict(os.environ, STOREFLEET_MAIL_SMTP=f"127.0.0.1:{cls.smtp_port}",
                       STOREFLEET_MAIL_UI=f"127.0.0.1:{cls.ui_port}", **cls.extra_env())
        r = subprocess.run([SCRIPT, "start", cls.dir], env=cls.env, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise AssertionError(f"scripts/mail-catcher start failed: {r.stderr}")
        cls.ui = r.stdout.strip()

    @classmethod
    def tearDownClass(cls):
        subprocess.run([SCRIPT, "stop", cls.dir], env=cls.env, check=True, timeout=30)
        shutil.rmtree(cls.dir)

    def send(self, subject, login=None):
        msg = EmailMessage()
        msg["From"] = "Test Store <shop@store-1234.localhost>"
        msg["To"] = "shopper@example.com"
        msg["Subject"] = subject
        msg.set_content("Your order #42 has been received.\n")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as s:
            s.ehlo("store-1234")
            if login:
                s.login(*login)
            s.send_message(msg)

    def messages(self):
        status, ctype, body = get(f"{self.ui}api/v1/messages")
        self.assertEqual(status, 200)
        self.assertIn("application/json", ctype)
        return json.loads(body)["messages"]


class MailCatcher(RunningCatcher):
    def test_prints_the_web_ui_url_on_loopback(self):
        self.assertEqual(self.ui, f"http://127.0.0.1:{self.ui_port}/")

    def test_a_message_sent_by_smtp_is_read_back_through_the_api(self):
        self.send("[Test Store]: New order #42")
        found = [m for m in self.messages() if m["Subject"] == "[Test Store]: New order #42"]
        self.assertEqual(len(found), 1, self.messages())
        m = found[0]
        self.assertEqual(m["From"]["Address"], "shop@store-1234.localhost")
        self.assertEqual([t["Address"] for t in m["To"]], ["shopper@example.com"])
        status, _, body = get(f"{self.ui}api/v1/message/{m['ID']}")
        self.assertEqual(status, 200)
        self.assertIn("Your order #42 has been received.", json.loads(body)["Text"])

    def test_a_store_with_smtp_credentials_is_accepted_too(self):
        # smtp.existingSecret makes PHPMailer authenticate; the catcher takes any login.
        self.send("with credentials", login=("store-user", "store-password"))
        self.assertTrue(any(m["Subject"] == "with credentials" for m in self.messages()))

    def test_the_web_ui_is_served_with_its_bundle(self):
        status, ctype, index = get(self.ui)
        self.assertEqual(status, 200)
        self.assertIn("text/html", ctype)
        self.assertIn(b"dist/app.js", index)
        # The bundle is built by scripts/tool (npm, scripts/mailpit-ui): without
        # it the page is blank.
        status, ctype, js = get(f"{self.ui}dist/app.js")
        self.assertEqual(status, 200)
        self.assertIn("javascript", ctype)
        self.assertGreater(len(js), 100_000)
        status, _, css = get(f"{self.ui}dist/app.css")
        self.assertEqual(status, 200)

    def test_listens_on_loopback_only(self):
        out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
        for port in (self.smtp_port, self.ui_port):
            local = [line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{port}")]
            self.assertEqual(local, [f"127.0.0.1:{port}"])

    def test_a_second_start_is_refused(self):
        r = subprocess.run([SCRIPT, "start", self.dir], env=self.env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already running", r.stderr)


class Refusals(unittest.TestCase):
    def test_an_address_off_loopback_is_refused_before_anything_starts(self):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, STOREFLEET_MAIL_SMTP="0.0.0.0:1025")
            r = subprocess.run([SCRIPT, "start", d], env=env, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("STOREFLEET_MAIL_SMTP=0.0.0.0:1025 must be a loopback address", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "mailpit.pid")))

    def test_a_taken_port_is_refused_naming_it(self):
        with socket.socket() as held, tempfile.TemporaryDirectory() as d:
            held.bind(("127.0.0.1", 0))
            held.listen()
            port = held.getsockname()[1]
            env = dict(os.environ, STOREFLEET_MAIL_SMTP=f"127.0.0.1:{port}", STOREFLEET_MAIL_UI=f"127.0.0.1:{free_port()}")
            r = subprocess.run([SCRIPT, "start", d], env=env, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"port {port} (the mail catcher's SMTP) is already in use", r.stderr)

    def test_stop_ends_the_process_and_frees_the_ports(self):
        with tempfile.TemporaryDirectory() as d:
            smtp, ui = free_port(), free_port()
            env = dict(os.environ, STOREFLEET_MAIL_SMTP=f"127.0.0.1:{smtp}", STOREFLEET_MAIL_UI=f"127.0.0.1:{ui}")
            subprocess.run([SCRIPT, "start", d], env=env, check=True, capture_output=True, timeout=900)
            with open(os.path.join(d, "mailpit.pid")) as f:
                pid = int(f.read())
            subprocess.run([SCRIPT, "stop", d], env=env, check=True, timeout=30)
            self.assertFalse(os.path.exists(f"/proc/{pid}"))
            self.assertEqual(subprocess.run([SCRIPT, "status", d], env=env).returncode, 1)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", smtp), timeout=2)


class LoginRequired(RunningCatcher):
    """STOREFLEET_MAIL_SMTP_AUTH_FILE: only the file's logins may send (the
    store acceptance harness uses it to prove smtp.existingSecret is used)."""

    LOGIN = ("store-user", "s3cret-Pass_word+/=")

    @classmethod
    def extra_env(cls):
        cls.logins = tempfile.mkdtemp(prefix="mail-catcher-logins.")
        auth_file = os.path.join(cls.logins, "smtp-logins")
        # the hash as the harness writes it (the password on stdin, not argv)
        hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=cls.LOGIN[1], capture_output=True,
                                text=True, check=True).stdout.strip()
        with open(auth_file, "w") as fh:
            fh.write(f"{cls.LOGIN[0]}:{hashed}\n")
        return {"STOREFLEET_MAIL_SMTP_AUTH_FILE": auth_file}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.logins)

    def subjects(self):
        return [m["Subject"] for m in self.messages()]

    def test_the_files_login_is_accepted(self):
        self.send("logged in", login=self.LOGIN)
        self.assertIn("logged in", self.subjects())

    def test_a_message_without_a_login_is_refused(self):
        with self.assertRaises(smtplib.SMTPSenderRefused) as refused:
            self.send("no login")
        self.assertEqual(refused.exception.smtp_code, 530)
        self.assertNotIn("no login", self.subjects())

    def test_a_wrong_password_is_refused(self):
        with self.assertRaises(smtplib.SMTPAuthenticationError) as refused:
            self.send("wrong password", login=(self.LOGIN[0], "not-the-password"))
        self.assertEqual(refused.exception.smtp_code, 535)
        self.assertNotIn("wrong password", self.subjects())

    def test_an_unreadable_file_is_refused_before_anything_starts(self):
        with tempfile.TemporaryDirectory() as d:
            dir = os.path.join(d, "mail")
            env = dict(self.env, STOREFLEET_MAIL_SMTP=f"127.0.0.1:{free_port()}",
                       STOREFLEET_MAIL_UI=f"127.0.0.1:{free_port()}",
                       STOREFLEET_MAIL_SMTP_AUTH_FILE=os.path.join(d, "missing"))
            r = subprocess.run([SCRIPT, "start", dir], env=env, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"STOREFLEET_MAIL_SMTP_AUTH_FILE={d}/missing is not a readable file", r.stderr)
            self.assertFalse(os.path.exists(dir))


if __name__ == "__main__":
    unittest.main()
