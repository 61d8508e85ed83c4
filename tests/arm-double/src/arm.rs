//! The management endpoint: routing and the ARM calls the double implements.

use crate::clock::SimTime;
use crate::config::PatchResponse;
use crate::error::ArmError;
use crate::faults::{FaultAction, Outcome};
use crate::state::{
    self, Deployment, Effect, FinalResponse, PutStyle, Resource, ResourceGroup, State, rg_key,
};
use crate::template;
use crate::whatif;
use crate::wire::{Reply, Req};
use serde_json::{Map, Value, json};

/// Per-request context.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Simulated time of the request.
    pub now: SimTime,
    /// Correlation id (echoed or generated).
    pub correlation_id: String,
    /// A fault that applies to the operation this request starts.
    pub fault: Option<FaultAction>,
}

impl Ctx {
    fn outcome(&self) -> Outcome {
        self.fault
            .as_ref()
            .and_then(FaultAction::outcome)
            .unwrap_or(Outcome::Succeeded)
    }

    fn retry_override(&self) -> Option<f64> {
        match &self.fault {
            Some(FaultAction::SlowPoll {
                retry_after_secs, ..
            }) => *retry_after_secs,
            _ => None,
        }
    }
}

type Fail = (u16, ArmError);
type HResult = Result<Reply, Fail>;

fn fail(status: u16, code: &str, message: impl Into<String>) -> Fail {
    (status, ArmError::new(code, message))
}

fn bad_request(e: ArmError) -> Fail {
    (400, e)
}

const RESOURCES_VERSIONS: &[&str] = &[
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];
const COMPUTE_VERSIONS: &[&str] = &[
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
];
const INSIGHTS_AUTOSCALE_VERSIONS: &[&str] = &["2015-04-01", "2021-05-01-preview", "2022-10-01"];
const STORAGE_VERSIONS: &[&str] = &[
    "2021-09-01",
    "2022-05-01",
    "2022-09-01",
    "2023-01-01",
    "2023-04-01",
    "2023-05-01",
    "2024-01-01",
    "2025-01-01",
];
const NETWORK_VERSIONS: &[&str] = &[
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
];

fn supported_versions(rtype: &str) -> Option<&'static [&'static str]> {
    let t = rtype.to_ascii_lowercase();
    if t.starts_with("microsoft.resources/") {
        Some(RESOURCES_VERSIONS)
    } else if t.starts_with("microsoft.compute/virtualmachinescalesets") {
        Some(COMPUTE_VERSIONS)
    } else if t.starts_with("microsoft.insights/autoscalesettings") {
        Some(INSIGHTS_AUTOSCALE_VERSIONS)
    } else if t.starts_with("microsoft.storage/storageaccounts") {
        Some(STORAGE_VERSIONS)
    } else if t.starts_with("microsoft.network/") {
        Some(NETWORK_VERSIONS)
    } else {
        None
    }
}

