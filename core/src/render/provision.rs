//! Provisioning of the instances: the Linux cloud-init user data (users with fixed ids, the
//! persistent mount, per-user notebook folders) and the Windows PowerShell script.
//!
//! Everything here is data: the scripts are static files (`provision.sh`, `provision.ps1`,
//! checked by shellcheck) and every pool-specific value goes into a settings file with safe
//! quoting, so no spec value is ever spliced into shell code.

use super::{ArtifactFile, Provisioning};
use crate::error::{Error, Result};
use crate::spec::{CredentialMethod, SecretRef, Sharing, StorageKind, ValidPool};
use serde_json::json;

/// The static provisioning script of Linux instances.
pub(crate) const LINUX_SCRIPT: &str = include_str!("provision.sh");
/// The static body of the Windows provisioning script.
const WINDOWS_SCRIPT: &str = include_str!("provision.ps1");

/// Largest `customData` Azure accepts (bytes before base64).
pub(crate) const MAX_CUSTOM_DATA: usize = 65_535;

/// Single-quote a value for POSIX sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Single-quote a value for PowerShell.
fn ps_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Token audience of Key Vault in the pool's cloud.
fn key_vault_resource(pool: &ValidPool) -> String {
    format!("https://{}", pool.spec().cloud.key_vault_suffix())
}

/// The Key Vault secret URL instances read the storage key from (managed identity + vault).
fn key_vault_secret_url(pool: &ValidPool) -> Option<String> {
    let st = &pool.spec().storage;
    match (pool.credential(), &st.key) {
        (CredentialMethod::ManagedIdentity, Some(SecretRef::KeyVault { key_vault })) => {
            let mut url = format!(
                "https://{}.{}/secrets/{}",
                key_vault.vault_name(),
                pool.spec().cloud.key_vault_suffix(),
                key_vault.secret
            );
            if let Some(v) = &key_vault.version {
                url.push('/');
                url.push_str(v);
            }
            Some(url)
        }
        _ => None,
    }
}

/// Resource group of the storage account.
pub(crate) fn storage_resource_group(pool: &ValidPool) -> &str {
    let s = pool.spec();
    s.storage
        .account
        .resource_group
        .as_deref()
        .unwrap_or(&s.resource_group)
}

/// Path of the root-only SMB credentials file.
fn smb_credentials(pool: &ValidPool) -> String {
    format!(
        "/etc/smbcredentials/{}.cred",
        pool.storage_account().unwrap_or("share")
    )
}

fn nfs_options(pool: &ValidPool) -> String {
    let s = pool.spec();
    match s.storage.kind {
        StorageKind::AzureFilesNfs => "vers=4,minorversion=1,sec=sys,nconnect=4".into(),
        _ => {
            let v = s.storage.nfs.as_ref().map_or("4.1", |n| n.version.as_str());
            match v.split_once('.') {
                Some((major, minor)) => format!("vers={major},minorversion={minor},sec=sys"),
                None => format!("vers={v},sec=sys"),
            }
        }
    }
}

/// `/etc/dsvmpool/pool.env`: every pool-specific value the script reads, safely quoted.
fn pool_env(pool: &ValidPool) -> String {
    let s = pool.spec();
    let kind = match s.storage.kind {
        StorageKind::AzureFilesSmb => "smb",
        _ => "nfs",
    };
    let credential = match pool.credential() {
        CredentialMethod::ManagedIdentity => "managed_identity",
        CredentialMethod::AccountKey => "account_key",
        CredentialMethod::None => "none",
    };
    let sharing = match s.storage.notebooks.sharing {
        Sharing::Private => "private",
        Sharing::Team => "team",
    };
    let mut vars: Vec<(&str, String)> = vec![
        ("POOL_NAME", s.name.clone()),
        ("ADMIN_USER", s.access.admin_user.clone()),
        ("TEAM_GROUP", s.storage.notebooks.group.clone()),
        ("TEAM_GID", s.storage.notebooks.gid.to_string()),
        ("SHARING", sharing.into()),
        ("STORAGE_KIND", kind.into()),
        ("SHARE_SOURCE", pool.share_source()),
        ("MOUNT_PATH", pool.mount_path().into()),
        ("CREDENTIAL", credential.into()),
    ];
    match s.storage.kind {
        StorageKind::AzureFilesSmb => {
            vars.push((
                "STORAGE_ACCOUNT",
                pool.storage_account().unwrap_or_default().into(),
            ));
            vars.push((
                "STORAGE_RESOURCE_GROUP",
                storage_resource_group(pool).into(),
            ));
            vars.push(("SMB_CREDENTIALS", smb_credentials(pool)));
            vars.push(("ARM_ENDPOINT", s.cloud.management_endpoint().to_string()));
            vars.push((
                "SUBSCRIPTION_ID",
                s.subscription.clone().unwrap_or_default(),
            ));
            if let Some(url) = key_vault_secret_url(pool) {
                vars.push(("KEY_VAULT_SECRET_URL", url));
                vars.push(("KEY_VAULT_RESOURCE", key_vault_resource(pool)));
            }
        }
        _ => vars.push(("NFS_OPTIONS", nfs_options(pool))),
    }
    let mut out = String::from("# dsvmpool pool settings (read by dsvmpool-provision)\n");
    for (k, v) in vars {
        out.push_str(&format!("{k}={}\n", sh_quote(&v)));
    }
    out
}

const SERVICE_UNIT: &str = "[Unit]
Description=dsvmpool: team users, shared workspace and notebook links
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/dsvmpool-provision
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
";

