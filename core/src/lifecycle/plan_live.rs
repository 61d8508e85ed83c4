//! The drift-aware plan: the offline [`Plan`] compared with what is deployed.
//!
//! [`plan_live`] reads the live deployment and scale set, then asks Resource Manager's what-if
//! for the changes the deployment `dsvmpool deploy` would send. What autoscale (and the
//! operator) own is not drift:
//! - the capacity: the deployment sends the live capacity when it is within the spec's
//!   `[min, max]`, so it never shows as a change (outside that range it does: a deploy moves it
//!   back into the range);
//! - instance protection (per instance, not part of the template);
//! - an autoscale setting switched off by `dsvmpool stop` (`dsvmpool start` switches it on).
//!
//! An unchanged pool plans as "no changes". Only reads and the what-if call (which changes
//! nothing) are made.

use super::apply::{
    CONFIG_HASH_OUTPUT, DeployInputs, LiveDeployment, instance_count, read_deployment,
};
use super::plan::{Action, Plan, plan};
use super::{EnvSource, process_env};
use crate::azure::ArmClient;
use crate::azure::models::WhatIfChange;
use crate::error::Result;
use crate::names::ResourceNames;
use crate::render::{RenderOptions, render};
use crate::spec::ValidPool;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Options of [`plan_live`].
#[derive(Clone, Default)]
pub struct PlanOptions {
    /// Where secure parameters are read (what-if needs every parameter; default: the process
    /// environment).
    pub env: Option<EnvSource>,
}

impl fmt::Debug for PlanOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanOptions")
            .field("env", &self.env.as_ref().map(|_| "<lookup>"))
            .finish()
    }
}

/// What is deployed, and how it differs from the spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveState {
    /// Whether the resource group exists.
    pub resource_group_exists: bool,
    /// Provisioning state of the pool's deployment, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_state: Option<String>,
    /// Whether the last deployment carries exactly this configuration (then `deploy` writes
    /// nothing).
    pub up_to_date: bool,
    /// Live capacity of the scale set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Whether the autoscale setting is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale_enabled: Option<bool>,
    /// Resources that would be created or changed.
    pub changes: usize,
    /// `no changes`, or e.g. `2 to create, 1 to modify`.
    pub summary: String,
    /// What was deliberately not compared, and why.
    pub ignored: Vec<String>,
    /// Other resources of the group (left alone by an incremental deployment).
    pub unmanaged: Vec<String>,
    /// Whether Resource Manager's what-if was used.
    pub what_if: bool,
}

/// The offline plan with live actions (`create`, `modify`, `no_change`, `use_existing`) and the
/// live state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LivePlan {
    /// The plan; each resource's `action` and `detail` reflect the comparison.
    #[serde(flatten)]
    pub plan: Plan,
    /// The live state.
    pub live: LiveState,
}

impl LivePlan {
    /// Whether applying the spec would change nothing.
    pub fn no_changes(&self) -> bool {
        self.live.changes == 0
    }
}

/// `(type, name)` of a resource id (`…/providers/NS/type/name[/child/name…]`, the last
/// provider segment for extension resources).
fn type_and_name(id: &str) -> Option<(String, String)> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind("/providers/")?;
    let rest = &id[at + "/providers/".len()..];
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 3 || segs.len() % 2 == 0 {
        return None;
    }
    let mut types = vec![segs[0]];
    let mut names = Vec::new();
    for pair in segs[1..].chunks(2) {
        types.push(pair[0]);
        names.push(pair[1]);
    }
    Some((types.join("/"), names.join("/")))
}

