//! The ARM template of a pool (classic `resources` array, `$schema` deploymentTemplate
//! 2019-04-01).
//!
//! Resource names are literal (from [`ResourceNames`]), so the template reads like the plan.
//! Expressions stay within `parameters()`, `variables()`, `concat()`, `format()`,
//! `resourceId()`, `resourceGroup()`, `subscription()`, `reference()`, `listKeys()` and
//! `base64()`. A storage key appears only inside `protectedSettings` (read with `listKeys`, or a
//! `securestring` parameter); no output, tag or public setting holds a secret.

use super::params::{self, Param, names as p};
use super::storage_resource_group;
use super::{ProvisioningArtifacts, RenderOptions};
use crate::names::{ResourceNames, nested_deployment_name, role_assignment_name};
use crate::spec::values::format_iso_duration;
use crate::spec::{
    CredentialMethod, DiskType, EvictionPolicy, Os, Priority, SecretRef, StorageKind, ValidPool,
};
use serde_json::{Map, Value, json};

/// `$schema` of the template.
pub const TEMPLATE_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// API versions the template uses (each has an official schema the offline validator knows).
pub mod api {
    /// Microsoft.Compute.
    pub const COMPUTE: &str = "2024-07-01";
    /// Microsoft.Network.
    pub const NETWORK: &str = "2024-05-01";
    /// Microsoft.Insights (autoscale settings).
    pub const INSIGHTS: &str = "2022-10-01";
    /// Microsoft.Storage.
    pub const STORAGE: &str = "2023-05-01";
    /// Microsoft.Authorization (role assignments).
    pub const AUTHORIZATION: &str = "2022-04-01";
    /// Microsoft.Resources (nested deployments into another resource group).
    pub const RESOURCES: &str = "2024-03-01";
}

/// Built-in Azure role definition ids.
pub mod roles {
    /// Reader and Data Access: read the storage account and list its keys.
    pub const READER_AND_DATA_ACCESS: &str = "c12c1c16-33a1-487b-954d-41c89c60f349";
    /// Key Vault Secrets User: read secret values.
    pub const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
    /// Virtual Machine Administrator Login (Entra ID SSH login with sudo).
    pub const VM_ADMINISTRATOR_LOGIN: &str = "1c0163c0-47e6-4577-8991-ea5c82e286e4";
    /// Virtual Machine User Login (Entra ID SSH login).
    pub const VM_USER_LOGIN: &str = "fb879df8-f326-4884-b1cf-06f3ad86be52";
}

/// Names of the load balancer's parts and the NIC configuration.
pub mod parts {
    /// Frontend IP configuration.
    pub const FRONTEND: &str = "frontend";
    /// Backend address pool.
    pub const BACKEND: &str = "backend";
    /// Inbound NAT rule for per-instance access.
    pub const INSTANCE_NAT: &str = "instance-access";
    /// Outbound rule.
    pub const OUTBOUND: &str = "outbound";
    /// NIC configuration of the instances.
    pub const NIC: &str = "nic";
    /// IP configuration of that NIC.
    pub const IP_CONFIG: &str = "ipconfig";
}

/// How the load balancer checks a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// TCP connect.
    Tcp,
    /// HTTPS GET of a path (certificate not verified by Azure); 200 means healthy.
    Https(&'static str),
}

/// A port the pool's address routes to every instance (`SourceIP` affinity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Rule, probe and NSG rule name.
    pub name: &'static str,
    /// Frontend and backend port.
    pub port: u16,
    /// Health probe.
    pub probe: ProbeKind,
}

/// The ports routed through the load balancer: SSH and JupyterHub on Linux, RDP on Windows.
pub fn routes(pool: &ValidPool) -> Vec<Route> {
    let s = pool.spec();
    match s.vm.os {
        Os::Ubuntu => {
            let mut r = vec![Route {
                name: "ssh",
                port: 22,
                probe: ProbeKind::Tcp,
            }];
            if s.access.jupyterhub.enabled {
                r.push(Route {
                    name: "jupyterhub",
                    port: s.access.jupyterhub.port,
                    probe: ProbeKind::Https("/hub/health"),
                });
            }
            r
        }
        Os::Windows => vec![Route {
            name: "rdp",
            port: 3389,
            probe: ProbeKind::Tcp,
        }],
    }
}

/// Backend port of the per-instance NAT rule: 22 (SSH) on Linux, 3389 (RDP) on Windows.
pub fn instance_backend_port(pool: &ValidPool) -> u16 {
    if pool.is_windows() { 3389 } else { 22 }
}

/// Outbound SNAT ports per instance: the 64,000 ports of the frontend address shared by the
/// largest pool, at most 1,024, a multiple of 8.
pub fn outbound_ports(pool: &ValidPool) -> u32 {
    let max = pool.spec().capacity.max.max(1);
    ((64_000 / max).min(1024) / 8 * 8).max(8)
}

/// A string from the spec as a template value: ARM evaluates a string that starts with `[` and
/// ends with `]` as an expression, so such a string gets a second `[` (ARM's escape: `[[x]`
/// is the literal `[x]`). Every spec string that lands in the template as a whole JSON string
/// (or object key) goes through here; inside an expression a spec string is a quoted literal
/// instead ([`lit`]).
pub fn text(s: &str) -> String {
    if s.starts_with('[') && s.ends_with(']') {
        format!("[{s}")
    } else {
        s.to_string()
    }
}

