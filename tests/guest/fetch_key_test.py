#!/usr/bin/python3
"""dsvmpool-fetch-key against the metadata, Key Vault and ARM test doubles, on the host.

Both keyless paths of the rendered script (managed identity token, then the Key Vault secret
or ARM listKeys) and the refusal path, in seconds: the guests prove the Key Vault path again
end to end. The key must reach dsvmpool-storage-key on standard input and nowhere else.
"""
import base64
import os
import secrets
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from suite import IdentityDoubles  # noqa: E402

SCRIPT = os.path.join(HERE, "..", "..", "core", "src", "render", "mount", "scripts", "dsvmpool-fetch-key")


def run_case(tmp, doubles, conf, expect_key):
    conf_path = os.path.join(tmp, "pool.conf")
    with open(conf_path, "w") as f:
        f.write("".join(f"{k}='{v}'\n" for k, v in conf.items()))
    got = os.path.join(tmp, "stored")
    if os.path.exists(got):
        os.remove(got)
    store = os.path.join(tmp, "store")
    with open(store, "w") as f:
        f.write(f"#!/bin/sh\ncat > {got}\n")
    os.chmod(store, 0o700)
    # the script's paths are fixed (it runs as root): a copy with the test's paths
    with open(SCRIPT, encoding="utf-8") as f:
        text = f.read()
    for fixed, ours in (('"/etc/dsvmpool/pool.conf"', repr(conf_path)),
                        ('"/usr/local/sbin/dsvmpool-storage-key"', repr(store))):
        assert text.count(fixed) == 1, f"{fixed} not found once in {SCRIPT}"
        text = text.replace(fixed, ours)
    script = os.path.join(tmp, "fetch-key")
    with open(script, "w", encoding="utf-8") as f:
        f.write(text)
    # -I as in the script's own first line; SSL_CERT_FILE is read by OpenSSL, not Python
    env = dict(os.environ, SSL_CERT_FILE=doubles.ca)
    r = subprocess.run(["/usr/bin/python3", "-I", script], env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert doubles.key not in out, "the key appeared in the script's output"
    assert all(t not in out for t in doubles.tokens.values()), "a token appeared in the script's output"
    if expect_key:
        assert r.returncode == 0, f"exit {r.returncode}: {out}"
        with open(got) as f:
            assert f.read() == doubles.key + "\n", "the stored key differs"
    else:
        assert r.returncode == 3, f"want exit 3, got {r.returncode}: {out}"
        assert not os.path.exists(got), "a key was stored although the request was refused"
    return out.strip()


def main():
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    with tempfile.TemporaryDirectory() as tmp:
        d = IdentityDoubles(tmp, key, kv_url="https://127.0.0.1/secrets/acct-key", account="acct",
                            resource_group="rg-files")
        base = {"DSVMPOOL_ACCOUNT": "acct", "DSVMPOOL_IMDS": f"http://127.0.0.1:{d.imds_port}"}
        kv = dict(base, DSVMPOOL_KEY_VAULT_SECRET_URL=f"https://127.0.0.1:{d.kv_port}/secrets/acct-key",
                  DSVMPOOL_KEY_VAULT_RESOURCE="https://vault.azure.net")
        arm = dict(base, DSVMPOOL_ARM_ENDPOINT=d.arm_endpoint, DSVMPOOL_ACCOUNT_RESOURCE_GROUP="rg-files")
        cases = [
            ("key vault secret", kv, True),
            ("ARM listKeys", arm, True),
            ("missing secret", dict(kv, DSVMPOOL_KEY_VAULT_SECRET_URL=f"https://127.0.0.1:{d.kv_port}/secrets/nope"), False),
            ("wrong account", dict(arm, DSVMPOOL_ACCOUNT="other"), False),
            ("token for another resource", dict(kv, DSVMPOOL_KEY_VAULT_RESOURCE="https://storage.azure.com"), False),
        ]
        failed = 0
        for name, conf, ok in cases:
            try:
                out = run_case(tmp, d, conf, ok)
                print(f"  PASS fetch-key: {name}" + (f" ({out.splitlines()[-1]})" if out else ""))
            except AssertionError as e:
                failed += 1
                print(f"  FAIL fetch-key: {name}: {e}")
        d.stop()
        # a vault whose secret is not a storage account key (here: an attempt to run code)
        bad = IdentityDoubles(tmp, "x\nDSVMPOOL_STORAGE_KEY\ntouch /tmp/dsvmpool-pwned\n", kv_url="https://127.0.0.1/secrets/acct-key",
                              account="acct", resource_group="rg-files")
        conf = {"DSVMPOOL_ACCOUNT": "acct", "DSVMPOOL_IMDS": f"http://127.0.0.1:{bad.imds_port}",
                "DSVMPOOL_KEY_VAULT_SECRET_URL": f"https://127.0.0.1:{bad.kv_port}/secrets/acct-key",
                "DSVMPOOL_KEY_VAULT_RESOURCE": "https://vault.azure.net"}
        try:
            out = run_case(tmp, bad, conf, False)
            print(f"  PASS fetch-key: a secret that is not a key is refused ({out.splitlines()[-1]})")
        except AssertionError as e:
            failed += 1
            print(f"  FAIL fetch-key: a secret that is not a key is refused: {e}")
        bad.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
