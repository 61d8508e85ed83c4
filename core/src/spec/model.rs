//! The pool specification: one file describes one pool.
//!
//! Every struct here is what a user writes (TOML, YAML or JSON). Fields that have a sensible
//! default are optional; their defaults are documented on the field and applied by serde, so a
//! parsed [`PoolSpec`] is complete. Values whose correctness needs more than a type (names,
//! CIDRs, durations, times of day) stay plain strings here and are checked, all at once, by
//! [`crate::spec::validate`], which turns a `PoolSpec` into a [`crate::ValidPool`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The pinned default Ubuntu 22.04 DSVM image version. Image versions stay available about 12
/// months; find newer ones with
/// `az vm image list --publisher microsoft-dsvm --offer ubuntu-2204 --sku 2204-gen2 --all -o table`.
pub const DEFAULT_UBUNTU_IMAGE_VERSION: &str = "25.10.06";
/// The pinned default Windows Server 2019 DSVM image version (find newer ones with
/// `az vm image list --publisher microsoft-dsvm --offer dsvm-win-2019 --sku winserver-2019 --all`).
pub const DEFAULT_WINDOWS_IMAGE_VERSION: &str = "25.10.06";

/// A whole pool: a scale set of identical DSVMs behind one address, with a shared workspace and
/// autoscale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dsvmpool pool spec")]
pub struct PoolSpec {
    /// Pool name: 1-40 characters, lowercase letters, digits and hyphens, starting with a
    /// letter. Every Azure resource name is derived from it.
    pub name: String,
    /// Azure region, e.g. `westeurope`.
    pub location: String,
    /// Resource group the pool is deployed into (1-90 characters).
    pub resource_group: String,
    /// Subscription id (GUID). Default: the one of the credential in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// Tags put on every resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Azure cloud; changes endpoints and storage suffixes.
    #[serde(default)]
    pub cloud: Cloud,
    /// The virtual machines.
    #[serde(default)]
    pub vm: Vm,
    /// How many instances.
    #[serde(default)]
    pub capacity: Capacity,
    /// How users reach the pool.
    #[serde(default)]
    pub access: Access,
    /// Virtual network.
    #[serde(default)]
    pub network: Network,
    /// The shared workspace.
    #[serde(default)]
    pub storage: Storage,
    /// Team members: created on every instance with the same uid/gid.
    #[serde(default)]
    pub users: Vec<User>,
    /// Identity: Entra ID login and managed identities.
    #[serde(default)]
    pub identity: Identity,
    /// Autoscale profiles and rules.
    #[serde(default)]
    pub autoscale: Autoscale,
    /// Monthly budget for the pool's compute; lint compares it with max capacity x price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

/// Azure cloud.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Cloud {
    /// Azure public cloud.
    #[default]
    AzureCloud,
    /// Azure operated by 21Vianet (China).
    AzureChinaCloud,
    /// Azure Government (US).
    #[serde(rename = "AzureUSGovernment")]
    AzureUsGovernment,
}

impl Cloud {
    /// Resource Manager endpoint.
    pub fn management_endpoint(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://management.azure.com",
            Cloud::AzureChinaCloud => "https://management.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "https://management.usgovcloudapi.net",
        }
    }
    /// Storage endpoint suffix (`core.windows.net`, ...).
    pub fn storage_suffix(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "core.windows.net",
            Cloud::AzureChinaCloud => "core.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "core.usgovcloudapi.net",
        }
    }
    /// Key Vault DNS suffix.
    pub fn key_vault_suffix(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "vault.azure.net",
            Cloud::AzureChinaCloud => "vault.azure.cn",
            Cloud::AzureUsGovernment => "vault.usgovcloudapi.net",
        }
    }
    /// Public IP DNS suffix (`<label>.<region>.<suffix>`).
    pub fn cloudapp_suffix(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "cloudapp.azure.com",
            Cloud::AzureChinaCloud => "cloudapp.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "cloudapp.usgovcloudapi.net",
        }
    }
    /// Entra ID authority host.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://login.microsoftonline.com",
            Cloud::AzureChinaCloud => "https://login.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "https://login.microsoftonline.us",
        }
    }
}

