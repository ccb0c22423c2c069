"""The store chart run for real (scripts/store-acceptance, docs/store-acceptance.md).

Renders helm/store with the real helm (values-local.yaml, woocommerce.source
= the given zip) and runs each container's command as the rendered pod spec
says (podrun.py: env, Secret and ConfigMap files with their modes, uid 33 /
999, fsGroup, read-only root, emptyDir and PVC directories), all in one
network namespace this script makes with only loopback (no route out). What
stands in for the images: Debian's PHP 8.2 + Apache (mod_php) for
wordpress:*-apache, Debian's PHP 8.2 CLI + the given WP-CLI phar for
wordpress:cli, Debian's MariaDB for mysql:8.4 (stand-in entrypoints in
acceptance/); Mailpit (scripts/mail-catcher) in the namespace as the relay
values-mail-catcher.yaml names, as in the local cluster, requiring the SMTP
login the store's smtp.existingSecret holds (generated for the run). Then the
steps a merchant cares about, each printed with its result and seconds:

  mysql, wordpress-files, woocommerce-setup, apache   the pods start
  storefront-home, add-to-cart, guest-checkout-cod    a logged-out shopper in Chromium
  wp-admin-login, order-in-wp-admin                   the order as the merchant sees it
  file-mods-only-in-setup                             DISALLOW_FILE_MODS in the serving container only
  order-emails, no-secret-in-mail                     WooCommerce's order emails over SMTP into Mailpit
  smtp-login-required                                 Mailpit refuses WordPress's mail without the login
  wp-cron-to-itself                                   WP-Cron spawned to the pod's own Apache
  smoke-order                                         scripts/smoke-order, unchanged
  second-setup                                        a re-run changes no option or row
  upgrade                                             another wordpress image tag: core
                                                      files to the given version, wp-content kept

Called by scripts/store-acceptance (which verifies the files first); needs root.
"""

import argparse
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import yaml

from chart import CHART, ROOT, named, render, store_secret
from podrun import Image, Pod, prepare_claim, require_root, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "acceptance")
STORE_ID = "acc0test"
HOST = f"{STORE_ID}.localhost"
URL = f"http://{HOST}"
WOOCOMMERCE_ZIP = "/opt/woocommerce/woocommerce.zip"
# Order emails go where the local cluster sends them (create-store adds this
# file while the platform's Mailpit runs): its relay's name resolves to the
# namespace's loopback, where scripts/mail-catcher runs Mailpit.
MAIL_VALUES = os.path.join(CHART, "values-mail-catcher.yaml")
MAIL_API = "http://127.0.0.1:8025"
SHOPPER_EMAIL = "shopper@example.com"  # acceptance/shopper.cjs's guest
# The relay's login (smtp.existingSecret): the Secret create-store's caller
# would make, with keys smtp-username / smtp-password.
SMTP_SECRET = "store-smtp"
# What a setup run may change in a store where nothing changed (bookkeeping
# WordPress and WooCommerce do whenever they load, not settings): caches
# (transients), the cron schedule, Action Scheduler's queue and log.
VOLATILE_OPTIONS = re.compile(r"^(_transient_|_site_transient_|cron$|action_scheduler_|"
                              r"woocommerce_admin_notices$|jetpack_)")
# Action Scheduler's queue, and WooCommerce Analytics' lookup tables: derived
# from the orders by background jobs (wc-admin_import_orders, scheduled a few
# seconds after an order) that run whenever WordPress loads once they are due —
# in the second setup run of a real run, right after the harness's orders.
VOLATILE_TABLES = {"wp_actionscheduler_actions", "wp_actionscheduler_logs", "wp_actionscheduler_claims",
                   "wp_actionscheduler_groups", "wp_wc_order_stats", "wp_wc_customer_lookup",
                   "wp_wc_order_product_lookup", "wp_wc_category_lookup", "wp_wc_order_tax_lookup",
                   "wp_wc_order_coupon_lookup", "wp_wc_admin_notes", "wp_wc_admin_note_actions"}

results = []


def say(text):
    print(text, flush=True)


def record(step, ok, seconds, detail=""):
    results.append({"step": step, "ok": ok, "seconds": seconds, "detail": detail})
    say(f"{'PASS' if ok else 'FAIL'}  {step:<28} {seconds:7.1f} s  {detail}")


class StepFailed(Exception):
    pass


def timed(step, fn):
    started = time.monotonic()
    try:
        detail = fn()
    except Exception as e:  # every failure ends the run with the step named
        record(step, False, time.monotonic() - started, str(e).strip().splitlines()[-1][:300] if str(e) else repr(e))
        raise StepFailed(step) from e
    record(step, True, time.monotonic() - started, detail or "")
    return detail


def wordpress_version(tree):
    with open(os.path.join(tree, "wp-includes", "version.php")) as fh:
        return re.search(r"^\$wp_version = '([^']+)';", fh.read(), re.M).group(1)


