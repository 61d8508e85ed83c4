//! Template preparation: parameters, variables, resources, `dependsOn`, outputs, and the
//! preflight checks the ARM engine runs before it accepts a deployment.

use crate::error::ArmError;
use crate::expr::{self, EvalError, Runtime, Scope};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// Where a deployment runs.
#[derive(Clone, Debug)]
pub struct DeployContext {
    /// Subscription id.
    pub subscription_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Resource group name (as created).
    pub resource_group: String,
    /// Resource group location.
    pub location: String,
    /// Resource group tags.
    pub rg_tags: Value,
    /// Deployment name.
    pub deployment_name: String,
    /// The double's management endpoint (for `environment()`).
    pub management_url: String,
}

/// A template parameter after validation.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// Name as declared in the template.
    pub name: String,
    /// ARM type name as reported back (`String`, `SecureString`, `Int`, ...).
    pub type_name: String,
    /// The value in effect.
    pub value: Value,
    /// Whether the value must never be echoed (`securestring`, `secureObject`).
    pub secure: bool,
}

/// A template resource, evaluated.
#[derive(Clone, Debug)]
pub struct PlannedResource {
    /// Full resource id.
    pub id: String,
    /// Full name (`vnet/subnet` for a child).
    pub name: String,
    /// Full type (`Microsoft.Network/virtualNetworks/subnets`).
    pub rtype: String,
    /// `apiVersion` from the template.
    pub api_version: String,
    /// Indexes (into the plan's resources) this resource waits for.
    pub depends_on: Vec<usize>,
    /// The template's resource object (for re-evaluation at provisioning time).
    pub raw: Value,
    /// The resource body (location, tags, sku, properties, ...) with runtime functions unevaluated.
    pub model: Map<String, Value>,
}

/// A template ready to deploy.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Parameters in declaration order.
    pub params: Vec<ParamInfo>,
    /// Resources in template order.
    pub resources: Vec<PlannedResource>,
    /// `contentVersion`.
    pub content_version: String,
}

/// Keys of a template resource that are template syntax, not part of the resource body.
const TEMPLATE_KEYS: &[&str] = &[
    "type",
    "name",
    "apiversion",
    "dependson",
    "condition",
    "copy",
    "comments",
    "resources",
    "scope",
    "metadata",
    "existing",
    "$schema",
];

/// Canonical casing of the resource types the double knows.
pub fn canonical_type(t: &str) -> String {
    const KNOWN: &[&str] = &[
        "Microsoft.Compute/virtualMachineScaleSets",
        "Microsoft.Compute/virtualMachineScaleSets/extensions",
        "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/virtualNetworks/subnets",
        "Microsoft.Network/networkSecurityGroups",
        "Microsoft.Network/networkSecurityGroups/securityRules",
        "Microsoft.Network/publicIPAddresses",
        "Microsoft.Network/loadBalancers",
        "Microsoft.Network/natGateways",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/fileServices",
        "Microsoft.Storage/storageAccounts/fileServices/shares",
        "Microsoft.Insights/autoscaleSettings",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.KeyVault/vaults",
        "Microsoft.KeyVault/vaults/secrets",
        "Microsoft.Authorization/roleAssignments",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(t))
        .map(|k| k.to_string())
        .unwrap_or_else(|| t.to_string())
}

/// `InvalidTemplate` with ARM's message framing.
pub fn invalid_template(msg: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        "InvalidTemplate",
        format!(
            "Deployment template validation failed: '{msg}'. Please see https://aka.ms/arm-template for usage details."
        ),
    )
}

fn from_eval(e: EvalError, what: &str) -> ArmError {
    match e {
        EvalError::Invalid(m) => invalid_template(format!("{what}: {m}")),
        EvalError::Opaque(f) => invalid_template(format!(
            "{what}: the template function '{f}' is not expected at this location"
        )),
    }
}

fn get_ci<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Everything needed to evaluate expressions of one deployment, at any time.
#[derive(Clone, Debug)]
pub struct TemplateEnv {
    /// The template.
    pub template: Value,
    /// Parameter values by name.
    pub param_values: Map<String, Value>,
    /// Context.
    pub ctx: DeployContext,
    empty: Map<String, Value>,
}