/// [`text`] applied to every string and object key of `v` except the strings in `keep` (the
/// expressions the renderer itself put in `v`).
fn text_all(v: Value, keep: &[&str]) -> Value {
    match v {
        Value::String(s) if keep.contains(&s.as_str()) => Value::String(s),
        Value::String(s) => Value::String(text(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| text_all(x, keep)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (text(&k), text_all(x, keep)))
                .collect(),
        ),
        other => other,
    }
}

/// An ARM string literal (`'...'` with quotes doubled).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `resourceId('type', 'name'...)` (without brackets).
fn rid_expr(ty: &str, names: &[&str]) -> String {
    let mut args = vec![lit(ty)];
    args.extend(names.iter().map(|n| lit(n)));
    format!("resourceId({})", args.join(", "))
}

/// `[resourceId('type', 'name'...)]`.
fn rid(ty: &str, names: &[&str]) -> String {
    format!("[{}]", rid_expr(ty, names))
}

fn param(name: &str) -> String {
    format!("[parameters({})]", lit(name))
}

const T_NSG: &str = "Microsoft.Network/networkSecurityGroups";
const T_VNET: &str = "Microsoft.Network/virtualNetworks";
const T_SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const T_PIP: &str = "Microsoft.Network/publicIPAddresses";
const T_LB: &str = "Microsoft.Network/loadBalancers";
const T_VMSS: &str = "Microsoft.Compute/virtualMachineScaleSets";
const T_STORAGE: &str = "Microsoft.Storage/storageAccounts";
const T_FILE_SERVICES: &str = "Microsoft.Storage/storageAccounts/fileServices";
const T_SHARE: &str = "Microsoft.Storage/storageAccounts/fileServices/shares";
const T_AUTOSCALE: &str = "Microsoft.Insights/autoscalesettings";
const T_ROLE: &str = "Microsoft.Authorization/roleAssignments";
const T_DEPLOYMENT: &str = "Microsoft.Resources/deployments";

/// Everything the builders share.
struct Ctx<'a> {
    pool: &'a ValidPool,
    names: &'a ResourceNames,
    tags: Value,
}

impl Ctx<'_> {
    fn lb_part(&self, kind: &str, name: &str) -> Value {
        json!({ "id": rid(&format!("{T_LB}/{kind}"), &[&self.names.load_balancer, name]) })
    }
    fn vmss_id(&self) -> String {
        rid(T_VMSS, &[&self.names.scale_set])
    }
    fn subnet_id(&self) -> String {
        match &self.pool.spec().network.existing_subnet_id {
            Some(id) => text(id),
            None => rid(T_SUBNET, &[&self.names.vnet, &self.names.subnet]),
        }
    }
    /// Whether the pool creates its storage account.
    fn creates_storage(&self) -> bool {
        self.pool.storage_account().is_some() && self.pool.spec().storage.account.create
    }
    /// Whether the storage account lives in the pool's resource group.
    fn storage_local(&self) -> bool {
        storage_resource_group(self.pool).eq_ignore_ascii_case(&self.pool.spec().resource_group)
    }
    /// `resourceId(...)` of the storage account (without brackets).
    fn storage_rid_expr(&self) -> String {
        let acct = self.pool.storage_account().unwrap_or_default();
        if self.storage_local() {
            rid_expr(T_STORAGE, &[acct])
        } else {
            format!(
                "resourceId({}, {}, {})",
                lit(storage_resource_group(self.pool)),
                lit(T_STORAGE),
                lit(acct)
            )
        }
    }
    /// The expression (without brackets) that yields the storage key, when instances get it
    /// through protected settings.
    fn storage_key_expr(&self, params: &[Param]) -> Option<String> {
        if self.pool.credential() != CredentialMethod::AccountKey {
            return None;
        }
        if params::has(params, p::STORAGE_ACCOUNT_KEY) {
            return Some(format!("parameters({})", lit(p::STORAGE_ACCOUNT_KEY)));
        }
        Some(format!(
            "listKeys({}, {}).keys[0].value",
            self.storage_rid_expr(),
            lit(api::STORAGE)
        ))
    }
    fn principal_id(&self) -> String {
        format!(
            "[reference({}, {}, 'full').identity.principalId]",
            rid_expr(T_VMSS, &[&self.names.scale_set]),
            lit(api::COMPUTE)
        )
    }
}

fn tags(pool: &ValidPool) -> Value {
    let mut m = Map::new();
    for (k, v) in &pool.spec().tags {
        m.insert(text(k), json!(text(v)));
    }
    m.entry("dsvmpool-pool")
        .or_insert_with(|| json!(text(pool.name())));
    Value::Object(m)
}

