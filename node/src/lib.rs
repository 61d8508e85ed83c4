//! Node.js binding of dsvmpool (the npm package `dsvmpool`), built with napi-rs.
//!
//! Thin by design (see `../shared/docs/DESIGN.md`): each wrapper converts its arguments,
//! calls the core and maps the error (`error.rs`). Every export runs inside a panic boundary.

#![deny(clippy::all)]

mod error;
mod json;
mod lifecycle;
mod pool;
mod render;
mod sim;
mod spec;

pub use pool::{Pool, SpecFormat};
pub use render::RenderOptions;
pub use sim::Trace;
pub use spec::json_schema;

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Version of the native library (same as the npm package version).
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    dsvmpool::VERSION
}

/// Whether `value` is an error thrown by dsvmpool (an `Error` named `DsvmpoolError` with a
/// string `code`).
#[napi(catch_unwind, ts_return_type = "value is DsvmpoolError")]
pub fn is_dsvmpool_error(value: Unknown<'_>) -> Result<bool> {
    if value.get_type()? != ValueType::Object || !value.is_error()? {
        return Ok(false);
    }
    let obj = Object::from_unknown(value)?;
    let name: Option<String> = obj.get("name").ok().flatten();
    let code: Option<Unknown> = obj.get("code").ok().flatten();
    Ok(name.as_deref() == Some(error::ERROR_NAME)
        && matches!(code.map(|c| c.get_type()), Some(Ok(ValueType::String))))
}
