//! The provisioning of Linux instances: one `#cloud-config` user data.
//!
//! The user data writes the pool's configuration (`/etc/dsvmpool/pool.conf`, every value
//! single-quoted for the shell), the users file, the users' SSH keys, the static dsvmpool
//! scripts and units (see [`crate::render::mount::scripts`]), and runs
//! `/usr/local/sbin/dsvmpool-provision` once. That script is idempotent: it installs the mount
//! helper when missing, creates the users with their fixed uid/gid, writes one persistent fstab
//! entry (`_netdev,nofail,x-systemd.automount`), enables `dsvmpool-workspace.service` (mounts
//! with retries and backoff at every boot, without holding boot up) and the PAM session hook
//! that links `$HOME/notebooks/remote` for every user, including users who appear later. Its
//! exit status says what is missing; everything is logged to the journal with the tag
//! `dsvmpool`.
//!
//! Nothing secret is in the user data: with `managed_identity` the instance fetches the key at
//! boot (IMDS token, then Key Vault or ARM `listKeys`); with `account_key` the key arrives
//! only through the extension's protected settings, as the script [`KeyDelivery`] renders.

use super::mount::{self, scripts, sh_quote, smb};
use crate::error::{Diagnostic, Error, Result};
use crate::spec::{CredentialMethod, SecretRef, Sharing, StorageKind, ValidPool};
use serde::Serialize;

/// Where the provisioning script lands on the instance.
pub const PROVISION_COMMAND: &str = "/usr/local/sbin/dsvmpool-provision";
/// Where the key-storing helper lands on the instance (reads the key on standard input).
pub const STORAGE_KEY_COMMAND: &str = "/usr/local/sbin/dsvmpool-storage-key";

/// Largest user data Azure accepts as `customData` (bytes, before base64).
pub const MAX_USER_DATA: usize = 65_535;

/// Render options that are not part of the pool spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisionOptions {
    /// Mount the share from this host (a DNS name or an IP address) instead of the storage
    /// host of the spec (`<account>.file.core.windows.net` or the NFS server). For a private
    /// endpoint with its own DNS name, and for tests: the guest suite points the share at its
    /// stand-in servers with it. Everything else (account, share, paths, options) stays as
    /// the spec says.
    pub share_host: Option<String>,
}

impl ProvisionOptions {
    /// Options with the share endpoint overridden (see [`ProvisionOptions::share_host`]).
    pub fn with_share_host(host: impl Into<String>) -> Self {
        Self {
            share_host: Some(host.into()),
        }
    }
}

/// A file the user data writes on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionFile {
    /// Absolute path on the instance.
    pub path: String,
    /// Octal mode, e.g. `0755`.
    pub permissions: &'static str,
    /// File content.
    pub content: String,
}

/// The script that delivers the storage key for `account_key` SMB pools, split around the key
/// so a template can put the key in between and send it only in the extension's protected
/// settings. What goes in between is the **base64 encoding of the key**, never the key itself
/// (ARM: `concat(before, base64(listKeys(..).keys[0].value), after)`): whatever a key holds,
/// its encoding is letters, digits, `+`, `/` and `=`, so it cannot end the quoted word it sits
/// in, and the script only decodes it into the standard input of `dsvmpool-storage-key`, which
/// refuses anything that is not a storage account key. The key is never on a command line and
/// never part of the script's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyDelivery {
    /// Script text before the encoded key.
    pub before_key: String,
    /// Script text after the encoded key.
    pub after_key: String,
}

impl KeyDelivery {
    fn new() -> Self {
        let before_key = format!(
            "#!/bin/sh\n\
             # dsvmpool: hand the storage key to {STORAGE_KEY_COMMAND} (standard input only).\n\
             # The key below is base64-encoded once more: data, decoded into standard input.\n\
             set -eu\n\
             i=0\n\
             while [ ! -x {STORAGE_KEY_COMMAND} ] && [ \"$i\" -lt 600 ]; do sleep 1; i=$((i + 1)); done\n\
             printf '%s\\n' '"
        );
        let after_key = format!("' | base64 -d | {STORAGE_KEY_COMMAND}\n");
        Self {
            before_key,
            after_key,
        }
    }

