"""Run a container of a rendered pod spec on this machine, the way the kubelet
would: its command and arguments, exactly its environment, its volumes mounted
at their paths with the modes and owners the kubelet gives them (emptyDir,
configMap and projected Secret items, a PersistentVolumeClaim as a host
directory), its user, groups and fsGroup, no capabilities, no new privileges,
a read-only root file system, in a mount, PID and UTS namespace of its own and
a network namespace with no route out.

What stands in for the image is a root file system made of this machine's
Debian directories (/usr, /etc, read-only) plus the image's own files laid
over them (an `Image`). So a test runs the chart's real commands, as the pod
spec says, against real programs (sh, cp, php, apache2, mariadbd) without a
container runtime. Needs root (mounts, namespaces), util-linux (unshare,
setpriv) and coreutils (chroot).

    pod = Pod("wordpress", spec, claims={"wordpress-content": "/tmp/vol"},
              configmaps=..., secrets=..., netns="storefleet-accept")
    r = pod.run("wordpress-files", image)            # an init container
    p = pod.start("wordpress", image)                # a server; p.stop() ends it
"""

import os
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Directories of the stand-in root that come from this machine, read-only.
BASE_BINDS = ["/usr", "/etc"]
# Directories of the root itself (a tmpfs made read-only once every mount
# point exists); an image's files may be laid anywhere under them.
OWN_DIRS = ["/tmp", "/var", "/run", "/opt", "/srv", "/home", "/root", "/mnt", "/usr/src", "/usr/local"]


# The root's own symlinks (as in a Debian-based image): a mount path through
# them is resolved inside the root, as the container runtime does — else
# "$R"/var/run/x would follow the absolute link to this machine's /run.
ROOT_LINKS = {"/var/run": "/run", "/var/lock": "/run/lock"}


def in_root(path):
    for link, target in ROOT_LINKS.items():
        if path == link or path.startswith(link + "/"):
            return target + path[len(link):]
    return path


@dataclass
class Image:
    """What a container image contributes: its ENTRYPOINT/CMD/WORKDIR/ENV and
    files (container path -> host file or directory, laid over the base)."""
    name: str
    entrypoint: list = field(default_factory=list)
    cmd: list = field(default_factory=list)
    workdir: str = "/"
    env: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    # symlinks of the image: container path -> target
    links: dict = field(default_factory=dict)


def require_root(test):
    """podrun needs root (mount and PID namespaces); the containers themselves do not run as root."""
    if os.geteuid() != 0:
        raise AssertionError(f"{test} needs root: it makes mount and PID namespaces "
                             "(the container itself runs as uid 33); run `make test-chart` as root")


def prepare_claim(path, mode):
    """A PersistentVolumeClaim's directory as a real node presents it to a pod
    with fsGroup 33: "fsgroup" = a volume whose ownership the kubelet manages
    (root:fsGroup, setgid, group-writable: root:33 2775), "local-path" = a
    hostPath-based volume the kubelet does not touch (root:root 0777, as
    rancher's local-path provisioner creates it)."""
    os.makedirs(path, exist_ok=True)
    if mode == "fsgroup":
        os.chown(path, 0, 33)
        os.chmod(path, 0o2775)
    elif mode == "local-path":
        os.chown(path, 0, 0)
        os.chmod(path, 0o777)
    else:
        raise ValueError(f"unknown volume mode {mode!r} (fsgroup or local-path)")
    return path