/// The template of a pool.
pub(crate) fn template(
    pool: &ValidPool,
    opts: &RenderOptions,
    names: &ResourceNames,
    params: &[Param],
    prov: &ProvisioningArtifacts,
) -> Value {
    let cx = Ctx {
        pool,
        names,
        tags: tags(pool),
    };
    let s = pool.spec();
    let mut resources = Vec::new();
    // The NSG goes on the pool's subnet, or on the NICs when the subnet is an existing one.
    resources.push(nsg(&cx));
    if s.network.existing_subnet_id.is_none() {
        resources.push(vnet(&cx));
    }
    resources.push(public_ip(&cx));
    resources.push(load_balancer(&cx));
    if cx.creates_storage() {
        resources.extend(storage(&cx));
    }
    resources.push(scale_set(&cx, opts, params, prov));
    resources.extend(role_assignments(&cx));
    if s.autoscale.enabled {
        resources.push(json!({
            "type": T_AUTOSCALE,
            "apiVersion": api::INSIGHTS,
            "name": names.autoscale,
            "location": param(p::LOCATION),
            "tags": cx.tags,
            "dependsOn": [cx.vmss_id()],
            "properties": autoscale_properties(pool, &cx.vmss_id()),
        }));
    }

    let mut t = Map::new();
    t.insert("$schema".into(), json!(TEMPLATE_SCHEMA));
    t.insert("contentVersion".into(), json!("1.0.0.0"));
    let mut meta = Map::new();
    if opts.generator_metadata {
        meta.insert(
            "_generator".into(),
            json!({ "name": "dsvmpool", "version": crate::VERSION }),
        );
    }
    meta.insert(
        "description".into(),
        json!(format!(
            "dsvmpool pool `{}`: a scale set of {} behind {} (rendered from the pool spec; \
             re-render instead of editing).",
            s.name,
            match s.vm.os {
                Os::Ubuntu => "Ubuntu Data Science VMs",
                Os::Windows => "Windows Data Science VMs",
            },
            pool.fqdn()
        )),
    );
    t.insert("metadata".into(), Value::Object(meta));
    t.insert("parameters".into(), params::template_section(params));
    let mut vars = Map::new();
    if let Some(ud) = &prov.user_data {
        vars.insert("cloudInit".into(), json!(ud));
    }
    if let Some(ps) = &prov.powershell {
        vars.insert("provisionScript".into(), json!(ps));
    }
    t.insert("variables".into(), Value::Object(vars));
    t.insert("resources".into(), Value::Array(resources));
    t.insert("outputs".into(), outputs(&cx));
    Value::Object(t)
}

fn nsg(cx: &Ctx) -> Value {
    let mut rules = Vec::new();
    for (i, r) in routes(cx.pool).iter().enumerate() {
        rules.push(json!({
            "name": format!("allow-{}", r.name),
            "properties": {
                "description": format!("{} ({}) from the allowed source ranges", r.name, r.port),
                "protocol": "Tcp",
                "sourcePortRange": "*",
                "sourceAddressPrefixes": param(p::SOURCE_ADDRESS_PREFIXES),
                "destinationAddressPrefix": "*",
                "destinationPortRange": r.port.to_string(),
                "access": "Allow",
                "priority": 100 + 10 * i,
                "direction": "Inbound",
            }
        }));
    }
    json!({
        "type": T_NSG,
        "apiVersion": api::NETWORK,
        "name": cx.names.nsg,
        "location": param(p::LOCATION),
        "tags": cx.tags,
        "properties": { "securityRules": rules },
    })
}

/// Whether the subnet needs the Microsoft.Storage service endpoint (Azure Files NFS is reached
/// through the VNet only).
pub fn needs_storage_endpoint(pool: &ValidPool) -> bool {
    pool.spec().storage.kind == StorageKind::AzureFilesNfs
}

fn vnet(cx: &Ctx) -> Value {
    let s = cx.pool.spec();
    let mut subnet = Map::new();
    subnet.insert("addressPrefix".into(), json!(text(&s.network.subnet_cidr)));
    subnet.insert(
        "networkSecurityGroup".into(),
        json!({ "id": rid(T_NSG, &[&cx.names.nsg]) }),
    );
    if needs_storage_endpoint(cx.pool) {
        subnet.insert(
            "serviceEndpoints".into(),
            json!([{ "service": "Microsoft.Storage", "locations": [param(p::LOCATION)] }]),
        );
    }
    // Outbound connectivity is the load balancer's outbound rule, never default outbound access.
    subnet.insert("defaultOutboundAccess".into(), json!(false));
    json!({
        "type": T_VNET,
        "apiVersion": api::NETWORK,
        "name": cx.names.vnet,
        "location": param(p::LOCATION),
        "tags": cx.tags,
        "dependsOn": [rid(T_NSG, &[&cx.names.nsg])],
        "properties": {
            "addressSpace": { "addressPrefixes": [text(&s.network.vnet_cidr)] },
            "subnets": [{ "name": cx.names.subnet, "properties": subnet }],
        },
    })
}

fn public_ip(cx: &Ctx) -> Value {
    let s = cx.pool.spec();
    let mut r = json!({
        "type": T_PIP,
        "apiVersion": api::NETWORK,
        "name": cx.names.public_ip,
        "location": param(p::LOCATION),
        "tags": cx.tags,
        "sku": { "name": "Standard", "tier": "Regional" },
        "properties": {
            "publicIPAllocationMethod": "Static",
            "publicIPAddressVersion": "IPv4",
            "idleTimeoutInMinutes": 30,
            "dnsSettings": { "domainNameLabel": text(cx.pool.dns_label()) },
        },
    });
    if !s.vm.zones.is_empty() {
        r["zones"] = json!(s.vm.zones.iter().map(|z| text(z)).collect::<Vec<_>>());
    }
    r
}