/// Property changes of a what-if `delta` as `path: before → after` lines, minus the ignored ones.
fn delta_lines(delta: &[Value], ignore: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    for d in delta {
        let path = d["path"].as_str().unwrap_or_default();
        let kind = d["propertyChangeType"].as_str().unwrap_or_default();
        if kind.eq_ignore_ascii_case("NoEffect") || ignore(path) {
            continue;
        }
        if kind.eq_ignore_ascii_case("Array") {
            let mut inner = Vec::new();
            let children: Vec<Value> = d["children"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut c| {
                    let p = format!("{path}[{}]", c["path"].as_str().unwrap_or_default());
                    c["path"] = Value::String(p);
                    c
                })
                .collect();
            delta_lines(&children, ignore, &mut inner);
            if inner.is_empty() && !children.is_empty() {
                continue;
            }
            if inner.is_empty() {
                out.push(format!("{path} (list changes)"));
            }
            out.extend(inner);
            continue;
        }
        let show = |v: &Value| match v {
            Value::Null => "—".to_string(),
            Value::String(s) => s.clone(),
            other => {
                let s = other.to_string();
                if s.chars().count() > 60 {
                    format!("{}…", s.chars().take(60).collect::<String>())
                } else {
                    s
                }
            }
        };
        out.push(match kind {
            "Create" => format!("{path}: + {}", show(&d["after"])),
            "Delete" => format!("{path}: − {}", show(&d["before"])),
            _ => format!("{path}: {} → {}", show(&d["before"]), show(&d["after"])),
        });
    }
}

/// Compares the spec with the live pool (see the [module docs](self)).
pub async fn plan_live(
    client: &ArmClient,
    pool: &ValidPool,
    options: &PlanOptions,
) -> Result<LivePlan> {
    let mut p = plan(pool);
    let s = pool.spec();
    let names = ResourceNames::for_pool(pool);
    let rg = s.resource_group.as_str();
    let mut live = LiveState {
        resource_group_exists: true,
        deployment_state: None,
        up_to_date: false,
        capacity: None,
        autoscale_enabled: None,
        changes: 0,
        summary: String::new(),
        ignored: vec![],
        unmanaged: vec![],
        what_if: false,
    };
    let deployment = match read_deployment(client, rg, &names.deployment).await? {
        LiveDeployment::NoGroup => {
            live.resource_group_exists = false;
            None
        }
        LiveDeployment::Missing => None,
        LiveDeployment::Found(d) => Some(d),
    };
    if live.resource_group_exists {
        let env = options.env.clone().unwrap_or_else(process_env);
        let artifacts = render(pool, &RenderOptions::default())?;
        let inputs = DeployInputs::new(&artifacts, &env)?;
        let (vmss, auto) = tokio::join!(
            client.scale_set_get(rg, &names.scale_set),
            client.autoscale_get(rg, &names.autoscale)
        );
        let vmss = vmss?;
        let auto = auto?;
        live.capacity = vmss.as_ref().and_then(|v| v.capacity());
        live.autoscale_enabled = auto.as_ref().map(|a| a.properties.enabled != Some(false));
        if let Some(d) = &deployment {
            live.deployment_state = d.provisioning_state().map(str::to_string);
            live.up_to_date = inputs.matches(d)
                && d.provisioning_state()
                    .is_some_and(|s| s.eq_ignore_ascii_case("succeeded"));
        }
        let c = &s.capacity;
        if let Some(n) = live.capacity {
            if (c.min..=c.max).contains(&n) {
                live.ignored.push(format!(
                    "capacity {n}: owned by autoscale and `dsvmpool scale` within {}–{}",
                    c.min, c.max
                ));
            }
        }
        live.ignored
            .push("instance protection: set per instance, not part of the spec".into());
        let stopped = s.autoscale.enabled && live.autoscale_enabled == Some(false);
        if stopped {
            live.ignored.push(
                "autoscale switched off by `dsvmpool stop` (`dsvmpool start` switches it on)"
                    .into(),
            );
        }
        let request = inputs.request(instance_count(pool, live.capacity));
        let result = client
            .deployment_what_if(rg, &names.deployment, &request)
            .await?;
        live.what_if = true;
        let changes: Vec<WhatIfChange> = result
            .properties
            .and_then(|p| p.changes)
            .unwrap_or_default();
        let vmss_type = "microsoft.compute/virtualmachinescalesets";
        let auto_type = "microsoft.insights/autoscalesettings";
        for ch in &changes {
            let Some((t, n)) = type_and_name(&ch.resource_id) else {
                continue;
            };
            let lt = t.to_ascii_lowercase();
            let target = p
                .resources
                .iter_mut()
                .find(|r| r.kind.eq_ignore_ascii_case(&t) && r.name.eq_ignore_ascii_case(&n));
            let change = ch.change_type.to_ascii_lowercase();
            let Some(target) = target else {
                if change == "ignore" {
                    live.unmanaged.push(ch.resource_id.clone());
                }
                continue;
            };
            match change.as_str() {
                "create" => target.action = Action::Create,
                "nochange" | "ignore" | "unsupported" => target.action = Action::NoChange,
                _ => {
                    let ignore = |path: &str| {
                        let path = path.to_ascii_lowercase();
                        (lt == vmss_type
                            && path == "sku.capacity"
                            && live.capacity.is_some_and(|n| (c.min..=c.max).contains(&n)))
                            || (lt == auto_type && stopped && path == "properties.enabled")
                    };
                    let mut lines = Vec::new();
                    delta_lines(ch.delta.as_deref().unwrap_or(&[]), &ignore, &mut lines);
                    if change == "modify" && lines.is_empty() {
                        target.action = Action::NoChange;
                    } else {
                        target.action = Action::Modify;
                        target.detail = if lines.is_empty() {
                            "redeployed (what-if cannot tell the property changes)".into()
                        } else {
                            lines.join("; ")
                        };
                    }
                }
            }
        }
    }
    let created = p
        .resources
        .iter()
        .filter(|r| r.action == Action::Create)
        .count();
    let modified = p
        .resources
        .iter()
        .filter(|r| r.action == Action::Modify)
        .count();
    live.changes = created + modified;
    live.summary = match (created, modified) {
        (0, 0) => "no changes".into(),
        (c, 0) => format!("{c} to create"),
        (0, m) => format!("{m} to modify"),
        (c, m) => format!("{c} to create, {m} to modify"),
    };
    if live.changes == 0 && !live.up_to_date && deployment.is_some() {
        live.ignored.push(format!(
            "the deployment record has another configuration (output `{CONFIG_HASH_OUTPUT}`): \
             `deploy` would record this one without changing a resource"
        ));
    }
    Ok(LivePlan { plan: p, live })
}