fn check_api_version(st: &State, req: &Req, rtype: Option<&str>) -> Result<String, Fail> {
    let v = req.query("api-version").unwrap_or_default().to_string();
    if v.is_empty() {
        return Err(fail(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    let (Some(rtype), true) = (rtype, st.settings.behaviour.strict_api_versions) else {
        return Ok(v);
    };
    let Some(list) = supported_versions(rtype) else {
        return Ok(v);
    };
    if list.contains(&v.as_str()) {
        return Ok(v);
    }
    if rtype
        .to_ascii_lowercase()
        .starts_with("microsoft.resources/")
    {
        Err(fail(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                list.join(",")
            ),
        ))
    } else {
        Err(fail(
            400,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{}' and API version '{v}' for type '{}'. The supported api-versions are '{}'. The supported locations are '{}'.",
                st.location,
                rtype.split_once('/').map(|x| x.1).unwrap_or(rtype),
                list.join(", "),
                st.location
            ),
        ))
    }
}

/// Handles one authenticated, non-throttled management request.
pub fn handle(st: &mut State, req: &Req, ctx: &Ctx) -> Reply {
    route(st, req, ctx).unwrap_or_else(|(status, e)| Reply::error(status, e))
}

fn route(st: &mut State, req: &Req, ctx: &Ctx) -> HResult {
    let seg = &req.segments;
    let lower: Vec<String> = seg.iter().map(|s| s.to_ascii_lowercase()).collect();
    if lower.len() < 2 || lower[0] != "subscriptions" {
        return Err(fail(
            404,
            "NotFound",
            format!(
                "The path '{}' is not served by the ARM test double.",
                req.path
            ),
        ));
    }
    if !seg[1].eq_ignore_ascii_case(&st.subscription_id) {
        check_api_version(st, req, None)?;
        return Err(fail(
            404,
            "SubscriptionNotFound",
            format!("The subscription '{}' could not be found.", seg[1]),
        ));
    }
    let rest = &seg[2..];
    let l: Vec<&str> = lower[2..].iter().map(String::as_str).collect();
    let m = req.method.as_str();
    match l.as_slice() {
        [] => {
            check_api_version(st, req, Some("Microsoft.Resources/subscriptions"))?;
            only(m, &["GET"])?;
            Ok(Reply::json(
                200,
                json!({
                    "id": format!("/subscriptions/{}", st.subscription_id),
                    "subscriptionId": st.subscription_id,
                    "tenantId": st.tenant_id,
                    "displayName": "Test subscription",
                    "state": "Enabled",
                    "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}
                }),
            ))
        }
        ["resourcegroups"] => {
            check_api_version(st, req, Some("Microsoft.Resources/resourceGroups"))?;
            only(m, &["GET"])?;
            let value: Vec<Value> = st.rgs.values().map(|g| render_rg(st, g)).collect();
            Ok(Reply::json(200, json!({ "value": value })))
        }
        ["resourcegroups", _] => {
            check_api_version(st, req, Some("Microsoft.Resources/resourceGroups"))?;
            resource_group(st, req, ctx, &rest[1])
        }
        ["resourcegroups", _, "resources"] => {
            check_api_version(st, req, Some("Microsoft.Resources/resources"))?;
            only(m, &["GET"])?;
            let g = group(st, &rest[1])?;
            let key = rg_key(&g.name);
            let value: Vec<Value> = st
                .resources
                .values()
                .filter(|r| r.rg == key && r.visible)
                .map(|r| {
                    let mut v = json!({"id": r.id, "name": r.name, "type": r.rtype});
                    for k in ["location", "tags", "sku", "kind", "identity"] {
                        if let Some(x) = r.model.get(k) {
                            v[k] = x.clone();
                        }
                    }
                    v
                })
                .collect();
            Ok(Reply::json(200, json!({ "value": value })))
        }
        [
            "resourcegroups",
            _,
            "providers",
            "microsoft.resources",
            "deployments",
        ] => {
            check_api_version(st, req, Some("Microsoft.Resources/deployments"))?;
            only(m, &["GET"])?;
            let g = group(st, &rest[1])?;
            let key = rg_key(&g.name);
            let value: Vec<Value> = st
                .deployments
                .values()
                .filter(|d| d.rg == key)
                .map(|d| st.render_deployment(d))
                .collect();
            Ok(Reply::json(200, json!({ "value": value })))
        }
        [
            "resourcegroups",
            _,
            "providers",
            "microsoft.resources",
            "deployments",
            _,
        ] => {
            let api = check_api_version(st, req, Some("Microsoft.Resources/deployments"))?;
            deployment(st, req, ctx, &rest[1], &rest[5], &api)
        }
        [
            "resourcegroups",
            _,
            "providers",
            "microsoft.resources",
            "deployments",
            _,
            action,
        ] => {
            let api = check_api_version(st, req, Some("Microsoft.Resources/deployments"))?;
            deployment_action(st, req, ctx, &rest[1], &rest[5], action, &api)
        }
        [
            "resourcegroups",
            _,
            "providers",
            "microsoft.resources",
            "deployments",
            _,
            "operations",
            _,
        ] => {
            check_api_version(st, req, Some("Microsoft.Resources/deployments"))?;
            only(m, &["GET"])?;
            let d = find_deployment(st, &rest[1], &rest[5])?;
            let list = st.deployment_operations(d);
            let wanted = rest[7].to_ascii_lowercase();
            list["value"]
                .as_array()
                .and_then(|ops| {
                    ops.iter().find(|o| {
                        o["operationId"].as_str().map(str::to_ascii_lowercase)
                            == Some(wanted.clone())
                    })
                })
                .cloned()
                .map(|o| Reply::json(200, o))
                .ok_or_else(|| {
                    fail(
                        404,
                        "DeploymentOperationNotFound",
                        format!("Deployment operation '{}' could not be found.", rest[7]),
                    )
                })
        }
        [
            "resourcegroups",
            _,
            "providers",
            "microsoft.resources",
            "deployments",
            _,
            "operationstatuses",
            _,
        ] => {
            check_api_version(st, req, None)?;
            only(m, &["GET"])?;
            let d = find_deployment(st, &rest[1], &rest[5])?;
            if !d.status_op.eq_ignore_ascii_case(&rest[7]) {
                return Err(fail(
                    404,
                    "OperationNotFound",
                    format!("The operation '{}' could not be found.", rest[7]),
                ));
            }
            let mut reply = Reply::json(200, st.deployment_status_body(d));
            if d.active() {
                let ra = d
                    .retry_after
                    .unwrap_or(st.settings.latency.retry_after_secs);
                reply = with_retry(st, reply, ra);
            }
            Ok(reply)
        }
        ["resourcegroups", _, "providers", _, ..] if l.len() >= 5 => {
            provider(st, req, ctx, &rest[1], &rest[3..])
        }
        ["providers", _, "locations", _, "operations", _] => {
            check_api_version(st, req, None)?;
            only(m, &["GET"])?;
            let op = find_op(st, &rest[5])?;
            let mut reply = Reply::json(200, st.op_status_body(op));
            if !op.done {
                let ra = st.op_retry_after(op);
                reply = with_retry(st, reply, ra);
            }
            Ok(reply)
        }
        ["providers", _, "locations", _, "operationresults", _] => {
            check_api_version(st, req, None)?;
            only(m, &["GET"])?;
            location_poll(st, &rest[5])
        }
        ["operationresults", _] => {
            check_api_version(st, req, None)?;
            only(m, &["GET"])?;
            location_poll(st, &rest[1])
        }
        _ => Err(fail(
            404,
            "NotFound",
            format!(
                "The path '{}' is not served by the ARM test double.",
                req.path
            ),
        )),
    }
}

fn only(method: &str, allowed: &[&str]) -> Result<(), Fail> {
    if allowed.contains(&method) {
        Ok(())
    } else {
        Err(fail(
            405,
            "MethodNotAllowed",
            format!(
                "The requested resource does not support http method '{method}'. Allowed: {}.",
                allowed.join(", ")
            ),
        ))
    }
}

/// Adds `Retry-After` (and `retry-after-ms`) for a simulated interval.
pub fn with_retry(st: &State, reply: Reply, sim_secs: f64) -> Reply {
    let mut reply = reply;
    for (k, v) in retry_headers(st, sim_secs) {
        reply = reply.header(&k, v);
    }
    reply
}

/// The retry headers for a simulated interval.
pub fn retry_headers(st: &State, sim_secs: f64) -> Vec<(String, String)> {
    let real = st.clock.real(sim_secs);
    let mut out = vec![(
        "Retry-After".to_string(),
        real.as_secs_f64().ceil().to_string(),
    )];
    if st.settings.behaviour.retry_after_ms_header {
        out.push(("retry-after-ms".to_string(), real.as_millis().to_string()));
    }
    out
}

fn find_op<'a>(st: &'a State, id: &str) -> Result<&'a state::AsyncOp, Fail> {
    st.ops.get(id).ok_or_else(|| {
        fail(
            404,
            "OperationNotFound",
            format!("The operation '{id}' could not be found."),
        )
    })
}

