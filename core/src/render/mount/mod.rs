//! How instances mount the shared workspace: Azure Files over SMB 3.1.1 ([`smb`]), Azure Files
//! over NFS 4.1 and any NFS server ([`nfs`]), and Windows instances ([`windows`]).
//!
//! Linux instances get static, shellcheck-clean scripts (the same for every pool) and one
//! rendered configuration file, `/etc/dsvmpool/pool.conf`, whose values are single-quoted for
//! the shell. The scripts are in `scripts/` beside this file.

pub mod nfs;
pub mod smb;
pub mod windows;

use crate::spec::{StorageKind, ValidPool};

/// `_netdev,nofail` and an automount: the share is mounted at first access (and by
/// `dsvmpool-workspace.service` at boot), comes back after reboot or deallocate/start, and an
/// unreachable server never blocks boot; one attempt gives up after 30 s.
pub const PERSISTENT_OPTIONS: &str =
    "_netdev,nofail,x-systemd.automount,x-systemd.mount-timeout=30";

/// One mount, as an fstab entry needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    /// What to mount: `//host/share` or `host:/path`.
    pub source: String,
    /// The file-system type as the kernel reports it (`cifs`, `nfs4`, `nfs`).
    pub fstype: &'static str,
    /// Mount options, the persistence options included.
    pub options: String,
    /// The package that provides the mount helper.
    pub package: &'static str,
}

/// The mount of a Linux pool; `host` replaces the storage host (see
/// [`crate::render::ProvisionOptions::share_host`]).
pub fn plan(pool: &ValidPool, host: &str) -> MountPlan {
    match pool.spec().storage.kind {
        StorageKind::AzureFilesSmb => smb::plan(pool, host),
        StorageKind::AzureFilesNfs | StorageKind::Nfs => nfs::plan(pool, host),
    }
}

/// Quote `s` for a POSIX shell: one single-quoted word (`'` becomes `'\''`).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quote `s` for PowerShell: one single-quoted string (`'` doubled, and the typographic
/// quotes PowerShell also treats as quotes).
pub fn ps_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The Linux scripts, installed by the user data.
pub mod scripts {
    /// Shared helpers (sourced).
    pub const LIB: &str = include_str!("scripts/dsvmpool-lib.sh");
    /// Idempotent provisioning, run by cloud-init (and safe to run again).
    pub const PROVISION: &str = include_str!("scripts/dsvmpool-provision");
    /// Background mount with retries and backoff; per-user folders.
    pub const WORKSPACE: &str = include_str!("scripts/dsvmpool-workspace");
    /// Per-user folders and links; the PAM session hook.
    pub const NOTEBOOKS: &str = include_str!("scripts/dsvmpool-notebooks");
    /// Stores the storage key read from standard input (SMB).
    pub const STORAGE_KEY: &str = include_str!("scripts/dsvmpool-storage-key");
    /// Managed identity: IMDS token, then Key Vault or ARM listKeys (Python 3, stdlib only).
    pub const FETCH_KEY: &str = include_str!("scripts/dsvmpool-fetch-key");
    /// The systemd unit of `dsvmpool-workspace`.
    pub const WORKSPACE_UNIT: &str = include_str!("scripts/dsvmpool-workspace.service");
    /// The pam-auth-update profile of the login hook.
    pub const PAM_PROFILE: &str = include_str!("scripts/pam-dsvmpool-notebooks");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(x)`y`"), "'$(x)`y`'");
        assert_eq!(ps_quote("it's"), "'it''s'");
        assert_eq!(ps_quote("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }
}
