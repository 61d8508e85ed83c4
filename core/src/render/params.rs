//! Template parameters and the parameters file.
//!
//! Plain values get a `defaultValue` in the template and the same value in the parameters file
//! (so the file documents the deployment and `az deployment group create` can override it).
//! Secrets are `securestring` parameters without a default: a Key Vault secret becomes a Key
//! Vault reference in the parameters file; an environment variable becomes a
//! [`SecureParameter`] the deploy command fills — its value is never written anywhere.

use crate::spec::{CredentialMethod, KeyVaultSecret, Os, SecretRef, ValidPool};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// `$schema` of a parameters file.
pub const PARAMETERS_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

/// Parameter names used in the template.
pub mod names {
    /// Region of every resource.
    pub const LOCATION: &str = "location";
    /// VM size.
    pub const VM_SIZE: &str = "vmSize";
    /// Instances at deployment (the deploy command passes the current count on updates so a
    /// redeploy does not undo autoscale).
    pub const INSTANCE_COUNT: &str = "instanceCount";
    /// Admin user name.
    pub const ADMIN_USERNAME: &str = "adminUsername";
    /// Admin password (securestring).
    pub const ADMIN_PASSWORD: &str = "adminPassword";
    /// Storage account key of an existing account (securestring).
    pub const STORAGE_ACCOUNT_KEY: &str = "storageAccountKey";
    /// Source CIDRs allowed to reach the pool.
    pub const SOURCE_ADDRESS_PREFIXES: &str = "sourceAddressPrefixes";
}

/// ARM parameter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string`
    String,
    /// `int`
    Int,
    /// `array`
    Array,
    /// `securestring`
    SecureString,
}

impl ParamType {
    fn as_arm(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Array => "array",
            ParamType::SecureString => "securestring",
        }
    }
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A plain value from the spec.
    Value(Value),
    /// A secret in an environment variable of whoever deploys.
    Env(String),
    /// A Key Vault secret.
    KeyVault(KeyVaultSecret),
}

/// One template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Parameter name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Description (template metadata).
    pub description: String,
    /// Value.
    pub value: ParamValue,
    /// Lowest value (int).
    pub min: Option<i64>,
    /// Highest value (int).
    pub max: Option<i64>,
}

/// A secure parameter the deploy command fills from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecureParameter {
    /// Template parameter name.
    pub name: String,
    /// Environment variable that holds the value when deploying.
    pub env: String,
}

fn secret(name: &'static str, description: &str, r: &SecretRef) -> Option<Param> {
    let value = match r {
        SecretRef::Env { env } => ParamValue::Env(env.clone()),
        SecretRef::KeyVault { key_vault } => ParamValue::KeyVault(key_vault.clone()),
        // Validation rejects literal and malformed references.
        SecretRef::Literal | SecretRef::Malformed => return None,
    };
    Some(Param {
        name,
        ty: ParamType::SecureString,
        description: description.into(),
        value,
        min: None,
        max: None,
    })
}

/// The parameters of a pool's template, in template order.
pub fn parameters(pool: &ValidPool) -> Vec<Param> {
    let s = pool.spec();
    let plain = |name, ty, description: &str, v: Value| Param {
        name,
        ty,
        description: description.into(),
        value: ParamValue::Value(v),
        min: None,
        max: None,
    };
    let mut out = vec![
        plain(
            names::LOCATION,
            ParamType::String,
            "Region of every resource of the pool.",
            json!(s.location),
        ),
        plain(
            names::VM_SIZE,
            ParamType::String,
            "Size of the pool's instances.",
            json!(s.vm.size),
        ),
        Param {
            min: Some(0),
            max: Some(1000),
            ..plain(
                names::INSTANCE_COUNT,
                ParamType::Int,
                "Instances at deployment; autoscale takes over afterwards.",
                json!(pool.initial_capacity()),
            )
        },
        plain(
            names::ADMIN_USERNAME,
            ParamType::String,
            "Admin user created on every instance.",
            json!(s.access.admin_user),
        ),
        plain(
            names::SOURCE_ADDRESS_PREFIXES,
            ParamType::Array,
            "Source ranges allowed to reach the pool's address.",
            json!(s.access.source_cidrs),
        ),
    ];
    if let Some(p) = s.access.password.as_ref().and_then(|r| {
        secret(
            names::ADMIN_PASSWORD,
            "Admin password (a secure parameter: never stored in a file).",
            r,
        )
    }) {
        out.push(p);
    }
    if let Some(p) = storage_key_param(pool) {
        out.push(p);
    }
    out
}

/// The storage key parameter: only for an existing account whose key the spec references
/// (`credential = "account_key"` with `storage.key`).
fn storage_key_param(pool: &ValidPool) -> Option<Param> {
    let st = &pool.spec().storage;
    if pool.credential() != CredentialMethod::AccountKey || st.account.create {
        return None;
    }
    secret(
        names::STORAGE_ACCOUNT_KEY,
        "Key of the existing storage account (reaches instances only through protected settings).",
        st.key.as_ref()?,
    )
}

/// Whether the template has a parameter of this name.
pub fn has(params: &[Param], name: &str) -> bool {
    params.iter().any(|p| p.name == name)
}

/// The `parameters` section of the template.
pub fn template_section(params: &[Param]) -> Value {
    let mut m = Map::new();
    for p in params {
        let mut d = Map::new();
        d.insert("type".into(), json!(p.ty.as_arm()));
        if let ParamValue::Value(v) = &p.value {
            d.insert("defaultValue".into(), v.clone());
        }
        if let Some(v) = p.min {
            d.insert("minValue".into(), json!(v));
        }
        if let Some(v) = p.max {
            d.insert("maxValue".into(), json!(v));
        }
        d.insert("metadata".into(), json!({ "description": p.description }));
        m.insert(p.name.into(), Value::Object(d));
    }
    Value::Object(m)
}

/// The parameters file: plain values, Key Vault references; environment secrets are left out
/// (see [`secure_parameters`]).
pub fn parameters_file(params: &[Param]) -> Value {
    let mut m = Map::new();
    for p in params {
        let v = match &p.value {
            ParamValue::Value(v) => json!({ "value": v }),
            ParamValue::KeyVault(kv) => {
                let mut r = Map::new();
                r.insert("keyVault".into(), json!({ "id": kv.id }));
                r.insert("secretName".into(), json!(kv.secret));
                if let Some(ver) = &kv.version {
                    r.insert("secretVersion".into(), json!(ver));
                }
                json!({ "reference": r })
            }
            ParamValue::Env(_) => continue,
        };
        m.insert(p.name.into(), v);
    }
    json!({
        "$schema": PARAMETERS_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": m,
    })
}

/// The secure parameters the deploy command fills from the environment.
pub fn secure_parameters(params: &[Param]) -> Vec<SecureParameter> {
    params
        .iter()
        .filter_map(|p| match &p.value {
            ParamValue::Env(env) => Some(SecureParameter {
                name: p.name.to_string(),
                env: env.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Whether Linux instances get a password (JupyterHub's PAM login needs one when set).
pub fn linux_password(pool: &ValidPool) -> bool {
    pool.spec().vm.os == Os::Ubuntu && pool.spec().access.password.is_some()
}
