//! `dsvmpool_pool`: a parsed pool spec, and what can be done with it.

use crate::dsvmpool_result;
use crate::error::{Failure, dsvmpool_error};
use crate::ffi::{boundary, give_string, non_null, out_ptr, text, write_into};
use std::ffi::c_char;

/// A parsed (not yet validated) pool spec.
///
/// Immutable once created: any number of threads may use one handle at the same time with the
/// functions taking `const dsvmpool_pool *`. Free it once, with `dsvmpool_pool_free`, after
/// every other use has returned.
pub struct dsvmpool_pool {
    pub(crate) inner: dsvmpool::Pool,
}

fn give_pool(out: *mut *mut dsvmpool_pool, inner: dsvmpool::Pool) {
    let p = Box::into_raw(Box::new(dsvmpool_pool { inner }));
    // SAFETY: `out` was checked non-NULL; writable by the caller's contract.
    unsafe { out.write(p) }
}

fn parse(
    txt: *const c_char,
    len: usize,
    pool_out: *mut *mut dsvmpool_pool,
    error_out: *mut *mut dsvmpool_error,
    format: dsvmpool::Format,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(pool_out, "pool_out")?;
        let t = text(txt, len, "text")?;
        give_pool(out, dsvmpool::Pool::parse(t, format)?);
        Ok(())
    })
}

/// Load a spec file; the format comes from the extension (`.toml`, `.yaml`/`.yml`, `.json`).
/// `path` is a NUL-terminated file name (any bytes the OS accepts). On success `*pool_out` gets
/// a new pool to free with `dsvmpool_pool_free`. Fails with `DSVMPOOL_RESULT_IO` when the file
/// cannot be read and `DSVMPOOL_RESULT_VALIDATION` when it cannot be parsed.
///
/// Like every fallible call: on failure, when `error_out` is not NULL, `*error_out` gets an error
/// to free with `dsvmpool_error_free`; outputs are written only on success.
///
/// # Safety
/// `path` must be NULL or NUL-terminated; `pool_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_load_file(
    path: *const c_char,
    pool_out: *mut *mut dsvmpool_pool,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(pool_out, "pool_out")?;
        let path = crate::ffi::path(path, "path")?;
        give_pool(out, dsvmpool::Pool::load(path)?);
        Ok(())
    })
}

/// Parse TOML text: `len` bytes at `text` (no NUL needed), which must be UTF-8
/// (`DSVMPOOL_RESULT_INVALID_UTF8` otherwise). See `dsvmpool_pool_load_file` for the outputs.
///
/// # Safety
/// `text` must be NULL or valid for `len` bytes; `pool_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_from_toml(
    text: *const c_char,
    len: usize,
    pool_out: *mut *mut dsvmpool_pool,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    parse(text, len, pool_out, error_out, dsvmpool::Format::Toml)
}

/// Parse YAML text (as `dsvmpool_pool_from_toml`).
///
/// # Safety
/// `text` must be NULL or valid for `len` bytes; `pool_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_from_yaml(
    text: *const c_char,
    len: usize,
    pool_out: *mut *mut dsvmpool_pool,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    parse(text, len, pool_out, error_out, dsvmpool::Format::Yaml)
}

/// Parse JSON text (as `dsvmpool_pool_from_toml`).
///
/// # Safety
/// `text` must be NULL or valid for `len` bytes; `pool_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_from_json(
    text: *const c_char,
    len: usize,
    pool_out: *mut *mut dsvmpool_pool,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    parse(text, len, pool_out, error_out, dsvmpool::Format::Json)
}

/// Free a pool. NULL is a no-op.
///
/// # Safety
/// `pool` must be NULL or a pool from this library not freed yet, with no call using it still
/// running (set your variable to NULL after freeing, e.g. with `DSVMPOOL_POOL_CLEAR`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_free(pool: *mut dsvmpool_pool) {
    crate::ffi::boundary_or((), || {
        if !pool.is_null() {
            // SAFETY: `pool` came from `Box::into_raw` (the caller's contract).
            drop(unsafe { Box::from_raw(pool) });
        }
    })
}

