//! Operating a deployed pool: [`status`], [`scale`], [`stop`], [`start`], [`destroy`].
//!
//! Semantics:
//! - **scale N** sets the scale set's capacity with `If-Match` (the ETag just read). When
//!   somebody else changed the scale set in between (HTTP 412, or 409 while another update
//!   runs), the conflict is reported, the scale set is read again, and the change is applied
//!   on top of the new state — a concurrent update is never silently overwritten. With
//!   autoscale on, a capacity outside the autoscale limits is moved back by autoscale on its
//!   next run; the result says so.
//! - **stop** takes the pool to zero running instances while keeping it: it first disables the
//!   autoscale setting (so a schedule or rule cannot start instances again), then deallocates
//!   every instance. Deallocated instances cost no compute (their disks are still billed); the
//!   capacity, the instances and their disks stay, so `start` brings the same instances back.
//!   Instances protected from scale-set actions are left running and reported.
//! - **start** starts every deallocated or stopped instance, then enables autoscale again when
//!   the spec has it on.
//! - **destroy** deletes the resource group when dsvmpool created it (tag `dsvmpool-pool`) and
//!   it holds nothing but the pool; otherwise it deletes only the resources the pool's
//!   template creates, newest first, and the deployment record, and leaves everything else
//!   (an existing VNet or storage account, other resources of a shared group) alone.
//!
//! Every verb is idempotent: repeating it makes no write call once the pool is in the
//! requested state.

use super::apply::{LiveDeployment, POOL_TAG, PoolOutputs, read_deployment};
use super::{Progress, ProgressSink, Reporter};
use crate::azure::client::{PollStatus, Poller};
use crate::azure::lro::{Terminal, terminal_state};
use crate::azure::models::{AutoscaleSetting, GenericResource, PowerState, ScaleSetVm};
use crate::azure::{ArmClient, api_version};
use crate::error::{Error, ErrorKind, Result};
use crate::names::ResourceNames;
use crate::render::{RenderOptions, render};
use crate::spec::ValidPool;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

fn not_deployed(pool: &ValidPool, what: &str) -> Error {
    Error::Http {
        operation: what.to_string(),
        status: 404,
        code: "PoolNotDeployed".into(),
        message: format!(
            "pool `{}` is not deployed in resource group {} (run `dsvmpool deploy` first)",
            pool.name(),
            pool.spec().resource_group
        ),
        request_id: String::new(),
        kind: ErrorKind::NotFound,
    }
}

/// Polls an operation to its end, reporting [`Progress::Waiting`].
async fn wait_op(mut poller: Poller, rep: &Reporter, operation: &str) -> Result<Option<Value>> {
    let started = Instant::now();
    loop {
        match poller.poll().await? {
            PollStatus::Running { status, .. } => rep.emit(Progress::Waiting {
                operation: operation.to_string(),
                status,
                elapsed_secs: started.elapsed().as_secs_f64(),
            }),
            PollStatus::Done(o) => return Ok(o.body),
        }
    }
}

// ---- status ---------------------------------------------------------------------------------

/// One instance of the pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceStatus {
    /// Instance id (`3`).
    pub instance_id: String,
    /// Resource name (`team-vmss_3`).
    pub name: String,
    /// Host name, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computer_name: Option<String>,
    /// `running`, `deallocated`, … (`unknown` without an instance view).
    pub power_state: String,
    /// Provisioning state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Autoscale scale-in skips it.
    pub protect_from_scale_in: bool,
    /// Scale-set actions (scale-in, deallocate, start, …) skip it.
    pub protect_from_scale_set_actions: bool,
    /// Whether it runs the latest scale-set model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_model_applied: Option<bool>,
}

fn power_text(p: Option<PowerState>) -> String {
    match p {
        Some(PowerState::Other(s)) => s.to_ascii_lowercase(),
        Some(p) => serde_json::to_value(&p)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "unknown".into()),
        None => "unknown".into(),
    }
}

