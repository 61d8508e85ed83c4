//! The plan: what the pool will be — resources, the addresses users will use, autoscale
//! behaviour in words, and what it costs at min and max capacity.

use crate::error::Diagnostic;
use crate::pricing::{self, HOURS_PER_MONTH};
use crate::spec::values::{WEEKDAYS, parse_duration, parse_hhmm, parse_weekday};
use crate::spec::{
    Aggregation, ChangeType, CredentialMethod, Direction, Operator, Os, Priority, Profile, Rule,
    StorageKind, ValidPool,
};
use serde::Serialize;
use std::fmt;

/// What will happen to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The resource will be created.
    Create,
    /// An existing resource is used as it is.
    UseExisting,
    /// Live plan: the deployed resource will change.
    Modify,
    /// Live plan: the deployed resource already matches the spec.
    NoChange,
}

impl Action {
    /// A short label for people (`create`, `use existing`, `modify`, `no change`), the same in
    /// every binding.
    pub fn label(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::UseExisting => "use existing",
            Action::Modify => "modify",
            Action::NoChange => "no change",
        }
    }
}

/// One resource of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedResource {
    /// ARM type, e.g. `Microsoft.Compute/virtualMachineScaleSets`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Resource name.
    pub name: String,
    /// What happens to it.
    pub action: Action,
    /// One line about it.
    pub detail: String,
}

/// How users reach the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Addresses {
    /// The pool's DNS name.
    pub fqdn: String,
    /// JupyterHub URL, when routed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jupyterhub_url: Option<String>,
    /// SSH command for the admin (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
    /// Per-instance SSH: `ssh -p <port> ...` for ports in this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_ssh_ports: Option<String>,
    /// Where the shared workspace comes from and where it is mounted.
    pub workspace: String,
    /// Each user's notebooks.
    pub notebooks: String,
}

/// Cost at a given instance count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostAt {
    /// Instances.
    pub instances: u32,
    /// USD per hour.
    pub hourly: f64,
    /// USD per month (730 h).
    pub monthly: f64,
}

/// Compute cost estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    /// VM size.
    pub size: String,
    /// Price of one instance per hour, if the size is in the bundled table.
    pub instance_hourly: Option<f64>,
    /// Currency.
    pub currency: &'static str,
    /// Region the price table is for.
    pub price_region: &'static str,
    /// Date of the price table.
    pub price_date: &'static str,
    /// Spot prices are estimates.
    pub estimated: bool,
    /// At the pool's minimum.
    pub at_min: Option<CostAt>,
    /// At the pool's maximum.
    pub at_max: Option<CostAt>,
    /// Monthly floor the schedules impose (working-hours minimum × working hours), if any.
    pub scheduled_floor_monthly: Option<f64>,
}

/// The plan of a pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Pool name.
    pub pool: String,
    /// Region.
    pub location: String,
    /// Resource group.
    pub resource_group: String,
    /// Image URN.
    pub image: String,
    /// Capacity min / initial / max.
    pub capacity: (u32, u32, u32),
    /// Resources.
    pub resources: Vec<PlannedResource>,
    /// Addresses.
    pub addresses: Addresses,
    /// Autoscale behaviour, one sentence per item.
    pub autoscale: Vec<String>,
    /// Cost.
    pub cost: Cost,
    /// Validation warnings.
    pub warnings: Vec<Diagnostic>,
}

