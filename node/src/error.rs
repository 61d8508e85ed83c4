//! Core [`dsvmpool::Error`] → JavaScript `Error`, and the panic boundary of every export.
//!
//! A thrown error is a real `Error` (with a stack) whose `name` is `DsvmpoolError`, whose
//! `code` is the stable [`dsvmpool::ErrorKind::code`] (`VALIDATION`, `NOT_FOUND`, `AUTH`,
//! `THROTTLED`, `AZURE`, `IO`, `INTERNAL`, ...) and whose `details` is
//! [`dsvmpool::Error::details`]. Validation errors also carry `errors` and `warnings`
//! (lists of diagnostics `{severity, path, rule, message, hint?}`); HTTP errors carry `status`
//! and `requestId`.

use napi::bindgen_prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// `name` of every error this package throws.
pub const ERROR_NAME: &str = "DsvmpoolError";

/// Run `f`, turning a panic into [`dsvmpool::Error::Internal`] so that no panic crosses into
/// Node (each export also carries `#[napi(catch_unwind)]` for the generated glue).
pub fn guard<T>(f: impl FnOnce() -> dsvmpool::Result<T>) -> dsvmpool::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(dsvmpool::Error::Internal(format!("panic: {msg}")))
    })
}

/// Build the JavaScript error for `e`. The returned [`napi::Error`] holds a reference to the
/// JS object, so napi throws that very object.
pub fn to_js(env: &Env, e: &dsvmpool::Error) -> napi::Error {
    match build(env, e) {
        Ok(err) => err,
        // Building the object failed (the environment is tearing down): fall back to a plain
        // error that still carries the code.
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{}: {e}", e.kind().code())),
    }
}

fn build(env: &Env, e: &dsvmpool::Error) -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.to_string()))?;
    obj.set_named_property("name", ERROR_NAME)?;
    obj.set_named_property("code", e.kind().code())?;
    let details = e.details();
    if let Some(v) = e.validation() {
        obj.set_named_property("errors", env.to_js_value(&v.errors)?)?;
        obj.set_named_property("warnings", env.to_js_value(&v.warnings)?)?;
    }
    if let Some(status) = details.get("status").and_then(|s| s.as_u64()) {
        obj.set_named_property("status", status as u32)?;
    }
    if let Some(id) = details.get("request_id").and_then(|s| s.as_str()) {
        obj.set_named_property("requestId", id)?;
    }
    obj.set_named_property("details", env.to_js_value(&details)?)?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// Shorthand: run `f` inside [`guard`] and map its error to JavaScript.
pub fn call<T>(env: &Env, f: impl FnOnce() -> dsvmpool::Result<T>) -> Result<T> {
    guard(f).map_err(|e| to_js(env, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_a_panic_into_an_internal_error() {
        let r: dsvmpool::Result<()> = guard(|| panic!("boom {}", 1));
        let e = r.unwrap_err();
        assert_eq!(e.kind().code(), "INTERNAL");
        assert!(e.to_string().contains("panic: boom 1"), "{e}");
        let r: dsvmpool::Result<()> = guard(|| std::panic::panic_any(7_u8));
        assert!(r.unwrap_err().to_string().contains("unknown panic"));
    }

    #[test]
    fn guard_passes_values_and_errors_through() {
        assert_eq!(guard(|| Ok(3)).unwrap(), 3);
        let e = guard::<()>(|| Err(dsvmpool::Error::Auth("no token".into()))).unwrap_err();
        assert_eq!(e.kind().code(), "AUTH");
    }
}
