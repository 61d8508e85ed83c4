//! Core values → JavaScript objects: the binding's own objects use JavaScript's camelCase keys
//! (`resourceGroup`, `jupyterhubUrl`, `atMax`); documents embedded in them (an ARM template,
//! a spec) keep their keys as they are.

use napi::bindgen_prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

/// Serialize a core value.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> dsvmpool::Result<Value> {
    serde_json::to_value(v).map_err(|e| dsvmpool::Error::Internal(format!("to JSON: {e}")))
}

/// Serialize a core value with every object key in camelCase (`at_max` → `atMax`).
pub fn to_camel_value<T: Serialize + ?Sized>(v: &T) -> dsvmpool::Result<Value> {
    to_value(v).map(camel_keys)
}

/// Every object key of `v`, recursively, from snake_case to camelCase.
pub fn camel_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (camel(&k), camel_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// As [`camel_keys`], but the values of the top-level keys in `documents` (embedded documents
/// such as an ARM template) keep their keys as they are.
pub fn camel_keys_except(v: Value, documents: &[&str]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if documents.contains(&k.as_str()) {
                        v
                    } else {
                        camel_keys(v)
                    };
                    (camel(&k), v)
                })
                .collect::<Map<_, _>>(),
        ),
        other => camel_keys(other),
    }
}

/// Every object key of `v`, recursively, from camelCase to snake_case (`bootTime` →
/// `boot_time`; snake_case keys stay as they are).
pub fn snake_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (snake(&k), snake_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON value as a plain JavaScript object, built by one `JSON.parse` call: much faster than
/// creating every property through N-API (a plan has a few hundred).
pub fn to_js<'env>(env: &'env Env, value: &Value) -> napi::Result<Unknown<'env>> {
    let text = serde_json::to_string(value)
        .map_err(|e| napi::Error::new(Status::GenericFailure, format!("to JSON: {e}")))?;
    let json: Object = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<String, Unknown<'env>> = json.get_named_property("parse")?;
    parse.apply(json, text)
}

/// The JSON text of a JavaScript value, by `JSON.stringify`: it gives the value's JSON meaning
/// (undefined and functions dropped, `toJSON` honoured) and throws a TypeError on cycles and
/// BigInts instead of recursing. `None` when the value has no JSON form (undefined, a function).
pub fn stringify(env: &Env, value: Unknown<'_>) -> napi::Result<Option<String>> {
    let json: Object = env.get_global()?.get_named_property("JSON")?;
    let stringify: Function<Unknown, Unknown> = json.get_named_property("stringify")?;
    let text = stringify.apply(json, value)?;
    if text.get_type()? != ValueType::String {
        return Ok(None);
    }
    String::from_unknown(text).map(Some)
}

/// A JavaScript value (or JSON text) as a JSON value; `what` names it in errors.
pub fn js_to_value(env: &Env, value: Unknown<'_>, what: &str) -> napi::Result<Value> {
    let text = if value.get_type()? == ValueType::String {
        String::from_unknown(value)?
    } else {
        stringify(env, value)?.ok_or_else(|| {
            napi::Error::new(Status::InvalidArg, format!("{what} must be a JSON value"))
        })?
    };
    serde_json::from_str(&text)
        .map_err(|e| napi::Error::new(Status::InvalidArg, format!("{what}: {e}")))
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_keep_their_keys() {
        let v = json!({"user_data": "x", "template": {"$schema": 1, "content_version": 2},
                       "secure_parameters": [{"env_var": 1}]});
        assert_eq!(
            camel_keys_except(v, &["template"]),
            json!({"userData": "x", "template": {"$schema": 1, "content_version": 2},
                   "secureParameters": [{"envVar": 1}]})
        );
    }

    #[test]
    fn camel_keys_become_snake_case() {
        let v = json!({"bootTime": 1, "eval_interval": 2, "sessionTarget": {"fixedInstances": 3}});
        assert_eq!(
            snake_keys(v),
            json!({"boot_time": 1, "eval_interval": 2, "session_target": {"fixed_instances": 3}})
        );
    }

    #[test]
    fn keys_become_camel_case_recursively_values_do_not() {
        let v = json!({"resource_group": "rg_x", "cost": {"at_max": {"instances": 2}},
                       "resources": [{"use_existing": true}], "_private": 1, "a__b": 0});
        assert_eq!(
            camel_keys(v),
            json!({"resourceGroup": "rg_x", "cost": {"atMax": {"instances": 2}},
                   "resources": [{"useExisting": true}], "_private": 1, "aB": 0})
        );
    }
}