fn location_poll(st: &State, id: &str) -> HResult {
    let op = find_op(st, id)?;
    if !op.done {
        let ra = st.op_retry_after(op);
        let reply = Reply::empty(202).header("Location", st.op_location_url(op));
        return Ok(with_retry(st, reply, ra));
    }
    match &op.outcome {
        Outcome::Succeeded => Ok(match &op.final_response {
            FinalResponse::NoContent => Reply::empty(204),
            FinalResponse::OkEmpty => Reply::empty(200),
            FinalResponse::Body(v) => Reply::json(200, v.clone()),
            FinalResponse::Resource(key) => match st.visible(key) {
                Some(r) => Reply::json(200, st.render(r)).header("ETag", r.etag_header()),
                None => Reply::empty(204),
            },
            FinalResponse::Instance(key, iid) => {
                match st.visible(key).and_then(|r| {
                    r.vmss
                        .as_ref()
                        .and_then(|v| v.instances.get(iid))
                        .map(|i| (r, i))
                }) {
                    Some((r, i)) => Reply::json(200, st.render_instance(r, i, false)),
                    None => Reply::empty(204),
                }
            }
        }),
        Outcome::Failed(e) => {
            let status = if e.code.contains("Internal") || e.code == "ServiceUnavailable" {
                500
            } else {
                400
            };
            Ok(Reply::error(status, e.clone()))
        }
        Outcome::Canceled => Ok(Reply::error(
            400,
            ArmError::new("OperationCanceled", "The operation was canceled."),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Resource groups

fn render_rg(st: &State, g: &ResourceGroup) -> Value {
    let mut v = json!({
        "id": st.rg_id(&g.name),
        "name": g.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": g.location,
    });
    if !g.tags.is_null() {
        v["tags"] = g.tags.clone();
    }
    if let Some(m) = &g.managed_by {
        v["managedBy"] = json!(m);
    }
    v["properties"] = json!({"provisioningState": st.terminal(&g.provisioning_state)});
    v
}

fn group<'a>(st: &'a State, name: &str) -> Result<&'a ResourceGroup, Fail> {
    st.rgs.get(&rg_key(name)).ok_or_else(|| {
        fail(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{name}' could not be found."),
        )
    })
}

fn valid_rg_name(n: &str) -> bool {
    (1..=90).contains(&n.chars().count())
        && !n.ends_with('.')
        && n.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

fn resource_group(st: &mut State, req: &Req, ctx: &Ctx, name: &str) -> HResult {
    let key = rg_key(name);
    match req.method.as_str() {
        "GET" => Ok(Reply::json(200, render_rg(st, group(st, name)?))),
        "HEAD" => Ok(Reply::empty(if st.rgs.contains_key(&key) {
            204
        } else {
            404
        })),
        "PUT" => {
            if !valid_rg_name(name) {
                return Err(fail(
                    400,
                    "InvalidResourceGroupName",
                    format!(
                        "The resource group name '{name}' is invalid: 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'."
                    ),
                ));
            }
            let body = req.json_object().map_err(bad_request)?;
            let location = body
                .get("location")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    fail(
                        400,
                        "LocationRequired",
                        "The location property is required for this definition.",
                    )
                })?
                .to_string();
            let tags = body.get("tags").cloned().unwrap_or(Value::Null);
            let managed_by = body
                .get("managedBy")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(g) = st.rgs.get_mut(&key) {
                if g.provisioning_state == "Deleting" {
                    return Err(fail(
                        409,
                        "ResourceGroupBeingDeleted",
                        format!(
                            "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                            g.name
                        ),
                    ));
                }
                if !same_location(&g.location, &location) {
                    return Err(fail(
                        409,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                            g.location
                        ),
                    ));
                }
                g.tags = tags;
                g.managed_by = managed_by;
                let g = g.clone();
                Ok(Reply::json(200, render_rg(st, &g)))
            } else {
                let g = ResourceGroup {
                    name: name.to_string(),
                    location,
                    tags,
                    managed_by,
                    provisioning_state: "Succeeded".into(),
                    delete_op: None,
                };
                st.rgs.insert(key, g.clone());
                Ok(Reply::json(201, render_rg(st, &g)))
            }
        }
        "PATCH" => {
            group(st, name)?;
            let body = req.json_object().map_err(bad_request)?;
            let g = st.rgs.get_mut(&key).expect("checked");
            if let Some(t) = body.get("tags") {
                g.tags = t.clone();
            }
            if let Some(m) = body.get("managedBy") {
                g.managed_by = m.as_str().map(str::to_string);
            }
            let g = g.clone();
            Ok(Reply::json(200, render_rg(st, &g)))
        }
        "DELETE" => {
            let g = group(st, name)?.clone();
            let api = req.query("api-version").unwrap_or_default().to_string();
            let op_id = match g.delete_op.clone().filter(|o| st.ops.contains_key(o)) {
                Some(op) => op,
                None => {
                    let dur = st.settings.latency.resource_group_delete_secs;
                    let op = st.start_op(
                        ctx.now,
                        "Microsoft.Resources",
                        &api,
                        dur,
                        ctx.outcome(),
                        Effect::DeleteGroup { rg: key.clone() },
                        FinalResponse::OkEmpty,
                        ctx.retry_override(),
                        true,
                    );
                    let gm = st.rgs.get_mut(&key).expect("checked");
                    gm.provisioning_state = "Deleting".into();
                    gm.delete_op = Some(op.clone());
                    for r in st.resources.values_mut().filter(|r| r.rg == key) {
                        r.provisioning_state = "Deleting".into();
                    }
                    let now = ctx.now;
                    let doomed: Vec<String> = st
                        .deployments
                        .iter()
                        .filter(|(_, d)| d.rg == key && d.active())
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in doomed {
                        st.cancel_deployment(now, &k);
                    }
                    op
                }
            };
            let op = st.ops[&op_id].clone();
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::empty(202).header("Location", st.op_location_url(&op)),
                ra,
            ))
        }
        m => Err(only(m, &["GET", "HEAD", "PUT", "PATCH", "DELETE"]).unwrap_err()),
    }
}

fn same_location(a: &str, b: &str) -> bool {
    let n = |s: &str| s.to_ascii_lowercase().replace(' ', "");
    n(a) == n(b)
}

// ---------------------------------------------------------------------------------------------
// Deployments

fn find_deployment<'a>(st: &'a State, rg: &str, name: &str) -> Result<&'a Deployment, Fail> {
    group(st, rg)?;
    let id = format!(
        "{}/providers/Microsoft.Resources/deployments/{name}",
        st.rg_id(rg)
    );
    st.deployments
        .get(&template::normalise_id(&id))
        .ok_or_else(|| {
            fail(
                404,
                "DeploymentNotFound",
                format!("Deployment '{name}' could not be found."),
            )
        })
}

struct Prepared {
    plan: template::Plan,
    env: template::TemplateEnv,
    props: Value,
    mode: String,
}