impl InstanceStatus {
    fn from_vm(vm: &ScaleSetVm) -> Self {
        let props = vm.properties.as_ref();
        let prot = vm.protection();
        let scale_set_actions = prot
            .and_then(|p| p.protect_from_scale_set_actions)
            .unwrap_or(false);
        Self {
            instance_id: vm.instance_id.clone().unwrap_or_default(),
            name: vm.name.clone().unwrap_or_default(),
            computer_name: props
                .and_then(|p| p.extra.get("osProfile"))
                .and_then(|o| o.get("computerName"))
                .and_then(Value::as_str)
                .map(str::to_string),
            power_state: power_text(vm.power_state()),
            provisioning_state: props.and_then(|p| p.provisioning_state.clone()),
            protect_from_scale_in: scale_set_actions
                || prot.and_then(|p| p.protect_from_scale_in).unwrap_or(false),
            protect_from_scale_set_actions: scale_set_actions,
            latest_model_applied: props.and_then(|p| p.latest_model_applied),
        }
    }
}

/// One autoscale profile, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoscaleProfileStatus {
    /// Profile name.
    pub name: String,
    /// Minimum instances.
    pub minimum: String,
    /// Maximum instances.
    pub maximum: String,
    /// Default instances.
    pub default: String,
    /// When it applies (`Monday, Tuesday 08:00 (W. Europe Standard Time)`, a fixed date, or
    /// `always`).
    pub when: String,
}

/// The autoscale setting, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoscaleStatus {
    /// Setting name.
    pub name: String,
    /// Whether autoscale acts.
    pub enabled: bool,
    /// Profiles.
    pub profiles: Vec<AutoscaleProfileStatus>,
}

impl AutoscaleStatus {
    fn from_setting(s: &AutoscaleSetting) -> Self {
        Self {
            name: s.name.clone().unwrap_or_default(),
            enabled: s.properties.enabled.unwrap_or(true),
            profiles: s
                .properties
                .profiles
                .iter()
                .map(|p| AutoscaleProfileStatus {
                    name: p.name.clone(),
                    minimum: p.capacity.minimum.clone(),
                    maximum: p.capacity.maximum.clone(),
                    default: p.capacity.default.clone(),
                    when: profile_when(p),
                })
                .collect(),
        }
    }

    /// The lowest minimum and highest maximum over the profiles.
    pub fn range(&self) -> Option<(u32, u32)> {
        let nums: Vec<(u32, u32)> = self
            .profiles
            .iter()
            .filter_map(|p| {
                Some((
                    p.minimum.trim().parse().ok()?,
                    p.maximum.trim().parse().ok()?,
                ))
            })
            .collect();
        Some((
            nums.iter().map(|n| n.0).min()?,
            nums.iter().map(|n| n.1).max()?,
        ))
    }
}

fn profile_when(p: &crate::azure::models::AutoscaleProfile) -> String {
    if let Some(r) = &p.recurrence {
        let s = &r["schedule"];
        let days: Vec<&str> = s["days"]
            .as_array()
            .map(|d| d.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let h = s["hours"][0].as_u64().unwrap_or(0);
        let m = s["minutes"][0].as_u64().unwrap_or(0);
        return format!(
            "{} from {h:02}:{m:02} ({})",
            days.join(", "),
            s["timeZone"].as_str().unwrap_or("UTC")
        );
    }
    if let Some(f) = &p.fixed_date {
        return format!(
            "{} to {} ({})",
            f["start"].as_str().unwrap_or("?"),
            f["end"].as_str().unwrap_or("?"),
            f["timeZone"].as_str().unwrap_or("UTC")
        );
    }
    "always".into()
}

/// The scale set, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleSetStatus {
    /// Name.
    pub name: String,
    /// VM size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Capacity (instances, running or not).
    pub capacity: u32,
    /// Provisioning state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// What [`status`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStatus {
    /// Pool name.
    pub pool: String,
    /// Resource group.
    pub resource_group: String,
    /// Whether the scale set exists.
    pub deployed: bool,
    /// Deployment name and provisioning state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<(String, String)>,
    /// The scale set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_set: Option<ScaleSetStatus>,
    /// Instances.
    pub instances: Vec<InstanceStatus>,
    /// Instances per power state.
    pub power: std::collections::BTreeMap<String, u32>,
    /// The autoscale setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleStatus>,
    /// Stopped by `dsvmpool stop`: autoscale off and no instance running.
    pub stopped: bool,
    /// Addresses (deployment outputs).
    pub addresses: PoolOutputs,
}

