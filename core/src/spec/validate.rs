//! Validation: every rule at once, each problem with its field path, rule and hint.
//!
//! A spec that passes becomes a [`ValidPool`]: defaults that depend on other fields are
//! resolved (image, DNS label, storage account name, computer-name prefix, credential method),
//! so later stages (render, plan, deploy, simulate) take a `ValidPool` and never re-check.

use super::model::*;
use super::tables::{self, RESERVED_ADMIN_NAMES, SYSTEM_USER_NAMES, WITHDRAWN_IMAGES};
use super::values::{parse_duration, parse_hhmm, parse_local_datetime, parse_weekday};
use crate::error::{Diagnostic, Error, Result, Severity, ValidationErrors};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Longest pool name (keeps every derived resource name within Azure's limits).
pub const MAX_POOL_NAME: usize = 40;

/// A pool spec that passed validation, with every derived default resolved.
///
/// Only [`validate`] creates one, so holding a `ValidPool` proves the spec is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPool {
    spec: PoolSpec,
    warnings: Vec<Diagnostic>,
}

impl ValidPool {
    /// The spec, with derived defaults filled in (`vm.image`, `vm.computer_name_prefix`,
    /// `access.dns_label`, `storage.account.name` for Azure Files, `storage.credential`,
    /// `capacity.initial`).
    pub fn spec(&self) -> &PoolSpec {
        &self.spec
    }
    /// Warnings found (the spec is valid but something deserves attention).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
    /// Pool name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
    /// The image the instances boot.
    pub fn image(&self) -> &Image {
        self.spec.vm.image.as_ref().expect("resolved by validate")
    }
    /// Computer-name prefix of the instances.
    pub fn computer_name_prefix(&self) -> &str {
        self.spec
            .vm
            .computer_name_prefix
            .as_deref()
            .expect("resolved by validate")
    }
    /// DNS label of the public address.
    pub fn dns_label(&self) -> &str {
        self.spec
            .access
            .dns_label
            .as_deref()
            .expect("resolved by validate")
    }
    /// The address users connect to: `<label>.<region>.cloudapp.azure.com`.
    pub fn fqdn(&self) -> String {
        format!(
            "{}.{}.{}",
            self.dns_label(),
            self.spec.location,
            self.spec.cloud.cloudapp_suffix()
        )
    }
    /// Storage account name (Azure Files kinds only).
    pub fn storage_account(&self) -> Option<&str> {
        match self.spec.storage.kind {
            StorageKind::Nfs => None,
            _ => self.spec.storage.account.name.as_deref(),
        }
    }
    /// Storage account SKU when the pool creates the account.
    pub fn storage_sku(&self) -> &str {
        self.spec
            .storage
            .account
            .sku
            .as_deref()
            .unwrap_or(match self.spec.storage.kind {
                StorageKind::AzureFilesNfs => "Premium_LRS",
                _ => "Standard_LRS",
            })
    }
    /// The host serving the share: `<account>.file.<suffix>` or the NFS server.
    pub fn storage_host(&self) -> String {
        match (&self.spec.storage.kind, &self.spec.storage.nfs) {
            (StorageKind::Nfs, Some(n)) => n.server.clone(),
            _ => format!(
                "{}.file.{}",
                self.storage_account().unwrap_or_default(),
                self.spec.cloud.storage_suffix()
            ),
        }
    }
    /// The remote path as `mount` takes it: `//host/share` (SMB), `host:/account/share`
    /// (Azure Files NFS) or `server:/export` (NFS).
    pub fn share_source(&self) -> String {
        let s = &self.spec.storage;
        match s.kind {
            StorageKind::AzureFilesSmb => format!("//{}/{}", self.storage_host(), s.share.name),
            StorageKind::AzureFilesNfs => {
                format!(
                    "{}:/{}/{}",
                    self.storage_host(),
                    self.storage_account().unwrap_or_default(),
                    s.share.name
                )
            }
            StorageKind::Nfs => {
                let n = s.nfs.as_ref().expect("validated");
                format!("{}:{}", n.server, n.export)
            }
        }
    }
    /// Where instances mount the share.
    pub fn mount_path(&self) -> &str {
        &self.spec.storage.mount_path
    }
    /// How instances get the storage credential.
    pub fn credential(&self) -> CredentialMethod {
        self.spec.storage.credential()
    }
    /// Instances at deployment.
    pub fn initial_capacity(&self) -> u32 {
        self.spec.capacity.initial()
    }
    /// Whether the pool runs Windows.
    pub fn is_windows(&self) -> bool {
        self.spec.vm.os == Os::Windows
    }
}

/// Validate a spec. Returns the [`ValidPool`] (with warnings) or every error found.
pub fn validate(spec: &PoolSpec) -> Result<ValidPool> {
    let mut v = Validator::default();
    v.check(spec);
    let (errors, warnings): (Vec<_>, Vec<_>) = v
        .out
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(Error::Validation(ValidationErrors { errors, warnings }));
    }
    Ok(ValidPool {
        spec: resolve(spec),
        warnings,
    })
}

/// Fill the defaults that depend on other fields.
fn resolve(spec: &PoolSpec) -> PoolSpec {
    let mut s = spec.clone();
    if s.vm.image.is_none() {
        s.vm.image = Some(Image::default_for(s.vm.os));
    }
    if s.vm.computer_name_prefix.is_none() {
        let max = if s.vm.os == Os::Windows { 9 } else { 58 };
        let p: String = s.name.chars().take(max).collect();
        s.vm.computer_name_prefix = Some(p.trim_end_matches('-').to_string());
    }
    let h = short_hash(&format!(
        "{}/{}/{}",
        s.subscription.as_deref().unwrap_or(""),
        s.resource_group.to_ascii_lowercase(),
        s.name
    ));
    if s.access.dns_label.is_none() {
        let base: String = s.name.chars().take(63 - 7).collect();
        s.access.dns_label = Some(format!("{}-{}", base.trim_end_matches('-'), &h[..6]));
    }
    if s.storage.kind != StorageKind::Nfs && s.storage.account.name.is_none() {
        let base: String = s
            .name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(14)
            .collect();
        s.storage.account.name = Some(format!("{base}{}", &h[..8]));
    }
    if s.storage.credential.is_none() {
        s.storage.credential = Some(s.storage.credential());
    }
    if s.capacity.initial.is_none() {
        s.capacity.initial = Some(s.capacity.min);
    }
    s
}

/// A stable lowercase base-36 hash (FNV-1a 64) of `s`, 12 characters.
pub fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..12 {
        let d = (h % 36) as u32;
        out.push(char::from_digit(d, 36).unwrap_or('0'));
        h /= 36;
    }
    out
}

#[derive(Default)]
struct Validator {
    out: Vec<Diagnostic>,
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `^[a-z_][a-z0-9_-]{0,31}$`
pub fn is_valid_username(s: &str) -> bool {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) if c.is_ascii_lowercase() || c == '_' => {}
        _ => return false,
    }
    s.len() <= 32 && cs.all(|c| is_lower_alnum(c) || c == '_' || c == '-')
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `id` is an ARM resource id of the given provider type
/// (`/subscriptions/<guid>/resourceGroups/<rg>/providers/<ns>/<type>/<name>[/<child>/<name>]`).
fn is_resource_id(id: &str, provider_type: &str) -> bool {
    let segs: Vec<&str> = id.split('/').collect();
    let want: Vec<&str> = provider_type.split('/').collect();
    // "", subscriptions, guid, resourceGroups, rg, providers, ns, (type, name)+
    if segs.len() != 7 + (want.len() - 1) * 2 || !segs[0].is_empty() {
        return false;
    }
    if !segs[1].eq_ignore_ascii_case("subscriptions")
        || !is_guid(segs[2])
        || !segs[3].eq_ignore_ascii_case("resourceGroups")
    {
        return false;
    }
    if !is_rg_name(segs[4])
        || !segs[5].eq_ignore_ascii_case("providers")
        || !segs[6].eq_ignore_ascii_case(want[0])
    {
        return false;
    }
    want[1..].iter().enumerate().all(|(i, t)| {
        let ty = segs[7 + 2 * i];
        let name = segs[8 + 2 * i];
        ty.eq_ignore_ascii_case(t)
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    })
}