    /// The whole script with `key` in place (encoded). Anything but a storage account key
    /// (the base64 of 64 bytes, see [`crate::spec::values::is_storage_account_key`]) is refused
    /// without echoing it.
    pub fn with_key(&self, key: &str) -> Result<String> {
        use base64::Engine as _;
        check_storage_key("storage.key", key)?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(key);
        Ok(format!("{}{encoded}{}", self.before_key, self.after_key))
    }
}

/// `Ok` when `key` has the form of a storage account key; otherwise a validation error at
/// `field` that states the rule and never shows the value.
pub fn check_storage_key(field: &str, key: &str) -> Result<()> {
    if crate::spec::values::is_storage_account_key(key) {
        return Ok(());
    }
    Err(Error::invalid(
        Diagnostic::error(field, "storage-key", "is not a storage account key")
            .hint(crate::spec::values::STORAGE_KEY_RULE),
    ))
}

/// What provisioning renders for a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisioningArtifacts {
    /// The `#cloud-config` user data (Linux pools; `None` for Windows). Embed it as the scale
    /// set's `customData` (base64).
    pub user_data: Option<String>,
    /// The files the user data writes (configuration, scripts, units), for review and checks.
    pub files: Vec<ProvisionFile>,
    /// The command cloud-init runs once (and that can be run again, idempotently).
    pub provision_command: &'static str,
    /// `account_key` SMB pools: the protected-settings script that delivers the key.
    pub key_delivery: Option<KeyDelivery>,
    /// Windows pools: the PowerShell provisioning script.
    pub powershell: Option<String>,
}

/// Render the provisioning of a pool: the cloud-init user data for Linux pools, the PowerShell
/// script for Windows pools.
///
/// ```
/// use dsvmpool::Pool;
/// use dsvmpool::render::{render_cloud_init, ProvisionOptions};
/// let pool = Pool::from_toml(r#"
///     name = "team"
///     location = "westeurope"
///     resource_group = "rg-team"
///     [access]
///     ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
///     source_cidrs = ["203.0.113.0/24"]
///     [[users]]
///     name = "alice"
///     uid = 1101
/// "#)?.validate()?;
/// let out = render_cloud_init(&pool, &ProvisionOptions::default())?;
/// let user_data = out.user_data.unwrap();
/// assert!(user_data.starts_with("#cloud-config\n"));
/// assert!(user_data.contains("/usr/local/sbin/dsvmpool-provision"));
/// # Ok::<(), dsvmpool::Error>(())
/// ```
pub fn render_cloud_init(
    pool: &ValidPool,
    opts: &ProvisionOptions,
) -> Result<ProvisioningArtifacts> {
    let out = render_unchecked(pool, opts)?;
    if let Some(ud) = &out.user_data
        && ud.len() > MAX_USER_DATA
    {
        return Err(Error::invalid(
            Diagnostic::error(
                "users",
                "custom-data-size",
                format!(
                    "the user data would be {} bytes; Azure accepts at most {MAX_USER_DATA}",
                    ud.len()
                ),
            )
            .hint("fewer users or SSH keys in the spec (add the others after deployment)"),
        ));
    }
    Ok(out)
}

/// [`render_cloud_init`] without the size check (the template renderer reports an oversized
/// user data its own way, and the plan as a warning).
pub(crate) fn render_unchecked(
    pool: &ValidPool,
    opts: &ProvisionOptions,
) -> Result<ProvisioningArtifacts> {
    let host = match &opts.share_host {
        Some(h) if is_host(h) => h.clone(),
        Some(h) => {
            return Err(Error::invalid(
                Diagnostic::error(
                    "share_host",
                    "host",
                    format!("`{}` is not a host name or IP address", h.escape_debug()),
                )
                .hint("e.g. `myacct.privatelink.file.core.windows.net` or `10.20.8.4`"),
            ));
        }
        None => pool.storage_host(),
    };
    if pool.is_windows() {
        return Ok(ProvisioningArtifacts {
            user_data: None,
            files: vec![],
            provision_command: PROVISION_COMMAND,
            key_delivery: None,
            powershell: Some(mount::windows::render(pool, &host)),
        });
    }
    let files = linux_files(pool, &host);
    let user_data = user_data(pool, &files)?;
    let key_delivery = (pool.spec().storage.kind == StorageKind::AzureFilesSmb
        && pool.credential() == CredentialMethod::AccountKey)
        .then(KeyDelivery::new);
    Ok(ProvisioningArtifacts {
        user_data: Some(user_data),
        files,
        provision_command: PROVISION_COMMAND,
        key_delivery,
        powershell: None,
    })
}