/// Reads the pool's live state: scale set, instances with power state and protection,
/// autoscale setting, addresses. Only reads.
pub async fn status(client: &ArmClient, pool: &ValidPool) -> Result<PoolStatus> {
    let s = pool.spec();
    let names = ResourceNames::for_pool(pool);
    let rg = s.resource_group.as_str();
    let mut out = PoolStatus {
        pool: s.name.clone(),
        resource_group: rg.to_string(),
        deployed: false,
        deployment: None,
        scale_set: None,
        instances: vec![],
        power: Default::default(),
        autoscale: None,
        stopped: false,
        addresses: PoolOutputs::default(),
    };
    let d = match read_deployment(client, rg, &names.deployment).await? {
        LiveDeployment::NoGroup => return Ok(out),
        LiveDeployment::Missing => None,
        LiveDeployment::Found(d) => Some(d),
    };
    if let Some(d) = &d {
        out.deployment = Some((
            names.deployment.clone(),
            d.provisioning_state().unwrap_or("unknown").to_string(),
        ));
        out.addresses =
            PoolOutputs::from_outputs(d.properties.as_ref().and_then(|p| p.outputs.as_ref()));
    }
    let (vmss, vms, auto) = tokio::join!(
        client.scale_set_get(rg, &names.scale_set),
        client.scale_set_instances(rg, &names.scale_set, true),
        client.autoscale_get(rg, &names.autoscale),
    );
    let Some(vmss) = vmss? else {
        return Ok(out);
    };
    out.deployed = true;
    out.scale_set = Some(ScaleSetStatus {
        name: names.scale_set.clone(),
        size: vmss.sku.as_ref().and_then(|k| k.name.clone()),
        capacity: vmss.capacity().unwrap_or(0),
        provisioning_state: vmss.provisioning_state().map(str::to_string),
    });
    let vms = match vms {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::NotFound => vec![],
        Err(e) => return Err(e),
    };
    out.instances = vms.iter().map(InstanceStatus::from_vm).collect();
    for i in &out.instances {
        *out.power.entry(i.power_state.clone()).or_default() += 1;
    }
    out.autoscale = auto?.as_ref().map(AutoscaleStatus::from_setting);
    let none_running = out
        .instances
        .iter()
        .all(|i| i.power_state != "running" && i.power_state != "starting");
    out.stopped =
        s.autoscale.enabled && out.autoscale.as_ref().is_some_and(|a| !a.enabled) && none_running;
    Ok(out)
}