fn is_rg_name(s: &str) -> bool {
    (1..=90).contains(&s.chars().count())
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
}

fn is_env_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 255
}

/// A hostname (RFC 1123) or an IP address.
fn is_host(s: &str) -> bool {
    if s.parse::<IpAddr>().is_ok() {
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

const SSH_KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

fn ssh_key_problem(key: &str) -> Option<&'static str> {
    if key.contains(['\n', '\r', '\0']) {
        return Some("contains a line break");
    }
    let mut parts = key.split_whitespace();
    let Some(ty) = parts.next() else {
        return Some("is empty");
    };
    if !SSH_KEY_TYPES.contains(&ty) {
        return Some("has an unknown key type (expected ssh-ed25519, ssh-rsa or ecdsa-sha2-*)");
    }
    let Some(b64) = parts.next() else {
        return Some("has no key data");
    };
    if b64.len() < 16
        || !b64
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
    {
        return Some("has key data that is not base64");
    }
    if ty == "ssh-rsa" && b64.len() < 360 {
        return Some("is an RSA key shorter than 2048 bits");
    }
    // The comment may hold anything printable but no shell or quoting metacharacters.
    let comment: Vec<&str> = parts.collect();
    if comment.iter().any(|c| {
        c.chars()
            .any(|ch| ch.is_control() || "'\"`$\\;|&<>".contains(ch))
    }) {
        return Some("has a comment with quotes or shell metacharacters");
    }
    None
}

/// Problems with a mount path (absolute, normalised, safe characters, not under /mnt).
pub fn mount_path_problem(p: &str) -> Option<(&'static str, String, &'static str)> {
    if !p.starts_with('/') {
        return Some((
            "mount-path",
            "must be an absolute path".into(),
            "start it with `/`, e.g. `/shared/workspace`",
        ));
    }
    if !p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        return Some((
            "mount-path",
            "may only contain letters, digits, `/`, `.`, `_` and `-` (no whitespace or shell metacharacters)".into(),
            "use a plain path such as `/shared/workspace`",
        ));
    }
    if p.len() > 1 && p.ends_with('/')
        || p.contains("//")
        || p.split('/').any(|s| s == "." || s == "..")
    {
        return Some((
            "mount-path",
            "must be normalised (no `//`, `.`, `..` or trailing `/`)".into(),
            "write the canonical path",
        ));
    }
    if p == "/mnt" || p.starts_with("/mnt/") {
        return Some((
            "mount-path-mnt",
            "is under /mnt, the ephemeral resource disk on Azure Ubuntu VMs (wiped on deallocate)"
                .into(),
            "use a path under `/shared`, e.g. `/shared/workspace`",
        ));
    }
    const SYSTEM: &[&str] = &[
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root",
        "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/data",
    ];
    if SYSTEM
        .iter()
        .any(|s| p == *s || (*s != "/" && *s != "/data" && p.starts_with(&format!("{s}/"))))
    {
        return Some((
            "mount-path-system",
            format!("`{p}` is or lies inside a system directory"),
            "use a path under `/shared`",
        ));
    }
    if p.len() > 200 {
        return Some((
            "mount-path",
            "is longer than 200 characters".into(),
            "use a shorter path",
        ));
    }
    None
}

impl Validator {
    fn err(
        &mut self,
        path: impl Into<String>,
        rule: &str,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.out.push(Diagnostic::error(path, rule, msg).hint(hint));
    }
    fn warn(
        &mut self,
        path: impl Into<String>,
        rule: &str,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.out
            .push(Diagnostic::warning(path, rule, msg).hint(hint));
    }
    fn range(&mut self, path: &str, v: u64, lo: u64, hi: u64) -> bool {
        if v < lo || v > hi {
            self.err(
                path,
                "range",
                format!("{v} is outside {lo}..={hi}"),
                format!("use a value from {lo} to {hi}"),
            );
            false
        } else {
            true
        }
    }

    fn check(&mut self, s: &PoolSpec) {
        self.identity(s);
        self.vm(s);
        self.capacity(s);
        self.access(s);
        let subnet = self.network(s);
        self.storage(s, subnet);
        self.users(s);
        self.entra(s);
        self.autoscale(s);
        if let Some(b) = &s.budget {
            if !(b.monthly.is_finite() && b.monthly > 0.0) {
                self.err(
                    "budget.monthly",
                    "range",
                    "must be a positive amount",
                    "give the monthly budget in USD, e.g. 2000",
                );
            }
        }
    }

    fn identity(&mut self, s: &PoolSpec) {
        let n = &s.name;
        let ok = !n.is_empty()
            && n.len() <= MAX_POOL_NAME
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars().all(|c| is_lower_alnum(c) || c == '-')
            && !n.ends_with('-')
            && !n.contains("--");
        if !ok {
            self.err(
                "name",
                "pool-name",
                format!("`{}` is not a valid pool name: 1-{MAX_POOL_NAME} lowercase letters, digits and single hyphens, starting with a letter, not ending with a hyphen", n.escape_debug()),
                "e.g. `team` or `ml-research`",
            );
        }
        let loc = &s.location;
        if loc.is_empty() || !loc.chars().all(is_lower_alnum) {
            self.err(
                "location",
                "region-name",
                format!(
                    "`{}` is not a region name (lowercase letters and digits)",
                    loc.escape_debug()
                ),
                "e.g. `westeurope`; see `az account list-locations -o table`",
            );
        } else if !tables::REGIONS.contains(&loc.as_str()) {
            self.warn(
                "location",
                "unknown-region",
                format!("`{loc}` is not a region dsvmpool knows"),
                "check the spelling: `az account list-locations -o table`",
            );
        }
        if !is_rg_name(&s.resource_group) {
            self.err(
                "resource_group",
                "resource-group-name",
                format!("`{}` is not a valid resource group name: 1-90 letters, digits, `_-.()`, not ending in `.`", s.resource_group.escape_debug()),
                "e.g. `rg-team-pool`",
            );
        }
        if let Some(sub) = &s.subscription {
            if !is_guid(sub) {
                self.err(
                    "subscription",
                    "guid",
                    "is not a subscription id (GUID)",
                    "copy it from `az account show --query id`",
                );
            }
        }
        if s.tags.len() > 50 {
            self.err(
                "tags",
                "tag-count",
                format!("{} tags; Azure allows 50 per resource", s.tags.len()),
                "remove some tags",
            );
        }
        for (k, v) in &s.tags {
            let p = format!("tags.{k}");
            if k.is_empty()
                || k.chars().count() > 512
                || k.contains(['<', '>', '%', '&', '\\', '?', '/'])
                || k.chars().any(char::is_control)
            {
                self.err(
                    &p,
                    "tag-name",
                    "tag names are 1-512 characters without `<>%&\\?/`",
                    "rename the tag",
                );
            }
            if v.chars().count() > 256 || v.chars().any(char::is_control) {
                self.err(
                    &p,
                    "tag-value",
                    "tag values are at most 256 printable characters",
                    "shorten the value",
                );
            }
        }
    }