impl TemplateEnv {
    /// An environment without parameter values yet.
    pub fn new(template: Value, ctx: DeployContext) -> Self {
        TemplateEnv {
            template,
            param_values: Map::new(),
            ctx,
            empty: Map::new(),
        }
    }

    fn variables(&self) -> &Map<String, Value> {
        self.template
            .get("variables")
            .and_then(Value::as_object)
            .unwrap_or(&self.empty)
    }

    /// A scope for evaluating this deployment's expressions.
    pub fn scope<'a>(&'a self, runtime: Option<&'a dyn Runtime>) -> Scope<'a> {
        let c = &self.ctx;
        let mut s = Scope::new(&self.param_values, self.variables());
        s.resource_group = json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", c.subscription_id, c.resource_group),
            "name": c.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": c.location,
            "tags": c.rg_tags,
            "properties": {"provisioningState": "Succeeded"}
        });
        s.subscription = json!({
            "id": format!("/subscriptions/{}", c.subscription_id),
            "subscriptionId": c.subscription_id,
            "tenantId": c.tenant_id,
            "displayName": "Test subscription"
        });
        s.deployment = json!({
            "name": c.deployment_name,
            "properties": {
                "template": {"contentVersion": self.template.get("contentVersion").cloned().unwrap_or(Value::Null)},
                "mode": "Incremental",
                "provisioningState": "Accepted"
            }
        });
        s.environment = json!({
            "name": "ArmTestDouble",
            "resourceManager": c.management_url,
            "authentication": {"loginEndpoint": c.management_url, "audiences": [c.management_url]},
            "suffixes": {
                "storage": "core.windows.net",
                "keyvaultDns": ".vault.azure.net",
                "acrLoginServer": ".azurecr.io",
                "sqlServerHostname": ".database.windows.net"
            }
        });
        s.runtime = runtime;
        s
    }
}

fn param_type(t: &str) -> Option<(&'static str, bool)> {
    match t.to_ascii_lowercase().as_str() {
        "string" => Some(("String", false)),
        "securestring" => Some(("SecureString", true)),
        "int" => Some(("Int", false)),
        "bool" => Some(("Bool", false)),
        "object" => Some(("Object", false)),
        "secureobject" => Some(("SecureObject", true)),
        "array" => Some(("Array", false)),
        _ => None,
    }
}

fn check_type(name: &str, ty: &str, v: &Value) -> Result<(), ArmError> {
    let ok = match ty {
        "String" | "SecureString" => v.is_string(),
        "Int" => v.as_i64().is_some(),
        "Bool" => v.is_boolean(),
        "Object" | "SecureObject" => v.is_object(),
        "Array" => v.is_array(),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let got = match v {
        Value::String(_) => "String",
        Value::Number(_) => "Integer",
        Value::Bool(_) => "Boolean",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
        Value::Null => "Null",
    };
    let expected = match ty {
        "Int" => "Integer",
        "Bool" => "Boolean",
        "SecureString" => "String",
        "SecureObject" => "Object",
        other => other,
    };
    Err(invalid_template(format!(
        "Template parameter '{name}' was provided an invalid value. Expected a value of type '{expected}', but received a value of type '{got}'"
    )))
}

fn check_constraints(name: &str, decl: &Map<String, Value>, v: &Value) -> Result<(), ArmError> {
    if let Some(allowed) = get_ci(decl, "allowedValues").and_then(Value::as_array) {
        let values: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for x in values {
            if !allowed.contains(x) {
                return Err(invalid_template(format!(
                    "The provided value '{}' for the template parameter '{name}' is not valid. The value is not part of the allowed value(s): '{}'",
                    expr::to_text(x),
                    allowed
                        .iter()
                        .map(expr::to_text)
                        .collect::<Vec<_>>()
                        .join(",")
                )));
            }
        }
    }
    if let Some(n) = v.as_i64() {
        let min = get_ci(decl, "minValue").and_then(Value::as_i64);
        let max = get_ci(decl, "maxValue").and_then(Value::as_i64);
        if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
            return Err(invalid_template(format!(
                "The provided value '{n}' for the template parameter '{name}' is not valid. Expected a value between '{}' and '{}'",
                min.map(|m| m.to_string()).unwrap_or_else(|| "-inf".into()),
                max.map(|m| m.to_string()).unwrap_or_else(|| "+inf".into())
            )));
        }
    }
    let len = match v {
        Value::String(s) => Some(s.chars().count() as i64),
        Value::Array(a) => Some(a.len() as i64),
        _ => None,
    };
    if let Some(len) = len {
        if let Some(m) = get_ci(decl, "minLength").and_then(Value::as_i64)
            && len < m
        {
            return Err(invalid_template(format!(
                "The provided value for the template parameter '{name}' is not valid. Length of the value should be greater than or equal to '{m}'"
            )));
        }
        if let Some(m) = get_ci(decl, "maxLength").and_then(Value::as_i64)
            && len > m
        {
            return Err(invalid_template(format!(
                "The provided value for the template parameter '{name}' is not valid. Length of the value should be less than or equal to '{m}'"
            )));
        }
    }
    Ok(())
}

