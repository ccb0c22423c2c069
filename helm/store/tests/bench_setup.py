"""`make bench-store-setup`: how long the init container woocommerce-setup
takes on a new store (first install) and on a restart that changes nothing
(no-op re-run), with the real WordPress, WooCommerce and WP-CLI.

Each run is the container as the pod spec says (podrun.py: the rendered
command, env, mounts and Secret files, uid 33, a read-only root), in a network
namespace of its own that has only loopback, against MariaDB (Debian's,
standing in for the chart's MySQL) listening on 127.0.0.1 in that namespace
under the Service's name. PHP is Debian's PHP 8.2 (the wordpress:cli image's
stand-in), the WP-CLI phar is the one given, WordPress comes into the volume
through the init container wordpress-files as in the pod, and WooCommerce is
installed from a zip of the given directory through woocommerce.source (the
build machines reach no wordpress.org).

A first-install run starts from an empty database and a new volume (made
before the clock starts); a no-op run follows a finished first install. Each
is timed as a whole process (wall, and user+sys CPU of all its processes);
the table gives median, min and max of the runs.

    STOREFLEET_BENCH_WORDPRESS=/path/to/wordpress          # an unpacked release
    STOREFLEET_BENCH_WOOCOMMERCE=/path/to/woocommerce      # the plugin directory
    STOREFLEET_BENCH_WP_CLI=/path/to/wp-cli.phar
    STOREFLEET_BENCH_RUNS=3                                # runs of each kind
    STOREFLEET_BENCH_BASELINE=bb4e504                      # also time that revision's chart ("" = none):
                                                           # by default the last with ~45 wp calls
    STOREFLEET_BENCH_BASELINE_RUNS=1                       # its runs of each kind (~2 min each here)
    STOREFLEET_BENCH_VERBOSE=1                             # each run's log, each wp call's time

Without the three files it prints `skipped: ...` and exits 0. Needs root
(namespaces), php8.2-cli with php8.2-mysql, mariadb-server, zip, iproute2.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

try:  # PyYAML (chart.py) is installed by tests/run; a bench without the files needs none of it
    import chart
    from chart import named, store_secret
    from podrun import Image, Pod, prepare_claim
    IMPORT_ERROR = None
except ImportError as e:
    IMPORT_ERROR = e

NETNS = "storefleet-bench-setup"
VERBOSE = os.environ.get("STOREFLEET_BENCH_VERBOSE") == "1"
PLUGIN_ZIP = "/opt/plugins/woocommerce.zip"
# The chart's last revision with the setup as ~45 wp calls (before setup-woocommerce.php).
OLD_SCRIPT = "bb4e504"
# The official image's wp-config-docker.php, which a WordPress release does
# not carry: the acceptance harness's stand-in for it.
WP_CONFIG_DOCKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "acceptance", "wp-config-docker.php")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def in_netns(*cmd):
    return ["ip", "netns", "exec", NETNS, *cmd]


class Database:
    """MariaDB in the bench's network namespace, on 127.0.0.1:3306."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "mariadb")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        os.makedirs(os.path.join(self.dir, "data"))
        shutil.chown(self.dir, "mysql", "mysql")
        sh("mariadb-install-db", "--no-defaults", f"--datadir={self.dir}/data", "--user=mysql",
           "--auth-root-authentication-method=socket", "--skip-test-db")
        self.log = open(os.path.join(self.dir, "mariadbd.log"), "w")
        self.proc = subprocess.Popen(in_netns(
            "mariadbd", "--no-defaults", f"--datadir={self.dir}/data", f"--socket={self.socket}",
            "--user=mysql", "--bind-address=127.0.0.1", "--port=3306", "--skip-log-bin",
            "--performance-schema=OFF", "--innodb-buffer-pool-size=64M", "--max-connections=50",
            f"--pid-file={self.dir}/mariadbd.pid"), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while subprocess.run(["mariadb-admin", f"--socket={self.socket}", "ping"],
                             capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MariaDB did not start: see {self.log.name}")
            time.sleep(0.2)

    def sql(self, statement):
        sh("mariadb", f"--socket={self.socket}", "-u", "root", "-e", statement)

    def fresh(self, name, user, password):
        """An empty database for a new store (the chart's MySQL on its first start)."""
        self.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`; "
                 f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'; "
                 f"ALTER USER '{user}'@'%' IDENTIFIED BY '{password}'; "
                 f"GRANT ALL ON `{name}`.* TO '{user}'@'%';")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


class Chart:
    """The store chart of one revision (the working tree, or a git revision),
    rendered as create-store renders it, with woocommerce.source set."""

    def __init__(self, label, path, baseline=False):
        self.label = label
        # a chart from before the admin Secret of its own (49d9a2a) knows no existingAdminSecret
        docs = chart.render("values.yaml", "--set-string", f"woocommerce.source={PLUGIN_ZIP}", chart_dir=path,
                            **({"existing_admin_secret": None} if baseline else {}))
        self.spec = named(docs, "Deployment", "wordpress")["spec"]["template"]["spec"]
        self.configmap = named(docs, "ConfigMap", "woocommerce-setup")["data"]
        env = {e["name"]: e.get("value") for e in self.spec["initContainers"][1]["env"]}
        self.db_host, self.db_name, self.db_user = env["WORDPRESS_DB_HOST"], env["WORDPRESS_DB_NAME"], \
            env["WORDPRESS_DB_USER"]


class Bench:
    def __init__(self, wordpress, woocommerce, wp_cli, workdir):
        self.dir = workdir
        # the wordpress image's /usr/src/wordpress: the release plus the image's wp-config-docker.php
        self.release = os.path.join(workdir, "usr-src-wordpress")
        shutil.copytree(wordpress, self.release, symlinks=True)
        shutil.copy(WP_CONFIG_DOCKER, os.path.join(self.release, "wp-config-docker.php"))
        self.zip = os.path.join(workdir, "woocommerce.zip")
        sh("zip", "-qr", self.zip, os.path.basename(woocommerce.rstrip("/")),
           cwd=os.path.dirname(os.path.abspath(woocommerce.rstrip("/"))))
        self.wp = os.path.join(workdir, "wp")
        shutil.copy(wp_cli, self.wp)
        os.chmod(self.wp, 0o755)
        files = {"/usr/local/bin/wp": self.wp, PLUGIN_ZIP: self.zip}
        if VERBOSE:
            # each wp call's time on stderr, the phar beside it
            self.timed = os.path.join(workdir, "wp-timed")
            with open(self.timed, "w") as fh:
                fh.write('#!/bin/sh\nstart=$(date +%s%N)\nphp /usr/local/lib/wp-cli.phar "$@"\nrc=$?\n'
                         'echo "[wp $1 $2: $(( ($(date +%s%N) - start) / 1000000 )) ms, exit $rc]" >&2\n'
                         'exit $rc\n')
            os.chmod(self.timed, 0o755)
            files = {"/usr/local/bin/wp": self.timed, "/usr/local/lib/wp-cli.phar": self.wp, PLUGIN_ZIP: self.zip}
        for path in (self.release, self.zip, self.wp):
            subprocess.run(["chmod", "-R", "a+rX", path], check=True)
        self.wordpress_image = Image("wordpress (stand-in: Debian's PHP + the release)", workdir="/var/www/html",
                                     files={"/usr/src/wordpress": self.release})
        self.cli_image = Image("wordpress:cli (stand-in: Debian's PHP 8.2 + the WP-CLI phar)",
                               workdir="/var/www/html",
                               files=files)
        self.db = Database(workdir)
        self.secret = store_secret()
        self.pods = 0

    def pod(self, ch, volume):
        self.pods += 1
        return Pod(f"wordpress-{self.pods}", ch.spec, claims={"wordpress-content": volume},
                   configmaps={"woocommerce-setup": ch.configmap},
                   secrets={"store-credentials": self.secret, "store-admin": self.secret},
                   netns=NETNS, hosts=[f"127.0.0.1 {ch.db_host}"],
                   workdir=os.path.join(self.dir, f"pod-{self.pods}"))

    def new_store(self, ch):
        """An empty database and a volume with WordPress in it (wordpress-files), untimed."""
        self.db.fresh(ch.db_name, ch.db_user, self.secret["mysql-password"])
        volume = os.path.join(self.dir, f"volume-{self.pods + 1}")
        prepare_claim(volume, "fsgroup")
        r = self.pod(ch, volume).run("wordpress-files", self.wordpress_image)
        if r.returncode != 0:
            raise RuntimeError(f"wordpress-files failed:\n{r.stdout}\n{r.stderr}")
        return volume

    def setup(self, ch, volume):
        """One run of woocommerce-setup: (wall s, cpu s); fails loudly when the setup fails."""
        pod = self.pod(ch, volume)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        r = pod.run("woocommerce-setup", self.cli_image, timeout=600)
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0 or "the store is ready to sell" not in r.stdout:
            raise RuntimeError(f"{ch.label}: the setup failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}\n"
                               f"termination message: {pod.termination_message('woocommerce-setup')}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if VERBOSE:
            print(f"--- {ch.label}: {wall:.1f} s\n{r.stdout}{r.stderr}", file=sys.stderr, flush=True)
        return wall, cpu, r.stdout

    def measure(self, ch, runs):
        first, noop = [], []
        for i in range(runs):
            volume = self.new_store(ch)
            wall, cpu, out = self.setup(ch, volume)
            first.append((wall, cpu))
            wall, cpu, out = self.setup(ch, volume)
            if "the merchant's settings are kept" not in out:
                raise RuntimeError(f"{ch.label}: the second run was not a re-run:\n{out}")
            noop.append((wall, cpu))
            print(f"  {ch.label} run {i + 1}/{runs}: first install {first[-1][0]:.1f} s, "
                  f"no-op re-run {noop[-1][0]:.1f} s", file=sys.stderr, flush=True)
            shutil.rmtree(volume, ignore_errors=True)
        return first, noop

    def close(self):
        self.db.stop()


def figure(samples, index):
    values = sorted(s[index] for s in samples)
    return f"{statistics.median(values):6.1f} ({values[0]:.1f}-{values[-1]:.1f})"


def checkout(revision, workdir):
    """helm/store as it is at a git revision."""
    target = os.path.join(workdir, "baseline")
    os.makedirs(target)
    archive = subprocess.run(["git", "-C", chart.ROOT, "archive", revision, "helm/store"], check=True,
                             capture_output=True)
    subprocess.run(["tar", "-x", "-C", target], input=archive.stdout, check=True)
    return os.path.join(target, "helm", "store")


def main():
    paths = {name: os.environ.get(f"STOREFLEET_BENCH_{name}", "") for name in ("WORDPRESS", "WOOCOMMERCE", "WP_CLI")}
    missing = [f"STOREFLEET_BENCH_{name}" for name, path in paths.items() if not path]
    if missing:
        print(f"bench-store-setup: skipped: {', '.join(missing)} not set (a WordPress release directory, "
              "the WooCommerce plugin directory and the WP-CLI phar; see docs/store-chart.md)")
        return 0
    for name, path in paths.items():
        if not os.path.exists(path):
            sys.exit(f"bench-store-setup: STOREFLEET_BENCH_{name}={path}: no such file or directory")
    if not os.path.isfile(os.path.join(paths["WOOCOMMERCE"], "woocommerce.php")):
        sys.exit(f"bench-store-setup: STOREFLEET_BENCH_WOOCOMMERCE={paths['WOOCOMMERCE']} is not the WooCommerce "
                 "plugin directory (no woocommerce.php in it)")
    if IMPORT_ERROR:
        sys.exit(f"bench-store-setup: {IMPORT_ERROR} (run helm/store/tests/run once, or apt-get install python3-yaml)")
    if os.geteuid() != 0:
        sys.exit("bench-store-setup: needs root (mount, PID and network namespaces; the setup runs as uid 33)")
    for tool, package in (("php", "php8.2-cli php8.2-mysql"), ("mariadbd", "mariadb-server"), ("zip", "zip"),
                          ("ip", "iproute2")):
        if not shutil.which(tool):
            sys.exit(f"bench-store-setup: {tool} is missing (apt-get install {package})")
    if subprocess.run(["php", "-r", "exit(function_exists('mysqli_connect') ? 0 : 1);"]).returncode != 0:
        sys.exit("bench-store-setup: PHP has no mysqli (apt-get install php8.2-mysql)")
    runs = int(os.environ.get("STOREFLEET_BENCH_RUNS", "3"))
    baseline = os.environ.get("STOREFLEET_BENCH_BASELINE", OLD_SCRIPT)
    baseline_runs = int(os.environ.get("STOREFLEET_BENCH_BASELINE_RUNS", "1"))

    workdir = tempfile.mkdtemp(prefix="bench-store-setup-")
    os.chmod(workdir, 0o755)
    subprocess.run(["ip", "netns", "delete", NETNS], capture_output=True)
    sh("ip", "netns", "add", NETNS)
    bench = None
    try:
        sh(*in_netns("ip", "link", "set", "lo", "up"))
        bench = Bench(paths["WORDPRESS"], paths["WOOCOMMERCE"], paths["WP_CLI"], workdir)
        charts = []
        if baseline:
            try:
                charts.append((Chart(f"before ({baseline})", checkout(baseline, workdir), baseline=True),
                               baseline_runs))
            except subprocess.CalledProcessError as e:
                print(f"bench-store-setup: before ({baseline}) not measured: no such git revision here "
                      f"({e.stderr.decode(errors='replace').strip() if e.stderr else e})", file=sys.stderr)
        charts.append((Chart("after (this tree)" if baseline else "this tree", chart.CHART), runs))
        results = [(ch, n, bench.measure(ch, n)) for ch, n in charts]
    finally:
        if bench:
            bench.close()
        subprocess.run(["ip", "netns", "delete", NETNS], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    php = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout
    load = os.getloadavg()
    print(f"\nwoocommerce-setup: seconds, median (min-max) of the runs; PHP {php}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, WooCommerce from woocommerce.source")
    print(f"{'chart':<24} {'runs':>4} {'first install wall':>20} {'cpu':>18} {'no-op re-run wall':>20} {'cpu':>18}")
    for ch, n, (first, noop) in results:
        print(f"{ch.label:<24} {n:>4} {figure(first, 0):>20} {figure(first, 1):>18} {figure(noop, 0):>20} "
              f"{figure(noop, 1):>18}")
    print(f"{'goal (idle machine)':<24} {'':>4} {'<= 8.0':>20} {'':>18} {'<= 3.0':>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
