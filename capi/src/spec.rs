//! The spec module: its JSON Schema.

use crate::dsvmpool_result;
use crate::ffi::{boundary, give_string, out_ptr};
use std::ffi::c_char;
use std::ptr;

/// The JSON Schema of the pool spec (draft 2020-12) as pretty JSON text. On success
/// `*json_out` gets a string to free with `dsvmpool_string_free`.
///
/// Thread-safe.
///
/// # Safety
/// `json_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_spec_json_schema(json_out: *mut *mut c_char) -> dsvmpool_result {
    boundary(ptr::null_mut(), || {
        let out = out_ptr(json_out, "json_out")?;
        give_string(out, dsvmpool::spec::schema::json_schema());
        Ok(())
    })
}