/// Operating system of the DSVMs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Ubuntu DSVM (Linux).
    #[default]
    Ubuntu,
    /// Windows Server DSVM.
    Windows,
}

/// The virtual machines of the scale set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    /// Operating system. Default `ubuntu`.
    #[serde(default)]
    pub os: Os,
    /// Marketplace image. Default: the pinned current DSVM image for `os`
    /// (`microsoft-dsvm:ubuntu-2204:2204-gen2` or `microsoft-dsvm:dsvm-win-2019:winserver-2019`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// VM size. Default `Standard_D4s_v5`.
    #[serde(default = "default_vm_size")]
    pub size: String,
    /// OS disk.
    #[serde(default)]
    pub os_disk: OsDisk,
    /// `regular` (default) or `spot`.
    #[serde(default)]
    pub priority: Priority,
    /// Spot only: what Azure does on eviction. Default `deallocate`.
    #[serde(default)]
    pub eviction_policy: EvictionPolicy,
    /// Spot only: maximum price per hour in USD; `-1` (default) means up to the pay-as-you-go
    /// price.
    #[serde(default = "default_max_price")]
    pub max_price: f64,
    /// Availability zones (`"1"`, `"2"`, `"3"`). Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// Computer-name prefix of the instances. Default: the pool name (Linux ≤ 58, Windows ≤ 9
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer_name_prefix: Option<String>,
    /// Which instances autoscale removes first. Default `newest_vm`.
    #[serde(default)]
    pub scale_in_policy: ScaleInPolicy,
    /// Minutes instances get to finish work after a terminate notification (5-15). Default 10.
    #[serde(default = "default_terminate_minutes")]
    pub terminate_notification_minutes: u32,
}

fn default_vm_size() -> String {
    "Standard_D4s_v5".into()
}
fn default_max_price() -> f64 {
    -1.0
}
fn default_terminate_minutes() -> u32 {
    10
}

impl Default for Vm {
    fn default() -> Self {
        Self {
            os: Os::default(),
            image: None,
            size: default_vm_size(),
            os_disk: OsDisk::default(),
            priority: Priority::default(),
            eviction_policy: EvictionPolicy::default(),
            max_price: default_max_price(),
            zones: vec![],
            computer_name_prefix: None,
            scale_in_policy: ScaleInPolicy::default(),
            terminate_notification_minutes: default_terminate_minutes(),
        }
    }
}

/// A marketplace image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Publisher, e.g. `microsoft-dsvm`.
    pub publisher: String,
    /// Offer, e.g. `ubuntu-2204`.
    pub offer: String,
    /// SKU, e.g. `2204-gen2`.
    pub sku: String,
    /// Pinned version, e.g. `25.10.06` (`latest` is allowed but warned about).
    pub version: String,
    /// Marketplace plan, for images that need one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<ImagePlan>,
}

/// Marketplace purchase plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePlan {
    /// Plan name.
    pub name: String,
    /// Plan publisher.
    pub publisher: String,
    /// Plan product.
    pub product: String,
}

impl Image {
    /// The default DSVM image for an OS.
    pub fn default_for(os: Os) -> Image {
        match os {
            Os::Ubuntu => Image {
                publisher: "microsoft-dsvm".into(),
                offer: "ubuntu-2204".into(),
                sku: "2204-gen2".into(),
                version: DEFAULT_UBUNTU_IMAGE_VERSION.into(),
                plan: None,
            },
            Os::Windows => Image {
                publisher: "microsoft-dsvm".into(),
                offer: "dsvm-win-2019".into(),
                sku: "winserver-2019".into(),
                version: DEFAULT_WINDOWS_IMAGE_VERSION.into(),
                plan: None,
            },
        }
    }
    /// `publisher:offer:sku:version`.
    pub fn urn(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.publisher, self.offer, self.sku, self.version
        )
    }
}