fn load_balancer(cx: &Ctx) -> Value {
    let s = cx.pool.spec();
    let fe = cx.lb_part("frontendIPConfigurations", parts::FRONTEND);
    let be = cx.lb_part("backendAddressPools", parts::BACKEND);
    let mut probes = Vec::new();
    let mut rules = Vec::new();
    for r in routes(cx.pool) {
        let mut probe = Map::new();
        match r.probe {
            ProbeKind::Tcp => {
                probe.insert("protocol".into(), json!("Tcp"));
                probe.insert("port".into(), json!(r.port));
            }
            ProbeKind::Https(path) => {
                probe.insert("protocol".into(), json!("Https"));
                probe.insert("port".into(), json!(r.port));
                probe.insert("requestPath".into(), json!(path));
            }
        }
        probe.insert("intervalInSeconds".into(), json!(5));
        probe.insert("probeThreshold".into(), json!(2));
        probes.push(json!({ "name": r.name, "properties": probe }));
        rules.push(json!({
            "name": r.name,
            "properties": {
                "frontendIPConfiguration": fe,
                "backendAddressPool": be,
                "probe": cx.lb_part("probes", r.name),
                "protocol": "Tcp",
                "frontendPort": r.port,
                "backendPort": r.port,
                "loadDistribution": "SourceIP",
                "idleTimeoutInMinutes": 30,
                "enableTcpReset": true,
                "enableFloatingIP": false,
                "disableOutboundSnat": true,
            }
        }));
    }
    let mut props = Map::new();
    props.insert(
        "frontendIPConfigurations".into(),
        json!([{
            "name": parts::FRONTEND,
            "properties": { "publicIPAddress": { "id": rid(T_PIP, &[&cx.names.public_ip]) } },
        }]),
    );
    props.insert(
        "backendAddressPools".into(),
        json!([{ "name": parts::BACKEND }]),
    );
    props.insert("probes".into(), json!(probes));
    props.insert("loadBalancingRules".into(), json!(rules));
    let ssh = &s.access.instance_ssh;
    if ssh.enabled {
        props.insert(
            "inboundNatRules".into(),
            json!([{
                "name": parts::INSTANCE_NAT,
                "properties": {
                    "frontendIPConfiguration": fe,
                    "backendAddressPool": be,
                    "protocol": "Tcp",
                    "frontendPortRangeStart": ssh.port_start,
                    "frontendPortRangeEnd": ssh.port_end,
                    "backendPort": instance_backend_port(cx.pool),
                    "idleTimeoutInMinutes": 30,
                    "enableTcpReset": true,
                    "enableFloatingIP": false,
                }
            }]),
        );
    }
    props.insert(
        "outboundRules".into(),
        json!([{
            "name": parts::OUTBOUND,
            "properties": {
                "frontendIPConfigurations": [fe],
                "backendAddressPool": be,
                "protocol": "All",
                "allocatedOutboundPorts": outbound_ports(cx.pool),
                "idleTimeoutInMinutes": 4,
                "enableTcpReset": true,
            }
        }]),
    );
    json!({
        "type": T_LB,
        "apiVersion": api::NETWORK,
        "name": cx.names.load_balancer,
        "location": param(p::LOCATION),
        "tags": cx.tags,
        "sku": { "name": "Standard", "tier": "Regional" },
        "dependsOn": [rid(T_PIP, &[&cx.names.public_ip])],
        "properties": props,
    })
}