/// The offline plan of a valid pool: everything it will create and what it will cost.
pub fn plan(pool: &ValidPool) -> Plan {
    let s = pool.spec();
    let (resources, render_problem) = planned_resources(pool);
    let (min, init, max) = (s.capacity.min, pool.initial_capacity(), s.capacity.max);

    let fqdn = pool.fqdn();
    let linux = s.vm.os == Os::Ubuntu;
    let addresses = Addresses {
        jupyterhub_url: (linux && s.access.jupyterhub.enabled)
            .then(|| format!("https://{fqdn}:{}", s.access.jupyterhub.port)),
        ssh: linux.then(|| format!("ssh {}@{fqdn}", s.access.admin_user)),
        instance_ssh_ports: s.access.instance_ssh.enabled.then(|| {
            format!(
                "{}-{}",
                s.access.instance_ssh.port_start, s.access.instance_ssh.port_end
            )
        }),
        workspace: match s.storage.kind {
            StorageKind::AzureFilesSmb => format!(
                "{} (SMB 3.1.1, {}) → {}",
                pool.share_source(),
                match pool.credential() {
                    CredentialMethod::ManagedIdentity =>
                        "key fetched at boot by the managed identity",
                    _ => "key in protected settings",
                },
                pool.mount_path()
            ),
            _ => format!("{} (NFS) → {}", pool.share_source(), pool.mount_path()),
        },
        notebooks: format!(
            "{}/notebooks/<user> ↔ ~/notebooks/remote",
            pool.mount_path()
        ),
        fqdn,
    };

    let price = pricing::instance_price(&s.vm.size, s.vm.os, s.vm.priority);
    let at = |n: u32| {
        price.map(|p| CostAt {
            instances: n,
            hourly: p.hourly * f64::from(n),
            monthly: p.hourly * f64::from(n) * HOURS_PER_MONTH,
        })
    };
    let floor = price
        .and_then(|p| s.autoscale.scale_to_zero.as_ref().map(|z| (p, z)))
        .map(|(p, z)| {
            let hours = match (parse_hhmm(&z.start), parse_hhmm(&z.end)) {
                (Some((h1, m1)), Some((h2, m2))) => {
                    f64::from(
                        u32::from(h2) * 60 + u32::from(m2) - u32::from(h1) * 60 - u32::from(m1),
                    ) / 60.0
                }
                _ => 0.0,
            };
            p.hourly * f64::from(z.min) * hours * z.days.len() as f64 * 52.0 / 12.0
        });
    let cost = Cost {
        size: s.vm.size.clone(),
        instance_hourly: price.map(|p| p.hourly),
        currency: pricing::CURRENCY,
        price_region: pricing::PRICE_REGION,
        price_date: pricing::PRICE_DATE,
        estimated: price.is_some_and(|p| p.estimated),
        at_min: at(min),
        at_max: at(max),
        scheduled_floor_monthly: floor,
    };

    Plan {
        pool: s.name.clone(),
        location: s.location.clone(),
        resource_group: s.resource_group.clone(),
        image: pool.image().urn(),
        capacity: (min, init, max),
        resources,
        addresses,
        autoscale: describe_autoscale(pool),
        cost,
        warnings: pool
            .warnings()
            .iter()
            .cloned()
            .chain(render_problem)
            .collect(),
    }
}

/// The resources of the plan: what the rendered template creates (the single source of truth),
/// plus the existing resources the pool uses.
fn planned_resources(pool: &ValidPool) -> (Vec<PlannedResource>, Option<Diagnostic>) {
    let s = pool.spec();
    let mut out = Vec::new();
    if let Some(id) = &s.network.existing_subnet_id {
        out.push(PlannedResource {
            kind: "Microsoft.Network/virtualNetworks/subnets".into(),
            name: id.rsplit('/').next().unwrap_or("").into(),
            action: Action::UseExisting,
            detail: id.clone(),
        });
    }
    if let (Some(acct), false) = (pool.storage_account(), s.storage.account.create) {
        out.push(PlannedResource {
            kind: "Microsoft.Storage/storageAccounts".into(),
            name: acct.into(),
            action: Action::UseExisting,
            detail: format!(
                "share {} must exist (resource group {})",
                s.storage.share.name,
                s.storage
                    .account
                    .resource_group
                    .as_deref()
                    .unwrap_or(&s.resource_group)
            ),
        });
    }
    let (template, problem) = match crate::render::template_for_plan(pool) {
        Ok(t) => t,
        Err(e) => {
            return (out, Some(Diagnostic::warning("", "render", e.to_string())));
        }
    };
    let problem = problem.map(|e| {
        Diagnostic::warning("", "render", e.to_string())
            .hint("fix this before deploying: Azure would reject the template")
    });
    let empty = Vec::new();
    let resources = template["resources"].as_array().unwrap_or(&empty);
    for r in resources {
        if r["type"] == "Microsoft.Resources/deployments" {
            let rg = r["resourceGroup"].as_str().unwrap_or_default();
            for inner in r["properties"]["template"]["resources"]
                .as_array()
                .unwrap_or(&empty)
            {
                let mut pr = planned(pool, inner);
                pr.detail = format!("{} (in resource group {rg})", pr.detail);
                out.push(pr);
            }
        } else {
            out.push(planned(pool, r));
        }
    }
    (out, problem)
}

