#!/usr/bin/python3
"""dsvmpool real-guest suite: boot Linux guests under QEMU with rendered user data and prove the
shared workspace works on real kernels.

For each pool (user data rendered by `dsvmpool render`: SMB with managed identity, NFS, and SMB
with the account key and team-shared folders) two guests (one for `--one-guest` pools) boot
from the cached image with a NoCloud seed; host-side stand-ins serve the share (Samba for Azure Files SMB 3.1.1,
nfs-ganesha for NFS 4.1) and, for managed-identity pools, the instance metadata service and a
Key Vault test double (HTTPS with a test CA). For account-key pools the suite hands each
guest the key the way the rendered template does: the scale set extension's protected script
(read from the rendered azuredeploy.json, the key spliced where ARM puts it), run as root from
a root-only file. Guests reach the stand-ins only through QEMU user-mode forwards; the rendered
user data has only its share endpoint overridden (render option).

Checks (each reported with its duration):
  share      both guests mount the share; alice's notebook saved on guest 1 is in her
             ~/notebooks/remote on guest 2; bob cannot write (or read) alice's folder; with
             team sharing bob (in the team) can, and a user outside the team cannot
  late-user  a user created after provisioning gets the link (and folder) at first login
  rerun      provisioning run again: same fstab, one mount, links intact, exit status 0
  secrets    credentials file 0600 root; the key in no process list, log or journal
  reboot     after a reboot the share is mounted again (boot-to-mounted time)
  outage     boot with the share server unreachable (this guest's way to it cut: to the guest, a
             stopped server) completes in bounded time; the mount appears once it is back
  (reboot and outage run at once, on the two guests)

usage: suite.py --image DIR [--pool NAME=USER_DATA ...] [--one-guest NAME] [--run DIR] [--parallel]
"""
import argparse
import base64
import http.server
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

import yaml

T0 = time.monotonic()
LOCK = threading.Lock()
NET = "169.254.0.0/16"  # link-local like Azure's, so 169.254.169.254 (IMDS) is inside it
FILES_ADDR = "169.254.0.100"  # guest address forwarded to the share stand-ins
KV_ADDR = "169.254.0.101"  # guest address forwarded to the Key Vault test double
IMDS_ADDR = "169.254.169.254"
BOOT_BOUND = int(os.environ.get("BOOT_BOUND", "300"))  # s: boot must finish within this (TCG)
WAIT = int(os.environ.get("GUEST_WAIT", "900"))  # s: give up waiting for a guest (not a claim)
MOUNT_BOUND = int(os.environ.get("MOUNT_BOUND", "120"))  # s: server back -> mounted


def log(msg):
    with LOCK:
        print(f"[guest {time.monotonic() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


CHILDREN = []  # every process started here, stopped on exit (by pid)


def stop_children(*_):
    for p in CHILDREN:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM) if getattr(p, "own_group", False) else p.terminate()
            except ProcessLookupError:
                pass
    for p in CHILDREN:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def on_signal(signum, _frame):
    stop_children()
    os._exit(128 + signum)


class CheckFailed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}")


# ------------------------------------------------------------------ rendered user data
class PoolData:
    """Facts the harness needs, read from the rendered user data itself."""

    def __init__(self, name, path):
        self.name = name
        self.path = path
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if not text.startswith("#cloud-config"):
            raise SystemExit(f"{path}: not a #cloud-config")
        doc = yaml.safe_load(text)
        files = {w["path"]: w.get("content", "") for w in doc.get("write_files", [])}
        conf_text = files.get("/etc/dsvmpool/pool.conf")
        if conf_text is None:
            raise SystemExit(f"{path}: no /etc/dsvmpool/pool.conf in write_files")
        self.conf = {}
        for tok in shlex.split(conf_text, comments=True):
            k, sep, v = tok.partition("=")
            if sep:
                self.conf[k] = v
        self.users = [line.split(":") for line in files.get("/etc/dsvmpool/users", "").splitlines() if line]
        self.fstype = self.conf["DSVMPOOL_FSTYPE"]
        self.smb = self.fstype == "cifs"
        self.mount = self.conf["DSVMPOOL_MOUNT"]
        src = self.conf["DSVMPOOL_SOURCE"]
        if self.smb:
            m = re.fullmatch(r"//([^/]+)/(.+)", src)
            self.host, self.share = m.group(1), m.group(2)
        else:
            self.host, _, self.share = src.partition(":")
        if self.host != FILES_ADDR:
            raise SystemExit(f"{path}: share host is {self.host}; render with the share endpoint {FILES_ADDR}")
        self.kv_url = self.conf.get("DSVMPOOL_KEY_VAULT_SECRET_URL", "")
        self.managed_identity = self.smb and self.conf.get("DSVMPOOL_CREDENTIAL") == "managed_identity"
        self.account_key = self.smb and self.conf.get("DSVMPOOL_CREDENTIAL") == "account_key"
        self.team = self.conf.get("DSVMPOOL_SHARING") == "team"
        self.group = self.conf.get("DSVMPOOL_GROUP", "")
        # the mode of a user's folder as `stat %a` shows it (SMB: the per-user mount's dir_mode)
        self.folder_mode = ("770" if self.smb else "2770") if self.team else "700"
        self.key_script = key_script(os.path.join(os.path.dirname(path), "azuredeploy.json")) if self.account_key else None