/// OS disk settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsDisk {
    /// Size in GiB (30-4095). Default: the image's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_gib: Option<u32>,
    /// Storage type. Default `Premium_LRS`.
    #[serde(default)]
    pub storage_type: DiskType,
}

impl Default for OsDisk {
    fn default() -> Self {
        Self {
            size_gib: None,
            storage_type: DiskType::PremiumLrs,
        }
    }
}

/// Managed disk storage type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DiskType {
    /// Premium SSD.
    #[default]
    #[serde(rename = "Premium_LRS")]
    PremiumLrs,
    /// Standard SSD.
    #[serde(rename = "StandardSSD_LRS")]
    StandardSsdLrs,
    /// Standard HDD.
    #[serde(rename = "Standard_LRS")]
    StandardLrs,
}

impl DiskType {
    /// The ARM name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskType::PremiumLrs => "Premium_LRS",
            DiskType::StandardSsdLrs => "StandardSSD_LRS",
            DiskType::StandardLrs => "Standard_LRS",
        }
    }
}

/// VM priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Pay-as-you-go VMs.
    #[default]
    Regular,
    /// Spot VMs: cheaper, can be evicted.
    Spot,
}

/// Spot eviction policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EvictionPolicy {
    /// Keep the disk; the instance can start again.
    #[default]
    Deallocate,
    /// Delete the instance.
    Delete,
}

/// Scale-in policy of the scale set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScaleInPolicy {
    /// Azure's default: balance zones, then highest instance id.
    Default,
    /// Remove the newest instances first (keeps long-running sessions).
    #[default]
    NewestVm,
    /// Remove the oldest instances first.
    OldestVm,
}

impl ScaleInPolicy {
    /// The ARM name.
    pub fn as_arm(self) -> &'static str {
        match self {
            ScaleInPolicy::Default => "Default",
            ScaleInPolicy::NewestVm => "NewestVM",
            ScaleInPolicy::OldestVm => "OldestVM",
        }
    }
}

/// Instance counts (0-1000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Fewest instances autoscale keeps. Default 0.
    #[serde(default)]
    pub min: u32,
    /// Most instances autoscale starts. Default 10.
    #[serde(default = "default_max")]
    pub max: u32,
    /// Instances at deployment. Default: `min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<u32>,
}

fn default_max() -> u32 {
    10
}

impl Default for Capacity {
    fn default() -> Self {
        Self {
            min: 0,
            max: default_max(),
            initial: None,
        }
    }
}

impl Capacity {
    /// `initial`, or `min` when unset.
    pub fn initial(&self) -> u32 {
        self.initial.unwrap_or(self.min)
    }
}

/// A reference to a secret: never the secret itself.
///
/// Written as `{ env = "VAR" }` (read from the environment when dsvmpool deploys) or
/// `{ key_vault = { id = "/subscriptions/…/providers/Microsoft.KeyVault/vaults/kv", secret = "name" } }`.
/// A plain string is parsed only to be rejected by validation; its text is dropped at once.
#[derive(Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum SecretRef {
    /// Environment variable holding the secret.
    Env {
        /// Variable name.
        env: String,
    },
    /// Key Vault secret.
    KeyVault {
        /// The vault and secret.
        key_vault: KeyVaultSecret,
    },
    /// A literal secret was written in the file (always a validation error; the text is not kept).
    #[schemars(skip)]
    Literal,
    /// Neither or both of `env` and `key_vault` were given (always a validation error).
    #[schemars(skip)]
    Malformed,
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env { env } => write!(f, "SecretRef::Env({env})"),
            SecretRef::KeyVault { key_vault } => {
                write!(
                    f,
                    "SecretRef::KeyVault({}/{})",
                    key_vault.id, key_vault.secret
                )
            }
            SecretRef::Literal => f.write_str("SecretRef::Literal(<redacted>)"),
            SecretRef::Malformed => f.write_str("SecretRef::Malformed"),
        }
    }
}