fn str_of(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// One template resource as a plan line.
fn planned(pool: &ValidPool, r: &serde_json::Value) -> PlannedResource {
    let s = pool.spec();
    let kind = str_of(&r["type"]);
    let props = &r["properties"];
    let ports = |rules: &serde_json::Value, key: &str| -> Vec<String> {
        rules
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| format!("TCP {}", x["properties"][key]))
                    .collect()
            })
            .unwrap_or_default()
    };
    let detail = match kind {
        "Microsoft.Network/networkSecurityGroups" => format!(
            "allow {} from {}; nothing else inbound",
            ports(&props["securityRules"], "destinationPortRange")
                .join(", ")
                .replace('"', ""),
            s.access.source_cidrs.join(", ")
        ),
        "Microsoft.Network/virtualNetworks" => {
            let sn = &props["subnets"][0];
            format!(
                "{} with subnet {} {}{}",
                s.network.vnet_cidr,
                str_of(&sn["name"]),
                str_of(&sn["properties"]["addressPrefix"]),
                if sn["properties"]["serviceEndpoints"].is_array() {
                    ", Microsoft.Storage service endpoint"
                } else {
                    ""
                }
            )
        }
        "Microsoft.Network/publicIPAddresses" => format!(
            "Standard, static, DNS label {}",
            str_of(&props["dnsSettings"]["domainNameLabel"])
        ),
        "Microsoft.Network/loadBalancers" => {
            let nat = props["inboundNatRules"][0]["properties"].clone();
            format!(
                "Standard; {} with SourceIP affinity{}; outbound rule",
                ports(&props["loadBalancingRules"], "frontendPort").join(", "),
                if nat.is_object() {
                    format!(
                        "; NAT {}-{} → {}",
                        nat["frontendPortRangeStart"],
                        nat["frontendPortRangeEnd"],
                        nat["backendPort"]
                    )
                } else {
                    String::new()
                }
            )
        }
        "Microsoft.Storage/storageAccounts" => format!(
            "{}, {}",
            if s.storage.kind == StorageKind::AzureFilesNfs {
                "premium FileStorage, NFS 4.1, VNet only"
            } else {
                "StorageV2, SMB 3.1.1, HTTPS only, TLS 1.2"
            },
            str_of(&r["sku"]["name"])
        ),
        "Microsoft.Storage/storageAccounts/fileServices" => {
            if props["protocolSettings"]["smb"].is_object() {
                "SMB 3.1.1 only, AES-GCM encryption; deleted shares kept 7 days".into()
            } else {
                "deleted shares kept 7 days".into()
            }
        }
        "Microsoft.Storage/storageAccounts/fileServices/shares" => format!(
            "{} GiB, {}",
            props["shareQuota"],
            str_of(&props["enabledProtocols"])
        ),
        "Microsoft.Compute/virtualMachineScaleSets" => format!(
            "{} × {} ({}{}), {} instances now, {}..{} by autoscale",
            match s.vm.os {
                Os::Ubuntu => "Ubuntu DSVM",
                Os::Windows => "Windows DSVM",
            },
            s.vm.size,
            pool.image().urn(),
            if s.vm.priority == Priority::Spot {
                ", spot"
            } else {
                ""
            },
            pool.initial_capacity(),
            s.capacity.min,
            s.capacity.max
        ),
        "Microsoft.Insights/autoscalesettings" => format!(
            "{} profile(s)",
            props["profiles"].as_array().map_or(0, Vec::len)
        ),
        "Microsoft.Authorization/roleAssignments" => format!(
            "{} on {}",
            str_of(&props["description"]).trim_start_matches("dsvmpool: "),
            str_of(&r["scope"]).rsplit('/').next().unwrap_or_default()
        ),
        _ => String::new(),
    };
    PlannedResource {
        kind: kind.into(),
        name: str_of(&r["name"]).into(),
        action: Action::Create,
        detail,
    }
}

