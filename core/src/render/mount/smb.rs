//! Azure Files over SMB 3.1.1.
//!
//! Options from the Azure Files documentation: `vers=3.1.1`, a root-only credentials file
//! (`credentials=`, never `password=` on a command line), `serverino,nosharesock,actimeo=30`,
//! `mfsymlinks` (symlinks on Azure Files). Ownership and modes use the "client enforced access
//! control" model of Azure Files (`idsfromsid,modefromsid`): the owner's uid/gid and the mode
//! bits are stored in the file's ACL, so `<mount>/notebooks/<user>` really belongs to that
//! user (mode 0700) on every instance instead of one `uid=`/`file_mode=` for every file.

use super::{MountPlan, PERSISTENT_OPTIONS};
use crate::spec::ValidPool;

/// Where the root-only credentials file lives.
pub fn credentials_file(account: &str) -> String {
    format!("/etc/smbcredentials/{account}.cred")
}

/// Options shared by the share's mount and the per-user folder mounts (which add `uid=`,
/// `gid=`, `dir_mode=`, `file_mode=`).
pub fn user_options(account: &str) -> String {
    format!(
        "vers=3.1.1,credentials={},serverino,nosharesock,actimeo=30,mfsymlinks",
        credentials_file(account)
    )
}

/// The mount of an SMB pool.
pub fn plan(pool: &ValidPool, host: &str) -> MountPlan {
    let account = pool.storage_account().unwrap_or_default();
    MountPlan {
        source: format!("//{host}/{}", pool.spec().storage.share.name),
        fstype: "cifs",
        options: format!(
            "{},uid=0,gid=0,dir_mode=0711,file_mode=0600,{PERSISTENT_OPTIONS}",
            user_options(account)
        ),
        package: "cifs-utils",
    }
}