/// Validates the parameters and evaluates the resources of a deployment request.
pub fn prepare(
    template: &Value,
    provided: &Map<String, Value>,
    ctx: DeployContext,
) -> Result<(Plan, TemplateEnv), ArmError> {
    let t = template
        .as_object()
        .ok_or_else(|| invalid_template("The template must be a JSON object"))?;
    let content_version = match get_ci(t, "contentVersion") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(invalid_template(
                "Required property 'contentVersion' not found in JSON",
            ));
        }
    };
    let empty = Map::new();
    let declared = match get_ci(t, "parameters") {
        None => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(invalid_template(
                "The template 'parameters' must be an object",
            ));
        }
    };
    for name in provided.keys() {
        if !declared.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            return Err(invalid_template(format!(
                "The template parameters '{name}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '{}'",
                declared.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut env = TemplateEnv::new(template.clone(), ctx);
    let mut params = Vec::new();
    for (name, decl) in declared {
        let decl = decl.as_object().ok_or_else(|| {
            invalid_template(format!("The template parameter '{name}' must be an object"))
        })?;
        let ty_text = get_ci(decl, "type").and_then(Value::as_str).unwrap_or("");
        let (type_name, secure) = param_type(ty_text).ok_or_else(|| {
            invalid_template(format!(
                "The template parameter '{name}' has an invalid type '{ty_text}'"
            ))
        })?;
        let given = provided
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        let value = match given {
            Some(p) => match p.as_object() {
                Some(o) if o.contains_key("value") => o["value"].clone(),
                Some(o) if o.contains_key("reference") => {
                    Value::String("[secret from a Key Vault reference]".into())
                }
                _ => {
                    return Err(invalid_template(format!(
                        "The value of deployment parameter '{name}' must be an object with a 'value' or 'reference' property"
                    )));
                }
            },
            None => match get_ci(decl, "defaultValue") {
                Some(d) => {
                    let mut scope = env.scope(None);
                    scope.in_parameter_default = true;
                    expr::eval_value(d, &scope).map_err(|e| {
                        from_eval(
                            e,
                            &format!("The default value of template parameter '{name}'"),
                        )
                    })?
                }
                None => {
                    return Err(invalid_template(format!(
                        "The value for the template parameter '{name}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details"
                    )));
                }
            },
        };
        check_type(name, type_name, &value)?;
        check_constraints(name, decl, &value)?;
        env.param_values.insert(name.clone(), value.clone());
        params.push(ParamInfo {
            name: name.clone(),
            type_name: type_name.to_string(),
            value,
            secure,
        });
    }

    let raw_resources = match get_ci(t, "resources") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(_)) => {
            return Err(invalid_template(
                "Symbolic-name resources (languageVersion 2.0) are not supported here",
            ));
        }
        _ => {
            return Err(invalid_template(
                "Required property 'resources' not found in JSON",
            ));
        }
    };
    // flatten nested child resources
    let mut flat: Vec<(Value, Option<(String, String)>)> = Vec::new();
    fn flatten(
        list: &[Value],
        parent: Option<(String, String)>,
        env: &TemplateEnv,
        out: &mut Vec<(Value, Option<(String, String)>)>,
    ) -> Result<(), ArmError> {
        for r in list {
            let o = r
                .as_object()
                .ok_or_else(|| invalid_template("Each template resource must be an object"))?;
            out.push((r.clone(), parent.clone()));
            if let Some(Value::Array(children)) = get_ci(o, "resources") {
                let scope = env.scope(None);
                let ty = eval_name_field(o, "type", &scope)?;
                let name = eval_name_field(o, "name", &scope)?;
                flatten(children, Some(qualify(parent.as_ref(), ty, name)), env, out)?;
            }
        }
        Ok(())
    }
    flatten(&raw_resources, None, &env, &mut flat)?;

    let mut resources: Vec<PlannedResource> = Vec::new();
    let mut raw_depends: Vec<Vec<String>> = Vec::new();
    let mut conditioned_out: Vec<String> = Vec::new();
    let scope = env.scope(None);
    let rg_prefix = format!(
        "/subscriptions/{}/resourceGroups/{}",
        env.ctx.subscription_id, env.ctx.resource_group
    );
    for (r, parent) in &flat {
        let o = r.as_object().expect("checked above");
        let ty = eval_name_field(o, "type", &scope)?;
        let name = eval_name_field(o, "name", &scope)?;
        let (rtype, full_name) = qualify(parent.as_ref(), ty, name);
        let rtype = canonical_type(&rtype);
        if get_ci(o, "copy").is_some() {
            return Err(invalid_template(format!(
                "The template resource '{full_name}' uses a copy loop, which the ARM test double does not support"
            )));
        }
        if rtype.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
            return Err(invalid_template(format!(
                "The template resource '{full_name}' is a nested deployment, which the ARM test double does not support"
            )));
        }
        let id = expr::build_resource_id(&rg_prefix, &rtype, std::slice::from_ref(&full_name), "resourceId")
            .map_err(|_| {
                invalid_template(format!(
                    "The template resource '{full_name}' for type '{rtype}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name"
                ))
            })?;
        if let Some(c) = get_ci(o, "condition") {
            let c = expr::eval_value(c, &scope)
                .map_err(|e| from_eval(e, &format!("The condition of resource '{full_name}'")))?;
            match c {
                Value::Bool(true) => {}
                Value::Bool(false) => {
                    conditioned_out.push(id.to_ascii_lowercase());
                    continue;
                }
                Value::String(s) if s.eq_ignore_ascii_case("true") => {}
                Value::String(s) if s.eq_ignore_ascii_case("false") => {
                    conditioned_out.push(id.to_ascii_lowercase());
                    continue;
                }
                other => {
                    return Err(invalid_template(format!(
                        "The condition of resource '{full_name}' must be a boolean, got '{}'",
                        expr::to_text(&other)
                    )));
                }
            }
        }
        let api_version = match get_ci(o, "apiVersion") {
            Some(v) => match expr::eval_value(v, &scope) {
                Ok(Value::String(s)) => s,
                _ => {
                    return Err(invalid_template(format!(
                        "The template resource '{full_name}' has an invalid 'apiVersion'"
                    )));
                }
            },
            None => {
                return Err(invalid_template(format!(
                    "The template resource '{full_name}' of type '{rtype}' is missing the required property 'apiVersion'"
                )));
            }
        };
        let mut deps = Vec::new();
        if let Some(d) = get_ci(o, "dependsOn") {
            let list = d.as_array().ok_or_else(|| {
                invalid_template(format!(
                    "The 'dependsOn' of resource '{full_name}' must be an array"
                ))
            })?;
            for entry in list {
                match expr::eval_value(entry, &scope).map_err(|e| {
                    from_eval(e, &format!("The 'dependsOn' of resource '{full_name}'"))
                })? {
                    Value::String(s) => deps.push(s),
                    other => {
                        return Err(invalid_template(format!(
                            "The 'dependsOn' entries of resource '{full_name}' must be strings, got '{other}'"
                        )));
                    }
                }
            }
        }
        let mut body = Map::new();
        for (k, v) in o {
            if !TEMPLATE_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                body.insert(k.clone(), v.clone());
            }
        }
        let model = match expr::eval_value_lenient(&Value::Object(body.clone()), &scope)
            .map_err(|e| from_eval(e, &format!("The template resource '{full_name}'")))?
        {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if resources.iter().any(|p| p.id.eq_ignore_ascii_case(&id)) {
            return Err(invalid_template(format!(
                "The resource '{id}' is defined multiple times in a template"
            )));
        }
        resources.push(PlannedResource {
            id,
            name: full_name,
            rtype,
            api_version,
            depends_on: Vec::new(),
            raw: Value::Object(body),
            model,
        });
        raw_depends.push(deps);
    }
    drop(scope);

    // resolve dependsOn
    for (i, deps) in raw_depends.iter().enumerate() {
        let mut resolved = Vec::new();
        for d in deps {
            match resolve_reference(&resources, d) {
                Some(j) if j == i => {
                    return Err(invalid_template(format!(
                        "Circular dependency detected on resource: '{}'",
                        resources[i].id
                    )));
                }
                Some(j) => {
                    if !resolved.contains(&j) {
                        resolved.push(j)
                    }
                }
                None if is_conditioned_out(&conditioned_out, d) => {}
                None => {
                    return Err(invalid_template(format!(
                        "The resource '{d}' is not defined in the template"
                    )));
                }
            }
        }
        resources[i].depends_on = resolved;
    }
    // cycle detection (DFS colouring)
    let n = resources.len();
    let mut colour = vec![0u8; n];
    fn visit(i: usize, res: &[PlannedResource], colour: &mut [u8]) -> Result<(), ArmError> {
        colour[i] = 1;
        for &j in &res[i].depends_on {
            if colour[j] == 1 {
                return Err(invalid_template(format!(
                    "Circular dependency detected on resource: '{}'",
                    res[j].id
                )));
            }
            if colour[j] == 0 {
                visit(j, res, colour)?;
            }
        }
        colour[i] = 2;
        Ok(())
    }
    for i in 0..n {
        if colour[i] == 0 {
            visit(i, &resources, &mut colour)?;
        }
    }
    Ok((
        Plan {
            params,
            resources,
            content_version,
        },
        env,
    ))
}

