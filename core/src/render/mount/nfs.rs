//! Azure Files over NFS 4.1, and any NFS server.
//!
//! Azure Files NFS: `<account>.file.<suffix>:/<account>/<share>` with
//! `vers=4,minorversion=1,sec=sys,nconnect=4` (no key: access is by network; `sec=sys` is why
//! every instance gives a user the same uid/gid). Generic NFS: the spec's server, export and
//! version.

use super::{MountPlan, PERSISTENT_OPTIONS};
use crate::spec::{StorageKind, ValidPool};

/// The mount of an NFS pool.
pub fn plan(pool: &ValidPool, host: &str) -> MountPlan {
    let st = &pool.spec().storage;
    match (st.kind, &st.nfs) {
        (StorageKind::Nfs, Some(n)) => {
            let (fstype, vers) = match n.version.as_str() {
                "3" => ("nfs", "vers=3"),
                "4" | "4.0" => ("nfs4", "vers=4.0"),
                "4.2" => ("nfs4", "vers=4.2"),
                _ => ("nfs4", "vers=4.1"),
            };
            MountPlan {
                source: format!("{host}:{}", n.export),
                fstype,
                options: format!("{vers},sec=sys,{PERSISTENT_OPTIONS}"),
                package: "nfs-common",
            }
        }
        _ => {
            let account = pool.storage_account().unwrap_or_default();
            MountPlan {
                source: format!("{host}:/{account}/{}", st.share.name),
                fstype: "nfs4",
                options: format!("vers=4,minorversion=1,sec=sys,nconnect=4,{PERSISTENT_OPTIONS}"),
                package: "nfs-common",
            }
        }
    }
}
