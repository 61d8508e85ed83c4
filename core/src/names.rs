//! The one naming convention for every Azure resource of a pool.
//!
//! Names are `<pool>-<suffix>`; with the longest allowed pool name (40 characters) every name
//! stays within Azure's limits (VNet/NSG/LB/public IP/NAT ≤ 80, scale set ≤ 64, autoscale
//! setting ≤ 260). The storage account and DNS label come from [`ValidPool`] (derived from the
//! pool name plus a stable hash, unless the spec sets them).

use crate::spec::ValidPool;
use serde::Serialize;

/// Names of a pool's resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceNames {
    /// Virtual network.
    pub vnet: String,
    /// Subnet of the instances.
    pub subnet: String,
    /// Network security group on the subnet.
    pub nsg: String,
    /// Standard static public IP.
    pub public_ip: String,
    /// Standard load balancer.
    pub load_balancer: String,
    /// Scale set.
    pub scale_set: String,
    /// Autoscale setting.
    pub autoscale: String,
    /// Storage account (Azure Files kinds).
    pub storage_account: Option<String>,
    /// File share (Azure Files kinds).
    pub share: Option<String>,
    /// The ARM deployment dsvmpool creates.
    pub deployment: String,
}

impl ResourceNames {
    /// Names for a pool.
    pub fn for_pool(pool: &ValidPool) -> Self {
        let n = pool.name();
        ResourceNames {
            vnet: format!("{n}-vnet"),
            subnet: format!("{n}-subnet"),
            nsg: format!("{n}-nsg"),
            public_ip: format!("{n}-pip"),
            load_balancer: format!("{n}-lb"),
            scale_set: format!("{n}-vmss"),
            autoscale: format!("{n}-autoscale"),
            storage_account: pool.storage_account().map(str::to_string),
            share: pool
                .storage_account()
                .map(|_| pool.spec().storage.share.name.clone()),
            deployment: format!("dsvmpool-{n}"),
        }
    }
}