fn prepare_request(st: &State, req: &Req, rg: &str, name: &str) -> Result<Prepared, Fail> {
    let g = group(st, rg)?;
    if g.provisioning_state == "Deleting" {
        return Err(fail(
            409,
            "ResourceGroupBeingDeleted",
            format!(
                "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                g.name
            ),
        ));
    }
    let body = req.json_object().map_err(bad_request)?;
    let props = body.get("properties").cloned().ok_or_else(|| {
        fail(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'",
        )
    })?;
    let mode = match props.get("mode").and_then(Value::as_str) {
        Some(m) if m.eq_ignore_ascii_case("Incremental") => "Incremental".to_string(),
        Some(m) if m.eq_ignore_ascii_case("Complete") => "Complete".to_string(),
        Some(m) => {
            return Err(fail(
                400,
                "InvalidDeploymentMode",
                format!("The deployment mode '{m}' is not valid: use 'Incremental' or 'Complete'."),
            ));
        }
        None => {
            return Err(fail(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'Required property 'mode' not found in JSON.'",
            ));
        }
    };
    let (tpl, params) = whatif::template_and_parameters(&props).map_err(bad_request)?;
    let ctx = whatif::context(st, rg, name).expect("group checked");
    let (plan, env) = template::prepare(&tpl, &params, ctx).map_err(bad_request)?;
    template::preflight(&plan, name).map_err(bad_request)?;
    Ok(Prepared {
        plan,
        env,
        props,
        mode,
    })
}

fn deployment_id(st: &State, rg: &str, name: &str) -> String {
    let g = st
        .rgs
        .get(&rg_key(rg))
        .map(|g| g.name.clone())
        .unwrap_or_else(|| rg.to_string());
    format!(
        "{}/providers/Microsoft.Resources/deployments/{name}",
        st.rg_id(&g)
    )
}

fn deployment_status_url(st: &State, d: &Deployment) -> String {
    let g = st
        .rgs
        .get(&d.rg)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    st.url(&format!(
        "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.Resources/deployments/{}/operationStatuses/{}?api-version={}",
        st.subscription_id, g, d.name, d.status_op, d.api_version
    ))
}

fn deployment(st: &mut State, req: &Req, ctx: &Ctx, rg: &str, name: &str, api: &str) -> HResult {
    match req.method.as_str() {
        "GET" => {
            let d = find_deployment(st, rg, name)?;
            Ok(Reply::json(200, st.render_deployment(d)))
        }
        "HEAD" => {
            group(st, rg)?;
            Ok(Reply::empty(if find_deployment(st, rg, name).is_ok() {
                204
            } else {
                404
            }))
        }
        "PUT" => {
            if name.is_empty() || name.len() > 64 {
                return Err(fail(
                    400,
                    "InvalidDeploymentName",
                    format!("The deployment name '{name}' is invalid: 1 to 64 characters."),
                ));
            }
            let id = deployment_id(st, rg, name);
            let key = template::normalise_id(&id);
            if let Some(old) = st.deployments.get(&key).filter(|d| d.active()) {
                return Err(fail(
                    409,
                    "DeploymentActive",
                    format!(
                        "Unable to edit or replace deployment '{name}': previous deployment from '{}' is still active (state: {}). Please see https://aka.ms/arm-deploy for usage details.",
                        st.clock.stamp(old.created),
                        old.state
                    ),
                ));
            }
            let existed = st.deployments.contains_key(&key);
            let p = prepare_request(st, req, rg, name)?;
            let template_text = p.env.template.to_string();
            let d = Deployment {
                id: id.clone(),
                name: name.to_string(),
                rg: rg_key(rg),
                run: 0,
                res: State::new_dep_res(&p.plan),
                env: p.env,
                plan: p.plan,
                mode: p.mode,
                state: "Accepted".into(),
                created: ctx.now,
                changed: ctx.now,
                correlation_id: ctx.correlation_id.clone(),
                outputs: None,
                error: None,
                forced: ctx.fault.as_ref().and_then(FaultAction::outcome),
                stopped: false,
                status_op: format!(
                    "0858{:016}",
                    crate::expr::hash64(&uuid::Uuid::new_v4().to_string(), 9) % 10u64.pow(16)
                ),
                template_hash: format!(
                    "{}",
                    crate::expr::hash64(&template_text, 11) % 10u64.pow(19)
                ),
                api_version: api.to_string(),
                retry_after: ctx.retry_override(),
                request_props: p.props,
            };
            let key = st.start_deployment(ctx.now, d);
            let d = &st.deployments[&key];
            let body = st.render_deployment(d);
            let url = deployment_status_url(st, d);
            let ra = d
                .retry_after
                .unwrap_or(st.settings.latency.retry_after_secs);
            Ok(with_retry(
                st,
                Reply::json(if existed { 200 } else { 201 }, body)
                    .header("Azure-AsyncOperation", url),
                ra,
            ))
        }
        "DELETE" => {
            group(st, rg)?;
            let key = template::normalise_id(&deployment_id(st, rg, name));
            if !st.deployments.contains_key(&key) {
                return Ok(Reply::empty(204));
            }
            st.cancel_deployment(ctx.now, &key);
            let dur = st.settings.latency.deployment_delete_secs;
            let op = st.start_op(
                ctx.now,
                "Microsoft.Resources",
                api,
                dur,
                ctx.outcome(),
                Effect::DeleteDeployment { key },
                FinalResponse::NoContent,
                ctx.retry_override(),
                true,
            );
            let op = st.ops[&op].clone();
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::empty(202).header("Location", st.op_location_url(&op)),
                ra,
            ))
        }
        m => Err(only(m, &["GET", "HEAD", "PUT", "DELETE"]).unwrap_err()),
    }
}