/// The configuration file: one `NAME='value'` line per setting.
fn pool_conf(pool: &ValidPool, host: &str) -> String {
    let spec = pool.spec();
    let st = &spec.storage;
    let plan = mount::plan(pool, host);
    let account = pool.storage_account().unwrap_or_default();
    let kind = match st.kind {
        StorageKind::AzureFilesSmb => "azure_files_smb",
        StorageKind::AzureFilesNfs => "azure_files_nfs",
        StorageKind::Nfs => "nfs",
    };
    let credential = match pool.credential() {
        CredentialMethod::ManagedIdentity => "managed_identity",
        CredentialMethod::AccountKey => "account_key",
        CredentialMethod::None => "none",
    };
    let smb = st.kind == StorageKind::AzureFilesSmb;
    let mut vars: Vec<(&str, String)> = vec![
        ("DSVMPOOL_POOL", pool.name().to_string()),
        ("DSVMPOOL_KIND", kind.into()),
        ("DSVMPOOL_MOUNT", pool.mount_path().to_string()),
        ("DSVMPOOL_SOURCE", plan.source),
        ("DSVMPOOL_FSTYPE", plan.fstype.into()),
        ("DSVMPOOL_OPTIONS", plan.options),
        ("DSVMPOOL_PACKAGE", plan.package.into()),
        ("DSVMPOOL_ACCOUNT", account.to_string()),
        (
            "DSVMPOOL_CRED_FILE",
            if smb {
                smb::credentials_file(account)
            } else {
                String::new()
            },
        ),
        ("DSVMPOOL_CREDENTIAL", credential.into()),
        (
            "DSVMPOOL_USER_OPTIONS",
            if smb {
                smb::user_options(account)
            } else {
                String::new()
            },
        ),
    ];
    if smb && pool.credential() == CredentialMethod::ManagedIdentity {
        let cloud = spec.cloud;
        if let Some(SecretRef::KeyVault { key_vault }) = &st.key {
            let mut url = format!(
                "https://{}.{}/secrets/{}",
                key_vault.vault_name(),
                cloud.key_vault_suffix(),
                key_vault.secret
            );
            if let Some(v) = &key_vault.version {
                url = format!("{url}/{v}");
            }
            vars.push(("DSVMPOOL_KEY_VAULT_SECRET_URL", url));
            vars.push((
                "DSVMPOOL_KEY_VAULT_RESOURCE",
                format!("https://{}", cloud.key_vault_suffix()),
            ));
        }
        vars.push(("DSVMPOOL_ARM_ENDPOINT", cloud.management_endpoint().into()));
        vars.push((
            "DSVMPOOL_ACCOUNT_RESOURCE_GROUP",
            st.account
                .resource_group
                .clone()
                .unwrap_or_else(|| spec.resource_group.clone()),
        ));
    }
    let nb = &st.notebooks;
    vars.push((
        "DSVMPOOL_SHARING",
        match nb.sharing {
            Sharing::Private => "private",
            Sharing::Team => "team",
        }
        .into(),
    ));
    vars.push(("DSVMPOOL_GROUP", nb.group.clone()));
    vars.push(("DSVMPOOL_GROUP_GID", nb.gid.to_string()));
    vars.push(("DSVMPOOL_WAIT_SECONDS", "60".into()));
    vars.push(("DSVMPOOL_RETRY_FIRST", "5".into()));
    vars.push(("DSVMPOOL_RETRY_MAX", "30".into()));
    let mut out = format!(
        "# shellcheck shell=bash disable=SC2034\n\
         # dsvmpool {}: configuration of pool {} (sourced by the dsvmpool scripts).\n",
        crate::VERSION,
        sh_quote(pool.name())
    );
    for (k, v) in vars {
        out.push_str(&format!("{k}={}\n", sh_quote(&v)));
    }
    out
}