    fn vm(&mut self, s: &PoolSpec) {
        let vm = &s.vm;
        if let Some(img) = &vm.image {
            for (f, val) in [
                ("publisher", &img.publisher),
                ("offer", &img.offer),
                ("sku", &img.sku),
            ] {
                if val.is_empty()
                    || val.len() > 128
                    || !val
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                {
                    self.err(
                        format!("vm.image.{f}"),
                        "image-field",
                        format!("`{}` is not a valid image {f}", val.escape_debug()),
                        "letters, digits, `.`, `_` and `-`",
                    );
                }
            }
            let version_ok = img.version == "latest"
                || (img.version.split('.').count() == 3
                    && img.version.split('.').all(|p| {
                        !p.is_empty() && p.len() <= 10 && p.chars().all(|c| c.is_ascii_digit())
                    }));
            if !version_ok {
                self.err(
                    "vm.image.version",
                    "image-version",
                    format!(
                        "`{}` is not an image version (`X.Y.Z`)",
                        img.version.escape_debug()
                    ),
                    "pin a version listed by `az vm image list --all`",
                );
            } else if img.version == "latest" {
                self.warn(
                    "vm.image.version",
                    "image-unpinned",
                    "`latest` makes instances differ when the image is updated",
                    "pin a version (`az vm image list --publisher ... --all`)",
                );
            }
            if WITHDRAWN_IMAGES.iter().any(|(p, o)| {
                img.publisher.eq_ignore_ascii_case(p) && img.offer.eq_ignore_ascii_case(o)
            }) {
                self.err(
                    "vm.image",
                    "image-withdrawn",
                    format!("`{}:{}` is withdrawn from the marketplace", img.publisher, img.offer),
                    "remove `vm.image` to use the current Ubuntu 22.04 DSVM (`microsoft-dsvm:ubuntu-2204:2204-gen2`)",
                );
            }
            if let Some(plan) = &img.plan {
                for (f, val) in [
                    ("name", &plan.name),
                    ("publisher", &plan.publisher),
                    ("product", &plan.product),
                ] {
                    if val.is_empty()
                        || !val
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                    {
                        self.err(
                            format!("vm.image.plan.{f}"),
                            "image-field",
                            format!("`{}` is not a valid plan {f}", val.escape_debug()),
                            "copy it from the marketplace offer",
                        );
                    }
                }
            }
        }
        let size = &vm.size;
        let size_ok = size.strip_prefix("Standard_").is_some_and(|r| {
            !r.is_empty()
                && r.len() <= 60
                && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if size.starts_with("Basic_") {
            self.err(
                "vm.size",
                "vm-size",
                format!("`{size}`: Basic VM sizes are retired"),
                "use a Standard size such as `Standard_D4s_v5`",
            );
        } else if !size_ok {
            self.err(
                "vm.size",
                "vm-size",
                format!(
                    "`{}` is not a VM size (`Standard_<family><n>...`)",
                    size.escape_debug()
                ),
                "e.g. `Standard_D4s_v5`; see `az vm list-sizes -l <region>`",
            );
        }
        if let Some(g) = vm.os_disk.size_gib {
            self.range("vm.os_disk.size_gib", u64::from(g), 30, 4095);
        }
        match vm.priority {
            Priority::Spot => {
                if !(vm.max_price == -1.0 || (vm.max_price.is_finite() && vm.max_price > 0.0)) {
                    self.err(
                        "vm.max_price",
                        "spot-price",
                        "must be -1 (up to the pay-as-you-go price) or a positive price per hour",
                        "use -1 unless you need a cap",
                    );
                }
            }
            Priority::Regular => {
                if vm.max_price != -1.0 {
                    self.err(
                        "vm.max_price",
                        "spot-only",
                        "`max_price` applies to spot VMs only",
                        "set `vm.priority = \"spot\"` or remove `max_price`",
                    );
                }
                if vm.eviction_policy != EvictionPolicy::Deallocate {
                    self.err(
                        "vm.eviction_policy",
                        "spot-only",
                        "`eviction_policy` applies to spot VMs only",
                        "set `vm.priority = \"spot\"` or remove it",
                    );
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, z) in vm.zones.iter().enumerate() {
            if !["1", "2", "3"].contains(&z.as_str()) {
                self.err(
                    format!("vm.zones[{i}]"),
                    "zone",
                    format!("`{}` is not an availability zone", z.escape_debug()),
                    "use \"1\", \"2\" or \"3\"",
                );
            } else if !seen.insert(z) {
                self.err(
                    format!("vm.zones[{i}]"),
                    "duplicate",
                    format!("zone {z} is listed twice"),
                    "list each zone once",
                );
            }
        }
        if let Some(p) = &vm.computer_name_prefix {
            let max = if vm.os == Os::Windows { 9 } else { 58 };
            let ok = !p.is_empty()
                && p.len() <= max
                && p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                let os = if vm.os == Os::Windows {
                    "Windows"
                } else {
                    "Linux"
                };
                self.err(
                    "vm.computer_name_prefix",
                    "computer-name-prefix",
                    format!("`{}` is not a valid {os} computer-name prefix: 1-{max} letters, digits and hyphens, starting with a letter", p.escape_debug()),
                    "shorten it",
                );
            }
        } else if vm.os == Os::Windows && s.name.len() > 9 {
            self.warn(
                "vm.computer_name_prefix",
                "computer-name-prefix",
                format!(
                    "Windows computer names allow 9 characters; the prefix will be `{}`",
                    &s.name[..9]
                ),
                "set `vm.computer_name_prefix` explicitly",
            );
        }
        self.range(
            "vm.terminate_notification_minutes",
            u64::from(vm.terminate_notification_minutes),
            5,
            15,
        );
    }

    fn capacity(&mut self, s: &PoolSpec) {
        let c = &s.capacity;
        let a = self.range("capacity.min", u64::from(c.min), 0, 1000);
        let b = self.range("capacity.max", u64::from(c.max), 0, 1000);
        let i = c
            .initial
            .is_none_or(|i| self.range("capacity.initial", u64::from(i), 0, 1000));
        if a && b && c.min > c.max {
            self.err(
                "capacity.min",
                "capacity-order",
                format!("min {} is greater than max {}", c.min, c.max),
                "make min ≤ initial ≤ max",
            );
        }
        if let (true, true, true, Some(init)) = (a, b, i, c.initial) {
            if c.min <= c.max && (init < c.min || init > c.max) {
                self.err(
                    "capacity.initial",
                    "capacity-order",
                    format!("initial {init} is outside min {} ..= max {}", c.min, c.max),
                    "make min ≤ initial ≤ max",
                );
            }
        }
        if b && c.max == 0 {
            self.warn(
                "capacity.max",
                "zero-capacity",
                "max 0: the pool can never run an instance",
                "raise capacity.max",
            );
        }
    }

    fn secret(&mut self, path: &str, r: &SecretRef) {
        match r {
            SecretRef::Literal => self.err(
                path,
                "literal-secret",
                "a literal secret is not allowed in the spec file",
                "reference it: { env = \"VAR\" } or { key_vault = { id = \"<vault resource id>\", secret = \"<name>\" } }",
            ),
            SecretRef::Malformed => self.err(path, "secret-ref", "give exactly one of `env` and `key_vault`", "e.g. { env = \"DSVMPOOL_ADMIN_PASSWORD\" }"),
            SecretRef::Env { env } => {
                if !is_env_name(env) {
                    self.err(format!("{path}.env"), "env-name", format!("`{}` is not an environment variable name", env.escape_debug()), "letters, digits and `_`, not starting with a digit");
                }
            }
            SecretRef::KeyVault { key_vault } => self.key_vault(&format!("{path}.key_vault"), key_vault),
        }
    }

    fn key_vault(&mut self, path: &str, kv: &KeyVaultSecret) {
        if !is_resource_id(&kv.id, "Microsoft.KeyVault/vaults") {
            self.err(
                format!("{path}.id"),
                "key-vault-id",
                "is not a Key Vault resource id",
                "`/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>` (`az keyvault show -n <name> --query id`)",
            );
        } else {
            let name = kv.vault_name();
            if !(3..=24).contains(&name.len())
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || name.ends_with('-')
                || name.contains("--")
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                self.err(
                    format!("{path}.id"),
                    "key-vault-name",
                    format!("vault name `{name}` is not valid (3-24 letters, digits, hyphens)"),
                    "check the vault name",
                );
            }
        }
        if kv.secret.is_empty()
            || kv.secret.len() > 127
            || !kv
                .secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            self.err(
                format!("{path}.secret"),
                "key-vault-secret",
                format!(
                    "`{}` is not a Key Vault secret name (1-127 letters, digits, hyphens)",
                    kv.secret.escape_debug()
                ),
                "rename the secret",
            );
        }
        if let Some(v) = &kv.version {
            if v.len() != 32 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                self.err(
                    format!("{path}.version"),
                    "key-vault-version",
                    "a secret version is 32 hex characters",
                    "omit it to use the current version",
                );
            }
        }
    }