fn deployment_action(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    rg: &str,
    name: &str,
    action: &str,
    api: &str,
) -> HResult {
    match action {
        "operations" => {
            only(&req.method, &["GET"])?;
            let d = find_deployment(st, rg, name)?;
            Ok(Reply::json(200, st.deployment_operations(d)))
        }
        "validate" => {
            only(&req.method, &["POST"])?;
            let p = prepare_request(st, req, rg, name)?;
            let id = deployment_id(st, rg, name);
            let body = json!({
                "id": id,
                "name": name,
                "type": "Microsoft.Resources/deployments",
                "properties": {
                    "templateHash": format!("{}", crate::expr::hash64(&p.env.template.to_string(), 11) % 10u64.pow(19)),
                    "parameters": template::echo_parameters(&p.plan.params),
                    "mode": p.mode,
                    "provisioningState": st.terminal("Succeeded"),
                    "timestamp": st.clock.stamp(ctx.now),
                    "duration": "PT0S",
                    "correlationId": ctx.correlation_id,
                    "providers": template::providers(&p.plan, &st.location),
                    "dependencies": template::dependencies(&p.plan),
                    "validatedResources": p.plan.resources.iter().map(|r| json!({"id": r.id})).collect::<Vec<_>>()
                }
            });
            Ok(Reply::json(200, body))
        }
        "whatif" => {
            only(&req.method, &["POST"])?;
            let p = prepare_request(st, req, rg, name)?;
            let dur = st.settings.latency.what_if_secs;
            let op = st.start_op(
                ctx.now,
                "Microsoft.Resources",
                api,
                dur,
                ctx.outcome(),
                Effect::WhatIf {
                    rg: rg_key(rg),
                    name: name.to_string(),
                    props: p.props,
                },
                FinalResponse::OkEmpty,
                ctx.retry_override(),
                true,
            );
            let op = st.ops[&op].clone();
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::empty(202).header("Location", st.op_location_url(&op)),
                ra,
            ))
        }
        "cancel" => {
            only(&req.method, &["POST"])?;
            find_deployment(st, rg, name)?;
            let key = template::normalise_id(&deployment_id(st, rg, name));
            if st.cancel_deployment(ctx.now, &key) {
                Ok(Reply::empty(204))
            } else {
                Err(fail(
                    409,
                    "DeploymentCannotBeCancelled",
                    format!(
                        "The deployment '{name}' cannot be cancelled because it is not running."
                    ),
                ))
            }
        }
        _ => Err(fail(
            404,
            "NotFound",
            format!("The deployment action '{action}' is not served by the ARM test double."),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Provider resources

struct Target {
    id: String,
    key: String,
    rtype: String,
    name: String,
    top_level: bool,
}

fn target(st: &State, rg: &ResourceGroup, ns: &str, pairs: &[String]) -> Target {
    let mut id = format!("{}/providers/{ns}", st.rg_id(&rg.name));
    let mut rtype = ns.to_string();
    let mut names = Vec::new();
    for pair in pairs.chunks(2) {
        id.push('/');
        id.push_str(&pair[0]);
        id.push('/');
        id.push_str(&pair[1]);
        rtype.push('/');
        rtype.push_str(&pair[0]);
        names.push(pair[1].clone());
    }
    let key = template::normalise_id(&id);
    // keep the stored casing of an existing resource
    let (id, rtype) = match st.resources.get(&key) {
        Some(r) => (r.id.clone(), r.rtype.clone()),
        None => (id, template::canonical_type(&rtype)),
    };
    Target {
        id,
        key,
        rtype,
        name: names.join("/"),
        top_level: pairs.len() == 2,
    }
}

fn not_found(t: &Target, rg: &str) -> Fail {
    fail(
        404,
        "ResourceNotFound",
        format!(
            "The Resource '{}/{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            t.rtype, t.name
        ),
    )
}

fn etag_matches(header: &str, r: Option<&Resource>) -> bool {
    let Some(r) = r else { return false };
    header.split(',').any(|h| {
        let h = h.trim();
        let h = h.strip_prefix("W/").unwrap_or(h);
        h == "*" || h == r.etag_header() || h.trim_matches('"') == r.etag.to_string()
    })
}

fn preconditions(req: &Req, r: Option<&Resource>) -> Result<(), Fail> {
    if let Some(m) = req.header("if-match")
        && !etag_matches(m, r)
    {
        return Err(fail(
            412,
            "PreconditionFailed",
            format!(
                "The specified precondition 'If-Match = {m}' failed. The current ETag is {}.",
                r.map(Resource::etag_header)
                    .unwrap_or_else(|| "absent (no such resource)".into())
            ),
        ));
    }
    if let Some(m) = req.header("if-none-match")
        && (m.trim() == "*" && r.is_some() || r.is_some() && etag_matches(m, r))
    {
        return Err(fail(
            412,
            "PreconditionFailed",
            format!(
                "The specified precondition 'If-None-Match = {m}' failed: the resource exists."
            ),
        ));
    }
    Ok(())
}

fn model_from_body(body: Map<String, Value>) -> Map<String, Value> {
    body.into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "id" | "name" | "type" | "etag"))
        .collect()
}

fn check_capacity(model: &Map<String, Value>) -> Result<(), Fail> {
    let Some(c) = model.get("sku").and_then(|s| s.get("capacity")) else {
        return Ok(());
    };
    let ok = c.as_i64().is_some_and(|n| (0..=1000).contains(&n));
    if ok {
        Ok(())
    } else {
        Err((
            400,
            ArmError::new(
                "InvalidParameter",
                format!("The value {c} of parameter 'sku.capacity' is out of range. The value must be between 0 and 1000, inclusive."),
            )
            .target("sku.capacity"),
        ))
    }
}

fn check_autoscale(model: &Map<String, Value>) -> Result<(), Fail> {
    let props = model
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            fail(
                400,
                "BadRequest",
                "The autoscale setting needs 'properties'.",
            )
        })?;
    if props
        .get("targetResourceUri")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(fail(
            400,
            "BadRequest",
            "The autoscale setting needs 'properties.targetResourceUri'.",
        ));
    }
    let profiles = props
        .get("profiles")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            fail(
                400,
                "BadRequest",
                "The autoscale setting needs 'properties.profiles'.",
            )
        })?;
    if profiles.is_empty() || profiles.len() > 20 {
        return Err(fail(
            400,
            "BadRequest",
            format!(
                "An autoscale setting has 1 to 20 profiles, got {}.",
                profiles.len()
            ),
        ));
    }
    for (i, p) in profiles.iter().enumerate() {
        let rules = p
            .get("rules")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if rules > 10 {
            return Err(fail(
                400,
                "BadRequest",
                format!("Profile {i} has {rules} rules; at most 10 are allowed."),
            ));
        }
        let cap = |k: &str| {
            p.get("capacity").and_then(|c| c.get(k)).and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .or_else(|| v.as_i64())
            })
        };
        let (Some(min), Some(max), Some(def)) = (cap("minimum"), cap("maximum"), cap("default"))
        else {
            return Err(fail(
                400,
                "BadRequest",
                format!(
                    "Profile {i} needs capacity minimum, maximum and default (numeric strings)."
                ),
            ));
        };
        if !(0..=1000).contains(&min)
            || !(0..=1000).contains(&max)
            || min > max
            || def < min
            || def > max
        {
            return Err(fail(
                400,
                "BadRequest",
                format!(
                    "Profile {i} capacity is invalid: minimum {min}, maximum {max}, default {def} (need 0 <= minimum <= default <= maximum <= 1000)."
                ),
            ));
        }
    }
    Ok(())
}

fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn namespace_of(rtype: &str) -> &str {
    rtype.split('/').next().unwrap_or(rtype)
}