/// A secret in Azure Key Vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyVaultSecret {
    /// Resource id of the vault:
    /// `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>`.
    pub id: String,
    /// Secret name.
    pub secret: String,
    /// Secret version. Default: the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl KeyVaultSecret {
    /// The vault name (last segment of the id).
    pub fn vault_name(&self) -> &str {
        self.id.rsplit('/').next().unwrap_or("")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretRefMap {
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    key_vault: Option<KeyVaultSecret>,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecretRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a secret reference { env = \"VAR\" } or { key_vault = { id, secret } }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, _v: &str) -> Result<SecretRef, E> {
                Ok(SecretRef::Literal)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SecretRef, A::Error> {
                let m =
                    SecretRefMap::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(match (m.env, m.key_vault) {
                    (Some(env), None) => SecretRef::Env { env },
                    (None, Some(key_vault)) => SecretRef::KeyVault { key_vault },
                    _ => SecretRef::Malformed,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            SecretRef::Env { env } => m.serialize_entry("env", env)?,
            SecretRef::KeyVault { key_vault } => m.serialize_entry("key_vault", key_vault)?,
            SecretRef::Literal | SecretRef::Malformed => {
                m.serialize_entry("invalid", "<redacted>")?
            }
        }
        m.end()
    }
}

/// How users reach the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Admin user created on every instance. Default `dsvmadmin`.
    #[serde(default = "default_admin")]
    pub admin_user: String,
    /// SSH public keys of the admin user (OpenSSH format).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_keys: Vec<String>,
    /// Admin password reference (needed on Windows, and on Linux for JupyterHub PAM login
    /// without per-user passwords). Never a literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// JupyterHub on the pool address.
    #[serde(default)]
    pub jupyterhub: JupyterHub,
    /// Per-instance SSH through inbound NAT (for debugging one instance).
    #[serde(default)]
    pub instance_ssh: InstanceSsh,
    /// DNS label of the public address (`<label>.<region>.cloudapp.azure.com`). Default:
    /// `<name>-<6 characters derived from the resource group and name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_label: Option<String>,
    /// Source CIDRs allowed to reach SSH and JupyterHub. Default `["0.0.0.0/0"]` (warned about).
    #[serde(default = "default_cidrs")]
    pub source_cidrs: Vec<String>,
}

fn default_admin() -> String {
    "dsvmadmin".into()
}
fn default_cidrs() -> Vec<String> {
    vec!["0.0.0.0/0".into()]
}

impl Default for Access {
    fn default() -> Self {
        Self {
            admin_user: default_admin(),
            ssh_keys: vec![],
            password: None,
            jupyterhub: JupyterHub::default(),
            instance_ssh: InstanceSsh::default(),
            dns_label: None,
            source_cidrs: default_cidrs(),
        }
    }
}

/// JupyterHub settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JupyterHub {
    /// Route JupyterHub through the load balancer. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Port (frontend and backend). Default 8000.
    #[serde(default = "default_jupyter_port")]
    pub port: u16,
}

fn yes() -> bool {
    true
}
fn default_jupyter_port() -> u16 {
    8000
}

impl Default for JupyterHub {
    fn default() -> Self {
        Self {
            enabled: true,
            port: default_jupyter_port(),
        }
    }
}

/// Per-instance SSH through inbound NAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSsh {
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// First frontend port. Default 50000.
    #[serde(default = "default_port_start")]
    pub port_start: u16,
    /// Last frontend port (inclusive); the range must hold `capacity.max` ports. Default 50999.
    #[serde(default = "default_port_end")]
    pub port_end: u16,
}

fn default_port_start() -> u16 {
    50000
}
fn default_port_end() -> u16 {
    50999
}

impl Default for InstanceSsh {
    fn default() -> Self {
        Self {
            enabled: true,
            port_start: default_port_start(),
            port_end: default_port_end(),
        }
    }
}

