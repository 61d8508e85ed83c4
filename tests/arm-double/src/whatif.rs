//! What-if: the changes a deployment would make, computed against current state, in the
//! official `WhatIfOperationResult` shape.

use crate::error::ArmError;
use crate::state::{State, rg_key};
use crate::template::{self, DeployContext};
use serde_json::{Map, Value, json};

/// Builds the deployment context of a resource group.
pub fn context(state: &State, rg: &str, deployment_name: &str) -> Option<DeployContext> {
    let g = state.rgs.get(&rg_key(rg))?;
    Some(DeployContext {
        subscription_id: state.subscription_id.clone(),
        tenant_id: state.tenant_id.clone(),
        resource_group: g.name.clone(),
        location: g.location.clone(),
        rg_tags: g.tags.clone(),
        deployment_name: deployment_name.to_string(),
        management_url: format!("{}/", state.base_url),
    })
}

/// Template and parameters of a deployment request's `properties`.
pub fn template_and_parameters(props: &Value) -> Result<(Value, Map<String, Value>), ArmError> {
    if props.get("templateLink").is_some() && props.get("template").is_none() {
        return Err(template::invalid_template(
            "templateLink is not supported by the ARM test double: send the template inline",
        ));
    }
    if props.get("parametersLink").is_some() {
        return Err(template::invalid_template(
            "parametersLink is not supported by the ARM test double: send the parameters inline",
        ));
    }
    let template = props.get("template").cloned().ok_or_else(|| {
        ArmError::new(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'Required property 'template' not found in JSON.'",
        )
    })?;
    let params = match props.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(ArmError::new(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties.parameters' must be an object.",
            ));
        }
    };
    Ok((template, params))
}

fn visible_model(rtype: &str, model: &Map<String, Value>) -> Value {
    let mut v = Value::Object(model.clone());
    crate::state::strip_write_only(rtype, &mut v);
    v
}

fn payload(id: &str, name: &str, rtype: &str, api: &str, model: &Map<String, Value>) -> Value {
    let model = visible_model(rtype, model);
    let model = model.as_object().cloned().unwrap_or_default();
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert(
        "name".into(),
        json!(name.rsplit('/').next().unwrap_or(name)),
    );
    out.insert("type".into(), json!(rtype));
    out.insert("apiVersion".into(), json!(api));
    for (k, v) in model {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// Property-level differences, as what-if `delta` entries.
pub fn diff(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Value>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (before, after) {
        (None, None) => {}
        (None, Some(a)) => {
            out.push(json!({"path": path, "propertyChangeType": "Create", "after": a}))
        }
        (Some(b), None) => {
            out.push(json!({"path": path, "propertyChangeType": "Delete", "before": b}))
        }
        (Some(b), Some(a)) if b == a => {}
        (Some(Value::Object(bo)), Some(Value::Object(ao))) => {
            let mut keys: Vec<&String> = bo.keys().collect();
            for k in ao.keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            for k in keys {
                diff(&join(k), bo.get(k), ao.get(k), out);
            }
        }
        (Some(Value::Array(ba)), Some(Value::Array(aa))) => {
            let mut children = Vec::new();
            for i in 0..ba.len().max(aa.len()) {
                diff(&i.to_string(), ba.get(i), aa.get(i), &mut children);
            }
            out.push(json!({"path": path, "propertyChangeType": "Array", "children": children}));
        }
        (Some(b), Some(a)) => out.push(json!({
            "path": path, "propertyChangeType": "Modify", "before": b, "after": a
        })),
    }
}

/// Computes the what-if result for a deployment request against the current state.
pub fn what_if(state: &State, rg: &str, name: &str, props: &Value) -> Result<Value, ArmError> {
    let ctx = context(state, rg, name).ok_or_else(|| {
        ArmError::new(
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        )
    })?;
    let (tpl, params) = template_and_parameters(props)?;
    let (plan, env) = template::prepare(&tpl, &params, ctx)?;
    let ids_only = props
        .get("whatIfSettings")
        .and_then(|s| s.get("resultFormat"))
        .and_then(Value::as_str)
        .is_some_and(|f| f.eq_ignore_ascii_case("ResourceIdOnly"));
    let complete = props
        .get("mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("Complete"));
    let mut changes = Vec::new();
    let mut planned_keys = Vec::new();
    let rt = crate::state::StateRuntime {
        state,
        plan: Some(&plan),
    };
    for p in &plan.resources {
        let key = template::normalise_id(&p.id);
        planned_keys.push(key.clone());
        // reference() resolves against existing resources; when it cannot (not created
        // yet), the expression stays unevaluated, as ARM shows it
        let model =
            template::evaluate_at_provisioning(&env, p, &rt).unwrap_or_else(|_| p.model.clone());
        let after = payload(&p.id, &p.name, &p.rtype, &p.api_version, &model);
        let mut change = json!({"resourceId": p.id});
        match state.visible(&key) {
            None => {
                change["changeType"] = json!("Create");
                if !ids_only {
                    change["after"] = after;
                }
            }
            Some(r) => {
                let before = payload(&r.id, &r.name, &r.rtype, &r.api_version, &r.model);
                let mut delta = Vec::new();
                diff(
                    "",
                    Some(&visible_model(&r.rtype, &r.model)),
                    Some(&visible_model(&p.rtype, &model)),
                    &mut delta,
                );
                change["changeType"] = json!(if delta.is_empty() {
                    "NoChange"
                } else {
                    "Modify"
                });
                if !ids_only {
                    change["before"] = before;
                    change["after"] = after;
                    if !delta.is_empty() {
                        change["delta"] = Value::Array(delta);
                    }
                }
            }
        }
        changes.push(change);
    }
    let group = rg_key(rg);
    for (k, r) in &state.resources {
        if r.rg != group || !r.visible || planned_keys.contains(k) {
            continue;
        }
        // children of planned resources are managed through their parent
        if planned_keys.iter().any(|p| k.starts_with(&format!("{p}/"))) {
            continue;
        }
        let mut change = json!({
            "resourceId": r.id,
            "changeType": if complete { "Delete" } else { "Ignore" }
        });
        if !ids_only {
            change["before"] = payload(&r.id, &r.name, &r.rtype, &r.api_version, &r.model);
        }
        changes.push(change);
    }
    Ok(json!({"status": state.terminal("Succeeded"), "properties": {"changes": changes}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_reports_paths() {
        let before =
            json!({"sku": {"capacity": 2, "name": "x"}, "tags": {"a": "1"}, "list": [1, 2]});
        let after =
            json!({"sku": {"capacity": 5, "name": "x"}, "tags": {"a": "1", "b": "2"}, "list": [1]});
        let mut d = Vec::new();
        diff("", Some(&before), Some(&after), &mut d);
        let paths: Vec<(&str, &str)> = d
            .iter()
            .map(|x| {
                (
                    x["path"].as_str().unwrap(),
                    x["propertyChangeType"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            paths,
            [
                ("sku.capacity", "Modify"),
                ("tags.b", "Create"),
                ("list", "Array")
            ]
        );
        assert_eq!(d[2]["children"][0]["propertyChangeType"], "Delete");
    }
}