fn eval_name_field(
    o: &Map<String, Value>,
    field: &str,
    scope: &Scope<'_>,
) -> Result<String, ArmError> {
    let v = get_ci(o, field).ok_or_else(|| {
        invalid_template(format!("Required property '{field}' not found in JSON"))
    })?;
    match expr::eval_value(v, scope)
        .map_err(|e| from_eval(e, &format!("The template resource property '{field}'")))?
    {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim_matches('/').to_string()),
        other => Err(invalid_template(format!(
            "The template resource property '{field}' must be a non-empty string, got '{other}'"
        ))),
    }
}

/// The full type and name of a (possibly nested) template resource: a nested resource may give
/// its type relative to the parent (`shares`) or fully qualified (`Microsoft.X/y/shares`).
fn qualify(parent: Option<&(String, String)>, ty: String, name: String) -> (String, String) {
    let qualified = ty.split('/').next().is_some_and(|ns| ns.contains('.'));
    match parent {
        Some((pt, pn)) if !qualified => (format!("{pt}/{ty}"), format!("{pn}/{name}")),
        Some((_, pn)) if name.split('/').count() < ty.split('/').count() - 1 => {
            (ty, format!("{pn}/{name}"))
        }
        _ => (ty, name),
    }
}

fn is_conditioned_out(ids: &[String], reference: &str) -> bool {
    let r = reference.to_ascii_lowercase();
    let r = r.trim_matches('/');
    ids.iter()
        .any(|id| id.trim_matches('/') == r || id.ends_with(&format!("/{r}")))
}