impl fmt::Display for PoolStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Pool `{}` (resource group {})",
            self.pool, self.resource_group
        )?;
        if !self.deployed {
            return writeln!(f, "  not deployed (run `dsvmpool deploy`)");
        }
        if let Some((n, st)) = &self.deployment {
            writeln!(f, "  deployment     {n}: {st}")?;
        }
        if let Some(v) = &self.scale_set {
            let power: Vec<String> = self.power.iter().map(|(k, n)| format!("{n} {k}")).collect();
            writeln!(
                f,
                "  scale set      {} ({}): capacity {}{}{}",
                v.name,
                v.size.as_deref().unwrap_or("?"),
                v.capacity,
                if power.is_empty() {
                    String::new()
                } else {
                    format!(", {}", power.join(", "))
                },
                if self.stopped { " — stopped" } else { "" }
            )?;
        }
        match &self.autoscale {
            Some(a) => {
                writeln!(
                    f,
                    "  autoscale      {} ({})",
                    a.name,
                    if a.enabled { "enabled" } else { "disabled" }
                )?;
                for p in &a.profiles {
                    writeln!(
                        f,
                        "    {:<16} {}–{} (default {}), {}",
                        p.name, p.minimum, p.maximum, p.default, p.when
                    )?;
                }
            }
            None => writeln!(f, "  autoscale      none")?,
        }
        let a = &self.addresses;
        for (label, v) in [
            ("FQDN", &a.fqdn),
            ("public IP", &a.public_ip),
            ("JupyterHub", &a.jupyterhub_url),
            ("SSH", &a.ssh_command),
            ("instance SSH", &a.instance_ssh_ports),
            ("workspace", &a.share),
        ] {
            if let Some(v) = v {
                writeln!(f, "  {label:<14} {v}")?;
            }
        }
        if !self.instances.is_empty() {
            writeln!(f, "  instances:")?;
            for i in &self.instances {
                let mut prot = Vec::new();
                if i.protect_from_scale_set_actions {
                    prot.push("protected from scale-set actions");
                } else if i.protect_from_scale_in {
                    prot.push("protected from scale-in");
                }
                writeln!(
                    f,
                    "    {:<6} {:<24} {:<12} {}{}",
                    i.instance_id,
                    i.computer_name.as_deref().unwrap_or(&i.name),
                    i.power_state,
                    i.provisioning_state.as_deref().unwrap_or(""),
                    if prot.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", prot.join(", "))
                    }
                )?;
            }
        }
        Ok(())
    }
}

// ---- scale ----------------------------------------------------------------------------------

/// What [`scale`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleOutcome {
    /// Pool name.
    pub pool: String,
    /// Scale set.
    pub scale_set: String,
    /// Capacity before (first read).
    pub from: u32,
    /// Capacity now.
    pub to: u32,
    /// Whether a write was made.
    pub changed: bool,
    /// Concurrent changes met (each re-read and retried).
    pub conflicts: u32,
    /// Things to know (autoscale limits).
    pub warnings: Vec<String>,
}

/// How many times a write is retried after a concurrent change.
const MAX_CONFLICTS: u32 = 8;

/// Sets the pool's capacity to `capacity` instances (see the [module docs](self)).
pub async fn scale(
    client: &ArmClient,
    pool: &ValidPool,
    capacity: u32,
    progress: Option<ProgressSink>,
) -> Result<ScaleOutcome> {
    let rep = Reporter::new(progress.as_ref());
    let names = ResourceNames::for_pool(pool);
    let rg = pool.spec().resource_group.as_str();
    let vmss_name = names.scale_set.as_str();
    let operation = format!("scale {vmss_name} to {capacity}");
    let mut conflicts = 0u32;
    let mut from = None;
    let mut changed = false;
    loop {
        rep.step("read", format!("reading scale set {vmss_name}"));
        let vmss = client
            .scale_set_get(rg, vmss_name)
            .await?
            .ok_or_else(|| not_deployed(pool, &operation))?;
        let current = vmss.capacity().unwrap_or(0);
        from.get_or_insert(current);
        let settled = vmss
            .provisioning_state()
            .is_none_or(|s| terminal_state(s).is_some());
        if current == capacity && settled {
            break;
        }
        if conflicts > 0 {
            rep.step(
                "retry",
                format!("capacity is now {current}; applying {capacity} on top of it"),
            );
        }
        rep.step(
            "scale",
            format!("changing capacity of {vmss_name} from {current} to {capacity}"),
        );
        match client
            .scale_set_update_capacity(rg, vmss_name, capacity, vmss.etag.as_deref())
            .await
        {
            Ok(poller) => {
                changed = true;
                wait_op(poller, &rep, &operation).await?;
                break;
            }
            Err(e) if e.kind() == ErrorKind::Conflict && conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                rep.emit(Progress::Conflict {
                    operation: operation.clone(),
                    message: format!(
                        "the scale set changed since it was read (capacity was {current}): {e}"
                    ),
                    attempt: conflicts,
                });
                // Give the other writer a moment; jitter keeps two retrying callers apart.
                let ms = 100 * u64::from(conflicts) + fastrand::u64(0..100);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Err(e) => return Err(e),
        }
    }
    let mut warnings = Vec::new();
    if let Some(a) = client.autoscale_get(rg, &names.autoscale).await? {
        let a = AutoscaleStatus::from_setting(&a);
        if a.enabled
            && let Some((lo, hi)) = a.range()
        {
            let w = if capacity < lo || capacity > hi {
                format!(
                    "autoscale `{}` keeps the pool between {lo} and {hi} instances: it will \
                     move the capacity back on its next run (within minutes); change the spec's \
                     capacity or run `dsvmpool stop` to keep it",
                    a.name
                )
            } else {
                format!(
                    "autoscale `{}` is on: it may change the capacity again",
                    a.name
                )
            };
            rep.warn(w.clone());
            warnings.push(w);
        }
    }
    Ok(ScaleOutcome {
        pool: pool.name().to_string(),
        scale_set: vmss_name.to_string(),
        from: from.unwrap_or(capacity),
        to: capacity,
        changed,
        conflicts,
        warnings,
    })
}