def woocommerce_version(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        header = z.read("woocommerce/woocommerce.php").decode()
    return re.search(r"^\s*\*?\s*Version:\s*(\S+)", header, re.M).group(1)


def image_wordpress_tree(release, work):
    """/usr/src/wordpress of a wordpress image: the release, the image's
    wp-config-docker.php and .htaccess, owned by www-data (chown -R in the image)."""
    tree = os.path.join(work, f"image-wordpress-{wordpress_version(release)}")
    shutil.copytree(release, tree, symlinks=True)
    shutil.copy(os.path.join(STANDIN, "wp-config-docker.php"), os.path.join(tree, "wp-config-docker.php"))
    shutil.copy(os.path.join(STANDIN, "htaccess"), os.path.join(tree, ".htaccess"))
    for dirpath, dirnames, filenames in os.walk(tree):
        os.chown(dirpath, 33, 33)
        for name in filenames:
            os.lchown(os.path.join(dirpath, name), 33, 33)
    return tree


def images(wordpress_tree, phar, zip_path):
    wordpress = Image("wordpress:*-apache (stand-in: Debian apache2 + mod_php 8.2)",
                      entrypoint=["docker-entrypoint.sh"], cmd=["apache2-foreground"], workdir="/var/www/html",
                      files={"/usr/src/wordpress": wordpress_tree,
                             "/usr/local/bin/docker-entrypoint.sh": os.path.join(STANDIN, "wordpress-entrypoint.sh"),
                             "/usr/local/bin/apache2-foreground": os.path.join(STANDIN, "apache2-foreground"),
                             "/usr/local/etc/storefleet-apache2.conf": os.path.join(STANDIN, "apache2.conf")})
    cli = Image("wordpress:cli (stand-in: Debian php 8.2 cli + the WP-CLI phar)", entrypoint=["docker-entrypoint.sh"],
                cmd=["wp", "shell"], workdir="/var/www/html",
                files={"/usr/local/bin/wp": phar, WOOCOMMERCE_ZIP: zip_path})
    mysql = Image("mysql:8.4 (stand-in: Debian MariaDB)", entrypoint=["docker-entrypoint.sh"], cmd=["mysqld"],
                  files={"/usr/local/bin/docker-entrypoint.sh": os.path.join(STANDIN, "mysql-entrypoint.sh")})
    return {"wordpress-files": wordpress, "wordpress": wordpress, "woocommerce-setup": cli, "mysql": mysql}


class Run:
    def __init__(self, args):
        self.args = args
        self.work = args.out
        self.shots = os.path.join(self.work, "screenshots")
        os.makedirs(self.shots, exist_ok=True)
        os.chmod(self.work, 0o755)
        self.netns = f"storefleet-accept-{os.getpid()}"
        self.secret = store_secret()
        self.servers = []
        self.pods = 0
        self.content = prepare_claim(os.path.join(self.work, "claims", "wordpress-content"), "fsgroup")
        self.mysql_data = prepare_claim(os.path.join(self.work, "claims", "mysql-data"), "fsgroup")
        os.chown(self.mysql_data, 0, 999)
        self.pickle = os.path.join(self.work, "pods.pickle")
        with open(MAIL_VALUES) as fh:
            self.smtp = yaml.safe_load(fh)["smtp"]
        self.mail_dir = os.path.join(self.work, "mail")
        # Mailpit accepts only this login; a password with the characters a
        # relay's generated ones have (SES: + and /)
        self.smtp_login = {"smtp-username": f"store-{STORE_ID}",
                           "smtp-password": store_secret()["wordpress-admin-password"] + "+/="}
        self.smtp_logins_file = os.path.join(self.work, "smtp-logins")

    # -- the namespace, the pods ------------------------------------------

    def netns_up(self):
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True)
        routes = subprocess.run(["ip", "-n", self.netns, "route", "show", "default"], capture_output=True,
                                text=True, check=True).stdout
        links = subprocess.run(["ip", "-n", self.netns, "-o", "link"], capture_output=True, text=True,
                               check=True).stdout
        if routes.strip() or len(links.strip().splitlines()) != 1:
            raise RuntimeError(f"network namespace {self.netns} is not loopback-only: {links} {routes}")
        return f"{self.netns}: only lo, no route"

    def sysctls(self, docs):
        """The pod's namespaced sysctls (net.ipv4.ip_unprivileged_port_start=0
        lets Apache bind port 80 as uid 33), set in the network namespace as
        the kubelet sets them in the pod's."""
        spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        for s in spec.get("securityContext", {}).get("sysctls", []):
            self.in_netns(["sysctl", "-q", "-w", f"{s['name']}={s['value']}"], check=True)

    def in_netns(self, argv, **kw):
        return subprocess.run(["ip", "netns", "exec", self.netns, *argv], **kw)

    def pod(self, docs, workload, kind):
        self.pods += 1
        spec = named(docs, kind, workload)["spec"]["template"]["spec"]
        return Pod(f"{workload}-{self.pods}", spec,
                   claims={"wordpress-content": self.content, "mysql-data": self.mysql_data},
                   configmaps={"woocommerce-setup": named(docs, "ConfigMap", "woocommerce-setup")["data"]},
                   secrets={"store-credentials": self.secret, "store-admin": self.secret,
                            SMTP_SECRET: self.smtp_login}, netns=self.netns,
                   hosts=[f"127.0.0.1\tmysql.store-{STORE_ID}.svc mysql", f"127.0.0.1\t{self.smtp['host']}"],
                   hostname=workload,
                   workdir=os.path.join(self.work, "pods", f"{self.pods}-{workload}"))

    def render(self, tag):
        return render("values-local.yaml", "-f", MAIL_VALUES, "--set-string", f"woocommerce.source={WOOCOMMERCE_ZIP}",
                      "--set-string", f"wordpress.image.tag={tag}", "--set-string", f"smtp.existingSecret={SMTP_SECRET}",
                      store_id=STORE_ID)

    def run_init(self, pod, name, image):
        r = pod.run(name, image, timeout=900)
        with open(os.path.join(pod.dir, f"{name}.log"), "w") as fh:
            fh.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"{name} exited {r.returncode}: {pod.termination_message(name).strip()} "
                               f"(log: {pod.dir}/{name}.log)\n{r.stderr.strip()[-400:]}")
        return r

    def start(self, pod, name, image):
        # The container's stdout/stderr: Apache reopens /proc/self/fd/1 and 2
        # as uid 33 (a pipe in a real container), so the file must let it.
        log = os.path.join(pod.dir, f"{name}.log")
        open(log, "a").close()
        os.chmod(log, 0o666)
        server = pod.start(name, image, log=log)
        self.servers.append(server)
        return server

    def http(self, path, host=HOST, timeout=30):
        r = self.in_netns(["curl", "-sS", "--max-time", str(timeout), "-o", "-", "-w", "\n%{http_code}",
                           "-H", f"Host: {host}", f"http://127.0.0.1{path}"], capture_output=True, text=True)
        body, _, status = r.stdout.rpartition("\n")
        return status, body

    # -- the database, as root over TCP (credentials in a 0600 file) ----------

    def sql(self, query):
        defaults = os.path.join(self.work, "root.cnf")
        if not os.path.exists(defaults):
            fd = os.open(defaults, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"[client]\nuser=root\npassword={self.secret['mysql-root-password']}\n"
                         "host=127.0.0.1\nprotocol=tcp\n")
        r = self.in_netns(["mariadb", f"--defaults-extra-file={defaults}", "-N", "-B", "--raw", "wordpress",
                           "-e", query], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"SQL failed: {r.stderr.strip()}")
        return r.stdout

    def snapshot(self):
        options = {}
        for line in self.sql("SELECT option_name, option_value FROM wp_options").splitlines():
            name, _, value = line.partition("\t")
            options[name] = value
        tables = self.sql("SHOW TABLES").split()
        rows = {t: int(self.sql(f"SELECT COUNT(*) FROM `{t}`").strip()) for t in tables}
        checksums = {}
        for line in self.sql("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables)).splitlines():
            name, _, value = line.partition("\t")
            checksums[name.split(".")[-1]] = value
        return {"options": options, "rows": rows, "checksums": checksums}

    # -- the steps ---------------------------------------------------------

    def start_mysql(self, docs, imgs):
        pod = self.pod(docs, "mysql", "StatefulSet")
        self.mysql = self.start(pod, "mysql", imgs["mysql"])

        def ready():
            if not self.mysql.alive():
                raise RuntimeError(f"mysql exited: {self.mysql.log()[-600:]}")
            # the readiness probe: mysqladmin ping over TCP
            return self.in_netns(["mariadb-admin", "--no-defaults", "ping", "--host=127.0.0.1", "--protocol=tcp",
                                  "--connect-timeout=3"], capture_output=True).returncode == 0
        wait_until(ready, 180, "MariaDB answering mysqladmin ping over TCP")
        return "mysqladmin ping over TCP answers"

    def wordpress_pod(self, docs, imgs, expect_files=None):
        pod = self.pod(docs, "wordpress", "Deployment")
        r = timed("wordpress-files", lambda: self._files(pod, imgs, expect_files))
        timed("woocommerce-setup", lambda: self._setup(pod, imgs))
        return pod, r

    def _files(self, pod, imgs, expect):
        r = self.run_init(pod, "wordpress-files", imgs["wordpress-files"])
        last = [line for line in r.stdout.splitlines() if line.startswith("wordpress-files:")]
        if expect and not any(expect in line for line in last):
            raise RuntimeError(f"expected '{expect}' in its log: {r.stdout.strip()}")
        return last[-1] if last else ""

    def _setup(self, pod, imgs):
        r = self.run_init(pod, "woocommerce-setup", imgs["woocommerce-setup"])
        log = r.stdout + r.stderr
        for key, value in self.secret.items():
            if key not in ("wordpress-admin-user", "wordpress-admin-email") and value in log:
                raise RuntimeError(f"the value of Secret key {key} is in the setup's log")
        warnings = [line for line in log.splitlines() if "warning" in line.lower()]
        return f"{r.stdout.strip().splitlines()[-1]}" + (f"; warnings: {' | '.join(warnings)[:200]}" if warnings else "")

    def start_apache(self, pod, imgs):
        server = self.start(pod, "wordpress", imgs["wordpress"])

        def ready():
            if not server.alive():
                raise RuntimeError(f"apache exited: {server.log()[-600:]}")
            return self.http("/wp-login.php", host="10.0.0.1", timeout=5)[0] == "200"  # the readiness probe
        wait_until(ready, 120, "/wp-login.php answering 200")
        workers = re.search(r"MaxRequestWorkers (\d+)", " ".join(pod.container("wordpress")["args"])).group(1)
        return server, f"Apache up, /wp-login.php 200, MaxRequestWorkers {workers}"

    def save_pods(self, wordpress_pod, imgs):
        # holds the Secret's values (the Pod's): root's only, removed at the end
        fd = os.open(self.pickle, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"deploy/wordpress": (wordpress_pod, imgs)}, fh)

    def shopper(self, mode, *extra, env=None):
        playwright = os.path.join(ROOT, "dashboard", "node_modules", "playwright-core")
        full_env = {**os.environ, "PLAYWRIGHT_CORE": playwright, **(env or {})}
        p = self.in_netns(["node", os.path.join(STANDIN, "shopper.cjs"), mode, URL, self.shots, *extra],
                          capture_output=True, text=True, env=full_env, timeout=600)
        out = {}
        for line in p.stdout.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                say(f"      {line}")
                continue
            if "step" in item:
                record(item["step"], item["ok"], item["seconds"], item["detail"])
            else:
                out.update(item)
        if p.returncode != 0:
            raise StepFailed(f"browser ({mode}): {p.stderr.strip()[-600:]}")
        return out

    def smoke_order(self):
        env = {**os.environ, "STOREFLEET_KUBECTL_BIN": os.path.join(STANDIN, "kubectl"),
               "STOREFLEET_ACCEPTANCE_PODS": self.pickle}
        r = self.in_netns([os.path.join(ROOT, "scripts", "smoke-order"), STORE_ID, "--url", URL],
                          capture_output=True, text=True, env=env, timeout=300)
        with open(os.path.join(self.work, "smoke-order.log"), "w") as fh:
            fh.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/smoke-order exited {r.returncode}: {(r.stdout + r.stderr).strip()[-400:]}")
        return r.stdout.strip().splitlines()[-1]

    # -- the mail catcher: Mailpit on the namespace's loopback ----------------

    def mail_catcher_up(self):
        smtp = f"127.0.0.1:{self.smtp['port']}"
        # Mailpit's logins file (scripts/mail-catcher): the password's crypt
        # SHA-512 hash, made with the password on stdin, not on a command line
        hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=self.smtp_login["smtp-password"],
                                capture_output=True, text=True, check=True).stdout.strip()
        fd = os.open(self.smtp_logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{self.smtp_login['smtp-username']}:{hashed}\n")
        env = {**os.environ, "STOREFLEET_MAIL_SMTP": smtp, "STOREFLEET_MAIL_UI": MAIL_API.split("//")[1],
               "STOREFLEET_MAIL_SMTP_AUTH_FILE": self.smtp_logins_file}
        r = self.in_netns([os.path.join(ROOT, "scripts", "mail-catcher"), "start", self.mail_dir],
                          capture_output=True, text=True, env=env, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/mail-catcher start: {r.stderr.strip()[-400:]}")
        self.mail_catcher = True
        return (f"Mailpit: SMTP {smtp} ({self.smtp['host']}:{self.smtp['port']} in the pods), login required "
                f"(only {self.smtp_login['smtp-username']}, the Secret {SMTP_SECRET}'s), API {MAIL_API}")

    def mail_api(self, path, raw=False):
        r = self.in_netns(["curl", "-sS", "--fail", "--max-time", "10", MAIL_API + path], capture_output=True,
                          text=True)
        if r.returncode != 0:
            raise RuntimeError(f"Mailpit {path}: {r.stderr.strip()}")
        return r.stdout if raw else json.loads(r.stdout)

    def messages(self):
        return self.mail_api("/api/v1/messages?limit=500")["messages"]

    def order_emails(self, order, log):
        """WooCommerce's two emails of the shopper's order, delivered by
        WordPress's mailer over SMTP to the relay the chart names."""
        admin_email = self.secret["wordpress-admin-email"]
        box = {}

        def arrived():
            msgs = self.messages()
            box["admin"] = [m for m in msgs if re.search(rf"new order:? #{order}$", m["Subject"], re.I)]
            box["customer"] = [m for m in msgs if "order has been received" in m["Subject"].lower()
                               and SHOPPER_EMAIL in [t["Address"] for t in m["To"]]
                               and f"#{order}" in self.mail_api(f"/api/v1/message/{m['ID']}")["Text"]]
            return box["admin"] and box["customer"]
        try:
            wait_until(arrived, 60, f"the order #{order}'s emails in Mailpit", interval=1)
        except TimeoutError:
            raise RuntimeError(f"not in Mailpit: {'' if box.get('admin') else 'the admin New order #' + order} "
                               f"{'' if box.get('customer') else 'the customer confirmation of #' + order}; "
                               f"subjects there: {[m['Subject'] for m in self.messages()]}") from None
        seen = []
        for kind, m, to in (("admin", box["admin"][0], admin_email), ("customer", box["customer"][0], SHOPPER_EMAIL)):
            if [t["Address"] for t in m["To"]] != [to]:
                raise RuntimeError(f"the {kind} email went to {m['To']}, not {to}")
            if m["From"]["Address"] != self.smtp["from"]:
                raise RuntimeError(f"the {kind} email is from {m['From']['Address']}, not smtp.from "
                                   f"{self.smtp['from']}")
            headers = self.mail_api(f"/api/v1/message/{m['ID']}/headers")
            mailer = " ".join(headers.get("X-Mailer", []))
            if "PHPMailer" not in mailer:
                raise RuntimeError(f"the {kind} email's X-Mailer is {mailer!r}, not WordPress's PHPMailer")
            # Mailpit's own trace: it came in over its SMTP port
            if not any("(Mailpit) with SMTP" in r for r in headers.get("Received", [])):
                raise RuntimeError(f"the {kind} email has no Received header of Mailpit's SMTP: {headers.get('Received')}")
            if headers.get("Return-Path", [""])[0].strip("<>") != self.smtp["from"]:
                raise RuntimeError(f"the {kind} email's envelope sender is {headers.get('Return-Path')}, not smtp.from")
            seen.append(f"{kind}: \"{m['Subject']}\" to {to}")
        # a mail sent with PHP's mail() instead would have logged "sendmail:
        # not found" (the image has no sendmail; seen before smtp.*)
        if "sendmail" in log():
            raise RuntimeError("the WordPress container's log mentions sendmail: a mail went around the relay")
        return (f"{'; '.join(seen)}; From {box['customer'][0]['From']['Name']} <{self.smtp['from']}> (smtp.from), "
                f"envelope too, over SMTP to {self.smtp['host']}:{self.smtp['port']} (Received: by Mailpit with SMTP; "
                "X-Mailer PHPMailer), no sendmail in the log")

    def no_secret_in_mail(self):
        msgs = self.messages()
        secrets = {k: v for k, v in self.secret.items() if k != "wordpress-admin-email"}  # the admin's own address
        secrets.update(self.smtp_login)
        for m in msgs:
            raw = self.mail_api(f"/api/v1/message/{m['ID']}/raw", raw=True)
            for key, value in secrets.items():
                if value in raw:
                    raise RuntimeError(f"the value of Secret key {key} is in the email \"{m['Subject']}\"")
        return f"{len(msgs)} emails caught, none holds a value of the store's Secret: " + \
            "; ".join(sorted({m["Subject"] for m in msgs}))[:400]

    # -- the relay's login is required and is the Secret's ---------------------

    def smtp_login_required(self, pod, imgs, log):
        """WordPress's own mailer in the serving container (the chart's
        phpmailer_init hook, the Secret's files) sends three mails to Mailpit:
        as the chart sets it up, then with the login taken off, then with a
        wrong password. Only the first may arrive: the order emails above
        came in with the Secret's login, which Mailpit really requires."""
        tag = f"storefleet-login-check-{os.getpid()}"
        php = """
$mode = 'chart';
add_action('phpmailer_init', function ($mail) use (&$mode) {
    if ($mode === 'no-login') { $mail->SMTPAuth = false; $mail->Username = ''; $mail->Password = ''; }
    if ($mode === 'wrong-password') { $mail->Password = 'not-' . $mail->Password; }
}, 11);
$error = '';
add_action('wp_mail_failed', function ($e) use (&$error) { $error = $e->get_error_message(); });
$out = array();
foreach (array('chart', 'no-login', 'wrong-password') as $m) {
    $mode = $m; $error = '';
    $sent = wp_mail('shopper@example.com', "TAG $m", "login check $m");
    $out[$m] = array('sent' => $sent, 'error' => $error);
    // PHPMailer keeps a connection a failed send left open and reuses it
    // without a new AUTH: each mail on a connection of its own, as each
    // request of a store has.
    $GLOBALS['phpmailer']->smtpClose();
}
echo json_encode($out);""".replace("TAG", tag)
        r = pod.exec("wordpress", imgs["wordpress"], ["php", "/opt/wp-cli/wp", "eval", php], timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"wp eval: {r.stderr.strip()[-300:]}")
        got = {mode: {**result, "error": " ".join(result["error"].split())}  # PHPMailer's has \r\n in it
               for mode, result in json.loads(r.stdout).items()}
        if not got["chart"]["sent"]:
            raise RuntimeError(f"the chart's own SMTP settings failed: {got['chart']['error']}")
        if got["no-login"]["sent"] or not re.search(r"Authentication required SMTP code: 530\b", got["no-login"]["error"]):
            raise RuntimeError(f"without the login: {got['no-login']} (not Mailpit's 530 Authentication required)")
        if got["wrong-password"]["sent"] or "Could not authenticate" not in got["wrong-password"]["error"]:
            raise RuntimeError(f"with a wrong password: {got['wrong-password']} (not refused)")
        arrived = sorted(m["Subject"] for m in self.messages() if m["Subject"].startswith(tag))
        if arrived != [f"{tag} chart"]:
            raise RuntimeError(f"Mailpit holds {arrived}, not only the one sent with the Secret's login")
        with open(os.path.join(self.mail_dir, "mailpit.log")) as fh:
            mailpit_log = fh.read()
        user = self.smtp_login["smtp-username"]
        if not re.search(rf'deny \S+ login:\\?"{re.escape(user)}\\?"', mailpit_log):  # logrus escapes the quotes
            raise RuntimeError(f"Mailpit's log has no denied login of {user}: {mailpit_log[-400:]}")
        for name, text in (("the WordPress container's", log()), ("Mailpit's", mailpit_log)):
            if self.smtp_login["smtp-password"] in text:
                raise RuntimeError(f"the SMTP password is in {name} log")
        return (f"the Secret's login: sent; no login: refused (530 Authentication required); wrong password: "
                f"refused ({got['wrong-password']['error']}); only the first in Mailpit; the password in no log")

    # -- WP-Cron spawned to the pod's own Apache ---------------------------------

    def cron_loopback(self, pod, imgs, log):
        """A due WP-Cron event runs from a shopper's page view: WordPress's
        spawn request (the chart's cron_request filter: loopback, the site's
        Host) reaches this pod's Apache, which runs wp-cron.php."""
        wp = ["php", "/opt/wp-cli/wp"]
        hook = "storefleet_acceptance_cron"
        # what the real WordPress (with WooCommerce loaded) would send
        probe = ("echo json_encode(apply_filters('cron_request', array('url' => site_url('wp-cron.php?doing_wp_cron=1'),"
                 " 'key' => '1', 'args' => array('timeout' => 0.01, 'blocking' => false, 'sslverify' => true)), '1'));")
        r = pod.exec("wordpress", imgs["wordpress"], [*wp, "eval", probe], timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"wp eval: {r.stderr.strip()[-300:]}")
        request = json.loads(r.stdout)
        if (request["url"] != "http://127.0.0.1:80/wp-cron.php?doing_wp_cron=1"
                or request["args"].get("headers", {}).get("Host") != HOST or request["args"]["sslverify"]):
            raise RuntimeError(f"WordPress's spawn request is {request}, not to 127.0.0.1:80 with Host {HOST}")
        def spawns():
            return len(re.findall(r'^127\.0\.0\.1 \S+ \S+ \[[^]]+\] "POST /wp-cron\.php\?doing_wp_cron=',
                                   log(), re.M))
        before = spawns()
        r = pod.exec("wordpress", imgs["wordpress"], [*wp, "cron", "event", "schedule", hook, "now"], timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"wp cron event schedule: {r.stderr.strip()[-300:]}")

        def pending():
            r = pod.exec("wordpress", imgs["wordpress"], [*wp, "cron", "event", "list", "--fields=hook", "--format=json"],
                         timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"wp cron event list: {r.stderr.strip()[-300:]}")
            return hook in [e["hook"] for e in json.loads(r.stdout)]
        if not pending():
            raise RuntimeError(f"{hook} was not scheduled")
        status, _ = self.http("/")  # the shopper's page view spawns WP-Cron
        if status != "200":
            raise RuntimeError(f"/ answered {status}")
        box = {}

        def ran():
            box["pending"], box["spawns"] = pending(), spawns() - before
            return not box["pending"] and box["spawns"] > 0
        try:
            wait_until(ran, 60, f"{hook} run by a spawned wp-cron.php", interval=1)
        except TimeoutError:
            raise RuntimeError(f"after 60 s: {hook} {'still pending' if box.get('pending') else 'gone'}, "
                               f"{box.get('spawns')} new POST /wp-cron.php in Apache's log") from None
        return (f"spawn request to {request['url'].split('/wp-cron')[0]} with Host {HOST}; {hook} (due now) ran after "
                f"GET /; {box['spawns']} POST /wp-cron.php from 127.0.0.1 in Apache's access log")

    # -- DISALLOW_FILE_MODS ---------------------------------------------------

    def file_mods(self, pod, imgs):
        probe = "var_export([defined('DISALLOW_FILE_MODS') ? DISALLOW_FILE_MODS : null, wp_is_file_mod_allowed('x')]);"
        seen = {}
        for container, wp in (("wordpress", ["php", "/opt/wp-cli/wp"]), ("woocommerce-setup", ["wp"])):
            r = pod.exec(container, imgs[container], [*wp, "eval", probe], timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"wp eval in {container}: {r.stderr.strip()[-300:]}")
            seen[container] = re.sub(r"\s+", " ", r.stdout.strip())
        serving, setup = seen["wordpress"], seen["woocommerce-setup"]
        if serving != "array ( 0 => true, 1 => false, )":
            raise RuntimeError(f"the WordPress container: [DISALLOW_FILE_MODS, file mods allowed] = {serving}")
        if setup != "array ( 0 => NULL, 1 => true, )":
            raise RuntimeError(f"the setup container: [DISALLOW_FILE_MODS, file mods allowed] = {setup}")
        return ("wordpress: DISALLOW_FILE_MODS true, wp_is_file_mod_allowed false; woocommerce-setup: "
                "not defined, allowed (it installed WooCommerce above, and runs again below)")

    def compare(self, before, after):
        changed = []
        for name in sorted(set(before["options"]) | set(after["options"])):
            if VOLATILE_OPTIONS.match(name):
                continue
            if before["options"].get(name) != after["options"].get(name):
                changed.append(f"option {name}: {before['options'].get(name, '<none>')[:60]!r} -> "
                               f"{after['options'].get(name, '<none>')[:60]!r}")
        for table in sorted(set(before["rows"]) | set(after["rows"])):
            if table in VOLATILE_TABLES or table == "wp_options":
                continue
            if before["rows"].get(table) != after["rows"].get(table):
                changed.append(f"table {table}: {before['rows'].get(table)} -> {after['rows'].get(table)} rows")
            elif before["checksums"].get(table) != after["checksums"].get(table):
                changed.append(f"table {table}: rows changed (checksum)")
        return changed

    def tree_of(self, top):
        out = {}
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                p = os.path.join(dirpath, name)
                out[os.path.relpath(p, self.content)] = os.path.getsize(p)
        return out

    # -- the whole run -----------------------------------------------------

    def main(self):
        a = self.args
        version = wordpress_version(a.wordpress)
        wc_version = woocommerce_version(a.woocommerce_zip)
        first_release = a.upgrade_from or a.wordpress
        first_version = wordpress_version(first_release)
        say(f"store-acceptance: WordPress {version}"
            + (f" (first install {first_version}, then the upgrade)" if a.upgrade_from else "")
            + f", WooCommerce {wc_version}, WP-CLI {a.wp_cli_version}; PHP "
            + subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout
            + ", " + subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.split(" for ")[0]
            + "; work dir " + self.work)
        say(f"screenshots: {self.shots}")
        timed("network-namespace", self.netns_up)
        timed("mail-catcher", self.mail_catcher_up)
        tag = f"{first_version}-php8.3-apache"
        docs = self.render(tag)
        self.sysctls(docs)
        # the image's /usr/local/bin/wp: the verified phar, executable
        phar = os.path.join(self.work, "wp-cli.phar")
        shutil.copy(a.wp_cli, phar)
        os.chmod(phar, 0o755)
        a.wp_cli = phar
        imgs = images(image_wordpress_tree(first_release, self.work), a.wp_cli, a.woocommerce_zip)
        timed("mysql", lambda: self.start_mysql(docs, imgs))
        pod, _ = self.wordpress_pod(docs, imgs, expect_files=f"WordPress {first_version} copied")
        apache, _ = None, None
        box = {}
        timed("apache", lambda: box.update(zip(("server", "detail"), self.start_apache(pod, imgs))) or box["detail"])
        apache = box["server"]
        self.save_pods(pod, imgs)
        order = self.shopper("shop").get("order_id")
        admin = pod.volumes["admin-secrets"]
        self.shopper("admin", order, env={"ADMIN_USER_FILE": os.path.join(admin, "wordpress-admin-user"),
                                          "ADMIN_PASSWORD_FILE": os.path.join(admin, "wordpress-admin-password")})
        timed("order-emails", lambda: self.order_emails(order, apache.log))
        timed("smtp-login-required", lambda: self.smtp_login_required(pod, imgs, apache.log))
        timed("file-mods-only-in-setup", lambda: self.file_mods(pod, imgs))
        timed("wp-cron-to-itself", lambda: self.cron_loopback(pod, imgs, apache.log))
        timed("smoke-order", self.smoke_order)

        # a restart: the setup again, nothing to change. First the background
        # jobs that are due run (WP-Cron, Action Scheduler: the orders queued
        # some), so that what the comparison sees is the setup's doing.
        timed("settle-background-jobs", lambda: self.settle(pod, imgs))
        before = self.snapshot()
        pod2 = self.pod(docs, "wordpress", "Deployment")
        timed("second-setup", lambda: self._setup(pod2, imgs))
        after = self.snapshot()
        changed = self.compare(before, after)
        ignored = sorted(n for n in set(before["options"]) | set(after["options"])
                         if VOLATILE_OPTIONS.match(n) and before["options"].get(n) != after["options"].get(n))
        ignored += sorted(f"{t} ({before['rows'].get(t)} -> {after['rows'].get(t)} rows)" for t in VOLATILE_TABLES
                          if before["checksums"].get(t) != after["checksums"].get(t))
        timed("second-setup-changed-nothing", lambda: self._nothing(changed, ignored, before))

        # the upgrade: another image tag (and with --upgrade-from, another WordPress)
        marker = os.path.join(self.content, "wp-content", "uploads", "storefleet-acceptance.txt")
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "w") as fh:
            fh.write("kept across the upgrade\n")
        for path in (os.path.dirname(marker), marker):
            os.chown(path, 33, 33)
        plugins_before = self.tree_of(os.path.join(self.content, "wp-content", "plugins", "woocommerce"))
        new_tag = f"{version}-php8.3-apache" if a.upgrade_from else f"{version}-php8.2-apache"
        docs2 = self.render(new_tag)
        imgs2 = images(image_wordpress_tree(a.wordpress, self.work), a.wp_cli, a.woocommerce_zip) \
            if a.upgrade_from else imgs
        expect = f"bringing the core files to {version}" if a.upgrade_from else f"WordPress {version} is in"
        say(f"upgrade: wordpress.image.tag {tag} -> {new_tag}")
        pod3, _ = self.wordpress_pod(docs2, imgs2, expect_files=expect)
        apache.stop()
        self.servers.remove(apache)
        timed("upgrade-apache", lambda: self.start_apache(pod3, imgs2)[1])
        self.save_pods(pod3, imgs2)
        timed("upgrade-kept-the-store", lambda: self._upgraded(pod3, imgs2, version, marker, plugins_before))
        timed("upgrade-smoke-order", self.smoke_order)
        timed("no-secret-in-mail", self.no_secret_in_mail)

    def settle(self, pod, imgs):
        ran = []
        for command in (["cron", "event", "run", "--due-now"], ["action-scheduler", "run"]):
            r = pod.exec("wordpress", imgs["wordpress"], ["php", "/opt/wp-cli/wp", *command], timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"wp {' '.join(command)}: {r.stderr.strip()[-300:]}")
            ran.append(f"wp {' '.join(command[:2])}: {(r.stdout.strip().splitlines() or [''])[-1][:80]}")
        return "; ".join(ran)

    def _nothing(self, changed, ignored, before):
        if changed:
            raise RuntimeError(f"{len(changed)} changes: " + "; ".join(changed[:8]))
        return (f"{len(before['options'])} options, {len(before['rows'])} tables unchanged"
                + (f" (bookkeeping changed, not compared: {', '.join(ignored)})" if ignored else ""))

    def _upgraded(self, pod, imgs, version, marker, plugins_before):
        have = wordpress_version(self.content)
        if have != version:
            raise RuntimeError(f"the volume has WordPress {have}, not {version}")
        r = pod.exec("wordpress", imgs["wordpress"], ["php", "/opt/wp-cli/wp", "core", "version"])
        if r.stdout.strip() != version:
            raise RuntimeError(f"wp core version says {r.stdout.strip()!r} {r.stderr.strip()[-200:]}")
        if not os.path.exists(marker):
            raise RuntimeError("a file in wp-content/uploads was lost")
        if self.tree_of(os.path.join(self.content, "wp-content", "plugins", "woocommerce")) != plugins_before:
            raise RuntimeError("the WooCommerce plugin's files changed")
        db = self.sql("SELECT option_value FROM wp_options WHERE option_name='db_version'").strip()
        status, body = self.http("/")
        if status != "200" or "type-product" not in body:
            raise RuntimeError(f"after the upgrade / answered {status} without products")
        return f"core {version} (db_version {db}), uploads and the WooCommerce plugin kept, / shows products"

    def stop(self):
        for server in reversed(self.servers):
            server.stop(grace=20)
        if getattr(self, "mail_catcher", False):  # its mailbox stays in <out>/mail for a look
            subprocess.run([os.path.join(ROOT, "scripts", "mail-catcher"), "stop", self.mail_dir], timeout=60)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        # The store's Secret was this run's: its files go, the logs stay.
        pods = os.path.join(self.work, "pods")
        for name in os.listdir(pods) if os.path.isdir(pods) else []:
            volumes = os.path.join(pods, name, "volumes")
            for volume in os.listdir(volumes) if os.path.isdir(volumes) else []:
                if volume.endswith("-secrets"):
                    shutil.rmtree(os.path.join(volumes, volume), ignore_errors=True)
        # the images' stand-in copies (~100 MB each); the store's volumes (claims/) stay for a look
        for name in os.listdir(self.work):
            if name.startswith("image-wordpress-"):
                shutil.rmtree(os.path.join(self.work, name), ignore_errors=True)
        for leftover in ("root.cnf", "pods.pickle", "wp-cli.phar", "smtp-logins"):
            if os.path.exists(os.path.join(self.work, leftover)):
                os.remove(os.path.join(self.work, leftover))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wordpress", required=True, help="an unpacked WordPress release")
    p.add_argument("--woocommerce-zip", required=True)
    p.add_argument("--wp-cli", required=True)
    p.add_argument("--wp-cli-version", default="?")
    p.add_argument("--upgrade-from", default="", help="an older unpacked WordPress release for the first install")
    p.add_argument("--out", required=True)
    p.add_argument("--keep-running", action="store_true", help="on a failure, keep the store running until <out>/stop exists")
    args = p.parse_args()
    require_root("store-acceptance")
    run = Run(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    ok = False
    try:
        run.main()
        ok = True
    except Exception as e:  # a failed step, or the harness itself: the store is kept for --keep-running
        if not isinstance(e, StepFailed):
            import traceback
            traceback.print_exc()
        say(f"store-acceptance: FAILED at {e}")
        if args.keep_running:
            stop = os.path.join(args.out, "stop")
            say(f"store-acceptance: kept running for a look: `ip netns exec {run.netns} curl -H 'Host: {HOST}' "
                f"http://127.0.0.1/`; `touch {stop}` ends it")
            while not os.path.exists(stop):
                time.sleep(2)
    finally:
        run.stop()
        with open(os.path.join(args.out, "results.json"), "w") as fh:
            json.dump(results, fh, indent=1)
    say(f"store-acceptance: {'PASSED' if ok else 'FAILED'} — {sum(r['ok'] for r in results)}/{len(results)} steps, "
        f"{time.monotonic() - started:.0f} s; results {args.out}/results.json, screenshots {args.out}/screenshots")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
