//! The spec module: its JSON Schema.

use napi_derive::napi;

/// JSON Schema of the pool spec (draft 2020-12), as pretty JSON text.
#[napi(catch_unwind)]
pub fn json_schema() -> String {
    dsvmpool::spec::schema::json_schema()
}
