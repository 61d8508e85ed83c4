//! JSON Schema of the pool spec (generated with schemars; committed at
//! `core/schema/pool.schema.json` and checked for staleness in tests).

use super::model::PoolSpec;

/// The spec's JSON Schema as pretty JSON text (ends with a newline).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PoolSpec);
    let mut s =
        serde_json::to_string_pretty(&schema).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
