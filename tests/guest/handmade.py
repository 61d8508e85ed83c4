#!/usr/bin/python3
"""Hand-written user data with the renderer's layout (bootstrap until `dsvmpool render` exists).

usage: handmade.py smb|nfs OUT_DIR SSH_PUBKEY_FILE
"""
import os
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S = os.path.join(ROOT, "core/src/render/mount/scripts")


class Lit(str):
    pass


yaml.SafeDumper.add_representer(Lit, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|"))


def f(path, content, mode="0644"):
    return {"path": path, "owner": "root:root", "permissions": mode, "content": Lit(content)}


def script(name):
    with open(os.path.join(S, name), encoding="utf-8") as fh:
        return fh.read()


def main():
    kind, out, pub = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().strip()
    host = "169.254.0.100"
    if kind == "smb":
        conf = {
            "DSVMPOOL_POOL": "e2e", "DSVMPOOL_KIND": "azure_files_smb", "DSVMPOOL_MOUNT": "/shared/workspace",
            "DSVMPOOL_SOURCE": f"//{host}/workspace", "DSVMPOOL_FSTYPE": "cifs",
            "DSVMPOOL_OPTIONS": "vers=3.1.1,credentials=/etc/smbcredentials/e2eacct.cred,serverino,nosharesock,"
            "actimeo=30,mfsymlinks,idsfromsid,modefromsid,_netdev,nofail,x-systemd.automount,x-systemd.mount-timeout=30",
            "DSVMPOOL_PACKAGE": "cifs-utils", "DSVMPOOL_ACCOUNT": "e2eacct",
            "DSVMPOOL_CRED_FILE": "/etc/smbcredentials/e2eacct.cred", "DSVMPOOL_CREDENTIAL": "managed_identity",
            "DSVMPOOL_KEY_VAULT_SECRET_URL": "https://e2ekv.vault.azure.net/secrets/e2eacct-key",
            "DSVMPOOL_KEY_VAULT_RESOURCE": "https://vault.azure.net",
            "DSVMPOOL_ARM_ENDPOINT": "https://management.azure.com",
        }
    else:
        conf = {
            "DSVMPOOL_POOL": "e2e", "DSVMPOOL_KIND": "azure_files_nfs", "DSVMPOOL_MOUNT": "/shared/workspace",
            "DSVMPOOL_SOURCE": f"{host}:/e2eacct/workspace", "DSVMPOOL_FSTYPE": "nfs4",
            "DSVMPOOL_OPTIONS": "vers=4,minorversion=1,sec=sys,nconnect=4,_netdev,nofail,x-systemd.automount,x-systemd.mount-timeout=30",
            "DSVMPOOL_PACKAGE": "nfs-common", "DSVMPOOL_ACCOUNT": "e2eacct", "DSVMPOOL_CRED_FILE": "",
            "DSVMPOOL_CREDENTIAL": "none",
        }
    conf.update({"DSVMPOOL_SHARING": "private", "DSVMPOOL_GROUP": "datasci", "DSVMPOOL_GROUP_GID": "3000"})
    conf_text = "# dsvmpool pool configuration (hand-written)\n" + "".join(f"{k}='{v}'\n" for k, v in conf.items())
    files = [
        f("/etc/dsvmpool/pool.conf", conf_text),
        f("/etc/dsvmpool/users", "alice:1101:1101:0\nbob:1102:1102:0\n"),
        f("/etc/dsvmpool/ssh/alice.pub", pub + "\n"),
        f("/etc/dsvmpool/ssh/bob.pub", pub + "\n"),
        f("/usr/local/lib/dsvmpool/dsvmpool-lib.sh", script("dsvmpool-lib.sh")),
        f("/usr/local/lib/dsvmpool/dsvmpool-fetch-key", script("dsvmpool-fetch-key"), "0755"),
        f("/usr/local/sbin/dsvmpool-provision", script("dsvmpool-provision"), "0755"),
        f("/usr/local/sbin/dsvmpool-workspace", script("dsvmpool-workspace"), "0755"),
        f("/usr/local/sbin/dsvmpool-notebooks", script("dsvmpool-notebooks"), "0755"),
        f("/usr/local/sbin/dsvmpool-storage-key", script("dsvmpool-storage-key"), "0755"),
        f("/etc/systemd/system/dsvmpool-workspace.service", script("dsvmpool-workspace.service")),
        f("/usr/share/pam-configs/dsvmpool-notebooks", script("pam-dsvmpool-notebooks")),
    ]
    doc = {"write_files": files, "runcmd": [["/usr/local/sbin/dsvmpool-provision"]]}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "user-data"), "w", encoding="utf-8") as fh:
        fh.write("#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000))


main()