fn provider(st: &mut State, req: &Req, ctx: &Ctx, rg: &str, p: &[String]) -> HResult {
    let ns = p[0].clone();
    let pairs = &p[1..];
    let type_path: String = std::iter::once(ns.as_str())
        .chain(pairs.iter().step_by(2).map(String::as_str))
        .collect::<Vec<_>>()
        .join("/");
    let api = check_api_version(st, req, Some(&type_path))?;
    let g = group(st, rg)?.clone();
    let lp: Vec<String> = pairs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let is_vmss = ns.eq_ignore_ascii_case("microsoft.compute")
        && lp.first().map(String::as_str) == Some("virtualmachinescalesets");
    if is_vmss && pairs.len() >= 3 {
        let t = target(st, &g, &ns, &pairs[..2]);
        match lp[2..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["virtualmachines"] => {
                only(&req.method, &["GET"])?;
                let r = st.visible(&t.key).ok_or_else(|| not_found(&t, &g.name))?;
                let expand = req
                    .query("$expand")
                    .is_some_and(|e| e.to_ascii_lowercase().contains("instanceview"));
                let v = r.vmss.as_ref().map(|v| {
                    v.instances
                        .values()
                        .map(|i| st.render_instance(r, i, expand))
                        .collect::<Vec<_>>()
                });
                return Ok(Reply::json(200, json!({"value": v.unwrap_or_default()})));
            }
            ["virtualmachines", _] => return instance(st, req, ctx, &g, &t, &pairs[3], &api),
            ["virtualmachines", _, "instanceview"] => {
                only(&req.method, &["GET"])?;
                let r = st.visible(&t.key).ok_or_else(|| not_found(&t, &g.name))?;
                let i = find_instance(r, &pairs[3], &t, &g)?;
                let v = st.render_instance(r, i, true);
                return Ok(Reply::json(200, v["properties"]["instanceView"].clone()));
            }
            ["instanceview"] => {
                only(&req.method, &["GET"])?;
                let r = st.visible(&t.key).ok_or_else(|| not_found(&t, &g.name))?;
                let mut counts: Vec<(String, u32)> = Vec::new();
                for i in r
                    .vmss
                    .as_ref()
                    .map(|v| v.instances.values().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    let code = format!(
                        "ProvisioningState/{}",
                        i.provisioning_state.to_ascii_lowercase()
                    );
                    match counts.iter_mut().find(|(c, _)| *c == code) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((code, 1)),
                    }
                }
                return Ok(Reply::json(
                    200,
                    json!({
                        "virtualMachine": {"statusesSummary": counts.iter().map(|(c, n)| json!({"code": c, "count": n})).collect::<Vec<_>>()},
                        "statuses": [{
                            "code": format!("ProvisioningState/{}", r.provisioning_state.to_ascii_lowercase()),
                            "level": "Info",
                            "displayStatus": format!("Provisioning {}", if r.provisioning_state == "Succeeded" { "succeeded" } else { "in progress" }),
                            "time": st.clock.stamp(r.created)
                        }]
                    }),
                ));
            }
            _ => {}
        }
    }
    if pairs.len() == 1 {
        // collection of a type in the group
        only(&req.method, &["GET"])?;
        let prefix = template::normalise_id(&format!(
            "{}/providers/{ns}/{}",
            st.rg_id(&g.name),
            pairs[0]
        ));
        let value: Vec<Value> = st
            .resources
            .iter()
            .filter(|(k, r)| {
                r.visible
                    && k.starts_with(&format!("{prefix}/"))
                    && k[prefix.len() + 1..].split('/').count() == 1
            })
            .map(|(_, r)| st.render(r))
            .collect();
        return Ok(Reply::json(200, json!({ "value": value })));
    }
    if pairs.len() % 2 == 1 {
        let t = target(st, &g, &ns, &pairs[..pairs.len() - 1]);
        let action = pairs[pairs.len() - 1].to_ascii_lowercase();
        return resource_action(st, req, ctx, &g, &t, &action, &api);
    }
    let t = target(st, &g, &ns, pairs);
    match req.method.as_str() {
        "GET" => {
            let r = st.visible(&t.key).ok_or_else(|| not_found(&t, &g.name))?;
            Ok(Reply::json(200, st.render(r)).header("ETag", r.etag_header()))
        }
        "PUT" => put_resource(st, req, ctx, &g, &t, &api),
        "PATCH" => patch_resource(st, req, ctx, &g, &t, &api),
        "DELETE" => delete_resource(st, req, ctx, &g, &t, &api),
        m => Err(only(m, &["GET", "PUT", "PATCH", "DELETE"]).unwrap_err()),
    }
}

fn put_resource(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    g: &ResourceGroup,
    t: &Target,
    api: &str,
) -> HResult {
    if g.provisioning_state == "Deleting" {
        return Err(fail(
            409,
            "ResourceGroupBeingDeleted",
            format!(
                "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                g.name
            ),
        ));
    }
    let body = req.json_object().map_err(bad_request)?;
    let model = model_from_body(body);
    if t.top_level
        && model
            .get("location")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(fail(
            400,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    if !t.top_level {
        let parent = t.key.rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        if st.visible(&parent).is_none() {
            return Err(fail(
                404,
                "ParentResourceNotFound",
                format!(
                    "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                    t.name.rsplit_once('/').map(|x| x.0).unwrap_or(&t.name)
                ),
            ));
        }
    }
    let existing = st.visible(&t.key);
    preconditions(req, existing)?;
    let existed = existing.is_some();
    let lt = t.rtype.to_ascii_lowercase();
    if lt == "microsoft.compute/virtualmachinescalesets" {
        check_capacity(&model)?;
    }
    if lt == "microsoft.insights/autoscalesettings" {
        check_autoscale(&model)?;
    }
    let style = state::put_style(&t.rtype);
    let ns = namespace_of(&t.rtype).to_string();
    let status = if existed { 200 } else { 201 };
    match style {
        PutStyle::Sync => {
            st.upsert_resource(
                ctx.now,
                &t.id,
                &t.rtype,
                &t.name,
                &rg_key(&g.name),
                api,
                model,
                "Succeeded",
                true,
            );
            let r = &st.resources[&t.key];
            Ok(Reply::json(status, st.render(r)).header("ETag", r.etag_header()))
        }
        PutStyle::Accepted if !existed => {
            st.upsert_resource(
                ctx.now,
                &t.id,
                &t.rtype,
                &t.name,
                &rg_key(&g.name),
                api,
                model,
                "Creating",
                false,
            );
            let dur = st.settings.latency.provisioning_for(&t.rtype);
            let op = st.start_op(
                ctx.now,
                &ns,
                api,
                dur,
                ctx.outcome(),
                Effect::FinishPut { key: t.key.clone() },
                FinalResponse::Resource(t.key.clone()),
                ctx.retry_override(),
                false,
            );
            let op = st.ops[&op].clone();
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::empty(202).header("Location", st.op_location_url(&op)),
                ra,
            ))
        }
        _ => {
            let state_name = if existed { "Updating" } else { "Creating" };
            st.upsert_resource(
                ctx.now,
                &t.id,
                &t.rtype,
                &t.name,
                &rg_key(&g.name),
                api,
                model,
                state_name,
                true,
            );
            let dur = if existed && lt == "microsoft.compute/virtualmachinescalesets" {
                st.settings.latency.vmss_scale_secs
            } else {
                st.settings.latency.provisioning_for(&t.rtype)
            };
            let op = st.start_op(
                ctx.now,
                &ns,
                api,
                dur,
                ctx.outcome(),
                Effect::FinishPut { key: t.key.clone() },
                FinalResponse::Resource(t.key.clone()),
                ctx.retry_override(),
                false,
            );
            let op = st.ops[&op].clone();
            let r = &st.resources[&t.key];
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::json(status, st.render(r))
                    .header("ETag", r.etag_header())
                    .header("Azure-AsyncOperation", st.op_status_url(&op)),
                ra,
            ))
        }
    }
}

