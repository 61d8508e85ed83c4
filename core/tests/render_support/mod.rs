//! Shared by the `render_*` tests: the specs every render test runs over (inline cases covering
//! every template branch, the bundled starters, `examples/` and the valid spec fixtures).
#![allow(dead_code)]

use dsvmpool::render::{Artifacts, RenderOptions, render};
use dsvmpool::{Format, Pool, ValidPool};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop";
pub const KEY2: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3bW9Z3m4b1YtQk8pX2r7sV0cN5dJ6fH8gL1oP2uRs alice@laptop";
pub const VAULT: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-team";
pub const SUBNET: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/corp-vnet/subnets/pool";
pub const UAI: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pool-id";

/// Values of the secret environment variables the inline specs reference: set by tests that
/// prove no secret value reaches any output.
pub const SECRET_ENV: &[(&str, &str)] = &[
    ("DSVMPOOL_ADMIN_PASSWORD", "Sentinel-Adm1n-Passw0rd-9f3c"),
    (
        "DSVMPOOL_STORAGE_KEY",
        "U2VudGluZWxTdG9yYWdlS2V5VmFsdWU5ZjNjZFNlbnRpbmVsU3RvcmFnZUtleVZhbHVlOWYzY2RTZW50aW5lbA==",
    ),
];

fn head(name: &str) -> String {
    format!(
        "name = \"{name}\"\nlocation = \"westeurope\"\nresource_group = \"rg-{name}\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n"
    )
}