/// Virtual network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// VNet address space. Default `10.20.0.0/16`.
    #[serde(default = "default_vnet")]
    pub vnet_cidr: String,
    /// Subnet of the instances, inside the VNet. Default `10.20.0.0/22`.
    #[serde(default = "default_subnet")]
    pub subnet_cidr: String,
    /// Use this existing subnet (resource id) instead of creating a VNet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_subnet_id: Option<String>,
}

fn default_vnet() -> String {
    "10.20.0.0/16".into()
}
fn default_subnet() -> String {
    "10.20.0.0/22".into()
}

impl Default for Network {
    fn default() -> Self {
        Self {
            vnet_cidr: default_vnet(),
            subnet_cidr: default_subnet(),
            existing_subnet_id: None,
        }
    }
}

/// Kind of shared workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// Azure Files over SMB 3.1.1.
    #[default]
    AzureFilesSmb,
    /// Azure Files over NFS 4.1 (premium FileStorage, VNet only).
    AzureFilesNfs,
    /// Any NFS server.
    Nfs,
}

/// How instances get the storage credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialMethod {
    /// The instance's managed identity fetches the key at boot (from Key Vault when
    /// `storage.key` names a vault secret, else from the storage account via ARM). Nothing secret
    /// in the template or user data.
    ManagedIdentity,
    /// The account key reaches instances only through the extension's protected settings (read
    /// with `listKeys` inside the template, or from `storage.key`).
    AccountKey,
    /// No credential (NFS).
    None,
}

/// The shared workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// `azure_files_smb` (default), `azure_files_nfs` or `nfs`.
    #[serde(default)]
    pub kind: StorageKind,
    /// Storage account (Azure Files kinds).
    #[serde(default)]
    pub account: StorageAccount,
    /// The file share.
    #[serde(default)]
    pub share: Share,
    /// Where instances mount the share. Default `/shared/workspace`; never under `/mnt` (the
    /// ephemeral resource disk on Azure).
    #[serde(default = "default_mount")]
    pub mount_path: String,
    /// How instances get the credential. Default `managed_identity` for SMB, `none` for NFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialMethod>,
    /// Where the account key lives, when it is not read inside the template: a Key Vault secret
    /// (with `managed_identity`: fetched at boot) or an environment variable (with
    /// `account_key`: passed as a secure parameter at deploy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SecretRef>,
    /// Generic NFS server (kind `nfs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<NfsServer>,
    /// Per-user notebook folders.
    #[serde(default)]
    pub notebooks: Notebooks,
}

fn default_mount() -> String {
    "/shared/workspace".into()
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            kind: StorageKind::default(),
            account: StorageAccount::default(),
            share: Share::default(),
            mount_path: default_mount(),
            credential: None,
            key: None,
            nfs: None,
            notebooks: Notebooks::default(),
        }
    }
}

impl Storage {
    /// The credential method, with its kind-dependent default applied.
    pub fn credential(&self) -> CredentialMethod {
        self.credential.unwrap_or(match self.kind {
            StorageKind::AzureFilesSmb => CredentialMethod::ManagedIdentity,
            _ => CredentialMethod::None,
        })
    }
}

/// Storage account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageAccount {
    /// Account name (3-24 lowercase letters and digits, globally unique). Default: derived from
    /// the pool name and resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Create the account with the pool (default true) or use an existing one.
    #[serde(default = "yes")]
    pub create: bool,
    /// Resource group of an existing account. Default: the pool's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Account SKU when created. Default `Standard_LRS` (SMB) / `Premium_LRS` (NFS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

impl Default for StorageAccount {
    fn default() -> Self {
        Self {
            name: None,
            create: true,
            resource_group: None,
            sku: None,
        }
    }
}

/// File share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// Share name (3-63 lowercase letters, digits, hyphens). Default `workspace`.
    #[serde(default = "default_share")]
    pub name: String,
    /// Quota in GiB (1-102400; premium NFS ≥ 100). Default 1024.
    #[serde(default = "default_quota")]
    pub quota_gib: u32,
}

fn default_share() -> String {
    "workspace".into()
}
fn default_quota() -> u32 {
    1024
}