// ---- stop / start ---------------------------------------------------------------------------

/// What [`stop`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopOutcome {
    /// Pool name.
    pub pool: String,
    /// Whether autoscale was switched off now (false: it was off already, or there is none).
    pub autoscale_disabled: bool,
    /// Instances deallocated now.
    pub deallocated: Vec<String>,
    /// Instances left running because they are protected from scale-set actions.
    pub protected: Vec<String>,
    /// Capacity (unchanged).
    pub capacity: u32,
    /// Whether a write was made.
    pub changed: bool,
}

/// What [`start`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartOutcome {
    /// Pool name.
    pub pool: String,
    /// Instances started now.
    pub started: Vec<String>,
    /// Whether autoscale was switched on again now.
    pub autoscale_enabled: bool,
    /// Capacity.
    pub capacity: u32,
    /// Whether a write was made.
    pub changed: bool,
}

async fn set_autoscale_enabled(
    client: &ArmClient,
    rg: &str,
    name: &str,
    mut setting: AutoscaleSetting,
    enabled: bool,
) -> Result<()> {
    // Send the setting back as read, without the read-only parts.
    setting.id = None;
    setting.name = None;
    setting.kind = None;
    setting.extra.remove("etag");
    setting.properties.extra.remove("provisioningState");
    setting.properties.enabled = Some(enabled);
    client.autoscale_put(rg, name, &setting).await?;
    Ok(())
}

/// Stops the pool: autoscale off, every instance deallocated (see the [module docs](self)).
pub async fn stop(
    client: &ArmClient,
    pool: &ValidPool,
    progress: Option<ProgressSink>,
) -> Result<StopOutcome> {
    let rep = Reporter::new(progress.as_ref());
    let names = ResourceNames::for_pool(pool);
    let rg = pool.spec().resource_group.as_str();
    let vmss = client
        .scale_set_get(rg, &names.scale_set)
        .await?
        .ok_or_else(|| not_deployed(pool, &format!("stop pool {}", pool.name())))?;
    let mut out = StopOutcome {
        pool: pool.name().to_string(),
        autoscale_disabled: false,
        deallocated: vec![],
        protected: vec![],
        capacity: vmss.capacity().unwrap_or(0),
        changed: false,
    };
    if let Some(a) = client.autoscale_get(rg, &names.autoscale).await?
        && a.properties.enabled != Some(false)
    {
        rep.step(
            "autoscale",
            format!(
                "disabling autoscale setting {} so it starts nothing",
                names.autoscale
            ),
        );
        set_autoscale_enabled(client, rg, &names.autoscale, a, false).await?;
        out.autoscale_disabled = true;
        out.changed = true;
    }
    let vms = client
        .scale_set_instances(rg, &names.scale_set, true)
        .await?;
    let insts: Vec<InstanceStatus> = vms.iter().map(InstanceStatus::from_vm).collect();
    let (protected, movable): (Vec<&InstanceStatus>, Vec<&InstanceStatus>) = insts
        .iter()
        .filter(|i| i.power_state != "deallocated")
        .partition(|i| i.protect_from_scale_set_actions);
    out.protected = protected.iter().map(|i| i.instance_id.clone()).collect();
    for p in &protected {
        rep.warn(format!(
            "instance {} is protected from scale-set actions: left {}",
            p.instance_id, p.power_state
        ));
    }
    if !movable.is_empty() {
        let ids: Vec<String> = movable.iter().map(|i| i.instance_id.clone()).collect();
        let operation = format!(
            "deallocate {} instance(s) of {}",
            ids.len(),
            names.scale_set
        );
        rep.step("deallocate", operation.clone());
        let which = if protected.is_empty() {
            None
        } else {
            Some(ids.as_slice())
        };
        let poller = client
            .scale_set_deallocate(rg, &names.scale_set, which)
            .await?;
        wait_op(poller, &rep, &operation).await?;
        out.deallocated = ids;
        out.changed = true;
    }
    Ok(out)
}