fn days_text(days: &[String]) -> String {
    let mut idx: Vec<usize> = days.iter().filter_map(|d| parse_weekday(d)).collect();
    idx.sort_unstable();
    let contiguous = idx.windows(2).all(|w| w[1] == w[0] + 1);
    let short = |i: usize| &WEEKDAYS[i][..3];
    match idx.as_slice() {
        [] => String::new(),
        [one] => WEEKDAYS[*one].to_string(),
        [first, .., last] if contiguous && idx.len() > 2 => {
            format!("{}–{}", short(*first), short(*last))
        }
        _ => idx.iter().map(|i| short(*i)).collect::<Vec<_>>().join(", "),
    }
}

fn duration_text(s: &str) -> String {
    match parse_duration(s) {
        Some(secs) if secs % 3600 == 0 => format!("{} h", secs / 3600),
        Some(secs) if secs % 60 == 0 => format!("{} min", secs / 60),
        Some(secs) => format!("{secs} s"),
        None => s.to_string(),
    }
}

fn rule_text(r: &Rule) -> String {
    let op = match r.operator {
        Operator::GreaterThan => ">",
        Operator::GreaterThanOrEqual => "≥",
        Operator::LessThan => "<",
        Operator::LessThanOrEqual => "≤",
        Operator::Equals => "=",
        Operator::NotEquals => "≠",
    };
    let agg = match r.aggregation {
        Aggregation::Average => "average",
        Aggregation::Minimum => "minimum",
        Aggregation::Maximum => "maximum",
        Aggregation::Total => "total",
        Aggregation::Count => "count of",
        Aggregation::Last => "last",
    };
    let verb = match r.action {
        Direction::Increase => "add",
        Direction::Decrease => "remove",
    };
    let what = match r.change {
        ChangeType::ChangeCount => format!(
            "{verb} {} instance{}",
            r.value,
            if r.value == 1 { "" } else { "s" }
        ),
        ChangeType::PercentChangeCount => format!("{verb} {} %", r.value),
        ChangeType::ExactCount => format!("set {} instances", r.value),
    };
    format!(
        "{what} when the {agg} `{}` over {} is {op} {} (then wait {})",
        r.metric,
        duration_text(&r.window),
        r.threshold,
        duration_text(&r.cooldown)
    )
}

fn profile_text(p: &Profile) -> String {
    let when = match (&p.recurrence, &p.fixed_date) {
        (Some(r), _) => format!("from {} {} ({})", days_text(&r.days), r.start, r.time_zone),
        (_, Some(f)) => format!("from {} to {} ({})", f.start, f.end, f.time_zone),
        _ => "otherwise".into(),
    };
    format!(
        "Profile `{}` {when}: {}–{} instances, {} when metrics are missing.",
        p.name, p.min, p.max, p.default
    )
}