/// Inline cases, one per template branch: (name, TOML).
pub fn inline_specs() -> Vec<(String, String)> {
    let mut v = vec![];
    v.push((
        "smb-account-key".into(),
        head("keyteam")
            + "[storage]\ncredential = \"account_key\"\n[[users]]\nname = \"alice\"\nuid = 2001\n",
    ));
    v.push((
        "smb-existing-env-key".into(),
        head("envkey")
            + "[storage]\ncredential = \"account_key\"\nkey = { env = \"DSVMPOOL_STORAGE_KEY\" }\naccount = { name = \"sharedacct01\", create = false, resource_group = \"rg-shared\" }\n",
    ));
    v.push((
        "smb-existing-vault-key".into(),
        head("kvkey")
            + &format!("[storage]\ncredential = \"managed_identity\"\nkey = {{ key_vault = {{ id = \"{VAULT}\", secret = \"share-key\" }} }}\naccount = {{ name = \"sharedacct02\", create = false, resource_group = \"rg-shared\" }}\n"),
    ));
    v.push((
        "smb-existing-same-rg".into(),
        head("samerg") + "[storage]\naccount = { name = \"samergacct01\", create = false }\n",
    ));
    v.push((
        "linux-password-vault".into(),
        format!(
            "name = \"pamteam\"\nlocation = \"northeurope\"\nresource_group = \"rg-pam\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\", \"198.51.100.0/24\"]\npassword = {{ key_vault = {{ id = \"{VAULT}\", secret = \"admin-password\", version = \"0123456789abcdef0123456789abcdef\" }} }}\n[[users]]\nname = \"alice\"\nuid = 2001\nssh_keys = [\"{KEY2}\"]\nadmin = true\n"
        ),
    ));
    v.push((
        "everything-linux".into(),
        format!(
            r#"name = "research"
location = "westeurope"
resource_group = "rg-research"
subscription = "11111111-2222-3333-4444-555555555555"
tags = {{ team = "research", cost-center = "42" }}
[vm]
size = "Standard_NC4as_T4_v3"
priority = "spot"
eviction_policy = "delete"
max_price = 0.5
zones = ["1", "2"]
scale_in_policy = "oldest_vm"
terminate_notification_minutes = 15
os_disk = {{ size_gib = 256, storage_type = "StandardSSD_LRS" }}
image = {{ publisher = "microsoft-dsvm", offer = "ubuntu-hpc", sku = "2204", version = "22.04.2024102301", plan = {{ name = "2204", publisher = "microsoft-dsvm", product = "ubuntu-hpc" }} }}
[capacity]
min = 1
max = 20
initial = 2
[access]
admin_user = "labadmin"
ssh_keys = ["{KEY}", "{KEY2}"]
password = {{ env = "DSVMPOOL_ADMIN_PASSWORD" }}
jupyterhub = {{ port = 8443 }}
instance_ssh = {{ port_start = 60000, port_end = 60099 }}
dns_label = "research-pool"
source_cidrs = ["203.0.113.0/24"]
[network]
existing_subnet_id = "{SUBNET}"
[storage]
kind = "nfs"
mount_path = "/shared/research"
nfs = {{ server = "10.1.2.4", export = "/export/research", version = "4.2" }}
notebooks = {{ sharing = "team", group = "lab", gid = 4000 }}
[[users]]
name = "alice"
uid = 2001
ssh_keys = ["{KEY2}"]
[[users]]
name = "bob"
uid = 2002
gid = 2100
admin = true
[identity]
entra_id_login = true
login_admins = ["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]
login_users = ["bbbbbbbb-cccc-dddd-eeee-ffffffffffff", "cccccccc-dddd-eeee-ffff-000000000000"]
user_assigned = ["{UAI}"]
[[autoscale.profiles]]
name = "christmas"
min = 0
max = 0
default = 0
fixed_date = {{ start = "2026-12-24T00:00", end = "2026-12-27T00:00", time_zone = "W. Europe Standard Time" }}
[[autoscale.profiles]]
name = "weekdays"
min = 1
max = 20
default = 2
recurrence = {{ days = ["mon", "tue", "wed", "thu", "fri"], start = "07:30", time_zone = "W. Europe Standard Time" }}
[[autoscale.profiles.rules]]
metric = "Percentage CPU"
operator = "greater_than"
threshold = 75
action = "increase"
value = 2
window = "10m"
cooldown = "5m"
[[autoscale.profiles.rules]]
metric = "Percentage CPU"
operator = "<"
threshold = 20
action = "decrease"
type = "change_count"
value = 1
statistic = "max"
aggregation = "maximum"
time_grain = "2m"
window = "PT30M"
cooldown = "15m"
[[autoscale.profiles]]
name = "weekend"
min = 0
max = 2
default = 0
recurrence = {{ days = ["sat"], start = "00:00" }}
"#
        ),
    ));
    v.push((
        "nfs-azure-zonal".into(),
        head("nfsteam")
            + "[vm]\nzones = [\"3\"]\n[storage]\nkind = \"azure_files_nfs\"\nshare = { name = \"data\", quota_gib = 512 }\naccount = { sku = \"Premium_ZRS\" }\n[[users]]\nname = \"carol\"\nuid = 3001\n",
    ));
    v.push((
        "windows-account-key".into(),
        "name = \"winkey\"\nlocation = \"eastus\"\nresource_group = \"rg-winkey\"\n[vm]\nos = \"windows\"\n[access]\npassword = { env = \"DSVMPOOL_ADMIN_PASSWORD\" }\njupyterhub = { enabled = false }\nsource_cidrs = [\"203.0.113.0/24\"]\n[storage]\ncredential = \"account_key\"\naccount = { sku = \"Premium_LRS\" }\nshare = { quota_gib = 200 }\n".into(),
    ));
    v.push((
        "windows-vault-key".into(),
        format!("name = \"winvault\"\nlocation = \"eastus\"\nresource_group = \"rg-winvault\"\n[vm]\nos = \"windows\"\ncomputer_name_prefix = \"winv\"\n[access]\npassword = {{ key_vault = {{ id = \"{VAULT}\", secret = \"win-admin\" }} }}\njupyterhub = {{ enabled = false }}\ninstance_ssh = {{ enabled = false }}\nsource_cidrs = [\"203.0.113.0/24\"]\n[storage]\nkey = {{ key_vault = {{ id = \"{VAULT}\", secret = \"share-key\" }} }}\n[autoscale]\nenabled = false\n"),
    ));
    v.push((
        "longest-name".into(),
        head(&longest_name()) + "[capacity]\nmax = 1000\n[access.instance_ssh]\nport_start = 50000\nport_end = 50999\n[network]\nvnet_cidr = \"10.0.0.0/16\"\nsubnet_cidr = \"10.0.0.0/21\"\n",
    ));
    v.push((
        "jupyterhub-off-no-nat".into(),
        head("plain")
            + "[access.jupyterhub]\nenabled = false\n[access.instance_ssh]\nenabled = false\n",
    ));
    v
}

/// A pool name of the longest allowed length (40), ending in a letter run that stresses names.
pub fn longest_name() -> String {
    let n = "a".repeat(19) + "-" + &"z".repeat(20);
    assert_eq!(n.len(), 40);
    n
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Spec files: `examples/`, `tests/fixtures/specs/valid/` and the CLI starters.
pub fn spec_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut out = vec![];
    for dir in [
        root.join("examples"),
        root.join("tests/fixtures/specs/valid"),
        root.join("cli/src/starters"),
    ] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| Format::from_path(p).is_some())
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Every spec the render tests run over: (label, valid pool).
pub fn all_pools() -> Vec<(String, ValidPool)> {
    let mut out = vec![];
    for (name, text) in inline_specs() {
        let pool = Pool::from_toml(&text)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .validate()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("inline/{name}"), pool));
    }
    let root = repo_root();
    for f in spec_files() {
        let label = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
        let pool = Pool::load(&f)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
            .validate()
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        out.push((label, pool));
    }
    out
}

pub fn render_ok(label: &str, pool: &ValidPool) -> Artifacts {
    render(pool, &RenderOptions::default()).unwrap_or_else(|e| panic!("{label}: {e}"))
}

/// `python3` with `jsonschema` (and the offline ARM validator), when available.
pub fn python_with_jsonschema() -> Option<String> {
    let py = std::env::var("DSVMPOOL_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

pub fn validator_script() -> PathBuf {
    repo_root().join("../shared/tools/arm-validate/validate_template.py")
}

pub fn schemas_dir() -> PathBuf {
    repo_root().join("../shared/fixtures/arm/schemas")
}

/// Whether a tool is on PATH.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the run requires the external checkers (python3 + jsonschema, cloud-init,
/// shellcheck): CI stage 10 (`scripts/ci-lib/checkers.sh`) sets `DSVMPOOL_REQUIRE_TOOLS=1` after installing
/// them, so a missing tool fails there instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("DSVMPOOL_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}