/// Finds the template resource a `dependsOn`/`reference()` string names: a full id, a
/// `Namespace/type/name` suffix, or a bare resource name.
pub fn resolve_reference(resources: &[PlannedResource], reference: &str) -> Option<usize> {
    let r = normalise_id(reference);
    if let Some(i) = resources.iter().position(|p| normalise_id(&p.id) == r) {
        return Some(i);
    }
    let suffix = format!("/{}", r.trim_start_matches('/'));
    let by_suffix: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let id = normalise_id(&p.id);
            id.ends_with(&suffix) || type_name_key(p) == r
        })
        .map(|(i, _)| i)
        .collect();
    if by_suffix.len() == 1 {
        return Some(by_suffix[0]);
    }
    let by_name: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name.eq_ignore_ascii_case(reference))
        .map(|(i, _)| i)
        .collect();
    if by_name.len() == 1 {
        Some(by_name[0])
    } else {
        None
    }
}

fn type_name_key(p: &PlannedResource) -> String {
    // "Microsoft.Network/virtualNetworks/vnet" form
    let mut out = String::new();
    let types: Vec<&str> = p.rtype.split('/').collect();
    let names: Vec<&str> = p.name.split('/').collect();
    out.push_str(types[0]);
    for (t, n) in types[1..].iter().zip(names) {
        out.push('/');
        out.push_str(t);
        out.push('/');
        out.push_str(n);
    }
    normalise_id(&out)
}