    fn access(&mut self, s: &PoolSpec) {
        let a = &s.access;
        let windows = s.vm.os == Os::Windows;
        let u = &a.admin_user;
        let name_ok = if windows {
            !u.is_empty()
                && u.len() <= 20
                && !u.ends_with('.')
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        } else {
            is_valid_username(u)
        };
        if !name_ok {
            let rule = if windows {
                "1-20 letters, digits, `_-.`, not ending in `.`"
            } else {
                "`^[a-z_][a-z0-9_-]{0,31}$`"
            };
            self.err(
                "access.admin_user",
                "admin-username",
                format!(
                    "`{}` is not a valid admin user name: {rule}",
                    u.escape_debug()
                ),
                "e.g. `dsvmadmin`",
            );
        } else if RESERVED_ADMIN_NAMES.contains(&u.to_ascii_lowercase().as_str())
            || (!windows && SYSTEM_USER_NAMES.contains(&u.as_str()))
        {
            self.err(
                "access.admin_user",
                "reserved-name",
                format!("`{u}` is a reserved name Azure or Ubuntu rejects"),
                "e.g. `dsvmadmin`",
            );
        }
        for (i, k) in a.ssh_keys.iter().enumerate() {
            if let Some(p) = ssh_key_problem(k) {
                self.err(
                    format!("access.ssh_keys[{i}]"),
                    "ssh-key",
                    format!("the SSH public key {p}"),
                    "paste one line of `~/.ssh/id_ed25519.pub`",
                );
            }
        }
        if let Some(p) = &a.password {
            self.secret("access.password", p);
        }
        if windows {
            if a.password.is_none() {
                self.err("access.password", "password-required", "Windows pools need an admin password reference", "add access.password = { env = \"DSVMPOOL_ADMIN_PASSWORD\" } or a Key Vault reference");
            }
            if !a.ssh_keys.is_empty() {
                self.warn(
                    "access.ssh_keys",
                    "ignored",
                    "SSH keys are not used on Windows pools",
                    "remove them",
                );
            }
        } else if a.ssh_keys.is_empty()
            && a.password.is_none()
            && s.users.iter().all(|u| u.ssh_keys.is_empty())
            && !s.identity.entra_id_login
        {
            self.err(
                "access.ssh_keys",
                "no-login",
                "nobody could log in: no SSH key, no password, no Entra ID login",
                "add an SSH public key of the admin",
            );
        }
        let jp = a.jupyterhub.port;
        if a.jupyterhub.enabled {
            if jp == 0 || jp == 22 || jp == 3389 {
                self.err(
                    "access.jupyterhub.port",
                    "port",
                    format!("{jp} cannot be the JupyterHub port"),
                    "use 8000",
                );
            }
            if windows {
                self.warn(
                    "access.jupyterhub.enabled",
                    "ignored",
                    "JupyterHub is routed for Linux pools only",
                    "set access.jupyterhub.enabled = false",
                );
            }
        }
        let ssh = &a.instance_ssh;
        if ssh.enabled {
            if ssh.port_start == 0 || ssh.port_start > ssh.port_end || ssh.port_end > 65534 {
                self.err(
                    "access.instance_ssh",
                    "port-range",
                    format!(
                        "{}..={} is not a valid frontend port range",
                        ssh.port_start, ssh.port_end
                    ),
                    "e.g. port_start = 50000, port_end = 50999",
                );
            } else {
                let n = u32::from(ssh.port_end - ssh.port_start) + 1;
                if n < s.capacity.max && s.capacity.max <= 1000 {
                    self.err(
                        "access.instance_ssh.port_end",
                        "port-range",
                        format!(
                            "the range holds {n} ports but capacity.max is {}",
                            s.capacity.max
                        ),
                        format!(
                            "set port_end to at least {}",
                            u32::from(ssh.port_start) + s.capacity.max - 1
                        ),
                    );
                }
                for (p, what) in [(22u16, "SSH"), (jp, "JupyterHub"), (3389, "RDP")] {
                    if (ssh.port_start..=ssh.port_end).contains(&p)
                        && (what != "JupyterHub" || a.jupyterhub.enabled)
                    {
                        self.err(
                            "access.instance_ssh",
                            "port-range",
                            format!("the range contains port {p} used by {what}"),
                            "move the range, e.g. 50000-50999",
                        );
                    }
                }
            }
        }
        if let Some(l) = &a.dns_label {
            let ok = (3..=63).contains(&l.len())
                && l.starts_with(|c: char| c.is_ascii_lowercase())
                && l.ends_with(is_lower_alnum)
                && l.chars().all(|c| is_lower_alnum(c) || c == '-');
            if !ok {
                self.err("access.dns_label", "dns-label", format!("`{}` is not a DNS label: 3-63 of `[a-z0-9-]`, starting with a letter, ending alphanumeric", l.escape_debug()), "e.g. `team-pool`");
            }
        }
        if a.source_cidrs.is_empty() {
            self.err(
                "access.source_cidrs",
                "required",
                "at least one source range must be allowed",
                "e.g. [\"203.0.113.0/24\"] for your office",
            );
        }
        for (i, c) in a.source_cidrs.iter().enumerate() {
            let p = format!("access.source_cidrs[{i}]");
            match c.parse::<IpNet>() {
                Ok(net) => {
                    if net.prefix_len() == 0 {
                        self.warn(
                            &p,
                            "open-to-internet",
                            format!("`{c}` opens SSH and JupyterHub to the whole Internet"),
                            "restrict to your office or VPN range",
                        );
                    } else if net.trunc() != net {
                        self.err(
                            &p,
                            "cidr-host-bits",
                            format!("`{c}` has host bits set"),
                            format!("did you mean `{}`?", net.trunc()),
                        );
                    }
                }
                Err(_) => match c.parse::<IpAddr>() {
                    Ok(ip) => self.err(
                        &p,
                        "cidr",
                        format!("`{c}` is an address, not a range"),
                        format!("write `{ip}/{}`", if ip.is_ipv4() { 32 } else { 128 }),
                    ),
                    Err(_) => self.err(
                        &p,
                        "cidr",
                        format!("`{}` is not a CIDR range", c.escape_debug()),
                        "e.g. `203.0.113.0/24`",
                    ),
                },
            }
        }
    }