/// Starts the pool: every deallocated or stopped instance, then autoscale on again when the spec
/// has it (see the [module docs](self)).
pub async fn start(
    client: &ArmClient,
    pool: &ValidPool,
    progress: Option<ProgressSink>,
) -> Result<StartOutcome> {
    let rep = Reporter::new(progress.as_ref());
    let names = ResourceNames::for_pool(pool);
    let rg = pool.spec().resource_group.as_str();
    let vmss = client
        .scale_set_get(rg, &names.scale_set)
        .await?
        .ok_or_else(|| not_deployed(pool, &format!("start pool {}", pool.name())))?;
    let mut out = StartOutcome {
        pool: pool.name().to_string(),
        started: vec![],
        autoscale_enabled: false,
        capacity: vmss.capacity().unwrap_or(0),
        changed: false,
    };
    let vms = client
        .scale_set_instances(rg, &names.scale_set, true)
        .await?;
    let insts: Vec<InstanceStatus> = vms.iter().map(InstanceStatus::from_vm).collect();
    let (protected, movable): (Vec<&InstanceStatus>, Vec<&InstanceStatus>) = insts
        .iter()
        .filter(|i| matches!(i.power_state.as_str(), "deallocated" | "stopped"))
        .partition(|i| i.protect_from_scale_set_actions);
    for p in &protected {
        rep.warn(format!(
            "instance {} is protected from scale-set actions: left {}",
            p.instance_id, p.power_state
        ));
    }
    if !movable.is_empty() {
        let ids: Vec<String> = movable.iter().map(|i| i.instance_id.clone()).collect();
        let operation = format!("start {} instance(s) of {}", ids.len(), names.scale_set);
        rep.step("start", operation.clone());
        let which = if protected.is_empty() {
            None
        } else {
            Some(ids.as_slice())
        };
        let poller = client.scale_set_start(rg, &names.scale_set, which).await?;
        wait_op(poller, &rep, &operation).await?;
        out.started = ids;
        out.changed = true;
    } else if out.capacity == 0 {
        rep.warn("the pool has no instances: autoscale (or `dsvmpool scale`) adds them");
    }
    if pool.spec().autoscale.enabled
        && let Some(a) = client.autoscale_get(rg, &names.autoscale).await?
        && a.properties.enabled == Some(false)
    {
        rep.step(
            "autoscale",
            format!("enabling autoscale setting {} again", names.autoscale),
        );
        set_autoscale_enabled(client, rg, &names.autoscale, a, true).await?;
        out.autoscale_enabled = true;
        out.changed = true;
    }
    Ok(out)
}

// ---- destroy --------------------------------------------------------------------------------

/// What [`destroy`] will delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestroyPlan {
    /// Pool name.
    pub pool: String,
    /// Resource group.
    pub resource_group: String,
    /// Whether anything of the pool exists.
    pub exists: bool,
    /// Whether the whole resource group goes (created by dsvmpool, holds only the pool).
    pub delete_group: bool,
    /// Resource ids deleted one by one, in this order (when the group stays).
    pub resources: Vec<String>,
    /// Resources of the group that are not the pool's and stay.
    pub kept: Vec<String>,
    /// Why the group is or is not deleted.
    pub reason: String,
}