fn storage(cx: &Ctx) -> Vec<Value> {
    let pool = cx.pool;
    let s = pool.spec();
    let acct = pool.storage_account().unwrap_or_default();
    let share = &s.storage.share;
    let sku = pool.storage_sku();
    let premium = sku.starts_with("Premium_");
    let nfs = s.storage.kind == StorageKind::AzureFilesNfs;
    let mut props = Map::new();
    // NFS 4.1 has no encryption in transit: Azure requires "secure transfer" off for NFS shares;
    // the account is then reachable from the pool's subnet only.
    props.insert("supportsHttpsTrafficOnly".into(), json!(!nfs));
    props.insert("minimumTlsVersion".into(), json!("TLS1_2"));
    props.insert("allowBlobPublicAccess".into(), json!(false));
    props.insert("allowSharedKeyAccess".into(), json!(!nfs));
    if !premium && share.quota_gib > 5120 {
        props.insert("largeFileSharesState".into(), json!("Enabled"));
    }
    let mut depends = vec![];
    if nfs {
        props.insert(
            "networkAcls".into(),
            json!({
                "defaultAction": "Deny",
                "bypass": "AzureServices",
                "virtualNetworkRules": [{ "id": cx.subnet_id(), "action": "Allow" }],
            }),
        );
        if s.network.existing_subnet_id.is_none() {
            depends.push(json!(rid(T_VNET, &[&cx.names.vnet])));
        }
    }
    let account = json!({
        "type": T_STORAGE,
        "apiVersion": api::STORAGE,
        "name": text(acct),
        "location": param(p::LOCATION),
        "tags": cx.tags,
        "sku": { "name": sku },
        "kind": if premium { "FileStorage" } else { "StorageV2" },
        "dependsOn": depends,
        "properties": props,
    });
    let mut fs_props = Map::new();
    if !nfs {
        fs_props.insert(
            "protocolSettings".into(),
            json!({ "smb": {
                "versions": "SMB3.1.1",
                "authenticationMethods": "NTLMv2;Kerberos",
                "channelEncryption": "AES-128-GCM;AES-256-GCM",
            }}),
        );
    }
    fs_props.insert(
        "shareDeleteRetentionPolicy".into(),
        json!({ "enabled": true, "days": 7 }),
    );
    let file_services = json!({
        "type": T_FILE_SERVICES,
        "apiVersion": api::STORAGE,
        "name": text(&format!("{acct}/default")),
        "dependsOn": [rid(T_STORAGE, &[acct])],
        "properties": fs_props,
    });
    let mut share_props = Map::new();
    share_props.insert("shareQuota".into(), json!(share.quota_gib));
    share_props.insert(
        "enabledProtocols".into(),
        json!(if nfs { "NFS" } else { "SMB" }),
    );
    if nfs {
        // Root on an instance creates each user's folder and hands it to the user.
        share_props.insert("rootSquash".into(), json!("NoRootSquash"));
    } else if !premium {
        share_props.insert("accessTier".into(), json!("TransactionOptimized"));
    }
    let share_res = json!({
        "type": T_SHARE,
        "apiVersion": api::STORAGE,
        "name": text(&format!("{acct}/default/{}", share.name)),
        "dependsOn": [rid(T_FILE_SERVICES, &[acct, "default"])],
        "properties": share_props,
    });
    vec![account, file_services, share_res]
}

fn extension(name: &str, publisher: &str, ty: &str, version: &str, extra: Value) -> Value {
    let mut props = Map::new();
    props.insert("publisher".into(), json!(publisher));
    props.insert("type".into(), json!(ty));
    props.insert("typeHandlerVersion".into(), json!(version));
    props.insert("autoUpgradeMinorVersion".into(), json!(true));
    // Public settings stay empty: everything the extension needs is in protected settings.
    props.insert("settings".into(), json!({}));
    if let Value::Object(m) = extra {
        props.extend(m);
    }
    json!({ "name": name, "properties": props })
}