    /// Returns the subnet when it parsed (for cross-checks).
    fn network(&mut self, s: &PoolSpec) -> Option<IpNet> {
        let n = &s.network;
        if let Some(id) = &n.existing_subnet_id {
            if !is_resource_id(id, "Microsoft.Network/virtualNetworks/subnets") {
                self.err("network.existing_subnet_id", "subnet-id", "is not a subnet resource id", "`/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>`");
            }
            return None;
        }
        let parse = |v: &mut Self, path: &str, c: &str| -> Option<IpNet> {
            match c.parse::<IpNet>() {
                Ok(IpNet::V4(net)) if net.trunc() == net => {
                    if !net.network().is_private() {
                        v.warn(
                            path,
                            "public-range",
                            format!("`{c}` is not a private range"),
                            "use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
                        );
                    }
                    Some(IpNet::V4(net))
                }
                Ok(IpNet::V4(net)) => {
                    v.err(
                        path,
                        "cidr-host-bits",
                        format!("`{c}` has host bits set"),
                        format!("did you mean `{}`?", net.trunc()),
                    );
                    None
                }
                Ok(IpNet::V6(_)) => {
                    v.err(
                        path,
                        "cidr",
                        "an IPv4 range is required",
                        "e.g. `10.20.0.0/16`",
                    );
                    None
                }
                Err(_) => {
                    v.err(
                        path,
                        "cidr",
                        format!("`{}` is not a CIDR range", c.escape_debug()),
                        "e.g. `10.20.0.0/16`",
                    );
                    None
                }
            }
        };
        let vnet = parse(self, "network.vnet_cidr", &n.vnet_cidr);
        let subnet = parse(self, "network.subnet_cidr", &n.subnet_cidr);
        if let Some(v) = vnet {
            if v.prefix_len() < 8 || v.prefix_len() > 29 {
                self.err(
                    "network.vnet_cidr",
                    "cidr-size",
                    format!("/{} is outside /8../29", v.prefix_len()),
                    "e.g. a /16",
                );
            }
        }
        if let (Some(v), Some(sn)) = (vnet, subnet) {
            if !v.contains(&sn) {
                self.err(
                    "network.subnet_cidr",
                    "subnet-in-vnet",
                    format!("{sn} is not inside the VNet {v}"),
                    format!("pick a subnet inside {v}"),
                );
            }
        }
        if let Some(sn) = subnet {
            if sn.prefix_len() > 29 {
                self.err(
                    "network.subnet_cidr",
                    "cidr-size",
                    format!(
                        "/{} is smaller than Azure's smallest subnet /29",
                        sn.prefix_len()
                    ),
                    "use a /24 or larger",
                );
            } else {
                let usable = (1u64 << (32 - sn.prefix_len())) - 5;
                if usable < u64::from(s.capacity.max) {
                    self.err(
                        "network.subnet_cidr",
                        "subnet-size",
                        format!(
                            "{sn} has {usable} usable addresses but capacity.max is {}",
                            s.capacity.max
                        ),
                        "use a larger subnet (e.g. /22 holds 1019)",
                    );
                }
            }
        }
        subnet
    }

    fn storage(&mut self, s: &PoolSpec, _subnet: Option<IpNet>) {
        let st = &s.storage;
        let windows = s.vm.os == Os::Windows;
        if let Some((rule, msg, hint)) = mount_path_problem(&st.mount_path) {
            self.err(
                "storage.mount_path",
                rule,
                format!("`{}` {msg}", st.mount_path.escape_debug()),
                hint,
            );
        }
        let azure = st.kind != StorageKind::Nfs;
        if windows && st.kind != StorageKind::AzureFilesSmb {
            self.err(
                "storage.kind",
                "windows-smb-only",
                "Windows pools mount Azure Files over SMB only",
                "set storage.kind = \"azure_files_smb\"",
            );
        }
        if azure {
            if let Some(n) = &st.account.name {
                if !(3..=24).contains(&n.len()) || !n.chars().all(is_lower_alnum) {
                    self.err(
                        "storage.account.name",
                        "storage-account-name",
                        format!(
                            "`{}` is not a storage account name: 3-24 lowercase letters and digits",
                            n.escape_debug()
                        ),
                        "e.g. `teamshare01`",
                    );
                }
            } else if !st.account.create {
                self.err(
                    "storage.account.name",
                    "required",
                    "an existing account needs its name",
                    "set storage.account.name",
                );
            }
            if let Some(rg) = &st.account.resource_group {
                if !is_rg_name(rg) {
                    self.err(
                        "storage.account.resource_group",
                        "resource-group-name",
                        format!("`{}` is not a valid resource group name", rg.escape_debug()),
                        "1-90 letters, digits, `_-.()`",
                    );
                }
                if st.account.create {
                    self.err(
                        "storage.account.resource_group",
                        "existing-only",
                        "the pool creates its account in its own resource group",
                        "remove it, or set storage.account.create = false",
                    );
                }
            }
            const SKUS: &[&str] = &[
                "Standard_LRS",
                "Standard_ZRS",
                "Standard_GRS",
                "Standard_RAGRS",
                "Standard_GZRS",
                "Standard_RAGZRS",
                "Premium_LRS",
                "Premium_ZRS",
            ];
            if let Some(sku) = &st.account.sku {
                if !SKUS.contains(&sku.as_str()) {
                    self.err(
                        "storage.account.sku",
                        "storage-sku",
                        format!("`{}` is not a storage SKU", sku.escape_debug()),
                        SKUS.join(", "),
                    );
                } else if st.kind == StorageKind::AzureFilesNfs && !sku.starts_with("Premium_") {
                    self.err(
                        "storage.account.sku",
                        "nfs-premium",
                        "Azure Files NFS needs a premium (FileStorage) account",
                        "use Premium_LRS or Premium_ZRS",
                    );
                }
            }
            let n = &st.share.name;
            let ok = (3..=63).contains(&n.len())
                && n.chars().all(|c| is_lower_alnum(c) || c == '-')
                && n.starts_with(is_lower_alnum)
                && n.ends_with(is_lower_alnum)
                && !n.contains("--");
            if !ok {
                self.err("storage.share.name", "share-name", format!("`{}` is not a file share name: 3-63 lowercase letters, digits and single hyphens, starting and ending alphanumeric", n.escape_debug()), "e.g. `workspace`");
            }
            let premium = st.kind == StorageKind::AzureFilesNfs
                || st
                    .account
                    .sku
                    .as_deref()
                    .is_some_and(|k| k.starts_with("Premium_"));
            let lo = if premium { 100 } else { 1 };
            if !(lo..=102_400).contains(&st.share.quota_gib) {
                self.err(
                    "storage.share.quota_gib",
                    "share-quota",
                    format!(
                        "{} GiB is outside {lo}..=102400{}",
                        st.share.quota_gib,
                        if premium {
                            " (premium shares start at 100 GiB)"
                        } else {
                            ""
                        }
                    ),
                    format!("use {lo} to 102400"),
                );
            }
            if st.nfs.is_some() {
                self.err(
                    "storage.nfs",
                    "unused-field",
                    "`storage.nfs` applies to kind `nfs` only",
                    "remove it or set storage.kind = \"nfs\"",
                );
            }
        } else {
            match &st.nfs {
                None => self.err(
                    "storage.nfs",
                    "required",
                    "kind `nfs` needs the server and export",
                    "add storage.nfs = { server = \"10.0.0.4\", export = \"/export/team\" }",
                ),
                Some(nfs) => {
                    if !is_host(&nfs.server) {
                        self.err(
                            "storage.nfs.server",
                            "host",
                            format!(
                                "`{}` is not a host name or IP address",
                                nfs.server.escape_debug()
                            ),
                            "e.g. `10.20.8.4` or `nfs.corp.example`",
                        );
                    }
                    let e = &nfs.export;
                    if !e.starts_with('/')
                        || !e
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
                        || e.split('/').any(|x| x == "..")
                        || e.contains("//")
                    {
                        self.err(
                            "storage.nfs.export",
                            "export-path",
                            format!("`{}` is not a plain absolute export path", e.escape_debug()),
                            "e.g. `/export/team`",
                        );
                    }
                    if !["3", "4", "4.0", "4.1", "4.2"].contains(&nfs.version.as_str()) {
                        self.err(
                            "storage.nfs.version",
                            "nfs-version",
                            format!("`{}` is not an NFS version", nfs.version.escape_debug()),
                            "use 4.1, 4.2, 4 or 3",
                        );
                    }
                }
            }
        }
        let cred = st.credential();
        match (st.kind, cred) {
            (StorageKind::AzureFilesSmb, CredentialMethod::None) => self.err(
                "storage.credential",
                "credential-kind",
                "SMB needs a credential",
                "use \"managed_identity\" (recommended) or \"account_key\"",
            ),
            (
                StorageKind::AzureFilesNfs | StorageKind::Nfs,
                CredentialMethod::ManagedIdentity | CredentialMethod::AccountKey,
            ) => self.err(
                "storage.credential",
                "credential-kind",
                "NFS shares use no key (access is by network)",
                "set storage.credential = \"none\" or remove it",
            ),
            _ => {}
        }
        if let Some(k) = &st.key {
            self.secret("storage.key", k);
            match (cred, k) {
                (CredentialMethod::ManagedIdentity, SecretRef::Env { .. }) => self.err(
                    "storage.key",
                    "credential-key",
                    "with managed_identity the key can only come from Key Vault (instances read it at boot)",
                    "use { key_vault = { id = ..., secret = ... } }, or remove storage.key to read it from the account via ARM",
                ),
                (CredentialMethod::AccountKey, SecretRef::Env { .. } | SecretRef::KeyVault { .. }) if st.account.create => self.err(
                    "storage.key",
                    "credential-key",
                    "the pool creates the account, so the template reads the key itself",
                    "remove storage.key",
                ),
                (CredentialMethod::None, _) => self.err("storage.key", "unused-field", "no credential is used, so no key", "remove storage.key"),
                _ => {}
            }
        }
        let nb = &st.notebooks;
        if !is_valid_username(&nb.group) || SYSTEM_USER_NAMES.contains(&nb.group.as_str()) {
            self.err(
                "storage.notebooks.group",
                "group-name",
                format!(
                    "`{}` is not a valid group name (or is a system group)",
                    nb.group.escape_debug()
                ),
                "e.g. `datasci`",
            );
        }
        self.range("storage.notebooks.gid", u64::from(nb.gid), 1000, 60000);
    }