/// Lowercase id with single slashes and no trailing slash.
pub fn normalise_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for seg in id.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(&seg.to_ascii_lowercase());
    }
    out
}

/// Re-evaluates a planned resource body with deployment-time state (`reference()` resolves).
pub fn evaluate_at_provisioning(
    env: &TemplateEnv,
    res: &PlannedResource,
    runtime: &dyn Runtime,
) -> Result<Map<String, Value>, ArmError> {
    let scope = env.scope(Some(runtime));
    match expr::eval_value_lenient(&res.raw, &scope) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Ok(Map::new()),
        Err(e) => Err(from_eval(
            e,
            &format!("The template resource '{}'", res.name),
        )),
    }
}

/// Evaluates the template outputs after all resources succeeded.
pub fn evaluate_outputs(env: &TemplateEnv, runtime: &dyn Runtime) -> Result<Value, ArmError> {
    let Some(outputs) = env.template.get("outputs").and_then(Value::as_object) else {
        return Ok(json!({}));
    };
    let scope = env.scope(Some(runtime));
    let mut out = Map::new();
    for (name, decl) in outputs {
        let ty = decl
            .get("type")
            .and_then(Value::as_str)
            .and_then(param_type)
            .map(|(t, _)| t)
            .unwrap_or("String");
        if let Some(c) = decl.get("condition")
            && expr::eval_value(c, &scope).ok() == Some(Value::Bool(false))
        {
            continue;
        }
        let v = decl.get("value").cloned().unwrap_or(Value::Null);
        let value = expr::eval_value(&v, &scope)
            .map_err(|e| from_eval(e, &format!("The template output '{name}'")))?;
        out.insert(name.clone(), json!({"type": ty, "value": value}));
    }
    Ok(Value::Object(out))
}

/// Parameters as ARM echoes them in a deployment body (secure values omitted).
pub fn echo_parameters(params: &[ParamInfo]) -> Value {
    let mut out = Map::new();
    for p in params {
        if p.secure {
            out.insert(p.name.clone(), json!({"type": p.type_name}));
        } else {
            out.insert(
                p.name.clone(),
                json!({"type": p.type_name, "value": p.value}),
            );
        }
    }
    Value::Object(out)
}

/// The `providers` section of a deployment body.
pub fn providers(plan: &Plan, location: &str) -> Value {
    let mut by_ns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &plan.resources {
        let mut parts = r.rtype.splitn(2, '/');
        let ns = parts.next().unwrap_or_default().to_string();
        let rest = parts.next().unwrap_or_default().to_string();
        let list = by_ns.entry(ns).or_default();
        if !list.iter().any(|x| x.eq_ignore_ascii_case(&rest)) {
            list.push(rest);
        }
    }
    Value::Array(
        by_ns
            .into_iter()
            .map(|(ns, types)| {
                json!({
                    "namespace": ns,
                    "resourceTypes": types.into_iter().map(|t| json!({"resourceType": t, "locations": [location]})).collect::<Vec<_>>()
                })
            })
            .collect(),
    )
}