fn patch_resource(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    g: &ResourceGroup,
    t: &Target,
    api: &str,
) -> HResult {
    let existing = st.visible(&t.key).ok_or_else(|| not_found(t, &g.name))?;
    preconditions(req, Some(existing))?;
    let patch = Value::Object(req.json_object().map_err(bad_request)?);
    let mut model = Value::Object(existing.model.clone());
    let mut patch = patch;
    if let Some(o) = patch.as_object_mut() {
        for k in ["id", "name", "type", "etag"] {
            o.remove(k);
        }
    }
    merge_patch(&mut model, &patch);
    let Value::Object(model) = model else {
        unreachable!("object merged into object")
    };
    let lt = t.rtype.to_ascii_lowercase();
    if lt == "microsoft.compute/virtualmachinescalesets" {
        check_capacity(&model)?;
    }
    if lt == "microsoft.insights/autoscalesettings" {
        check_autoscale(&model)?;
    }
    let rtype = existing.rtype.clone();
    let ns = namespace_of(&rtype).to_string();
    if state::put_style(&rtype) == PutStyle::Sync {
        st.upsert_resource(
            ctx.now,
            &t.id,
            &t.rtype,
            &t.name,
            &rg_key(&g.name),
            api,
            model,
            "Succeeded",
            true,
        );
        let r = &st.resources[&t.key];
        return Ok(Reply::json(200, st.render(r)).header("ETag", r.etag_header()));
    }
    st.upsert_resource(
        ctx.now,
        &t.id,
        &t.rtype,
        &t.name,
        &rg_key(&g.name),
        api,
        model,
        "Updating",
        true,
    );
    let dur = if lt == "microsoft.compute/virtualmachinescalesets" {
        st.settings.latency.vmss_scale_secs
    } else {
        st.settings.latency.provisioning_for(&rtype)
    };
    let op = st.start_op(
        ctx.now,
        &ns,
        api,
        dur,
        ctx.outcome(),
        Effect::FinishPut { key: t.key.clone() },
        FinalResponse::Resource(t.key.clone()),
        ctx.retry_override(),
        false,
    );
    let op = st.ops[&op].clone();
    let r = &st.resources[&t.key];
    let ra = st.op_retry_after(&op);
    let reply = match st.settings.behaviour.patch_response {
        PatchResponse::Accepted => Reply::empty(202)
            .header("Location", st.op_location_url(&op))
            .header("Azure-AsyncOperation", st.op_status_url(&op))
            .header("ETag", r.etag_header()),
        PatchResponse::Ok => Reply::json(200, st.render(r))
            .header("Azure-AsyncOperation", st.op_status_url(&op))
            .header("ETag", r.etag_header()),
    };
    Ok(with_retry(st, reply, ra))
}

fn delete_resource(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    g: &ResourceGroup,
    t: &Target,
    api: &str,
) -> HResult {
    let Some(existing) = st.visible(&t.key) else {
        if req.header("if-match").is_some_and(|m| m.trim() != "*") {
            preconditions(req, None)?;
        }
        return Ok(Reply::empty(204));
    };
    preconditions(req, Some(existing))?;
    let rtype = existing.rtype.clone();
    if state::put_style(&rtype) == PutStyle::Sync {
        st.remove_resource_tree(&t.key);
        return Ok(Reply::empty(200));
    }
    let ns = namespace_of(&rtype).to_string();
    let prefix = format!("{}/", t.key);
    for (k, r) in st.resources.iter_mut() {
        if *k == t.key || k.starts_with(&prefix) {
            r.provisioning_state = "Deleting".into();
            if let Some(v) = r.vmss.as_mut() {
                for i in v.instances.values_mut() {
                    i.provisioning_state = "Deleting".into();
                }
            }
        }
    }
    let dur = st.settings.latency.delete_for(&rtype);
    let _ = g;
    let op = st.start_op(
        ctx.now,
        &ns,
        api,
        dur,
        ctx.outcome(),
        Effect::DeleteResource { key: t.key.clone() },
        FinalResponse::NoContent,
        ctx.retry_override(),
        false,
    );
    let op = st.ops[&op].clone();
    let ra = st.op_retry_after(&op);
    Ok(with_retry(
        st,
        Reply::empty(202)
            .header("Location", st.op_location_url(&op))
            .header("Azure-AsyncOperation", st.op_status_url(&op)),
        ra,
    ))
}