    fn users(&mut self, s: &PoolSpec) {
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut uids: BTreeMap<u32, usize> = BTreeMap::new();
        for (i, u) in s.users.iter().enumerate() {
            let p = format!("users[{i}]");
            if !is_valid_username(&u.name) {
                self.err(
                    format!("{p}.name"),
                    "username",
                    format!(
                        "`{}` is not a valid user name: `^[a-z_][a-z0-9_-]{{0,31}}$`",
                        u.name.escape_debug()
                    ),
                    "lowercase letters, digits, `_` and `-` (JupyterHub needs lowercase)",
                );
            } else if RESERVED_ADMIN_NAMES.contains(&u.name.as_str())
                || SYSTEM_USER_NAMES.contains(&u.name.as_str())
            {
                self.err(
                    format!("{p}.name"),
                    "reserved-name",
                    format!("`{}` is a reserved or system name", u.name),
                    "pick another name",
                );
            } else if u.name == s.access.admin_user {
                self.err(
                    format!("{p}.name"),
                    "admin-collision",
                    "has the same name as access.admin_user",
                    "the admin is created separately; rename one of them",
                );
            } else if u.name == s.storage.notebooks.group {
                self.err(
                    format!("{p}.name"),
                    "group-collision",
                    "has the same name as the team group",
                    "rename the user or storage.notebooks.group",
                );
            }
            if let Some(j) = names.insert(u.name.as_str(), i) {
                self.err(
                    format!("{p}.name"),
                    "duplicate-user",
                    format!("`{}` is already users[{j}]", u.name),
                    "each user once",
                );
            }
            if self.range(&format!("{p}.uid"), u64::from(u.uid), 1000, 60000) {
                if let Some(j) = uids.insert(u.uid, i) {
                    self.err(
                        format!("{p}.uid"),
                        "duplicate-uid",
                        format!("uid {} is already users[{j}]'s", u.uid),
                        "give every user a unique uid",
                    );
                }
            }
            if let Some(g) = u.gid {
                self.range(&format!("{p}.gid"), u64::from(g), 1000, 60000);
            }
            if s.storage.notebooks.sharing == Sharing::Team && u.gid() == s.storage.notebooks.gid {
                self.err(
                    format!("{p}.gid"),
                    "gid-collision",
                    "equals the team group's gid",
                    "change storage.notebooks.gid or the user's gid",
                );
            }
            for (k, key) in u.ssh_keys.iter().enumerate() {
                if let Some(prob) = ssh_key_problem(key) {
                    self.err(
                        format!("{p}.ssh_keys[{k}]"),
                        "ssh-key",
                        format!("the SSH public key {prob}"),
                        "paste one line of `~/.ssh/id_ed25519.pub`",
                    );
                }
            }
        }
        if s.vm.os == Os::Windows && !s.users.is_empty() {
            self.warn(
                "users",
                "ignored",
                "Windows pools create only the admin user; users sign in with their own accounts",
                "remove users or use a Linux pool",
            );
        }
    }

    fn entra(&mut self, s: &PoolSpec) {
        let id = &s.identity;
        if id.entra_id_login && s.vm.os == Os::Windows {
            self.err(
                "identity.entra_id_login",
                "linux-only",
                "Entra ID SSH login (AADSSHLoginForLinux) is for Linux pools",
                "set it to false for Windows",
            );
        }
        for (field, list) in [
            ("login_admins", &id.login_admins),
            ("login_users", &id.login_users),
        ] {
            for (i, o) in list.iter().enumerate() {
                if !is_guid(o) {
                    self.err(
                        format!("identity.{field}[{i}]"),
                        "guid",
                        format!("`{}` is not an Entra object id (GUID)", o.escape_debug()),
                        "`az ad user show --id <upn> --query id`",
                    );
                }
            }
            if !list.is_empty() && !id.entra_id_login {
                self.warn(
                    format!("identity.{field}"),
                    "unused-field",
                    "Entra ID login is off, so these role assignments are not made",
                    "set identity.entra_id_login = true",
                );
            }
        }
        for (i, u) in id.user_assigned.iter().enumerate() {
            if !is_resource_id(u, "Microsoft.ManagedIdentity/userAssignedIdentities") {
                self.err(
                    format!("identity.user_assigned[{i}]"),
                    "identity-id",
                    "is not a user-assigned identity resource id",
                    "`az identity show -n <name> -g <rg> --query id`",
                );
            }
        }
    }

    fn duration(&mut self, path: &str, v: &str, lo: u64, hi: u64, what: &str) -> Option<u64> {
        match parse_duration(v) {
            None => {
                self.err(
                    path,
                    "duration",
                    format!("`{}` is not a duration", v.escape_debug()),
                    "ISO 8601 like `PT5M` or short like `5m`",
                );
                None
            }
            Some(d) if d < lo || d > hi => {
                self.err(
                    path,
                    "duration-range",
                    format!(
                        "{what} must be between {} and {}",
                        super::values::format_iso_duration(lo),
                        super::values::format_iso_duration(hi)
                    ),
                    "adjust the duration",
                );
                None
            }
            Some(d) => Some(d),
        }
    }

