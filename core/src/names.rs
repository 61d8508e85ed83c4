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

/// Fixed namespace of dsvmpool's role-assignment name GUIDs (never change it: deployed names
/// derive from it).
const ROLE_ASSIGNMENT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1c_2b1e_55a4_5d0b_9a53_8e0f_7c2d_4a11);

/// Name of a role assignment (a GUID, as Azure requires): a UUID v5 of the pool's identity
/// (subscription, resource group, pool name), the scope, the role and the principal, so the same
/// pool always renders the same names and two pools never share one.
pub fn role_assignment_name(pool: &ValidPool, scope: &str, role: &str, principal: &str) -> String {
    let s = pool.spec();
    let key = format!(
        "{}/{}/{}|{}|{}|{}",
        s.subscription.as_deref().unwrap_or("").to_ascii_lowercase(),
        s.resource_group.to_ascii_lowercase(),
        s.name,
        scope.to_ascii_lowercase(),
        role,
        principal
    );
    uuid::Uuid::new_v5(&ROLE_ASSIGNMENT_NAMESPACE, key.as_bytes()).to_string()
}

/// Name of a nested deployment that grants access in another resource group:
/// `<pool>-access-<purpose>` (≤ 64 characters for the longest pool name and the purposes used).
pub fn nested_deployment_name(pool: &ValidPool, purpose: &str) -> String {
    format!("{}-access-{purpose}", pool.name())
}