fn scale_set(
    cx: &Ctx,
    opts: &RenderOptions,
    params: &[Param],
    prov: &ProvisioningArtifacts,
) -> Value {
    let pool = cx.pool;
    let s = pool.spec();
    let img = pool.image();
    let linux = !pool.is_windows();

    // OS profile.
    let mut os = Map::new();
    os.insert(
        "computerNamePrefix".into(),
        json!(text(pool.computer_name_prefix())),
    );
    os.insert("adminUsername".into(), json!(param(p::ADMIN_USERNAME)));
    if params::has(params, p::ADMIN_PASSWORD) {
        os.insert("adminPassword".into(), json!(param(p::ADMIN_PASSWORD)));
    }
    if linux {
        if prov.user_data.is_some() {
            os.insert(
                "customData".into(),
                json!("[base64(variables('cloudInit'))]"),
            );
        }
        let password = params::linux_password(pool);
        let mut lc = Map::new();
        lc.insert("disablePasswordAuthentication".into(), json!(!password));
        lc.insert("provisionVMAgent".into(), json!(true));
        if !s.access.ssh_keys.is_empty() {
            let keys: Vec<Value> = s
                .access
                .ssh_keys
                .iter()
                .map(|k| {
                    json!({
                        "path": format!("[format('/home/{{0}}/.ssh/authorized_keys', parameters({}))]", lit(p::ADMIN_USERNAME)),
                        "keyData": text(k),
                    })
                })
                .collect();
            lc.insert("ssh".into(), json!({ "publicKeys": keys }));
        }
        os.insert("linuxConfiguration".into(), Value::Object(lc));
    } else {
        os.insert(
            "windowsConfiguration".into(),
            json!({ "provisionVMAgent": true, "enableAutomaticUpdates": true }),
        );
    }

    // Storage profile.
    let mut os_disk = Map::new();
    os_disk.insert("createOption".into(), json!("FromImage"));
    os_disk.insert("caching".into(), json!("ReadWrite"));
    os_disk.insert(
        "managedDisk".into(),
        json!({ "storageAccountType": disk_type(s.vm.os_disk.storage_type) }),
    );
    if let Some(g) = s.vm.os_disk.size_gib {
        os_disk.insert("diskSizeGB".into(), json!(g));
    }
    os_disk.insert("deleteOption".into(), json!("Delete"));

    // Network profile.
    let mut nic = Map::new();
    nic.insert("primary".into(), json!(true));
    if s.network.existing_subnet_id.is_some() {
        // The subnet belongs to someone else: the pool's NSG goes on the NICs instead.
        nic.insert(
            "networkSecurityGroup".into(),
            json!({ "id": rid(T_NSG, &[&cx.names.nsg]) }),
        );
    }
    nic.insert(
        "ipConfigurations".into(),
        json!([{
            "name": parts::IP_CONFIG,
            "properties": {
                "primary": true,
                "subnet": { "id": cx.subnet_id() },
                "loadBalancerBackendAddressPools": [cx.lb_part("backendAddressPools", parts::BACKEND)],
            }
        }]),
    );
    let health_probe = routes(pool)[0].name;

    // Extensions.
    let mut exts = Vec::new();
    let tag = |mut v: Value| {
        if let Some(t) = &opts.force_update_tag {
            v["properties"]["forceUpdateTag"] = json!(t);
        }
        v
    };
    if linux && s.identity.entra_id_login {
        exts.push(tag(extension(
            "AADSSHLoginForLinux",
            "Microsoft.Azure.ActiveDirectory",
            "AADSSHLoginForLinux",
            "1.0",
            json!({}),
        )));
    }
    let key = cx.storage_key_expr(params);
    if let (true, Some(kd), Some(key)) = (linux, &prov.key_delivery, &key) {
        exts.push(tag(extension(
            "share-credentials",
            "Microsoft.Azure.Extensions",
            "CustomScript",
            "2.1",
            json!({ "protectedSettings": {
                // the key as data: base64 of it between the halves (see KeyDelivery)
                "script": format!("[base64(concat({}, base64({key}), {}))]", lit(&kd.before_key), lit(&kd.after_key)),
            }}),
        )));
    }
    if prov.powershell.is_some() {
        // The script travels base64-encoded inside the command. With an account key, cmd's
        // `echo` writes the key's base64 encoding (letters, digits, `+/=`: nothing cmd or
        // PowerShell would parse) to PowerShell's standard input, which the command hands to
        // the script as `$input`: the key is never on PowerShell's command line and never code.
        let launch = |stdin_key: bool| {
            format!(
                "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command \"{}& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('",
                if stdin_key { "$k = @($input)[0]; " } else { "" }
            )
        };
        let command = match &key {
            Some(key) => format!(
                "[concat({}, base64({key}), {}, base64(variables('provisionScript')), {})]",
                lit("cmd /c echo "),
                lit(&format!("| {}", launch(true))),
                lit("')))) -EncodedStorageKey $k\"")
            ),
            None => format!(
                "[concat({}, base64(variables('provisionScript')), {})]",
                lit(&launch(false)),
                lit("'))))\"")
            ),
        };
        exts.push(tag(extension(
            "provision",
            "Microsoft.Compute",
            "CustomScriptExtension",
            "1.10",
            json!({ "protectedSettings": { "commandToExecute": command } }),
        )));
    }

    // The VM profile.
    let mut vmp = Map::new();
    vmp.insert(
        "storageProfile".into(),
        json!({
            "imageReference": {
                "publisher": text(&img.publisher),
                "offer": text(&img.offer),
                "sku": text(&img.sku),
                "version": text(&img.version),
            },
            "osDisk": os_disk,
        }),
    );
    vmp.insert("osProfile".into(), Value::Object(os));
    vmp.insert(
        "networkProfile".into(),
        json!({
            "healthProbe": cx.lb_part("probes", health_probe),
            "networkInterfaceConfigurations": [{ "name": parts::NIC, "properties": nic }],
        }),
    );
    vmp.insert(
        "diagnosticsProfile".into(),
        json!({ "bootDiagnostics": { "enabled": true } }),
    );
    match s.vm.priority {
        Priority::Regular => {
            vmp.insert("priority".into(), json!("Regular"));
        }
        Priority::Spot => {
            vmp.insert("priority".into(), json!("Spot"));
            vmp.insert(
                "evictionPolicy".into(),
                json!(match s.vm.eviction_policy {
                    EvictionPolicy::Deallocate => "Deallocate",
                    EvictionPolicy::Delete => "Delete",
                }),
            );
            vmp.insert(
                "billingProfile".into(),
                json!({ "maxPrice": s.vm.max_price }),
            );
        }
    }
    vmp.insert(
        "scheduledEventsProfile".into(),
        json!({ "terminateNotificationProfile": {
            "enable": true,
            "notBeforeTimeout": format_iso_duration(u64::from(s.vm.terminate_notification_minutes) * 60),
        }}),
    );
    if !exts.is_empty() {
        vmp.insert("extensionProfile".into(), json!({ "extensions": exts }));
    }

    let mut identity = Map::new();
    if s.identity.user_assigned.is_empty() {
        identity.insert("type".into(), json!("SystemAssigned"));
    } else {
        identity.insert("type".into(), json!("SystemAssigned, UserAssigned"));
        let mut ua = Map::new();
        for id in &s.identity.user_assigned {
            ua.insert(text(id), json!({}));
        }
        identity.insert("userAssignedIdentities".into(), Value::Object(ua));
    }

    let mut depends = vec![json!(rid(T_NSG, &[&cx.names.nsg]))];
    if s.network.existing_subnet_id.is_none() {
        depends.push(json!(rid(T_VNET, &[&cx.names.vnet])));
    }
    depends.push(json!(rid(T_LB, &[&cx.names.load_balancer])));
    if cx.creates_storage() {
        let acct = pool.storage_account().unwrap_or_default();
        depends.push(json!(rid(T_STORAGE, &[acct])));
        depends.push(json!(rid(
            T_SHARE,
            &[acct, "default", &s.storage.share.name]
        )));
    }

    let mut r = Map::new();
    r.insert("type".into(), json!(T_VMSS));
    r.insert("apiVersion".into(), json!(api::COMPUTE));
    r.insert("name".into(), json!(cx.names.scale_set));
    r.insert("location".into(), json!(param(p::LOCATION)));
    r.insert("tags".into(), cx.tags.clone());
    r.insert("dependsOn".into(), json!(depends));
    r.insert(
        "sku".into(),
        json!({ "name": param(p::VM_SIZE), "tier": "Standard", "capacity": param(p::INSTANCE_COUNT) }),
    );
    if !s.vm.zones.is_empty() {
        r.insert(
            "zones".into(),
            json!(s.vm.zones.iter().map(|z| text(z)).collect::<Vec<_>>()),
        );
    }
    if let Some(plan) = &img.plan {
        r.insert(
            "plan".into(),
            json!({ "name": text(&plan.name), "publisher": text(&plan.publisher), "product": text(&plan.product) }),
        );
    }
    r.insert("identity".into(), Value::Object(identity));
    r.insert(
        "properties".into(),
        json!({
            "orchestrationMode": "Uniform",
            "overprovision": false,
            "singlePlacementGroup": false,
            "upgradePolicy": { "mode": "Manual" },
            "scaleInPolicy": { "rules": [s.vm.scale_in_policy.as_arm()], "forceDeletion": false },
            "automaticRepairsPolicy": { "enabled": true, "gracePeriod": "PT30M", "repairAction": "Restart" },
            "virtualMachineProfile": vmp,
        }),
    );
    Value::Object(r)
}