class Pod:
    def __init__(self, name, spec, *, claims=None, configmaps=None, secrets=None, netns=None, workdir=None,
                 hosts=None, hostname=None):
        """spec: a pod spec (a workload's spec.template.spec); claims:
        claimName -> host directory; configmaps / secrets: name -> {key: str};
        netns: a named network namespace (ip netns) to run in, else a new
        empty one per container; hosts: extra /etc/hosts lines ("ip name")."""
        self.name = name
        self.spec = spec
        self.claims = claims or {}
        self.configmaps = configmaps or {}
        self.secrets = secrets or {}
        self.netns = netns
        self.hosts = hosts or []
        self.hostname = hostname or name
        self.dir = workdir or tempfile.mkdtemp(prefix=f"podrun-{name}-")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        sc = spec.get("securityContext", {})
        self.fs_group = sc.get("fsGroup")
        self.volumes = {}
        for v in spec.get("volumes", []):
            self.volumes[v["name"]] = self._materialize(v)
        self.etc_hosts = os.path.join(self.dir, "hosts")
        with open(self.etc_hosts, "w") as fh:
            fh.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
            fh.write(f"127.0.1.1\t{self.hostname}\n")
            for line in self.hosts:
                fh.write(line + "\n")
        os.chmod(self.etc_hosts, 0o644)

    # -- volumes, as the kubelet lays them out -------------------------------

    def _own(self, path, mode):
        os.chown(path, 0, self.fs_group if self.fs_group is not None else 0)
        os.chmod(path, mode)

    def _materialize(self, v):
        path = os.path.join(self.dir, "volumes", v["name"])
        if "persistentVolumeClaim" in v:
            claim = v["persistentVolumeClaim"]["claimName"]
            if claim not in self.claims:
                raise ValueError(f"volume {v['name']}: no host directory given for claim {claim}")
            return self.claims[claim]
        os.makedirs(path)
        if "emptyDir" in v:
            # kubelet: mkdir 0777, then the fsGroup's ownership (setgid)
            self._own(path, 0o2777 if self.fs_group is not None else 0o777)
        elif "configMap" in v:
            data = self.configmaps[v["configMap"]["name"]]
            self._files(path, data, v["configMap"].get("items"), v["configMap"].get("defaultMode", 0o644))
        elif "secret" in v:
            data = self.secrets[v["secret"]["secretName"]]
            self._files(path, data, v["secret"].get("items"), v["secret"].get("defaultMode", 0o644))
        else:
            raise ValueError(f"volume {v['name']}: kind not supported here: {sorted(v)}")
        return path

    def _files(self, path, data, items, mode):
        self._own(path, 0o755)
        if items is None:
            items = [{"key": k, "path": k} for k in data]
        for item in items:
            if item["key"] not in data:
                raise ValueError(f"key {item['key']} missing from the volume's source")
            target = os.path.join(path, item["path"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as fh:
                fh.write(data[item["key"]])
            self._own(target, item.get("mode", mode))

    # -- one container -------------------------------------------------------

    def container(self, name):
        for c in self.spec.get("initContainers", []) + self.spec["containers"]:
            if c["name"] == name:
                return c
        raise ValueError(f"pod {self.name} has no container {name}")

    def argv(self, name, image, extra_env=None):
        """The command that runs container `name` with `image` standing in."""
        c = self.container(name)
        if c.get("command"):
            process = list(c["command"]) + list(c.get("args", []))
        else:
            process = list(image.entrypoint) + list(c.get("args") or image.cmd)
        if not process:
            raise ValueError(f"container {name}: neither the pod spec nor the image gives a command")
        env = {"PATH": DEFAULT_PATH, "HOSTNAME": self.hostname, **image.env}
        for e in c.get("env", []):
            if "value" not in e:
                raise ValueError(f"container {name}: env {e['name']} is not a plain value (not supported here)")
            env[e["name"]] = e["value"]
        env.update(extra_env or {})
        pod_sc = self.spec.get("securityContext", {})
        sc = {**pod_sc, **c.get("securityContext", {})}
        uid = sc.get("runAsUser", 0)
        gid = sc.get("runAsGroup", 0)
        groups = [gid] + ([self.fs_group] if self.fs_group is not None else []) + \
            list(pod_sc.get("supplementalGroups", []))
        if sc.get("runAsNonRoot") and uid == 0:
            raise ValueError(f"container {name}: runAsNonRoot with uid 0")
        workdir = c.get("workingDir") or image.workdir
        root = os.path.join(self.dir, "roots", name)
        os.makedirs(root, exist_ok=True)
        termination_log = os.path.join(self.dir, f"termination-log-{name}")
        open(termination_log, "w").close()
        os.chmod(termination_log, 0o666)

        sh = ["set -eu", f"R={shlex.quote(root)}", "mount --make-rprivate /",
              "mount -t tmpfs -o mode=0755,size=64m podroot \"$R\""]
        mkdir = lambda p: sh.append(f"mkdir -p \"$R\"{shlex.quote(p)}")  # noqa: E731
        for d in BASE_BINDS:
            mkdir(d)
            sh.append(f"mount --rbind {d} \"$R\"{d}")
            sh.append(f"mount -o remount,bind,ro \"$R\"{d}")
        # merged /usr: /bin -> usr/bin and friends, as on Debian 12
        for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            if os.path.islink(f"/{link}"):
                sh.append(f"ln -s {shlex.quote(os.readlink('/' + link))} \"$R\"/{link}")
        for d in OWN_DIRS:
            mkdir(d)
            if d.startswith("/usr/"):
                sh.append(f"mount -t tmpfs -o mode=0755,size=16m image{d.replace('/', '-')} \"$R\"{d}")
        sh += ["ln -s /run \"$R\"/var/run", "mkdir -p \"$R\"/run/lock", "ln -s /run/lock \"$R\"/var/lock",
               "chmod 1777 \"$R\"/tmp"]
        # /dev: a few devices, /dev/shm, the termination log
        sh.append("mkdir -p \"$R\"/dev && mount -t tmpfs -o mode=0755,size=1m,nosuid dev \"$R\"/dev")
        for dev in ("null", "zero", "full", "random", "urandom", "tty"):
            sh.append(f"touch \"$R\"/dev/{dev} && mount --bind /dev/{dev} \"$R\"/dev/{dev}")
        sh += ["mkdir \"$R\"/dev/shm \"$R\"/dev/pts && mount -t tmpfs -o mode=1777,size=64m shm \"$R\"/dev/shm",
               "ln -s /proc/self/fd \"$R\"/dev/fd", "ln -s /proc/self/fd/0 \"$R\"/dev/stdin",
               "ln -s /proc/self/fd/1 \"$R\"/dev/stdout", "ln -s /proc/self/fd/2 \"$R\"/dev/stderr",
               f"touch \"$R\"{shlex.quote(c.get('terminationMessagePath', '/dev/termination-log'))}",
               f"mount --bind {shlex.quote(termination_log)} "
               f"\"$R\"{shlex.quote(c.get('terminationMessagePath', '/dev/termination-log'))}",
               "mkdir -p \"$R\"/proc \"$R\"/sys && mount -t proc proc \"$R\"/proc",
               "mount --rbind /sys \"$R\"/sys && mount -o remount,bind,ro \"$R\"/sys",
               f"mount --bind {shlex.quote(self.etc_hosts)} \"$R\"/etc/hosts",
               f"hostname {shlex.quote(self.hostname)}"]
        # the image's own files and links
        for target, link in image.links.items():
            sh.append(f"mkdir -p \"$R\"{shlex.quote(os.path.dirname(target))} && "
                      f"ln -sfn {shlex.quote(link)} \"$R\"{shlex.quote(target)}")
        for target, source in image.files.items():
            sh.append(self._mount_point(target, os.path.isdir(source)))
            sh.append(f"mount --bind {shlex.quote(source)} \"$R\"{shlex.quote(target)}")
            sh.append(f"mount -o remount,bind,ro \"$R\"{shlex.quote(target)}")
        # the pod's volumes, at their mount paths
        for m in c.get("volumeMounts", []):
            source = self.volumes[m["name"]]
            if m.get("subPath"):
                source = os.path.join(source, m["subPath"])
            target = in_root(m["mountPath"])
            sh.append(self._mount_point(target, os.path.isdir(source)))
            sh.append(f"mount --bind {shlex.quote(source)} \"$R\"{shlex.quote(target)}")
            if m.get("readOnly"):
                sh.append(f"mount -o remount,bind,ro \"$R\"{shlex.quote(target)}")
        if sc.get("readOnlyRootFilesystem"):
            sh.append("mount -o remount,ro \"$R\"")
        setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--groups=" + ",".join(map(str, groups)),
                   "--inh-caps=-all", "--bounding-set=-all"]
        if sc.get("allowPrivilegeEscalation") is False:
            setpriv.append("--no-new-privs")
        envs = [f"{k}={v}" for k, v in env.items()]
        inner = ["chroot", root, *setpriv, "env", "-i", *envs, "/bin/sh", "-c", 'cd "$0" && exec "$@"', workdir,
                 *process]
        sh.append("exec " + " ".join(shlex.quote(a) for a in inner))
        script = os.path.join(self.dir, f"run-{name}.sh")
        with open(script, "w") as fh:
            fh.write("\n".join(sh) + "\n")
        unshare = ["unshare", "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child"]
        if self.netns:
            return ["ip", "netns", "exec", self.netns, *unshare, "sh", script]
        return [*unshare, "--net", "sh", script]

    @staticmethod
    def _mount_point(target, is_dir):
        q = shlex.quote(target)
        if is_dir:
            return f"[ -d \"$R\"{q} ] || mkdir -p \"$R\"{q}"
        return f"[ -e \"$R\"{q} ] || {{ mkdir -p \"$R\"{shlex.quote(os.path.dirname(target))} && touch \"$R\"{q}; }}"

    def termination_message(self, name):
        with open(os.path.join(self.dir, f"termination-log-{name}")) as fh:
            return fh.read()

    def run(self, name, image, *, timeout=300, extra_env=None, stdin=None):
        """Runs a container to its end (an init container): CompletedProcess
        with its log as stdout and stderr."""
        return subprocess.run(self.argv(name, image, extra_env), capture_output=True, text=True, timeout=timeout,
                              stdin=stdin if stdin is not None else subprocess.DEVNULL)

    def start(self, name, image, *, log=None, extra_env=None):
        """Starts a container that serves (Apache, MySQL); returns a Running."""
        log_path = log or os.path.join(self.dir, f"{name}.log")
        out = open(log_path, "ab")
        proc = subprocess.Popen(self.argv(name, image, extra_env), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        return Running(proc, log_path, out)

    def exec(self, name, image, command, *, timeout=120, extra_env=None):
        """kubectl exec into a container: its mounts, user and env, a command of one's own."""
        c = dict(self.container(name))
        c["command"], c["args"] = command, []
        spec = dict(self.spec)
        spec["containers"] = [c if x["name"] == name else x for x in self.spec["containers"]]
        spec["initContainers"] = [c if x["name"] == name else x for x in self.spec.get("initContainers", [])]
        saved, self.spec = self.spec, spec
        try:
            return subprocess.run(self.argv(name, image, extra_env), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        finally:
            self.spec = saved


class Running:
    def __init__(self, proc, log_path, out):
        self.proc, self.log_path, self._out = proc, log_path, out

    def log(self):
        with open(self.log_path, errors="replace") as fh:
            return fh.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace=30):
        """SIGTERM to the container's first process (as the kubelet does),
        SIGKILL to all of it after grace seconds; returns its exit status."""
        if self.proc.poll() is None:
            # unshare --fork waits for its child, the container's PID 1
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
                    children = [int(p) for p in fh.read().split()]
            except FileNotFoundError:
                children = []
            for pid in children or [self.proc.pid]:
                os.kill(pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()
        return self.proc.returncode


def wait_until(check, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(interval)