impl Default for Share {
    fn default() -> Self {
        Self {
            name: default_share(),
            quota_gib: default_quota(),
        }
    }
}

/// A generic NFS server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfsServer {
    /// Host name or IP address.
    pub server: String,
    /// Exported path, e.g. `/export/team`.
    pub export: String,
    /// NFS version: `4.1` (default), `4.2`, `4` or `3`.
    #[serde(default = "default_nfs_version")]
    pub version: String,
}

fn default_nfs_version() -> String {
    "4.1".into()
}

/// Per-user notebook folders under `<mount>/notebooks/<user>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notebooks {
    /// `private` (default: mode 0700, owner only) or `team` (mode 2770, shared with `group`).
    #[serde(default)]
    pub sharing: Sharing,
    /// Team group name (for `team` sharing). Default `datasci`.
    #[serde(default = "default_group")]
    pub group: String,
    /// Team group gid. Default 3000.
    #[serde(default = "default_gid")]
    pub gid: u32,
}

fn default_group() -> String {
    "datasci".into()
}
fn default_gid() -> u32 {
    3000
}

impl Default for Notebooks {
    fn default() -> Self {
        Self {
            sharing: Sharing::default(),
            group: default_group(),
            gid: default_gid(),
        }
    }
}

/// Notebook folder sharing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    /// Only the owner can read and write.
    #[default]
    Private,
    /// The team group can read and write.
    Team,
}

/// A team member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name: `^[a-z_][a-z0-9_-]{0,31}$`, not reserved.
    pub name: String,
    /// Fixed uid (1000-60000), the same on every instance.
    pub uid: u32,
    /// Fixed primary gid. Default: the uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// SSH public keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_keys: Vec<String>,
    /// Member of the admin (sudo) group. Default false.
    #[serde(default)]
    pub admin: bool,
}

impl User {
    /// The gid (defaults to the uid).
    pub fn gid(&self) -> u32 {
        self.gid.unwrap_or(self.uid)
    }
}

/// Identity settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Enable Entra ID SSH login (AADSSHLoginForLinux). Default false.
    #[serde(default)]
    pub entra_id_login: bool,
    /// Entra object ids granted "Virtual Machine Administrator Login".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_admins: Vec<String>,
    /// Entra object ids granted "Virtual Machine User Login".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_users: Vec<String>,
    /// User-assigned managed identities (resource ids) added to the instances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_assigned: Vec<String>,
}

/// Autoscale settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// Render an autoscale setting. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Profiles, in Azure's order of precedence: fixed-date, then recurring, then the default
    /// (the one with neither). At most 20 in all (with the shorthand's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
    /// Shorthand: working hours with a minimum, zero outside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero: Option<ScaleToZero>,
    /// Metric rules of the profiles dsvmpool generates: the shorthand's two profiles, or the one
    /// default profile built from `capacity` when no profiles are given. Profiles written in
    /// `profiles` carry their own rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Scale on sessions (active + waiting per instance) instead of, or besides, CPU: adds its
    /// rules to every profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionScaling>,
}

impl Default for Autoscale {
    fn default() -> Self {
        Self {
            enabled: true,
            profiles: vec![],
            scale_to_zero: None,
            rules: vec![],
            sessions: None,
        }
    }
}