fn disk_type(d: DiskType) -> &'static str {
    d.as_str()
}

/// A role assignment resource (scope relative to the deployment's resource group).
fn role_assignment(
    cx: &Ctx,
    scope: &str,
    role: &str,
    principal: &str,
    principal_type: Option<&str>,
    description: &str,
    depends: Vec<String>,
) -> Value {
    let mut props = Map::new();
    // Built-in roles exist in every subscription: the tenant-level id works in any of them.
    props.insert(
        "roleDefinitionId".into(),
        json!(format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{role}"
        )),
    );
    props.insert("principalId".into(), json!(principal));
    if let Some(t) = principal_type {
        props.insert("principalType".into(), json!(t));
    }
    props.insert("description".into(), json!(description));
    let key_principal = if principal.starts_with('[') {
        "scale-set-identity"
    } else {
        principal
    };
    let mut r = Map::new();
    r.insert("type".into(), json!(T_ROLE));
    r.insert("apiVersion".into(), json!(api::AUTHORIZATION));
    r.insert(
        "name".into(),
        json!(role_assignment_name(cx.pool, scope, role, key_principal)),
    );
    r.insert("scope".into(), json!(text(scope)));
    if !depends.is_empty() {
        r.insert("dependsOn".into(), json!(depends));
    }
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

/// A nested deployment that makes one role assignment for the scale set's identity in another
/// resource group (and possibly subscription). Its expressions are evaluated in this template
/// (outer scope), so `reference()` reads the scale set deployed here.
fn remote_role_assignment(
    cx: &Ctx,
    purpose: &str,
    subscription: Option<&str>,
    resource_group: &str,
    scope: &str,
    role: &str,
    description: &str,
) -> Value {
    let inner = role_assignment(
        cx,
        scope,
        role,
        &cx.principal_id(),
        Some("ServicePrincipal"),
        description,
        vec![],
    );
    let mut r = Map::new();
    r.insert("type".into(), json!(T_DEPLOYMENT));
    r.insert("apiVersion".into(), json!(api::RESOURCES));
    r.insert(
        "name".into(),
        json!(nested_deployment_name(cx.pool, purpose)),
    );
    let own = cx.pool.spec().subscription.as_deref();
    if let Some(sub) = subscription.filter(|s| own.is_none_or(|o| !o.eq_ignore_ascii_case(s))) {
        r.insert("subscriptionId".into(), json!(text(sub)));
    }
    r.insert("resourceGroup".into(), json!(text(resource_group)));
    r.insert("dependsOn".into(), json!([cx.vmss_id()]));
    r.insert(
        "properties".into(),
        json!({
            "mode": "Incremental",
            "template": {
                "$schema": TEMPLATE_SCHEMA,
                "contentVersion": "1.0.0.0",
                "resources": [inner],
            },
        }),
    );
    Value::Object(r)
}

/// `/subscriptions/<sub>/resourceGroups/<rg>/providers/<ns>/<type>/<name>` → (sub, rg, name).
fn split_resource_id(id: &str) -> (String, String, String) {
    let segs: Vec<&str> = id.split('/').collect();
    let get = |i: usize| segs.get(i).copied().unwrap_or_default().to_string();
    (
        get(2),
        get(4),
        segs.last().copied().unwrap_or_default().to_string(),
    )
}

