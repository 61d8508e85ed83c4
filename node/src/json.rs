//! Core values → JavaScript objects: the binding's own objects use JavaScript's camelCase keys
//! (`resourceGroup`, `jupyterhubUrl`, `atMax`); documents embedded in them (an ARM template,
//! a spec) keep their keys as they are.

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