/// The `dependencies` section of a deployment body.
pub fn dependencies(plan: &Plan) -> Value {
    let short =
        |p: &PlannedResource| json!({"id": p.id, "resourceType": p.rtype, "resourceName": p.name});
    Value::Array(
        plan.resources
            .iter()
            .filter(|r| !r.depends_on.is_empty())
            .map(|r| {
                let mut v = short(r);
                v["dependsOn"] = Value::Array(
                    r.depends_on
                        .iter()
                        .map(|&j| short(&plan.resources[j]))
                        .collect(),
                );
                v
            })
            .collect(),
    )
}

/// Preflight validation: the checks resource providers run before the deployment starts.
pub fn preflight(plan: &Plan, deployment_name: &str) -> Result<(), ArmError> {
    let mut problems = Vec::new();
    for r in &plan.resources {
        let ty = r.rtype.to_ascii_lowercase();
        let last_name = r.name.rsplit('/').next().unwrap_or_default();
        if ty == "microsoft.storage/storageaccounts" {
            let ok = (3..=24).contains(&last_name.len())
                && last_name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !ok {
                problems.push(
                    ArmError::new(
                        "AccountNameInvalid",
                        format!("{last_name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."),
                    )
                    .target(last_name),
                );
            }
        }
        if ty == "microsoft.network/publicipaddresses"
            && let Some(label) = r
                .model
                .get("properties")
                .and_then(|p| p.get("dnsSettings"))
                .and_then(|d| d.get("domainNameLabel"))
                .and_then(Value::as_str)
            && !expr::is_expression(label)
            && !valid_dns_label(label)
        {
            problems.push(ArmError::new(
                        "InvalidDomainNameLabel",
                        format!("The domain name label {label} is invalid. It must conform to the following regular expression: ^[a-z][a-z0-9-]{{1,61}}[a-z0-9]$."),
                    ));
        }
        if ty == "microsoft.compute/virtualmachinescalesets" {
            match r.model.get("sku").and_then(|s| s.get("capacity")) {
                None => {}
                Some(c) => {
                    let n = c
                        .as_i64()
                        .or_else(|| c.as_str().and_then(|s| s.parse().ok()));
                    if !n.is_some_and(|n| (0..=1000).contains(&n)) {
                        problems.push(
                            ArmError::new(
                                "InvalidParameter",
                                format!("The value {c} of parameter 'sku.capacity' is out of range. The value must be between 0 and 1000, inclusive."),
                            )
                            .target("sku.capacity"),
                        );
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let tracking = uuid::Uuid::new_v4();
    let mut inner = ArmError::new(
        "PreflightValidationCheckFailed",
        "Preflight validation failed. Please refer to the details for the specific errors.",
    );
    inner.details = problems;
    Err(ArmError::new(
        "InvalidTemplateDeployment",
        format!("The template deployment '{deployment_name}' is not valid according to the validation procedure. The tracking id is '{tracking}'. See inner errors for details."),
    )
    .detail(inner))
}

fn valid_dns_label(l: &str) -> bool {
    let b = l.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
}

/// Computes the critical path (in simulated seconds) of a plan under given durations:
/// `start + max over dependency chains of the sum of durations`.
pub fn critical_path(plan: &Plan, duration: &dyn Fn(&PlannedResource) -> f64) -> f64 {
    let mut memo: HashMap<usize, f64> = HashMap::new();
    fn finish(
        i: usize,
        plan: &Plan,
        duration: &dyn Fn(&PlannedResource) -> f64,
        memo: &mut HashMap<usize, f64>,
    ) -> f64 {
        if let Some(v) = memo.get(&i) {
            return *v;
        }
        let start = plan.resources[i]
            .depends_on
            .iter()
            .map(|&j| finish(j, plan, duration, memo))
            .fold(0.0, f64::max);
        let v = start + duration(&plan.resources[i]);
        memo.insert(i, v);
        v
    }
    (0..plan.resources.len())
        .map(|i| finish(i, plan, duration, &mut memo))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> DeployContext {
        DeployContext {
            subscription_id: "sub".into(),
            tenant_id: "tenant".into(),
            resource_group: "rg".into(),
            location: "westeurope".into(),
            rg_tags: json!({}),
            deployment_name: "d".into(),
            management_url: "https://127.0.0.1:1/".into(),
        }
    }

    #[test]
    fn quickstart_template_prepares_in_dependency_order() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/arm/quickstarts/microsoft.compute/vmss-ubuntu-autoscale/azuredeploy.json"
        );
        let template: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let params = json!({
            "vmssName": {"value": "pool"},
            "instanceCount": {"value": 5},
            "adminUsername": {"value": "azureuser"},
            "adminPasswordOrKey": {"value": "ssh-rsa AAAA"}
        });
        let (plan, _env) = prepare(&template, params.as_object().unwrap(), ctx()).unwrap();
        assert_eq!(plan.resources.len(), 5);
        let vmss = plan
            .resources
            .iter()
            .position(|r| r.rtype == "Microsoft.Compute/virtualMachineScaleSets")
            .unwrap();
        let deps: Vec<&str> = plan.resources[vmss]
            .depends_on
            .iter()
            .map(|&j| plan.resources[j].rtype.as_str())
            .collect();
        assert!(deps.contains(&"Microsoft.Network/loadBalancers"));
        assert!(deps.contains(&"Microsoft.Network/virtualNetworks"));
        assert_eq!(plan.resources[vmss].model["sku"]["capacity"], json!(5));
        assert!(plan.resources[vmss].name.starts_with("pool"));
        let secure = plan
            .params
            .iter()
            .find(|p| p.name == "adminPasswordOrKey")
            .unwrap();
        assert!(secure.secure);
        let echoed = echo_parameters(&plan.params);
        assert!(echoed["adminPasswordOrKey"].get("value").is_none());
        assert_eq!(echoed["instanceCount"]["value"], json!(5));
    }

    #[test]
    fn parameter_rules_are_enforced() {
        let template = json!({
            "contentVersion": "1.0.0.0",
            "parameters": {
                "n": {"type": "int", "minValue": 1, "maxValue": 3},
                "s": {"type": "string", "allowedValues": ["a", "b"], "defaultValue": "a"}
            },
            "resources": []
        });
        let ok = json!({"n": {"value": 2}});
        assert!(prepare(&template, ok.as_object().unwrap(), ctx()).is_ok());
        for bad in [
            json!({}),
            json!({"n": {"value": 9}}),
            json!({"n": {"value": "2"}}),
            json!({"n": {"value": 2}, "s": {"value": "c"}}),
            json!({"n": {"value": 2}, "extra": {"value": 1}}),
        ] {
            let err = prepare(&template, bad.as_object().unwrap(), ctx()).unwrap_err();
            assert_eq!(err.code, "InvalidTemplate", "{bad}: {err}");
        }
    }

    #[test]
    fn dependency_errors_are_invalid_template() {
        let cyclic = json!({
            "contentVersion": "1.0.0.0",
            "resources": [
                {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01", "name": "a", "dependsOn": ["b"]},
                {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01", "name": "b", "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'a')]"]}
            ]
        });
        let err = prepare(&cyclic, &Map::new(), ctx()).unwrap_err();
        assert!(err.message.contains("Circular dependency"), "{err}");
        let missing = json!({
            "contentVersion": "1.0.0.0",
            "resources": [
                {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01", "name": "a", "dependsOn": ["nope"]}
            ]
        });
        let err = prepare(&missing, &Map::new(), ctx()).unwrap_err();
        assert!(err.message.contains("is not defined"), "{err}");
    }

    #[test]
    fn critical_path_follows_dependencies() {
        let t = json!({
            "contentVersion": "1.0.0.0",
            "resources": [
                {"type": "A.B/c", "apiVersion": "1", "name": "x"},
                {"type": "A.B/c", "apiVersion": "1", "name": "y", "dependsOn": ["x"]},
                {"type": "A.B/d", "apiVersion": "1", "name": "z"}
            ]
        });
        let (plan, _) = prepare(&t, &Map::new(), ctx()).unwrap();
        let d = |r: &PlannedResource| if r.rtype == "A.B/c" { 2.0 } else { 3.0 };
        assert_eq!(critical_path(&plan, &d), 4.0);
    }
}