/// Session-based scaling.
///
/// A session is a user's JupyterHub or SSH session. Two Azure Monitor custom metrics, one
/// value per minute for the whole pool, are published on the scale set (or `resource_id`) by
/// `dsvmpool::lifecycle::publish_sessions` (`dsvmpool sessions`), which whatever fronts the
/// pool (e.g. the portal backend in front of JupyterHub) calls each minute: `metric`, the active
/// plus waiting sessions, and `waiting_metric`, the sessions waiting for an instance. Because they are published for the pool rather than
/// read from the instances, they exist at zero instances, so the pool can scale out from
/// zero when someone waits. The rules added to every profile are, in this order:
///
/// 1. `metric` (dividePerInstance) greater than `target_per_vm` → add `scale_out_by`;
/// 2. (when `wake_on_waiting`) the last `waiting_metric` value greater than 0 → add
///    `scale_out_by`;
/// 3. `metric` (dividePerInstance) less than `scale_in_below` → remove one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionScaling {
    /// Sessions one instance should carry (1-1000).
    pub target_per_vm: u32,
    /// Custom metric: active + waiting sessions of the pool. Default `Sessions`.
    #[serde(default = "default_sessions_metric")]
    pub metric: String,
    /// Custom metric: sessions waiting for an instance. Default `WaitingSessions`.
    #[serde(default = "default_waiting_metric")]
    pub waiting_metric: String,
    /// Custom metric namespace. Default `dsvmpool`.
    #[serde(default = "default_sessions_namespace")]
    pub namespace: String,
    /// Resource the metrics are published on. Default: the scale set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Remove an instance when sessions per instance fall below this. Default
    /// `target_per_vm / 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_below: Option<f64>,
    /// Instances added per scale-out (1-1000). Default 1.
    #[serde(default = "one")]
    pub scale_out_by: u32,
    /// Scale out when a session waits, even at zero instances. Default true.
    #[serde(default = "yes")]
    pub wake_on_waiting: bool,
    /// Look-back window of the session rules, 5 min-12 h. Default `PT5M`.
    #[serde(default = "default_sessions_window")]
    pub window: String,
    /// Wait after a session rule acts, 1 min-1 week. Default `PT5M`.
    #[serde(default = "default_cooldown")]
    pub cooldown: String,
}

fn default_sessions_metric() -> String {
    "Sessions".into()
}
fn default_waiting_metric() -> String {
    "WaitingSessions".into()
}
fn default_sessions_namespace() -> String {
    "dsvmpool".into()
}
fn default_sessions_window() -> String {
    "PT5M".into()
}

impl SessionScaling {
    /// `scale_in_below`, or half the target when unset.
    pub fn scale_in_below(&self) -> f64 {
        self.scale_in_below
            .unwrap_or(f64::from(self.target_per_vm) / 2.0)
    }
}

/// An autoscale profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile name (1-256 characters, unique).
    pub name: String,
    /// Fewest instances (0-1000).
    pub min: u32,
    /// Most instances (0-1000).
    pub max: u32,
    /// Instances when metrics are missing (between min and max).
    pub default: u32,
    /// Weekly schedule; starts the profile at the given times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    /// Fixed date range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_date: Option<FixedDate>,
    /// Metric rules (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// A weekly recurrence (Azure `recurrence.frequency = Week`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// Days: `monday` … `sunday` (or `mon` … `sun`).
    pub days: Vec<String>,
    /// Start time `HH:MM` (24 h).
    pub start: String,
    /// Windows time-zone name, e.g. `W. Europe Standard Time`. Default `UTC`.
    #[serde(default = "default_tz")]
    pub time_zone: String,
}

fn default_tz() -> String {
    "UTC".into()
}

/// A fixed date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedDate {
    /// Start, `YYYY-MM-DDTHH:MM[:SS]`.
    pub start: String,
    /// End, `YYYY-MM-DDTHH:MM[:SS]`, after start.
    pub end: String,
    /// Windows time-zone name. Default `UTC`.
    #[serde(default = "default_tz")]
    pub time_zone: String,
}

/// A metric rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Metric name, e.g. `Percentage CPU`.
    pub metric: String,
    /// Metric namespace. Default: the scale set's (`microsoft.compute/virtualmachinescalesets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Resource id the metric comes from. Default: the scale set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// How instance values are combined per grain. Default `average`.
    #[serde(default)]
    pub statistic: Statistic,
    /// Metric granularity, ISO 8601 (`PT1M`) or short (`1m`), 1 min-12 h. Default `PT1M`.
    #[serde(default = "default_grain")]
    pub time_grain: String,
    /// Look-back window, 5 min-12 h. Default `PT10M`.
    #[serde(default = "default_window")]
    pub window: String,
    /// How grains in the window are combined. Default `average`.
    #[serde(default)]
    pub aggregation: Aggregation,
    /// Comparison.
    pub operator: Operator,
    /// Threshold.
    pub threshold: f64,
    /// `increase` (scale out) or `decrease` (scale in).
    pub action: Direction,
    /// `change_count` (default), `percent_change_count` or `exact_count`.
    #[serde(default, rename = "type")]
    pub change: ChangeType,
    /// Instances (or percent) to change by, or the exact count. ≥ 1 (≥ 0 for exact count).
    pub value: u32,
    /// Wait after this action, 1 min-1 week. Default `PT5M`.
    #[serde(default = "default_cooldown")]
    pub cooldown: String,
}