    fn days(&mut self, path: &str, days: &[String]) {
        if days.is_empty() {
            self.err(
                path,
                "required",
                "at least one day is needed",
                "e.g. [\"monday\", \"friday\"]",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, d) in days.iter().enumerate() {
            match parse_weekday(d) {
                None => self.err(
                    format!("{path}[{i}]"),
                    "weekday",
                    format!("`{}` is not a day of the week", d.escape_debug()),
                    "monday … sunday (or mon … sun)",
                ),
                Some(n) if !seen.insert(n) => self.err(
                    format!("{path}[{i}]"),
                    "duplicate",
                    format!("`{d}` is listed twice"),
                    "list each day once",
                ),
                _ => {}
            }
        }
    }

    fn time_zone(&mut self, path: &str, tz: &str) {
        if tables::iana_zone(tz).is_none() {
            let names: Vec<String> = tables::TIME_ZONES
                .iter()
                .map(|(w, _)| w.to_string())
                .collect();
            let hint = match super::parse::closest(tz, &names) {
                Some(c) => {
                    format!("did you mean `{c}`? (Windows time-zone ids, as Azure autoscale uses)")
                }
                None => {
                    "use a Windows time-zone id such as `W. Europe Standard Time` or `UTC`".into()
                }
            };
            self.err(
                path,
                "time-zone",
                format!(
                    "`{}` is not a time zone Azure autoscale accepts",
                    tz.escape_debug()
                ),
                hint,
            );
        }
    }

    fn autoscale(&mut self, s: &PoolSpec) {
        let a = &s.autoscale;
        let cap = &s.capacity;
        let shorthand = usize::from(a.scale_to_zero.is_some()) * 2;
        if a.profiles.len() + shorthand > 20 {
            self.err(
                "autoscale.profiles",
                "profile-count",
                format!(
                    "{} profiles (with the shorthand's {shorthand}); Azure allows 20",
                    a.profiles.len() + shorthand
                ),
                "merge profiles",
            );
        }
        let mut names = BTreeSet::new();
        let mut defaults = 0;
        for (i, p) in a.profiles.iter().enumerate() {
            let pp = format!("autoscale.profiles[{i}]");
            if p.name.is_empty()
                || p.name.chars().count() > 256
                || p.name.chars().any(char::is_control)
            {
                self.err(
                    format!("{pp}.name"),
                    "profile-name",
                    "a profile name is 1-256 printable characters",
                    "e.g. `work-hours`",
                );
            } else if !names.insert(p.name.as_str()) {
                self.err(
                    format!("{pp}.name"),
                    "duplicate",
                    format!("profile `{}` is defined twice", p.name),
                    "give each profile its own name",
                );
            }
            let ok = [("min", p.min), ("max", p.max), ("default", p.default)]
                .into_iter()
                .fold(true, |acc, (f, v)| {
                    self.range(&format!("{pp}.{f}"), u64::from(v), 0, 1000) && acc
                });
            if ok {
                if p.min > p.max {
                    self.err(
                        format!("{pp}.min"),
                        "profile-capacity",
                        format!("min {} > max {}", p.min, p.max),
                        "make min ≤ default ≤ max",
                    );
                } else if p.default < p.min || p.default > p.max {
                    self.err(
                        format!("{pp}.default"),
                        "profile-capacity",
                        format!("default {} is outside {}..={}", p.default, p.min, p.max),
                        "make min ≤ default ≤ max",
                    );
                }
                if p.max > cap.max {
                    self.err(
                        format!("{pp}.max"),
                        "profile-capacity-bounds",
                        format!("{} exceeds capacity.max {}", p.max, cap.max),
                        "raise capacity.max or lower the profile's max",
                    );
                }
                if p.min < cap.min {
                    self.warn(
                        format!("{pp}.min"),
                        "profile-capacity-bounds",
                        format!("{} is below capacity.min {}", p.min, cap.min),
                        "capacity.min is only the deployment floor; make them agree",
                    );
                }
            }
            match (&p.recurrence, &p.fixed_date) {
                (Some(_), Some(_)) => self.err(
                    &pp,
                    "profile-schedule",
                    "a profile has a recurrence or a fixed date, not both",
                    "split it into two profiles",
                ),
                (None, None) => defaults += 1,
                (Some(r), None) => {
                    self.days(&format!("{pp}.recurrence.days"), &r.days);
                    if parse_hhmm(&r.start).is_none() {
                        self.err(
                            format!("{pp}.recurrence.start"),
                            "time-of-day",
                            format!("`{}` is not a time `HH:MM`", r.start.escape_debug()),
                            "e.g. `08:00`",
                        );
                    }
                    self.time_zone(&format!("{pp}.recurrence.time_zone"), &r.time_zone);
                }
                (None, Some(f)) => {
                    let st = parse_local_datetime(&f.start);
                    let en = parse_local_datetime(&f.end);
                    if st.is_none() {
                        self.err(
                            format!("{pp}.fixed_date.start"),
                            "datetime",
                            format!("`{}` is not `YYYY-MM-DDTHH:MM`", f.start.escape_debug()),
                            "e.g. `2026-12-24T00:00`",
                        );
                    }
                    if en.is_none() {
                        self.err(
                            format!("{pp}.fixed_date.end"),
                            "datetime",
                            format!("`{}` is not `YYYY-MM-DDTHH:MM`", f.end.escape_debug()),
                            "e.g. `2026-12-27T00:00`",
                        );
                    }
                    if let (Some(a), Some(b)) = (st, en) {
                        if b <= a {
                            self.err(
                                format!("{pp}.fixed_date.end"),
                                "datetime-order",
                                "end is not after start",
                                "swap or fix the dates",
                            );
                        }
                    }
                    self.time_zone(&format!("{pp}.fixed_date.time_zone"), &f.time_zone);
                }
            }
            if p.rules.len() > 10 {
                self.err(
                    format!("{pp}.rules"),
                    "rule-count",
                    format!("{} rules; Azure allows 10 per profile", p.rules.len()),
                    "remove rules",
                );
            }
            for (j, r) in p.rules.iter().enumerate() {
                self.rule(&format!("{pp}.rules[{j}]"), r, p);
            }
        }
        if defaults > 1 {
            self.err("autoscale.profiles", "default-profile", format!("{defaults} profiles have neither recurrence nor fixed_date; only one default profile is allowed"), "give the others a schedule");
        }
        if let Some(z) = &a.scale_to_zero {
            let zp = "autoscale.scale_to_zero";
            self.days(&format!("{zp}.days"), &z.days);
            let st = parse_hhmm(&z.start);
            let en = parse_hhmm(&z.end);
            if st.is_none() {
                self.err(
                    format!("{zp}.start"),
                    "time-of-day",
                    format!("`{}` is not a time `HH:MM`", z.start.escape_debug()),
                    "e.g. `08:00`",
                );
            }
            if en.is_none() {
                self.err(
                    format!("{zp}.end"),
                    "time-of-day",
                    format!("`{}` is not a time `HH:MM`", z.end.escape_debug()),
                    "e.g. `19:00`",
                );
            }
            if let (Some(a), Some(b)) = (st, en) {
                if b <= a {
                    self.err(
                        format!("{zp}.end"),
                        "time-order",
                        "working hours must end after they start (on the same day)",
                        "e.g. start 08:00, end 19:00",
                    );
                }
            }
            self.time_zone(&format!("{zp}.time_zone"), &z.time_zone);
            if self.range(&format!("{zp}.min"), u64::from(z.min), 1, 1000) && z.min > cap.max {
                self.err(
                    format!("{zp}.min"),
                    "profile-capacity-bounds",
                    format!("{} exceeds capacity.max {}", z.min, cap.max),
                    "raise capacity.max",
                );
            }
            if defaults > 0 {
                self.err(zp, "default-profile", "the shorthand defines the default (off-hours) profile; a profile without a schedule conflicts with it", "give that profile a schedule or drop the shorthand");
            }
        }
        self.autoscale_rules_and_sessions(s);
    }

    /// `autoscale.rules` (rules of the generated profiles) and `autoscale.sessions`.
    fn autoscale_rules_and_sessions(&mut self, s: &PoolSpec) {
        let a = &s.autoscale;
        let cap = &s.capacity;
        if !a.rules.is_empty() && a.scale_to_zero.is_none() && !a.profiles.is_empty() {
            self.err(
                "autoscale.rules",
                "generated-profile-rules",
                "`autoscale.rules` applies to the profiles dsvmpool generates (the scale_to_zero shorthand's, or the default built from capacity); with explicit profiles there is none",
                "move the rules into `autoscale.profiles[…].rules`",
            );
        }
        // The generated profiles span min 0 (off-hours / capacity.min) to capacity.max.
        let generated = Profile {
            name: String::new(),
            min: 0,
            max: cap.max,
            default: 0,
            recurrence: None,
            fixed_date: None,
            rules: vec![],
        };
        for (j, r) in a.rules.iter().enumerate() {
            self.rule(&format!("autoscale.rules[{j}]"), r, &generated);
        }
        let session_rules = a
            .sessions
            .as_ref()
            .map_or(0, |z| if z.wake_on_waiting { 3 } else { 2 });
        if a.rules.len() + session_rules > 10 {
            self.err(
                "autoscale.rules",
                "rule-count",
                format!(
                    "{} rules with the {session_rules} session rules; Azure allows 10 per profile",
                    a.rules.len() + session_rules
                ),
                "remove rules",
            );
        }
        for (i, p) in a.profiles.iter().enumerate() {
            if p.rules.len() <= 10 && p.rules.len() + session_rules > 10 {
                self.err(
                    format!("autoscale.profiles[{i}].rules"),
                    "rule-count",
                    format!(
                        "{} rules with the {session_rules} session rules; Azure allows 10 per profile",
                        p.rules.len() + session_rules
                    ),
                    "remove rules",
                );
            }
        }
        let Some(z) = &a.sessions else { return };
        let zp = "autoscale.sessions";
        self.range(
            &format!("{zp}.target_per_vm"),
            u64::from(z.target_per_vm),
            1,
            1000,
        );
        self.range(
            &format!("{zp}.scale_out_by"),
            u64::from(z.scale_out_by),
            1,
            1000,
        );
        for (f, v) in [("metric", &z.metric), ("waiting_metric", &z.waiting_metric)] {
            if v.trim().is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
                self.err(
                    format!("{zp}.{f}"),
                    "metric-name",
                    "a metric name is 1-256 printable characters",
                    "e.g. `Sessions`",
                );
            }
        }
        if z.metric == z.waiting_metric {
            self.err(
                format!("{zp}.waiting_metric"),
                "distinct-metrics",
                "the waiting metric must differ from the sessions metric",
                "e.g. `WaitingSessions`",
            );
        }
        self.metric_namespace(&format!("{zp}.namespace"), &z.namespace, "e.g. `dsvmpool`");
        if let Some(id) = &z.resource_id {
            if !id.starts_with("/subscriptions/") || id.chars().any(char::is_whitespace) {
                self.err(
                    format!("{zp}.resource_id"),
                    "resource-id",
                    "is not a resource id",
                    "`/subscriptions/…/providers/…`, or omit it to publish on the scale set",
                );
            }
        }
        let below = z.scale_in_below();
        if !below.is_finite() || below < 0.0 {
            self.err(
                format!("{zp}.scale_in_below"),
                "threshold",
                "must be a number ≥ 0",
                "e.g. half of target_per_vm",
            );
        } else if below >= f64::from(z.target_per_vm) {
            self.err(
                format!("{zp}.scale_in_below"),
                "threshold-order",
                format!(
                    "{below} is not below target_per_vm {}: every evaluation would both scale out and in",
                    z.target_per_vm
                ),
                "use a value below target_per_vm, e.g. half of it",
            );
        }
        self.duration(
            &format!("{zp}.window"),
            &z.window,
            5 * 60,
            12 * 3600,
            "window",
        );
        self.duration(
            &format!("{zp}.cooldown"),
            &z.cooldown,
            60,
            7 * 86_400,
            "cooldown",
        );
    }