/// What [`destroy`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestroyOutcome {
    /// The plan that was carried out.
    #[serde(flatten)]
    pub plan: DestroyPlan,
    /// What was deleted (the group, or resource ids).
    pub deleted: Vec<String>,
}

impl fmt::Display for DestroyPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.exists {
            return writeln!(
                f,
                "Nothing to delete: pool `{}` does not exist in resource group {}.",
                self.pool, self.resource_group
            );
        }
        if self.delete_group {
            writeln!(
                f,
                "Delete resource group {} and everything in it ({}).",
                self.resource_group, self.reason
            )?;
        } else {
            writeln!(
                f,
                "Delete {} resource(s) of pool `{}` from resource group {} ({}):",
                self.resources.len(),
                self.pool,
                self.resource_group,
                self.reason
            )?;
            for r in &self.resources {
                writeln!(f, "  - {}", crate::azure::requests::short_id(r))?;
            }
        }
        for k in &self.kept {
            writeln!(f, "  keep {}", crate::azure::requests::short_id(k))?;
        }
        Ok(())
    }
}

/// A resource the template creates: id and api-version.
struct Owned {
    id: String,
    api_version: String,
    top_level: bool,
}

/// The resources the pool's template creates, in template order.
fn owned_resources(client: &ArmClient, pool: &ValidPool) -> Result<Vec<Owned>> {
    let artifacts = render(pool, &RenderOptions::default())?;
    let rg = pool.spec().resource_group.as_str();
    let mut out = Vec::new();
    let empty = Vec::new();
    let mut add = |rg: &str, r: &Value| {
        let (Some(t), Some(n), Some(api)) = (
            r["type"].as_str(),
            r["name"].as_str(),
            r["apiVersion"].as_str(),
        ) else {
            return;
        };
        if n.starts_with('[') || t.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
            return;
        }
        let tsegs: Vec<&str> = t.split('/').collect();
        let nsegs: Vec<&str> = n.split('/').collect();
        if tsegs.len() != nsegs.len() + 1 {
            return;
        }
        let mut path = vec![tsegs[0]];
        for (ty, na) in tsegs[1..].iter().zip(&nsegs) {
            path.push(ty);
            path.push(na);
        }
        let base = client.requests().resource_group_id(rg);
        let id = match r["scope"].as_str().filter(|s| !s.starts_with('[')) {
            Some(scope) if !scope.starts_with('/') => {
                format!("{base}/providers/{scope}/providers/{}", path.join("/"))
            }
            Some(scope) => format!("{scope}/providers/{}", path.join("/")),
            None => format!("{base}/providers/{}", path.join("/")),
        };
        out.push(Owned {
            id,
            api_version: api.to_string(),
            top_level: nsegs.len() == 1,
        });
    };
    for r in artifacts.template["resources"].as_array().unwrap_or(&empty) {
        if r["type"] == "Microsoft.Resources/deployments" {
            let inner_rg = r["resourceGroup"].as_str().unwrap_or(rg);
            for inner in r["properties"]["template"]["resources"]
                .as_array()
                .unwrap_or(&empty)
            {
                add(inner_rg, inner);
            }
        } else {
            add(rg, r);
        }
    }
    Ok(out)
}

fn same_or_child(id: &str, owned: &str) -> bool {
    let (a, b) = (id.to_ascii_lowercase(), owned.to_ascii_lowercase());
    a == b || a.starts_with(&format!("{b}/"))
}