def arm_literal(text):
    """The value of an ARM template string literal ('...' with '' for ')."""
    if not (text.startswith("'") and text.endswith("'")):
        raise SystemExit(f"not an ARM string literal: {text[:60]!r}")
    return text[1:-1].replace("''", "'")


def key_script(template_path):
    """(before, after): the protected script of the scale set's `share-credentials` extension in
    the rendered template, around the encoded key (`base64(` listKeys or the key parameter `)`)."""
    with open(template_path, encoding="utf-8") as f:
        t = json.load(f)
    for r in t["resources"]:
        if r["type"] != "Microsoft.Compute/virtualMachineScaleSets":
            continue
        for e in r["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"]:
            if e["name"] != "share-credentials":
                continue
            expr = e["properties"]["protectedSettings"]["script"]
            m = re.fullmatch(r"\[base64\(concat\(('(?:[^']|'')*'), (base64\(.+\)), ('(?:[^']|'')*')\)\)\]", expr, re.S)
            if not m:
                raise SystemExit(f"{template_path}: unexpected protected script {expr[:120]!r}")
            return arm_literal(m.group(1)), arm_literal(m.group(3))
    raise SystemExit(f"{template_path}: no share-credentials extension for an account-key pool")


# ------------------------------------------------------------------ stand-in servers
class Samba:
    def __init__(self, run, pool, key):
        self.dir = os.path.join(run, "samba")
        self.share = os.path.join(run, "share")
        self.port = free_port()
        self.pool, self.key, self.proc = pool, key, None
        acct = pool.conf["DSVMPOOL_ACCOUNT"]
        for d in ("private", "lock", "state", "cache", "pid", "log", "ncalrpc"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.makedirs(self.share, exist_ok=True)
        if subprocess.run(["id", acct], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", acct], check=True)
        shutil.chown(self.share, acct, acct)
        d = self.dir
        self.conf = os.path.join(d, "smb.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {self.port}
  disable netbios = yes
  server min protocol = SMB3_11
  map to guest = never
  passdb backend = tdbsam:{d}/private/passdb.tdb
  private dir = {d}/private
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  pid directory = {d}/pid
  ncalrpc dir = {d}/ncalrpc
  log file = {d}/log/%m.log
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[{pool.share}]
  path = {self.share}
  read only = no
  valid users = {acct}
  force user = {acct}
  # like Azure Files: NT ACLs stored as they are sent (idsfromsid/modefromsid SIDs included)
  vfs objects = acl_xattr
  acl_xattr:ignore system acls = yes
  create mask = 0660
  directory mask = 0770
""")
        subprocess.run(["smbpasswd", "-c", self.conf, "-s", "-a", acct], input=f"{key}\n{key}\n",
                       text=True, check=True, capture_output=True)

    def start(self):
        # smbd signals its whole process group on shutdown: give it its own session
        self.out = open(os.path.join(self.dir, "log", "smbd.out"), "ab")
        self.proc = subprocess.Popen(["smbd", "--foreground", "--no-process-group", "-s", self.conf],
                                     stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.proc.own_group = True
        CHILDREN.append(self.proc)
        wait_port(self.port, "smbd")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


class Ganesha:
    def __init__(self, run, pool):
        self.dir = os.path.join(run, "ganesha")
        self.share = os.path.join(run, "nfsexport")
        self.port = free_port()
        self.proc = None
        os.makedirs(os.path.join(self.dir, "recov"), exist_ok=True)
        os.makedirs(self.share, exist_ok=True)
        os.chmod(self.share, 0o755)
        self.conf = os.path.join(self.dir, "ganesha.conf")
        with open(self.conf, "w") as f:
            f.write(f"""NFS_CORE_PARAM {{
  Protocols = 4;
  NFS_Port = {self.port};
  Bind_addr = 127.0.0.1;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}}
NFSV4 {{
  Minor_Versions = 1, 2;
  Graceless = true;
  RecoveryBackend = fs;
  RecoveryRoot = {self.dir}/recov;
}}
NFS_KRB5 {{ Active_krb5 = false; }}
EXPORT {{
  Export_Id = 1;
  Path = {self.share};
  Pseudo = {pool.share};
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  Protocols = 4;
  Transports = TCP;
  FSAL {{ Name = VFS; }}
}}
LOG {{ Default_Log_Level = EVENT; }}
""")

    def start(self):
        self.out = open(os.path.join(self.dir, "ganesha.out"), "ab")
        self.proc = subprocess.Popen(["ganesha.nfsd", "-F", "-f", self.conf, "-L", os.path.join(self.dir, "ganesha.log"),
                                      "-p", os.path.join(self.dir, "ganesha.pid"), "-N", "NIV_EVENT"],
                                     stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        CHILDREN.append(self.proc)
        wait_port(self.port, "ganesha")

    def stop(self):
        self.link.cut()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class IdentityDoubles:
    """Test doubles of the instance metadata service (HTTP) and, on one HTTPS server with a
    per-run test CA, of a Key Vault secret and of ARM's storage `listKeys`. Each answers only
    with the token the metadata double issued for its own resource."""

    SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e2"

    def __init__(self, run, key, kv_url="", account="", resource_group="", arm_host="127.0.0.1"):
        self.dir = os.path.join(run, "identity")
        os.makedirs(self.dir, exist_ok=True)
        self.key, self.account, self.resource_group = key, account, resource_group
        self.requests = []
        self.kv_host, self.kv_path = "127.0.0.1", None
        if kv_url:
            m = re.fullmatch(r"https://([^/]+)(/secrets/[^/?]+(?:/[^/?]+)?)", kv_url)
            if not m:
                raise SystemExit(f"unexpected Key Vault secret URL {kv_url!r}")
            self.kv_host, self.kv_path = m.group(1), m.group(2)
        self._make_certs()
        doubles = self
        self.tokens = {}  # resource -> token

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self, resource):
                tok = doubles.tokens.get(resource)
                return tok is not None and self.headers.get("Authorization") == f"Bearer {tok}"

            def do_GET(self):
                doubles.requests.append((self.server.role, "GET", self.path))
                path, _, query = self.path.partition("?")
                q = dict(urllib.parse.parse_qsl(query))
                if self.server.role == "imds":
                    if self.headers.get("Metadata") != "true":
                        return self._send(400, {"error": "bad_request", "error_description": "Metadata header"})
                    if path == "/metadata/identity/oauth2/token":
                        res = q.get("resource", "")
                        if res not in doubles.tokens:
                            return self._send(400, {"error": "invalid_resource", "error_description": res})
                        return self._send(200, {"access_token": doubles.tokens[res], "token_type": "Bearer",
                                                "expires_in": "3599", "resource": res})
                    if path == "/metadata/instance/compute":
                        return self._send(200, {"subscriptionId": doubles.SUBSCRIPTION, "resourceGroupName": "rg-vmss"})
                    return self._send(404, {"error": "not found"})
                if not self._authorized("https://vault.azure.net"):
                    return self._send(401, {"error": {"code": "Unauthorized", "message": "no valid token"}})
                if path != doubles.kv_path or not q.get("api-version"):
                    return self._send(404, {"error": {"code": "SecretNotFound", "message": path}})
                return self._send(200, {"value": doubles.key, "id": f"https://{doubles.kv_host}{path}"})

            def do_POST(self):
                doubles.requests.append((self.server.role, "POST", self.path))
                path, _, query = self.path.partition("?")
                want = (f"/subscriptions/{doubles.SUBSCRIPTION}/resourceGroups/{doubles.resource_group}"
                        f"/providers/Microsoft.Storage/storageAccounts/{doubles.account}/listKeys")
                if self.server.role != "tls" or not self._authorized(doubles.arm_resource):
                    return self._send(401, {"error": {"code": "AuthenticationFailed", "message": "no valid token"}})
                if path != want or "api-version=" not in query:
                    return self._send(404, {"error": {"code": "ResourceNotFound", "message": path}})
                return self._send(200, {"keys": [{"keyName": "key1", "value": doubles.key, "permissions": "FULL"},
                                                 {"keyName": "key2", "value": "b3RoZXIta2V5", "permissions": "FULL"}]})

        self.imds = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.imds.role = "imds"
        self.tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.tls.role = "tls"
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.certkey)
        self.tls.socket = ctx.wrap_socket(self.tls.socket, server_side=True)
        self.imds_port = self.imds.server_address[1]
        self.kv_port = self.tls.server_address[1]
        self.arm_endpoint = f"https://{arm_host}:{self.kv_port}"
        self.arm_resource = self.arm_endpoint + "/"
        self.tokens = {"https://vault.azure.net": "e2e-kv-token-" + secrets.token_hex(16),
                       self.arm_resource: "e2e-arm-token-" + secrets.token_hex(16)}
        for srv in (self.imds, self.tls):
            threading.Thread(target=srv.serve_forever, daemon=True).start()

    def _make_certs(self):
        d = self.dir
        self.ca, self.cert, self.certkey = f"{d}/ca.crt", f"{d}/tls.crt", f"{d}/tls.key"

        def ossl(*a):
            subprocess.run(["openssl", *a], check=True, capture_output=True)

        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dsvmpool test CA",
             "-keyout", f"{d}/ca.key", "-out", self.ca)
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={self.kv_host}", "-keyout", self.certkey,
             "-out", f"{d}/tls.csr")
        with open(f"{d}/ext.cnf", "w") as f:
            f.write(f"subjectAltName=DNS:{self.kv_host},IP:127.0.0.1\n")
        ossl("x509", "-req", "-in", f"{d}/tls.csr", "-CA", self.ca, "-CAkey", f"{d}/ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", f"{d}/ext.cnf", "-out", self.cert)

    def stop(self):
        for srv in (self.imds, self.tls):
            srv.shutdown()


# ------------------------------------------------------------------ guests
class ShareLink:
    """One guest's way to the share server: a host-side TCP relay (socat) the guest's forward
    goes through. Cutting it is, to that guest, exactly a stopped server (a forward to a closed
    port: every connection refused or reset), while the server stays up for the other guest."""

    def __init__(self, server_port):
        self.server_port = server_port
        self.port = free_port()
        self.proc = None

    def up(self):
        if self.proc and self.proc.poll() is None:
            return
        self.proc = subprocess.Popen(
            ["socat", "-lf", "/dev/null", f"TCP-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr",
             f"TCP:127.0.0.1:{self.server_port}"],
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.proc.own_group = True
        CHILDREN.append(self.proc)
        wait_port(self.port, "share link")

    def cut(self):
        """Stop the relay and every connection it carries."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


class Guest:
    def __init__(self, scenario, name):
        self.sc, self.name = scenario, name
        self.run = scenario.run
        self.ssh_port = free_port()
        self.proc = None
        self.launched = None
        self.overlay = os.path.join(self.run, f"{name}.qcow2")
        self.link = ShareLink(scenario.server.port)
        self.console = os.path.join(self.run, f"{name}.console.log")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.join(scenario.image, "base.raw"),
                        "-F", "raw", self.overlay], check=True)
        self._seed()

    def _seed(self):
        d = os.path.join(self.run, f"seed-{self.name}")
        os.makedirs(d, exist_ok=True)
        shutil.copy(self.sc.pool.path, os.path.join(d, "user-data"))
        with open(os.path.join(d, "meta-data"), "w") as f:
            f.write(f"instance-id: {self.sc.pool.name}-{self.name}-{time.time_ns()}\nlocal-hostname: {self.sc.pool.name}-{self.name}\n")
        files = ["user-data", "meta-data"]
        if self.sc.identity:
            with open(os.path.join(d, "e2e-hosts"), "w") as f:
                f.write(f"{KV_ADDR} {self.sc.identity.kv_host}\n")
            shutil.copy(self.sc.identity.ca, os.path.join(d, "e2e-ca.crt"))
            files += ["e2e-hosts", "e2e-ca.crt"]
        self.seed = os.path.join(d, "seed.iso")
        subprocess.run(["genisoimage", "-quiet", "-output", self.seed, "-volid", "cidata", "-joliet", "-rock",
                        *[os.path.join(d, f) for f in files]], check=True)

    def launch(self):
        sc = self.sc
        fwd = lambda addr, port, hport: f"guestfwd=tcp:{addr}:{port}-cmd:socat -lf /dev/null STDIO TCP:127.0.0.1:{hport}"
        net = [f"user,id=n0,restrict=on,net={NET},host=169.254.0.2,dns=169.254.0.3,dhcpstart=169.254.0.15",
               f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22"]
        net.append(fwd(FILES_ADDR, 445 if sc.pool.smb else 2049, self.link.port))
        if sc.identity:
            net.append(fwd(IMDS_ADDR, 80, sc.identity.imds_port))
            net.append(fwd(KV_ADDR, 443, sc.identity.kv_port))
        img = sc.image
        self.qlog = open(os.path.join(self.run, f"{self.name}.qemu.log"), "ab")
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-m", str(sc.mem), "-smp", str(sc.smp),
             "-nographic", "-nodefaults", "-monitor", "none", "-chardev", f"file,id=console,path={self.console},append=on", "-serial", "chardev:console",
             "-kernel", f"{img}/vmlinuz", "-initrd", f"{img}/initrd.img",
             "-append", "console=ttyS0 root=/dev/vda rw panic=-1",
             "-drive", f"file={self.overlay},format=qcow2,if=virtio",
             "-drive", f"file={self.seed},format=raw,if=virtio,readonly=on",
             "-netdev", ",".join(net), "-device", "virtio-net-pci,netdev=n0"],
            stdout=self.qlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        CHILDREN.append(self.proc)
        self.launched = time.monotonic()
        log(f"{self.sc.pool.name}/{self.name}: launched (qemu pid {self.proc.pid}, ssh 127.0.0.1:{self.ssh_port})")

    def ssh(self, cmd, user="root", input=None, check=True, timeout=120):
        argv = ["ssh", "-i", self.sc.key, "-p", str(self.ssh_port), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10", f"{user}@127.0.0.1", cmd]
        try:
            r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                               text=not isinstance(input, bytes))
        except subprocess.TimeoutExpired:
            if check:
                raise CheckFailed(f"{self.name}: `{cmd}` as {user} timed out after {timeout}s")
            return subprocess.CompletedProcess(argv, 124, "", "timeout")
        if check and r.returncode != 0:
            raise CheckFailed(f"{self.name}: `{cmd}` as {user} exited {r.returncode}: {(r.stderr or '').strip()[-500:]}")
        return r

    def wait_ssh(self, timeout=WAIT, not_boot_id=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise CheckFailed(f"{self.name}: qemu exited ({self.proc.returncode}); see {self.console}")
            r = self.ssh("cat /proc/sys/kernel/random/boot_id", check=False, timeout=20)
            if r.returncode == 0 and r.stdout.strip() and r.stdout.strip() != not_boot_id:
                return r.stdout.strip()
            time.sleep(2)
        raise CheckFailed(f"{self.name}: no SSH after {timeout}s; see {self.console}")

    def deliver_key(self, key):
        """What the scale set extension does with its protected settings: write the script to a
        root-only file and run it. The key travels on SSH's standard input, never in argv."""
        before, after = self.sc.pool.key_script
        # the template puts base64(key) between the halves (ARM `base64()`), never the key
        script = f"{before}{base64.b64encode(key.encode()).decode()}{after}"
        self.ssh("umask 077; f=$(mktemp /root/.e2e-protected.XXXXXX) && cat > \"$f\" && sh \"$f\"; rc=$?; "
                 "rm -f \"$f\"; exit $rc", input=script, timeout=900)

    def uptime(self):
        return float(self.ssh("cut -d' ' -f1 /proc/uptime").stdout.split()[0])

    def mount_active_at(self):
        """Seconds after kernel start when the share's mount unit became active (None if not)."""
        unit = self.ssh(f"systemd-escape --path --suffix=mount {shlex.quote(self.sc.pool.mount)}").stdout.strip()
        r = self.ssh(f"findmnt -n -t {self.sc.pool.fstype} --mountpoint {shlex.quote(self.sc.pool.mount)} >/dev/null"
                     f" && systemctl show -P ActiveEnterTimestampMonotonic {unit}", check=False)
        if r.returncode != 0 or not r.stdout.strip() or r.stdout.strip() == "0":
            return None
        return int(r.stdout.strip()) / 1e6

    def wait_mounted(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            t = self.mount_active_at()
            if t is not None:
                return t
            time.sleep(2)
        return None

    def poweroff(self, timeout=300):
        """Shut the guest down cleanly; its disk (qcow2 overlay) keeps its state."""
        self.ssh("systemctl --no-block poweroff", check=False, timeout=60)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"{self.name}: did not power off in {timeout}s; see {self.console}") from None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------ scenario
CHECKS = ["share", "late-user", "rerun", "secrets", "reboot", "outage"]
ONE_GUEST_CHECKS = ["share", "late-user", "rerun", "secrets"]


class Scenario:
    def __init__(self, args, name, user_data):
        self.pool = PoolData(name, user_data)
        self.name = name
        self.run = os.path.join(args.run, name)
        shutil.rmtree(self.run, ignore_errors=True)
        os.makedirs(self.run)
        self.image = args.image
        self.key = os.path.join(args.image, "id_ed25519")
        self.mem, self.smp = args.mem, args.smp
        self.results = []
        self.times = {}
        self.only = args.checks
        self.storage_key = None
        self.identity = None
        if self.pool.smb:
            self.storage_key = base64.b64encode(secrets.token_bytes(64)).decode()  # shaped like an account key
            self.server = Samba(self.run, self.pool, self.storage_key)
            if self.pool.managed_identity:
                self.identity = IdentityDoubles(self.run, self.storage_key, kv_url=self.pool.kv_url,
                                                account=self.pool.conf["DSVMPOOL_ACCOUNT"],
                                                resource_group=self.pool.conf.get("DSVMPOOL_ACCOUNT_RESOURCE_GROUP", ""))
        else:
            self.server = Ganesha(self.run, self.pool)
        self.guests = [Guest(self, "g1")] if name in args.one_guest else [Guest(self, "g1"), Guest(self, "g2")]
        # one guest: what needs a second instance (rerun aside) is proven by the two-guest pools
        self.only = [c for c in self.only if len(self.guests) == 2 or c in ONE_GUEST_CHECKS]

    def check(self, name, fn):
        t = time.monotonic()
        try:
            detail = fn() or ""
            ok = True
        except CheckFailed as e:
            ok, detail = False, str(e)
        except Exception as e:  # a harness bug must fail the suite too, with its trace
            ok, detail = False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        dt = time.monotonic() - t
        self.results.append({"pool": self.name, "check": name, "ok": ok, "seconds": round(dt, 1), "detail": detail})
        log(f"{self.name}: {'PASS' if ok else 'FAIL'} {name} ({dt:.0f}s){': ' + detail if detail else ''}")
        return ok

    def users(self):
        names = [u[0] for u in self.pool.users]
        if len(names) < 2:
            raise CheckFailed("the rendered pool needs at least two users")
        return names[0], names[1]

    # --- checks
    def provisioned(self):
        """Both guests boot, run cloud-init with our user data and mount the share."""
        for g in self.guests:
            g.wait_ssh()
            self.times[f"{g.name}.ssh_up_wall_s"] = round(time.monotonic() - g.launched, 1)
        if self.pool.account_key:
            for g in self.guests:
                g.deliver_key(self.storage_key)
                self.times[f"{g.name}.key_delivered_wall_s"] = round(time.monotonic() - g.launched, 1)
        out = []
        for g in self.guests:
            r = g.ssh("cloud-init status --wait >/dev/null; cloud-init status --long", check=False, timeout=900)
            status = r.stdout.strip()
            t = g.wait_mounted(120)
            wall = round(time.monotonic() - g.launched, 1)
            journal = g.ssh("journalctl -b -t dsvmpool -o cat --no-pager", check=False).stdout
            if "status: done" not in status:
                raise CheckFailed(f"{g.name}: cloud-init did not finish cleanly:\n{status}\n--- journal -t dsvmpool:\n{journal}")
            if t is None:
                raise CheckFailed(f"{g.name}: share not mounted after provisioning\n{journal}")
            self.times[f"{g.name}.first_boot_to_mounted_s"] = round(t, 1)
            fin = g.ssh("systemctl is-system-running --wait >/dev/null; systemctl show -P FinishTimestampMonotonic",
                        check=False, timeout=WAIT).stdout.strip()
            if fin.isdigit() and int(fin) > 0:
                self.times[f"{g.name}.first_boot_finished_s"] = round(int(fin) / 1e6, 1)
            out.append(f"{g.name}: mounted {t:.1f}s after kernel start ({wall}s wall after launch)")
        return "; ".join(out)

    def share(self):
        g1, g2 = self.guests[0], self.guests[-1]
        alice, bob = self.users()
        nb = json.dumps({"cells": [], "metadata": {"by": alice, "nonce": secrets.token_hex(8)}, "nbformat": 4})
        g1.ssh("cat > ~/notebooks/remote/analysis.ipynb", user=alice, input=nb)
        got = g2.ssh("cat ~/notebooks/remote/analysis.ipynb", user=alice).stdout
        if got != nb:
            raise CheckFailed(f"g2 sees {got!r}, g1 wrote {nb!r}")
        link = g2.ssh("readlink ~/notebooks/remote", user=alice).stdout.strip()
        want = f"{self.pool.mount}/notebooks/{alice}"
        if link != want:
            raise CheckFailed(f"~{alice}/notebooks/remote -> {link}, want {want}")
        on_server = os.path.join(self.server.share, "notebooks", alice, "analysis.ipynb")
        if not os.path.isfile(on_server):
            raise CheckFailed(f"{on_server} missing on the share server")
        if self.pool.team:
            return self.team_share(g1, g2, alice, bob, want)
        st = g2.ssh(f"stat -c '%U %a' {shlex.quote(want)}").stdout.strip()
        if st != f"{alice} 700":
            raise CheckFailed(f"{want} is `{st}`, want `{alice} 700`")
        r = g2.ssh(f"touch {shlex.quote(want)}/intruder 2>&1", user=bob, check=False)
        if r.returncode == 0:
            raise CheckFailed(f"{bob} could write into {want}")
        r2 = g2.ssh(f"cat {shlex.quote(want)}/analysis.ipynb 2>&1", user=bob, check=False)
        if r2.returncode == 0:
            raise CheckFailed(f"{bob} could read {alice}'s notebook")
        g2.ssh("echo '{}' > ~/notebooks/remote/mine.ipynb", user=bob)
        g1.ssh(f"test -s {shlex.quote(self.pool.mount)}/notebooks/{bob}/mine.ipynb")
        return f"notebook written on g1 read on g2; {bob} denied: {r.stdout.strip()}"

    def team_share(self, g1, g2, alice, bob, want):
        """Team sharing: the team (bob) works in alice's folder; a user outside it cannot."""
        group = self.pool.group
        st = g2.ssh(f"stat -c '%U %G %a' {shlex.quote(want)}").stdout.strip()
        if st != f"{alice} {group} {self.pool.folder_mode}":
            raise CheckFailed(f"{want} is `{st}`, want `{alice} {group} {self.pool.folder_mode}`")
        q = shlex.quote(want)
        g2.ssh(f"cat {q}/analysis.ipynb >/dev/null && echo '{{}}' > {q}/from-{bob}.ipynb", user=bob)
        g1.ssh(f"test -s ~/notebooks/remote/from-{bob}.ipynb", user=alice)
        outsider, uid = "dave", 1902
        g2.ssh(f"getent passwd {outsider} >/dev/null || useradd -m -u {uid} -s /bin/bash {outsider}")
        r = g2.ssh(f"setpriv --reuid={uid} --regid={uid} --init-groups -- touch {q}/intruder 2>&1", check=False)
        if r.returncode == 0:
            raise CheckFailed(f"{outsider} (not in {group}) could write into {want}")
        r2 = g2.ssh(f"setpriv --reuid={uid} --regid={uid} --init-groups -- cat {q}/analysis.ipynb 2>&1", check=False)
        if r2.returncode == 0:
            raise CheckFailed(f"{outsider} (not in {group}) could read {alice}'s notebook")
        return (f"{want} is `{st}`; {bob} (team {group}) read and wrote there, seen from "
                f"{'the other guest' if g1 is not g2 else 'the guest'}; {outsider} denied: {r.stdout.strip()}")

    def late_user(self):
        g2 = self.guests[-1]
        user, uid = "carol", 1901
        g2.ssh(f"useradd -m -u {uid} -s /bin/bash {user} && install -d -m 700 -o {user} -g {user} ~{user}/.ssh && "
               f"install -m 600 -o {user} -g {user} /root/.ssh/authorized_keys ~{user}/.ssh/authorized_keys")
        out = g2.ssh("readlink ~/notebooks/remote && stat -c '%U %a' ~/notebooks/remote/ && "
                     "echo x > ~/notebooks/remote/first.ipynb && echo written", user=user).stdout.split("\n")
        want = f"{self.pool.mount}/notebooks/{user}"
        if out[0] != want or out[1] != f"{user} {self.pool.folder_mode}" or out[2] != "written":
            raise CheckFailed(f"first login of {user}: {out}")
        return f"{user} (created after provisioning) found {want} at first login"

    def rerun(self):
        g1 = self.guests[0]
        alice, _ = self.users()
        m = shlex.quote(self.pool.mount)
        state = (f"sha256sum /etc/fstab; grep -c ' {m} ' /etc/fstab; findmnt -n -t {self.pool.fstype} --mountpoint {m} | wc -l; "
                 f"for u in $(cut -d: -f1 /etc/dsvmpool/users); do readlink /home/$u/notebooks/remote; done; "
                 f"find {m}/notebooks -maxdepth 2 | sort; findmnt -rn -t {self.pool.fstype} -o TARGET | sort | uniq -c; "
                 f"find {m}/notebooks -type l | wc -l")
        before = g1.ssh(state).stdout
        r = g1.ssh("/usr/local/sbin/dsvmpool-provision", check=False, timeout=300)
        after = g1.ssh(state).stdout
        if r.returncode != 0:
            raise CheckFailed(f"second run exited {r.returncode}: {r.stderr[-800:]}")
        if before != after:
            raise CheckFailed(f"state changed:\n--- before\n{before}\n--- after\n{after}")
        lines = after.splitlines()
        stacked = [l for l in lines if re.fullmatch(r"\s*([2-9]|\d\d+) /\S*", l)]
        if lines[1] != "1" or lines[2] != "1" or lines[-1] != "0" or stacked:
            raise CheckFailed(f"want one fstab line, one mount, no links inside the share:\n{after}")
        g1.ssh("cat ~/notebooks/remote/analysis.ipynb >/dev/null", user=alice)
        return "fstab unchanged (1 line), 1 mount, links intact, exit 0"

    def secrets_check(self):
        out = []
        for g in self.guests:
            if self.pool.smb:
                cred = shlex.quote(self.pool.conf["DSVMPOOL_CRED_FILE"])
                st = g.ssh(f"stat -c '%a %U %G' {cred}; stat -c '%a %U' $(dirname {cred})").stdout.split("\n")
                if st[0] != "600 root root" or st[1] != "700 root":
                    raise CheckFailed(f"{g.name}: credentials file {st[0]!r}, directory {st[1]!r}")
                # positive control: the key is there, so the search below would find a leak
                want = f"username={self.pool.conf['DSVMPOOL_ACCOUNT']}\npassword={self.storage_key}\n"
                if g.ssh(f"cat {cred}").stdout != want:
                    raise CheckFailed(f"{g.name}: the credentials file does not hold the account and key")
            # everything a process list, log or journal holds, streamed to the host and searched here
            dump = g.ssh("cat /var/lib/e2e/ps.log; for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; "
                         "tr '\\0' '\\n' < $p/environ; done 2>/dev/null; journalctl -o export --no-pager; "
                         "tar -c --exclude=/etc/smbcredentials /var/log /var/lib/cloud /etc /run/cloud-init 2>/dev/null | cat",
                         input=b"", timeout=300)
            blob = dump.stdout
            size = len(blob)
            if b"dsvmpool" not in blob:
                raise CheckFailed(f"{g.name}: the dump looks empty ({size} bytes)")
            if self.storage_key and self.storage_key.encode() in blob:
                i = blob.index(self.storage_key.encode())
                raise CheckFailed(f"{g.name}: the storage key appears in the process list/logs: ...{blob[max(0, i - 200):i]!r}")
            if self.identity and any(t.encode() in blob for t in self.identity.tokens.values()):
                raise CheckFailed(f"{g.name}: a managed-identity token appears in the process list/logs")
            out.append(f"{g.name}: {size // 1024} KiB of process lists, logs and journal clean")
        if self.identity:
            kv = [p for role, _, p in self.identity.requests if role == "tls"]
            if not kv:
                raise CheckFailed("the guests never asked the Key Vault double for the key")
            out.append(f"key fetched with managed identity ({len(self.identity.requests)} metadata/vault requests)")
        if self.pool.account_key:
            out.append("key delivered by the template's protected script")
        return "; ".join(out)

    def reboot(self):
        g1 = self.guests[0]
        alice, _ = self.users()
        boot = g1.ssh("cat /proc/sys/kernel/random/boot_id").stdout.strip()
        t = time.monotonic()
        g1.ssh("systemctl --no-block reboot", check=False, timeout=60)
        g1.wait_ssh(not_boot_id=boot)
        mt = g1.wait_mounted(MOUNT_BOUND)
        if mt is None:
            j = g1.ssh("journalctl -b -t dsvmpool -o cat --no-pager", check=False).stdout
            raise CheckFailed(f"share not mounted {MOUNT_BOUND}s after the reboot\n{j}")
        g1.ssh("cat ~/notebooks/remote/analysis.ipynb >/dev/null", user=alice)
        self.times["reboot_to_mounted_s"] = round(mt, 1)
        r = g1.ssh("systemctl is-system-running --wait >/dev/null; systemctl show -P FinishTimestampMonotonic",
                   check=False, timeout=600)
        if r.stdout.strip().isdigit() and int(r.stdout.strip()) > 0:
            self.times["reboot_boot_finished_s"] = round(int(r.stdout.strip()) / 1e6, 1)
        return f"mounted again {mt:.1f}s after kernel start ({time.monotonic() - t:.0f}s wall incl. shutdown)"

    def outage(self):
        """Deallocate/start with the share unreachable: power off, cut this guest's way to the
        server (to it, a stopped server; the other guest keeps it), boot."""
        g2 = self.guests[1]
        alice, _ = self.users()
        mark = f"before-outage {secrets.token_hex(8)}"
        g2.ssh("cat > ~/notebooks/remote/before-outage.txt", user=alice, input=mark)
        g2.poweroff()
        g2.link.cut()
        log(f"{self.name}: share server unreachable for g2; starting g2 again")
        g2.launch()
        g2.wait_ssh()
        r = g2.ssh("systemctl is-system-running --wait; systemctl show -P FinishTimestampMonotonic", check=False,
                   timeout=WAIT)
        state, fin = (r.stdout.split() + ["", ""])[:2]
        boot_s = int(fin or 0) / 1e6
        # bounded: BOOT_BOUND, or (on a loaded machine) 1.5 x this run's boot with the server up + 60 s
        base = self.times.get("reboot_boot_finished_s") or self.times.get("g2.first_boot_finished_s")
        bound = max(BOOT_BOUND, 1.5 * base + 60) if base else BOOT_BOUND
        if state not in ("running", "degraded") or not boot_s or boot_s > bound:
            raise CheckFailed(f"boot did not complete in {bound:.0f}s with the server down: state={state!r} finish={boot_s}")
        if g2.mount_active_at() is not None:
            raise CheckFailed("share reported mounted while its server is down")
        lt = time.monotonic()
        link = g2.ssh("readlink ~/notebooks/remote", user=alice, timeout=120).stdout.strip()
        login_s = time.monotonic() - lt
        self.times["outage_boot_finished_s"] = round(boot_s, 1)
        g2.link.up()
        t = time.monotonic()
        up = g2.uptime()
        mt = g2.wait_mounted(MOUNT_BOUND)
        if mt is None:
            j = g2.ssh("journalctl -b -t dsvmpool -o cat --no-pager", check=False).stdout
            raise CheckFailed(f"share not mounted {MOUNT_BOUND}s after the server came back\n{j}")
        lag = max(0.0, mt - up)
        self.times["outage_server_back_to_mounted_s"] = round(lag, 1)
        if g2.ssh("cat ~/notebooks/remote/before-outage.txt", user=alice).stdout != mark:
            raise CheckFailed("alice's file from before the outage is not in her notebooks after it")
        return (f"boot finished {boot_s:.1f}s after kernel start with the server down (state {state}, bound {bound:.0f}s); "
                f"login as {alice} took {login_s:.1f}s (link {link}); mounted {lag:.1f}s after the server came back "
                f"({time.monotonic() - t:.0f}s wall)")

    def execute(self, start_after=None, provisioned=None):
        """Run the checks. With `start_after` (a threading.Barrier or Event), boot only once it
        opens; `provisioned` is passed once this pool's first boots are over (either way)."""
        try:
            if start_after is not None:
                start_after.wait()
                log(f"{self.name}: the two-guest pools are provisioned; booting")
            if self.identity:
                log(f"{self.name}: metadata double on :{self.identity.imds_port}, vault double on :{self.identity.kv_port}")
            self.server.start()
            for g in self.guests:
                g.link.up()
                g.launch()
            ok = self.check("provisioned", self.provisioned)
            if provisioned is not None:
                provisioned()
                provisioned = None
            if not ok:
                return
            for name, fn in [("share", self.share), ("late-user", self.late_user), ("rerun", self.rerun),
                             ("secrets", self.secrets_check)]:
                if name in self.only:
                    self.check(name, fn)
            # reboot (g1) and outage (g2) at once: each guest has its own way to the server
            both = [threading.Thread(target=self.check, args=(name, fn))
                    for name, fn in [("reboot", self.reboot), ("outage", self.outage)] if name in self.only]
            for t in both:
                t.start()
            for t in both:
                t.join()
        finally:
            if provisioned is not None:  # never provisioned (a harness error): do not hold the others
                provisioned()
            for g in self.guests:
                g.stop()
            self.server.stop()
            if self.identity:
                self.identity.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True, help="image directory from image.sh")
    ap.add_argument("--pool", action="append", required=True, metavar="NAME=USER_DATA",
                    help="a pool's rendered user data (repeat: e.g. smb=out/smb/user-data nfs=out/nfs/user-data)")
    ap.add_argument("--run", default="/tmp/dsvmpool-guest", help="scratch directory (logs, overlays, shares)")
    ap.add_argument("--parallel", action="store_true", help="run the pools at the same time")
    ap.add_argument("--one-guest", action="append", default=[], metavar="NAME",
                    help="boot one guest for this pool (checks: provisioned + " + ",".join(ONE_GUEST_CHECKS) + ")")
    ap.add_argument("--mem", type=int, default=640)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--results", help="write the results as JSON here")
    ap.add_argument("--checks", default=",".join(CHECKS), type=lambda v: v.split(","),
                    help="run only these checks after `provisioned` (comma-separated; default: all)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if os.geteuid() != 0:
        raise SystemExit("run as root (Samba, nfs-ganesha)")
    scenarios = []
    for spec in args.pool:
        name, _, path = spec.partition("=")
        scenarios.append(Scenario(args, name, path))
    if args.parallel:
        # One-guest pools boot once the two-guest pools' first boots are over: under software
        # emulation five guests booting at once take about twice as long as four, while the later
        # checks keep at most two guests busy.
        pairs = [s for s in scenarios if len(s.guests) == 2]
        gate = threading.Event()
        left = [len(pairs)]

        def one_provisioned():
            with LOCK:
                left[0] -= 1
                if left[0] <= 0:
                    gate.set()

        if not pairs:
            gate.set()
        threads = [threading.Thread(target=s.execute,
                                    kwargs={"start_after": gate} if len(s.guests) == 1 else {"provisioned": one_provisioned})
                   for s in scenarios]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for s in scenarios:
            s.execute()
    results = [r for s in scenarios for r in s.results]
    times = {s.name: s.times for s in scenarios}
    total = time.monotonic() - T0
    print("\n== dsvmpool guest suite", file=sys.stderr)
    for r in results:
        print(f"  {'PASS' if r['ok'] else 'FAIL'}  {r['pool']:<6} {r['check']:<12} {r['seconds']:6.1f}s  "
              f"{r['detail'].splitlines()[0] if r['detail'] else ''}", file=sys.stderr)
    for name, t in times.items():
        print(f"  times {name}: " + ", ".join(f"{k}={v}" for k, v in t.items()), file=sys.stderr)
    print(f"  total {total:.0f}s", file=sys.stderr)
    if args.results:
        with open(args.results, "w") as f:
            json.dump({"results": results, "times": times, "total_s": round(total, 1)}, f, indent=2)
    want = sum(1 + len(s.only) for s in scenarios)
    ok = len(results) == want and all(r["ok"] for r in results)
    print(f"  {'PASS' if ok else 'FAIL'}: {sum(r['ok'] for r in results)}/{want} checks", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        code = main()
    finally:
        stop_children()
    sys.exit(code)