fn linux_files(pool: &ValidPool, host: &str) -> Vec<ProvisionFile> {
    let file = |path: &str, permissions, content: &str| ProvisionFile {
        path: path.into(),
        permissions,
        content: content.into(),
    };
    let spec = pool.spec();
    let mut users = String::new();
    for u in &spec.users {
        users.push_str(&format!(
            "{}:{}:{}:{}\n",
            u.name,
            u.uid,
            u.gid(),
            u8::from(u.admin)
        ));
    }
    let mut files = vec![
        file("/etc/dsvmpool/pool.conf", "0644", &pool_conf(pool, host)),
        file("/etc/dsvmpool/users", "0644", &users),
    ];
    for u in spec.users.iter().filter(|u| !u.ssh_keys.is_empty()) {
        let mut keys = u.ssh_keys.join("\n");
        keys.push('\n');
        files.push(file(
            &format!("/etc/dsvmpool/ssh/{}.pub", u.name),
            "0644",
            &keys,
        ));
    }
    files.extend([
        file(
            "/usr/local/lib/dsvmpool/dsvmpool-lib.sh",
            "0644",
            scripts::LIB,
        ),
        file(
            "/usr/local/lib/dsvmpool/dsvmpool-fetch-key",
            "0755",
            scripts::FETCH_KEY,
        ),
        file(PROVISION_COMMAND, "0755", scripts::PROVISION),
        file(
            "/usr/local/sbin/dsvmpool-workspace",
            "0755",
            scripts::WORKSPACE,
        ),
        file(
            "/usr/local/sbin/dsvmpool-notebooks",
            "0755",
            scripts::NOTEBOOKS,
        ),
        file(STORAGE_KEY_COMMAND, "0755", scripts::STORAGE_KEY),
        file(
            "/etc/systemd/system/dsvmpool-workspace.service",
            "0644",
            scripts::WORKSPACE_UNIT,
        ),
        file(
            "/usr/share/pam-configs/dsvmpool-notebooks",
            "0644",
            scripts::PAM_PROFILE,
        ),
    ]);
    files
}

#[derive(Serialize)]
struct CloudConfig<'a> {
    /// Always false: SSH stays key-only (or Entra ID). An admin password, when the spec has
    /// one, is for JupyterHub's PAM login and the console, not for SSH.
    ssh_pwauth: bool,
    write_files: Vec<WriteFile<'a>>,
    runcmd: Vec<Vec<&'a str>>,
}

#[derive(Serialize)]
struct WriteFile<'a> {
    path: &'a str,
    owner: &'a str,
    permissions: &'a str,
    content: &'a str,
}

fn user_data(pool: &ValidPool, files: &[ProvisionFile]) -> Result<String> {
    let doc = CloudConfig {
        ssh_pwauth: false,
        write_files: files
            .iter()
            .map(|f| WriteFile {
                path: &f.path,
                owner: "root:root",
                permissions: f.permissions,
                content: &f.content,
            })
            .collect(),
        runcmd: vec![vec![PROVISION_COMMAND]],
    };
    let body = serde_norway::to_string(&doc)
        .map_err(|e| Error::Render(format!("cannot write the cloud-config: {e}")))?;
    Ok(format!(
        "#cloud-config\n# dsvmpool {}: provisioning of pool {} ({} at {}).\n# Logs: journalctl -t dsvmpool\n{body}",
        crate::VERSION,
        pool.name(),
        match pool.spec().storage.kind {
            StorageKind::AzureFilesSmb => "Azure Files SMB",
            StorageKind::AzureFilesNfs => "Azure Files NFS",
            StorageKind::Nfs => "NFS",
        },
        pool.mount_path()
    ))
}

/// A host name (RFC 1123 labels) or an IP address.
fn is_host(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