/// The Linux cloud-init user data.
fn linux_user_data(pool: &ValidPool) -> Result<String> {
    let s = pool.spec();
    let users: String = s
        .users
        .iter()
        .map(|u| {
            format!(
                "{}:{}:{}:{}\n",
                u.name,
                u.uid,
                u.gid(),
                if u.admin { 1 } else { 0 }
            )
        })
        .collect();
    let package = match s.storage.kind {
        StorageKind::AzureFilesSmb => "cifs-utils",
        _ => "nfs-common",
    };
    let mut files = vec![
        json!({"path": "/etc/dsvmpool/pool.env", "owner": "root:root", "permissions": "0644", "content": pool_env(pool)}),
        json!({"path": "/etc/dsvmpool/users", "owner": "root:root", "permissions": "0644", "content": users}),
    ];
    for u in s.users.iter().filter(|u| !u.ssh_keys.is_empty()) {
        let mut keys = u.ssh_keys.join("\n");
        keys.push('\n');
        files.push(json!({
            "path": format!("/etc/dsvmpool/authorized_keys/{}", u.name),
            "owner": "root:root",
            "permissions": "0644",
            "content": keys,
        }));
    }
    files.push(json!({"path": "/usr/local/sbin/dsvmpool-provision", "owner": "root:root", "permissions": "0755", "content": LINUX_SCRIPT}));
    files.push(json!({"path": "/etc/systemd/system/dsvmpool-provision.service", "owner": "root:root", "permissions": "0644", "content": SERVICE_UNIT}));
    let doc = json!({
        "packages": [package],
        // A password (when set) is for JupyterHub's PAM login, not for SSH.
        "ssh_pwauth": false,
        "write_files": files,
        "runcmd": [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", "--no-block", "dsvmpool-provision.service"],
        ],
    });
    let yaml = serde_norway::to_string(&doc)
        .map_err(|e| Error::Render(format!("cloud-init user data: {e}")))?;
    let text = format!(
        "#cloud-config\n# dsvmpool: provisioning of pool `{}`\n{yaml}",
        s.name
    );
    Ok(text)
}

/// The script the Custom Script extension runs on Linux when the account key is used: it writes
/// the root-only credentials file. Returns the parts before and after the key.
fn linux_key_script(pool: &ValidPool) -> (String, String) {
    let cred = smb_credentials(pool);
    let account = pool.storage_account().unwrap_or_default();
    let head = format!(
        "#!/bin/sh\n# dsvmpool: write the SMB credentials file of the shared workspace (root only).\nset -eu\numask 077\n\
         install -d -m 0700 /etc/smbcredentials\ntmp=$(mktemp {})\n\
         printf 'username=%s\\npassword=%s\\n' {} '",
        sh_quote(&format!("{cred}.XXXXXX")),
        sh_quote(account)
    );
    let tail = format!(
        "' >\"$tmp\"\nmv -f \"$tmp\" {}\nsystemctl restart dsvmpool-provision.service || true\n",
        sh_quote(&cred)
    );
    (head, tail)
}

/// The Windows provisioning script: settings, then the static body.
fn windows_script(pool: &ValidPool) -> String {
    let s = pool.spec();
    let mut vars: Vec<(&str, String)> = vec![
        (
            "StorageAccount",
            pool.storage_account().unwrap_or_default().into(),
        ),
        ("StorageHost", pool.storage_host()),
        ("ShareName", s.storage.share.name.clone()),
        ("StorageResourceGroup", storage_resource_group(pool).into()),
        ("SubscriptionId", s.subscription.clone().unwrap_or_default()),
        ("ArmEndpoint", s.cloud.management_endpoint().into()),
        (
            "KeyVaultSecretUrl",
            key_vault_secret_url(pool).unwrap_or_default(),
        ),
        ("KeyVaultResource", key_vault_resource(pool)),
        ("DriveLetter", "Z".into()),
        ("AdminUser", s.access.admin_user.clone()),
    ];
    let mut out = String::from("param([string]$StorageKey = '')\n");
    for (k, v) in vars.drain(..) {
        out.push_str(&format!("${k} = {}\n", ps_quote(&v)));
    }
    out.push_str(WINDOWS_SCRIPT);
    out
}

/// The provisioning of a pool's instances.
pub(crate) fn provisioning(pool: &ValidPool) -> Result<Provisioning> {
    let mut p = Provisioning::default();
    if pool.is_windows() {
        let script = windows_script(pool);
        p.files.push(ArtifactFile {
            path: "provision.ps1".into(),
            description: "PowerShell the Custom Script extension runs on every Windows instance"
                .into(),
            content: script.clone(),
        });
        p.windows_script = Some(script);
        return Ok(p);
    }
    let user_data = linux_user_data(pool)?;
    p.files.push(ArtifactFile {
        path: "cloud-init.yaml".into(),
        description: "cloud-init user data of every Linux instance (customData)".into(),
        content: user_data.clone(),
    });
    p.files.push(ArtifactFile {
        path: "dsvmpool-provision.sh".into(),
        description: "the provisioning script the user data installs (for review)".into(),
        content: LINUX_SCRIPT.into(),
    });
    p.user_data = Some(user_data);
    if pool.spec().storage.kind == StorageKind::AzureFilesSmb
        && pool.credential() == CredentialMethod::AccountKey
    {
        p.linux_key_script = Some(linux_key_script(pool));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(ps_quote("a'b"), "'a''b'");
    }
}