/// Autoscale behaviour as sentences a person can check.
pub fn describe_autoscale(pool: &ValidPool) -> Vec<String> {
    let s = pool.spec();
    let a = &s.autoscale;
    if !a.enabled {
        return vec![format!(
            "Autoscale is off: the pool stays at {} instance(s) until you scale it.",
            pool.initial_capacity()
        )];
    }
    let mut out = Vec::new();
    if let Some(z) = &a.scale_to_zero {
        out.push(format!(
            "{} {}–{} ({}): at least {} instance{} (up to {}).",
            days_text(&z.days),
            z.start,
            z.end,
            z.time_zone,
            z.min,
            if z.min == 1 { "" } else { "s" },
            s.capacity.max
        ));
        out.push("Outside those hours (nights and other days): scaled to zero — nothing runs, nothing is billed for compute.".into());
    }
    for p in &a.profiles {
        out.push(profile_text(p));
        for r in &p.rules {
            out.push(format!("  • {}", rule_text(r)));
        }
    }
    if a.profiles.is_empty() && a.scale_to_zero.is_none() {
        out.push(format!(
            "No schedules or rules: autoscale holds the pool between {} and {} at {}.",
            s.capacity.min,
            s.capacity.max,
            pool.initial_capacity()
        ));
    }
    out
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Pool `{}` in {} (resource group {})",
            self.pool, self.location, self.resource_group
        )?;
        writeln!(
            f,
            "Image {}; capacity min {} / initial {} / max {}",
            self.image, self.capacity.0, self.capacity.1, self.capacity.2
        )?;
        writeln!(f)?;
        writeln!(f, "Resources:")?;
        for r in &self.resources {
            let sign = match r.action {
                Action::Create => "+",
                Action::UseExisting | Action::NoChange => "=",
                Action::Modify => "~",
            };
            writeln!(
                f,
                "  {sign} {:<52} {}",
                format!("{} {}", short_type(&r.kind), r.name),
                r.detail
            )?;
        }
        writeln!(f)?;
        writeln!(f, "Users will use:")?;
        let a = &self.addresses;
        if let Some(u) = &a.jupyterhub_url {
            writeln!(f, "  JupyterHub     {u}")?;
        }
        if let Some(s) = &a.ssh {
            writeln!(f, "  SSH            {s}")?;
        }
        if let Some(p) = &a.instance_ssh_ports {
            writeln!(f, "  One instance   ssh -p <port> … on ports {p}")?;
        }
        writeln!(f, "  Workspace      {}", a.workspace)?;
        writeln!(f, "  Notebooks      {}", a.notebooks)?;
        writeln!(f)?;
        writeln!(f, "Autoscale:")?;
        for l in &self.autoscale {
            writeln!(f, "  {l}")?;
        }
        writeln!(f)?;
        let c = &self.cost;
        match (c.instance_hourly, c.at_min, c.at_max) {
            (Some(h), Some(lo), Some(hi)) => {
                let est = if c.estimated {
                    " (spot: estimated)"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "Compute cost ({} list prices, {}, as of {}){est}:",
                    c.price_region, c.currency, c.price_date
                )?;
                writeln!(f, "  one {}      ${h:.3}/h", c.size)?;
                writeln!(
                    f,
                    "  at min ({:>4})  ${:>9.2}/h  ${:>10.2}/month",
                    lo.instances, lo.hourly, lo.monthly
                )?;
                writeln!(
                    f,
                    "  at max ({:>4})  ${:>9.2}/h  ${:>10.2}/month",
                    hi.instances, hi.hourly, hi.monthly
                )?;
                if let Some(fl) = c.scheduled_floor_monthly {
                    writeln!(f, "  working-hours minimum alone: ${fl:.2}/month")?;
                }
                writeln!(f, "  (storage, network and disks are extra)")?;
            }
            _ => writeln!(
                f,
                "Compute cost: `{}` is not in the bundled price table ({}, {}).",
                c.size, c.price_region, c.price_date
            )?,
        }
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings:")?;
            for w in &self.warnings {
                writeln!(f, "  {w}")?;
            }
        }
        Ok(())
    }
}

fn short_type(t: &str) -> &str {
    t.rsplit('/').next().unwrap_or(t)
}