fn resource_action(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    g: &ResourceGroup,
    t: &Target,
    action: &str,
    api: &str,
) -> HResult {
    only(&req.method, &["POST"])?;
    let r = st.visible(&t.key).ok_or_else(|| not_found(t, &g.name))?;
    let lt = r.rtype.to_ascii_lowercase();
    match (lt.as_str(), action) {
        ("microsoft.storage/storageaccounts", "listkeys") => {
            let body = state::storage_keys_body(st, r).unwrap_or(json!({"keys": []}));
            Ok(Reply::json(200, body))
        }
        (
            "microsoft.compute/virtualmachinescalesets",
            "deallocate" | "start" | "poweroff" | "restart",
        ) => {
            let (transitional, target, dur): (state::Power, state::Power, f64) = match action {
                "deallocate" => (
                    "deallocating",
                    "deallocated",
                    st.settings.latency.vmss_deallocate_secs,
                ),
                "start" => ("starting", "running", st.settings.latency.vmss_start_secs),
                "poweroff" => (
                    "stopping",
                    "stopped",
                    st.settings.latency.vmss_power_off_secs,
                ),
                _ => ("starting", "running", st.settings.latency.vmss_restart_secs),
            };
            let body = req.json().map_err(bad_request)?;
            let wanted: Option<Vec<String>> = match body.get("instanceIds") {
                None | Some(Value::Null) => None,
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect(),
                ),
                Some(_) => {
                    return Err(fail(
                        400,
                        "InvalidParameter",
                        "'instanceIds' must be an array of instance id strings.",
                    ));
                }
            };
            let vm = r.vmss.as_ref().cloned().unwrap_or_default();
            let mut chosen = Vec::new();
            match &wanted {
                Some(ids) if !ids.iter().any(|i| i == "*") => {
                    for id in ids {
                        let n = id.parse::<u32>().ok().filter(|n| {
                            vm.instances
                                .get(n)
                                .is_some_and(|i| i.provisioning_state != "Deleting")
                        });
                        match n {
                            Some(n) => chosen.push(n),
                            None => {
                                return Err((
                                    400,
                                    ArmError::new(
                                        "InvalidParameter",
                                        format!("The provided instanceId {id} is not an active Virtual Machine Scale Set VM instanceId."),
                                    )
                                    .target("instanceIds"),
                                ));
                            }
                        }
                    }
                }
                _ => chosen.extend(
                    vm.instances
                        .values()
                        .filter(|i| i.provisioning_state != "Deleting")
                        .map(|i| i.id),
                ),
            }
            // instances protected from scale set actions are left alone
            chosen.retain(|n| !vm.instances[n].protect_from_scale_set_actions);
            let key = t.key.clone();
            if let Some(v) = st.resources.get_mut(&key).and_then(|r| r.vmss.as_mut()) {
                for n in &chosen {
                    if let Some(i) = v.instances.get_mut(n) {
                        i.power_before = i.power;
                        i.power = transitional;
                    }
                }
            }
            let op = st.start_op(
                ctx.now,
                "Microsoft.Compute",
                api,
                dur,
                ctx.outcome(),
                Effect::VmssPower {
                    key,
                    instances: chosen,
                    target,
                },
                FinalResponse::OkEmpty,
                ctx.retry_override(),
                false,
            );
            let op = st.ops[&op].clone();
            let ra = st.op_retry_after(&op);
            Ok(with_retry(
                st,
                Reply::empty(202)
                    .header("Location", st.op_location_url(&op))
                    .header("Azure-AsyncOperation", st.op_status_url(&op)),
                ra,
            ))
        }
        _ => Err(fail(
            404,
            "NotFound",
            format!(
                "The action '{action}' on '{}' is not served by the ARM test double.",
                r.rtype
            ),
        )),
    }
}

fn find_instance<'a>(
    r: &'a Resource,
    id: &str,
    t: &Target,
    g: &ResourceGroup,
) -> Result<&'a state::Instance, Fail> {
    id.parse::<u32>()
        .ok()
        .and_then(|n| r.vmss.as_ref().and_then(|v| v.instances.get(&n)))
        .ok_or_else(|| {
            fail(
                404,
                "NotFound",
                format!(
                    "The Resource '{}/{}/virtualMachines/{id}' under resource group '{}' was not found.",
                    t.rtype, t.name, g.name
                ),
            )
        })
}

fn instance(
    st: &mut State,
    req: &Req,
    ctx: &Ctx,
    g: &ResourceGroup,
    t: &Target,
    iid: &str,
    api: &str,
) -> HResult {
    let r = st.visible(&t.key).ok_or_else(|| not_found(t, &g.name))?;
    let i = find_instance(r, iid, t, g)?;
    match req.method.as_str() {
        "GET" => {
            let expand = req
                .query("$expand")
                .is_some_and(|e| e.to_ascii_lowercase().contains("instanceview"));
            Ok(Reply::json(200, st.render_instance(r, i, expand)))
        }
        "PUT" | "PATCH" => {
            if i.provisioning_state == "Deleting" {
                return Err(fail(
                    409,
                    "OperationNotAllowed",
                    format!("The instance {iid} is being deleted and cannot be updated."),
                ));
            }
            let body = req.json_object().map_err(bad_request)?;
            let policy = body
                .get("properties")
                .and_then(|p| p.get("protectionPolicy"));
            let mut scale_in = i.protect_from_scale_in;
            let mut actions = i.protect_from_scale_set_actions;
            if let Some(p) = policy {
                for (k, slot) in [
                    ("protectFromScaleIn", &mut scale_in),
                    ("protectFromScaleSetActions", &mut actions),
                ] {
                    match p.get(k) {
                        None | Some(Value::Null) => {}
                        Some(Value::Bool(b)) => *slot = *b,
                        Some(other) => {
                            return Err((
                                400,
                                ArmError::new(
                                    "InvalidParameter",
                                    format!("The value {other} of parameter 'protectionPolicy.{k}' is invalid: expected true or false."),
                                )
                                .target(format!("protectionPolicy.{k}")),
                            ));
                        }
                    }
                }
            }
            let n = i.id;
            let key = t.key.clone();
            if let Some(i) = st
                .resources
                .get_mut(&key)
                .and_then(|r| r.vmss.as_mut())
                .and_then(|v| v.instances.get_mut(&n))
            {
                i.protect_from_scale_in = scale_in;
                i.protect_from_scale_set_actions = actions;
                i.provisioning_state = "Updating".into();
            }
            let dur = st.settings.latency.instance_update_secs;
            let op = st.start_op(
                ctx.now,
                "Microsoft.Compute",
                api,
                dur,
                ctx.outcome(),
                Effect::InstanceUpdate {
                    key: key.clone(),
                    instance: n,
                },
                FinalResponse::Instance(key.clone(), n),
                ctx.retry_override(),
                false,
            );
            let op = st.ops[&op].clone();
            let r = &st.resources[&key];
            let i = &r.vmss.as_ref().expect("scale set").instances[&n];
            let ra = st.op_retry_after(&op);
            let reply = if req.method == "PATCH"
                && st.settings.behaviour.patch_response == PatchResponse::Accepted
            {
                Reply::empty(202)
                    .header("Location", st.op_location_url(&op))
                    .header("Azure-AsyncOperation", st.op_status_url(&op))
            } else {
                Reply::json(200, st.render_instance(r, i, false))
                    .header("Azure-AsyncOperation", st.op_status_url(&op))
            };
            Ok(with_retry(st, reply, ra))
        }
        m => Err(only(m, &["GET", "PUT", "PATCH"]).unwrap_err()),
    }
}