    /// Azure's metric namespace form: 1-256 characters, letters, digits and `._-/`, starting
    /// with a letter or digit (`microsoft.compute/virtualmachinescalesets`, `dsvmpool`).
    fn metric_namespace(&mut self, path: &str, ns: &str, example: &str) {
        if ns.is_empty()
            || ns.len() > 256
            || !ns.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !ns
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        {
            self.err(
                path,
                "metric-namespace",
                format!(
                    "`{}` is not a metric namespace (1-256 letters, digits, `._-/`, starting with a letter or digit)",
                    ns.escape_debug()
                ),
                example,
            );
        }
    }

    fn rule(&mut self, rp: &str, r: &Rule, p: &Profile) {
        if r.metric.trim().is_empty()
            || r.metric.len() > 256
            || r.metric.chars().any(char::is_control)
        {
            self.err(
                format!("{rp}.metric"),
                "metric-name",
                "a metric name is 1-256 printable characters",
                "e.g. `Percentage CPU`",
            );
        }
        if let Some(ns) = &r.namespace {
            self.metric_namespace(
                &format!("{rp}.namespace"),
                ns,
                "e.g. `microsoft.compute/virtualmachinescalesets`",
            );
        }
        if let Some(id) = &r.resource_id {
            if !id.starts_with("/subscriptions/") || id.chars().any(char::is_whitespace) {
                self.err(
                    format!("{rp}.resource_id"),
                    "resource-id",
                    "is not a resource id",
                    "`/subscriptions/…/providers/…`",
                );
            }
        }
        let grain = self.duration(
            &format!("{rp}.time_grain"),
            &r.time_grain,
            60,
            12 * 3600,
            "time_grain",
        );
        let window = self.duration(
            &format!("{rp}.window"),
            &r.window,
            5 * 60,
            12 * 3600,
            "window",
        );
        self.duration(
            &format!("{rp}.cooldown"),
            &r.cooldown,
            60,
            7 * 86_400,
            "cooldown",
        );
        if let (Some(g), Some(w)) = (grain, window) {
            if w < g {
                self.err(
                    format!("{rp}.window"),
                    "window-grain",
                    "the window is shorter than the time grain",
                    "make window ≥ time_grain",
                );
            }
        }
        if !r.threshold.is_finite() {
            self.err(
                format!("{rp}.threshold"),
                "threshold",
                "must be a finite number",
                "e.g. 70",
            );
        }
        match r.change {
            ChangeType::ChangeCount | ChangeType::PercentChangeCount if r.value == 0 => self.err(
                format!("{rp}.value"),
                "action-value",
                "a change of 0 does nothing",
                "use 1 or more",
            ),
            ChangeType::ChangeCount if r.value > 1000 => {
                self.range(&format!("{rp}.value"), u64::from(r.value), 1, 1000);
            }
            ChangeType::PercentChangeCount if r.value > 10_000 => {
                self.range(&format!("{rp}.value"), u64::from(r.value), 1, 10_000);
            }
            ChangeType::ExactCount if r.value < p.min || r.value > p.max => self.err(
                format!("{rp}.value"),
                "action-value",
                format!(
                    "exact count {} is outside the profile's {}..={}",
                    r.value, p.min, p.max
                ),
                "pick a count inside the profile's range",
            ),
            _ => {}
        }
    }
}