fn default_grain() -> String {
    "PT1M".into()
}
fn default_window() -> String {
    "PT10M".into()
}
fn default_cooldown() -> String {
    "PT5M".into()
}

/// Metric statistic across instances within a grain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// Mean.
    #[default]
    #[serde(alias = "Average")]
    Average,
    /// Minimum.
    #[serde(alias = "Min")]
    Min,
    /// Maximum.
    #[serde(alias = "Max")]
    Max,
    /// Sum.
    #[serde(alias = "Sum")]
    Sum,
    /// Count.
    #[serde(alias = "Count")]
    Count,
}

/// How grains in the window are combined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// Mean.
    #[default]
    #[serde(alias = "Average")]
    Average,
    /// Minimum.
    #[serde(alias = "Minimum")]
    Minimum,
    /// Maximum.
    #[serde(alias = "Maximum")]
    Maximum,
    /// Sum.
    #[serde(alias = "Total")]
    Total,
    /// Count.
    #[serde(alias = "Count")]
    Count,
    /// Last value.
    #[serde(alias = "Last")]
    Last,
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// `>`
    #[serde(alias = ">", alias = "GreaterThan")]
    GreaterThan,
    /// `>=`
    #[serde(alias = ">=", alias = "GreaterThanOrEqual")]
    GreaterThanOrEqual,
    /// `<`
    #[serde(alias = "<", alias = "LessThan")]
    LessThan,
    /// `<=`
    #[serde(alias = "<=", alias = "LessThanOrEqual")]
    LessThanOrEqual,
    /// `==`
    #[serde(alias = "==", alias = "Equals")]
    Equals,
    /// `!=`
    #[serde(alias = "!=", alias = "NotEquals")]
    NotEquals,
}

/// Scale direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Scale out.
    #[serde(alias = "Increase", alias = "out")]
    Increase,
    /// Scale in.
    #[serde(alias = "Decrease", alias = "in")]
    Decrease,
}

/// Scale action type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// Add or remove `value` instances.
    #[default]
    #[serde(alias = "ChangeCount")]
    ChangeCount,
    /// Add or remove `value` percent of the current count.
    #[serde(alias = "PercentChangeCount")]
    PercentChangeCount,
    /// Set the count to `value`.
    #[serde(alias = "ExactCount")]
    ExactCount,
}

/// Shorthand: a minimum during working hours, zero outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleToZero {
    /// Working days. Default Monday-Friday.
    #[serde(default = "default_weekdays")]
    pub days: Vec<String>,
    /// Start of working hours `HH:MM`. Default `08:00`.
    #[serde(default = "default_start")]
    pub start: String,
    /// End of working hours `HH:MM`, after start. Default `19:00`.
    #[serde(default = "default_end")]
    pub end: String,
    /// Windows time-zone name. Default `UTC`.
    #[serde(default = "default_tz")]
    pub time_zone: String,
    /// Minimum instances during working hours. Default 1.
    #[serde(default = "one")]
    pub min: u32,
}

fn default_weekdays() -> Vec<String> {
    ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .map(String::from)
        .to_vec()
}
fn default_start() -> String {
    "08:00".into()
}
fn default_end() -> String {
    "19:00".into()
}
fn one() -> u32 {
    1
}

/// Budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Monthly budget in USD for the pool's compute.
    pub monthly: f64,
}