/// What [`destroy`] would delete. Only reads.
pub async fn destroy_preview(client: &ArmClient, pool: &ValidPool) -> Result<DestroyPlan> {
    let s = pool.spec();
    let rg = s.resource_group.as_str();
    let names = ResourceNames::for_pool(pool);
    let mut plan = DestroyPlan {
        pool: s.name.clone(),
        resource_group: rg.to_string(),
        exists: false,
        delete_group: false,
        resources: vec![],
        kept: vec![],
        reason: String::new(),
    };
    let Some(group) = client.resource_group_get(rg).await? else {
        plan.reason = "the resource group does not exist".into();
        return Ok(plan);
    };
    let owned = owned_resources(client, pool)?;
    let list_id = format!("{}/resources", client.requests().resource_group_id(rg));
    let req = client.requests().get_resource(&list_id, "2021-04-01")?;
    let present: Vec<GenericResource> = client.list_all(&req).await?;
    let is_pools = |r: &GenericResource| {
        let id = r.id.as_deref().unwrap_or_default();
        owned.iter().any(|o| same_or_child(id, &o.id))
            || r.tags
                .as_ref()
                .and_then(|t| t.get(POOL_TAG))
                .is_some_and(|v| v == &s.name)
    };
    plan.kept = present
        .iter()
        .filter(|r| !is_pools(r))
        .filter_map(|r| r.id.clone())
        .collect();
    let ours: Vec<&GenericResource> = present.iter().filter(|r| is_pools(r)).collect();
    let deployment = read_deployment(client, rg, &names.deployment).await?;
    let has_deployment = matches!(deployment, LiveDeployment::Found(_));
    plan.exists = !ours.is_empty() || has_deployment;
    let created_by_us = group
        .tags
        .as_ref()
        .and_then(|t| t.get(POOL_TAG))
        .is_some_and(|v| v == &s.name);
    if created_by_us && plan.kept.is_empty() {
        plan.delete_group = true;
        plan.exists = true;
        plan.reason = format!("dsvmpool created it for pool `{}`", s.name);
        return Ok(plan);
    }
    plan.reason = if !created_by_us {
        "dsvmpool did not create the group: only the pool's resources go".into()
    } else {
        format!(
            "it holds {} resource(s) that are not the pool's",
            plan.kept.len()
        )
    };
    // Newest first; children go with their parent; only what exists.
    for o in owned.iter().rev() {
        let scoped = o.id.to_ascii_lowercase().matches("/providers/").count() > 1;
        if !(o.top_level || scoped) {
            continue;
        }
        if ours.iter().any(|r| {
            r.id.as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&o.id))
        }) || scoped
        {
            plan.resources.push(o.id.clone());
        }
    }
    if has_deployment {
        plan.resources.push(format!(
            "{}/providers/Microsoft.Resources/deployments/{}",
            client.requests().resource_group_id(rg),
            names.deployment
        ));
    }
    Ok(plan)
}

/// Deletes the pool (see the [module docs](self)). The caller confirms first
/// ([`destroy_preview`] says what goes).
pub async fn destroy(
    client: &ArmClient,
    pool: &ValidPool,
    progress: Option<ProgressSink>,
) -> Result<DestroyOutcome> {
    let rep = Reporter::new(progress.as_ref());
    let plan = destroy_preview(client, pool).await?;
    let mut deleted = Vec::new();
    if plan.delete_group {
        let operation = format!("delete resource group {}", plan.resource_group);
        rep.step("delete", operation.clone());
        let poller = client.resource_group_delete(&plan.resource_group).await?;
        wait_op(poller, &rep, &operation).await?;
        deleted.push(client.requests().resource_group_id(&plan.resource_group));
    } else if plan.exists {
        let owned = owned_resources(client, pool)?;
        for id in &plan.resources {
            let api = owned
                .iter()
                .find(|o| o.id.eq_ignore_ascii_case(id))
                .map(|o| o.api_version.clone())
                .unwrap_or_else(|| api_version::RESOURCES.to_string());
            let operation = format!("delete {}", crate::azure::requests::short_id(id));
            rep.step("delete", operation.clone());
            let poller = client.delete_resource(id, &api).await?;
            wait_op(poller, &rep, &operation).await?;
            deleted.push(id.clone());
        }
    }
    Ok(DestroyOutcome { plan, deleted })
}

/// Whether a terminal state is success (for callers reading states).
pub fn is_succeeded(state: &str) -> bool {
    terminal_state(state) == Some(Terminal::Succeeded)
}