fn role_assignments(cx: &Ctx) -> Vec<Value> {
    let pool = cx.pool;
    let s = pool.spec();
    let mut out = Vec::new();
    if s.storage.kind == StorageKind::AzureFilesSmb
        && pool.credential() == CredentialMethod::ManagedIdentity
    {
        match &s.storage.key {
            Some(SecretRef::KeyVault { key_vault }) => {
                let (sub, rg, vault) = split_resource_id(&key_vault.id);
                out.push(remote_role_assignment(
                    cx,
                    "keyvault",
                    Some(&sub),
                    &rg,
                    &format!("Microsoft.KeyVault/vaults/{vault}"),
                    roles::KEY_VAULT_SECRETS_USER,
                    "dsvmpool: instances read the storage key from Key Vault at boot",
                ));
            }
            _ => {
                let acct = pool.storage_account().unwrap_or_default();
                let scope = format!("{T_STORAGE}/{acct}");
                let description = "dsvmpool: instances read the storage key at boot";
                if cx.storage_local() {
                    let mut depends = vec![cx.vmss_id()];
                    if cx.creates_storage() {
                        depends.push(rid(T_STORAGE, &[acct]));
                    }
                    out.push(role_assignment(
                        cx,
                        &scope,
                        roles::READER_AND_DATA_ACCESS,
                        &cx.principal_id(),
                        Some("ServicePrincipal"),
                        description,
                        depends,
                    ));
                } else {
                    out.push(remote_role_assignment(
                        cx,
                        "storage",
                        None,
                        storage_resource_group(pool),
                        &scope,
                        roles::READER_AND_DATA_ACCESS,
                        description,
                    ));
                }
            }
        }
    }
    if !pool.is_windows() && s.identity.entra_id_login {
        let scope = format!("{T_VMSS}/{}", cx.names.scale_set);
        for (list, role, what) in [
            (
                &s.identity.login_admins,
                roles::VM_ADMINISTRATOR_LOGIN,
                "Entra ID SSH login with sudo",
            ),
            (
                &s.identity.login_users,
                roles::VM_USER_LOGIN,
                "Entra ID SSH login",
            ),
        ] {
            for oid in list {
                out.push(role_assignment(
                    cx,
                    &scope,
                    role,
                    &text(oid),
                    None,
                    &format!("dsvmpool: {what}"),
                    vec![cx.vmss_id()],
                ));
            }
        }
    }
    out
}

fn outputs(cx: &Ctx) -> Value {
    let pool = cx.pool;
    let s = pool.spec();
    let fqdn = format!(
        "reference({}, {}).dnsSettings.fqdn",
        rid_expr(T_PIP, &[&cx.names.public_ip]),
        lit(api::NETWORK)
    );
    let mut o = Map::new();
    o.insert(
        "fqdn".into(),
        json!({ "type": "string", "value": format!("[{fqdn}]") }),
    );
    o.insert(
        "publicIpAddress".into(),
        json!({ "type": "string", "value": format!(
            "[reference({}, {}).ipAddress]",
            rid_expr(T_PIP, &[&cx.names.public_ip]),
            lit(api::NETWORK)
        )}),
    );
    if !pool.is_windows() {
        if s.access.jupyterhub.enabled {
            o.insert(
                "jupyterHubUrl".into(),
                json!({ "type": "string", "value": format!(
                    "[format('https://{{0}}:{{1}}/', {fqdn}, {})]",
                    lit(&s.access.jupyterhub.port.to_string())
                )}),
            );
        }
        o.insert(
            "sshCommand".into(),
            json!({ "type": "string", "value": format!(
                "[format('ssh {{0}}@{{1}}', parameters({}), {fqdn})]",
                lit(p::ADMIN_USERNAME)
            )}),
        );
    } else {
        o.insert(
            "rdpAddress".into(),
            json!({ "type": "string", "value": format!("[format('{{0}}:3389', {fqdn})]") }),
        );
    }
    if s.access.instance_ssh.enabled {
        o.insert(
            "instancePortRange".into(),
            json!({ "type": "string", "value": format!(
                "{}-{}",
                s.access.instance_ssh.port_start, s.access.instance_ssh.port_end
            )}),
        );
    }
    o.insert(
        "scaleSetId".into(),
        json!({ "type": "string", "value": cx.vmss_id() }),
    );
    o.insert(
        "sharePath".into(),
        json!({ "type": "string", "value": text(&pool.share_source()) }),
    );
    o.insert(
        "mountPath".into(),
        json!({ "type": "string", "value": if pool.is_windows() { "Z:".to_string() } else { text(pool.mount_path()) } }),
    );
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------
// Autoscale: the `properties` of Microsoft.Insights/autoscalesettings (2022-10-01).

/// The autoscale setting's `properties`, from the one conversion of the spec's autoscale
/// section ([`crate::autoscale::model::settings_from_pool`]): the spec's profiles, the
/// scale-to-zero shorthand as recurring profiles, session rules, or one profile holding the
/// capacity when there is none. Every string in it but `target_resource_uri` comes from the
/// spec (profile names, metric names and namespaces, resource ids, time zones) and goes
/// through [`text`].
pub fn autoscale_properties(pool: &ValidPool, target_resource_uri: &str) -> Value {
    let v = serde_json::to_value(crate::autoscale::model::settings_from_pool(
        pool,
        target_resource_uri,
    ))
    .unwrap_or_else(|e| json!({ "error": e.to_string() }));
    text_all(v, &[target_resource_uri])
}