/// Validate the pool. On success returns `DSVMPOOL_RESULT_OK` and, when `warnings_out` is not
/// NULL, `*warnings_out` gets the warnings as a JSON array (often `[]`) of
/// `{severity, path, rule, message, hint?}` to free with `dsvmpool_string_free`. An invalid spec
/// gives `DSVMPOOL_RESULT_VALIDATION` with every problem in the error's diagnostics.
///
/// # Safety
/// `pool` must be NULL or a live pool; `warnings_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_validate(
    pool: *const dsvmpool_pool,
    warnings_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let p = non_null(pool, "pool")?;
        let valid = p.inner.validate()?;
        if !warnings_out.is_null() {
            give_string(warnings_out, to_json(valid.warnings())?);
        }
        Ok(())
    })
}

fn plan_json(pool: *const dsvmpool_pool) -> Result<String, Failure> {
    let p = non_null(pool, "pool")?;
    let valid = p.inner.validate()?;
    to_json(&dsvmpool::lifecycle::plan(&valid))
}

/// The offline plan of the pool as a JSON object (resources, addresses, autoscale in words,
/// cost at min and max; the same JSON as `dsvmpool plan --output json`). On success
/// `*json_out` gets a string to free with `dsvmpool_string_free`. An invalid spec gives
/// `DSVMPOOL_RESULT_VALIDATION`.
///
/// # Safety
/// `pool` must be NULL or a live pool; `json_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_plan(
    pool: *const dsvmpool_pool,
    json_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(json_out, "json_out")?;
        give_string(out, plan_json(pool)?);
        Ok(())
    })
}

/// The plan, as `dsvmpool_pool_plan`, written into the caller's buffer `(buf, len)` with a
/// terminating NUL; `*written_out` (when not NULL) gets its length without the NUL. When it does
/// not fit, returns `DSVMPOOL_RESULT_INSUFFICIENT_SIZE`, writes nothing, and the error's
/// details hold `"needed"` (bytes, NUL included).
///
/// # Safety
/// `pool` must be NULL or a live pool; `buf` NULL or valid for `len` bytes; `written_out` and
/// `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_plan_into(
    pool: *const dsvmpool_pool,
    buf: *mut c_char,
    len: usize,
    written_out: *mut usize,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        out_ptr(buf, "buf")?;
        write_into(&plan_json(pool)?, buf, len, written_out)
    })
}

/// The plan as the human-readable text `dsvmpool plan` prints. On success `*text_out` gets a
/// string to free with `dsvmpool_string_free`. An invalid spec gives
/// `DSVMPOOL_RESULT_VALIDATION`.
///
/// # Safety
/// `pool` must be NULL or a live pool; `text_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_plan_text(
    pool: *const dsvmpool_pool,
    text_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(text_out, "text_out")?;
        let p = non_null(pool, "pool")?;
        let valid = p.inner.validate()?;
        give_string(out, dsvmpool::lifecycle::plan(&valid).to_string());
        Ok(())
    })
}

/// The parsed spec as a JSON object (defaults filled in, nothing resolved yet);
/// `dsvmpool_pool_from_json` of it gives the same pool. On success `*json_out` gets a string
/// to free with `dsvmpool_string_free`.
///
/// # Safety
/// `pool` must be NULL or a live pool; `json_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_spec(
    pool: *const dsvmpool_pool,
    json_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(json_out, "json_out")?;
        let p = non_null(pool, "pool")?;
        give_string(out, to_json(p.inner.spec())?);
        Ok(())
    })
}

/// Serialize a core value as compact JSON.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, Failure> {
    serde_json::to_string(v)
        .map_err(|e| Failure::Core(dsvmpool::Error::Internal(format!("to JSON: {e}"))))
}