impl fmt::Display for LivePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.plan)?;
        let l = &self.live;
        writeln!(f)?;
        writeln!(
            f,
            "Live ({}): {}",
            if l.resource_group_exists {
                l.deployment_state
                    .as_deref()
                    .map(|s| format!("deployment {s}"))
                    .unwrap_or_else(|| "not deployed".into())
            } else {
                format!("resource group {} does not exist", self.plan.resource_group)
            },
            l.summary
        )?;
        for i in &l.ignored {
            writeln!(f, "  not compared: {i}")?;
        }
        for u in &l.unmanaged {
            writeln!(
                f,
                "  not the pool's (left alone): {}",
                crate::azure::requests::short_id(u)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_ids_to_type_and_name() {
        assert_eq!(
            type_and_name(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
            ),
            Some(("Microsoft.Network/virtualNetworks".into(), "v".into()))
        );
        assert_eq!(
            type_and_name(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/fileServices/default/shares/w"
            ),
            Some((
                "Microsoft.Storage/storageAccounts/fileServices/shares".into(),
                "a/default/w".into()
            ))
        );
        assert_eq!(
            type_and_name(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/providers/Microsoft.Authorization/roleAssignments/g"
            ),
            Some(("Microsoft.Authorization/roleAssignments".into(), "g".into()))
        );
        assert_eq!(type_and_name("/subscriptions/s"), None);
    }

    #[test]
    fn deltas_skip_ignored_and_no_effect_paths() {
        let delta = vec![
            json!({"path": "sku.capacity", "propertyChangeType": "Modify", "before": 5, "after": 2}),
            json!({"path": "properties.x", "propertyChangeType": "NoEffect", "before": 1}),
            json!({"path": "sku.name", "propertyChangeType": "Modify", "before": "a", "after": "b"}),
            json!({"path": "tags", "propertyChangeType": "Array", "children": [
                {"path": "0", "propertyChangeType": "Create", "after": "x"}]}),
        ];
        let mut out = vec![];
        delta_lines(&delta, &|p| p == "sku.capacity", &mut out);
        assert_eq!(out, vec!["sku.name: a → b", "tags[0]: + x"]);
    }
}
