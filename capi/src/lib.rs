//! C API of dsvmpool: `libdsvmpool.so`, `libdsvmpool.a` and `include/dsvmpool.h`.
//!
//! Conventions (those of rustls-ffi, see `../shared/docs/DESIGN.md`): functions are named
//! `dsvmpool_<type>_<verb>`; handles are opaque and freed with `dsvmpool_<type>_free`
//! (`free(NULL)` is a no-op); every fallible function returns a [`dsvmpool_result`] and writes
//! its outputs only on success; rich data crosses as JSON strings the caller frees with
//! [`dsvmpool_string_free`]; every export runs inside a panic boundary, so a bug gives
//! `DSVMPOOL_RESULT_PANIC` instead of unwinding into C.
//!
//! The wrappers are thin: convert the arguments, call the core, map the error (`error.rs`).

#![allow(non_camel_case_types)]

mod error;
mod ffi;
mod pool;
mod render;
mod sim;
mod spec;

pub use error::{dsvmpool_diagnostic, dsvmpool_error};
pub use pool::dsvmpool_pool;
pub use render::DSVMPOOL_RENDER_NO_GENERATOR_METADATA;
pub use sim::dsvmpool_trace;

use std::ffi::{CStr, c_char, c_int};

/// Result of every fallible call. The numeric ranges are stable; new codes are only ever added
/// inside their range, so a caller can classify an unknown code by its range:
///
/// - `0`: success;
/// - `1..=99`: the caller passed something unusable (NULL, invalid UTF-8, a buffer too small);
/// - `100..=199`: the operation failed (one code per stable error kind of dsvmpool);
/// - `900..=999`: a bug in dsvmpool (an internal error or a caught panic).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dsvmpool_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A text argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// The output buffer is too small (the error's details say how many bytes are needed).
    InsufficientSize = 3,
    /// An argument had a value outside its domain.
    InvalidArgument = 4,
    /// The pool spec is invalid: every problem is listed in the error's diagnostics.
    Validation = 100,
    /// A resource does not exist.
    NotFound = 101,
    /// A concurrent change or a state conflict.
    Conflict = 102,
    /// The service throttled the request beyond the retry budget.
    Throttled = 103,
    /// Authentication or authorization failed.
    Auth = 104,
    /// Any other failure reported by the Azure service.
    Azure = 105,
    /// Rendering failed.
    Render = 106,
    /// Local I/O failed (e.g. the spec file cannot be read).
    Io = 107,
    /// A bug in dsvmpool.
    Internal = 900,
    /// A bug in dsvmpool: a panic was caught at the API boundary.
    Panic = 901,
}

/// Every code, for lookups by number.
const ALL_RESULTS: [dsvmpool_result; 15] = [
    dsvmpool_result::Ok,
    dsvmpool_result::NullParameter,
    dsvmpool_result::InvalidUtf8,
    dsvmpool_result::InsufficientSize,
    dsvmpool_result::InvalidArgument,
    dsvmpool_result::Validation,
    dsvmpool_result::NotFound,
    dsvmpool_result::Conflict,
    dsvmpool_result::Throttled,
    dsvmpool_result::Auth,
    dsvmpool_result::Azure,
    dsvmpool_result::Render,
    dsvmpool_result::Io,
    dsvmpool_result::Internal,
    dsvmpool_result::Panic,
];

impl dsvmpool_result {
    /// Stable upper-case name; for 100..=199 it equals the core's `ErrorKind::code()`.
    pub fn name(self) -> &'static CStr {
        match self {
            Self::Ok => c"OK",
            Self::NullParameter => c"NULL_PARAMETER",
            Self::InvalidUtf8 => c"INVALID_UTF8",
            Self::InsufficientSize => c"INSUFFICIENT_SIZE",
            Self::InvalidArgument => c"INVALID_ARGUMENT",
            Self::Validation => c"VALIDATION",
            Self::NotFound => c"NOT_FOUND",
            Self::Conflict => c"CONFLICT",
            Self::Throttled => c"THROTTLED",
            Self::Auth => c"AUTH",
            Self::Azure => c"AZURE",
            Self::Render => c"RENDER",
            Self::Io => c"IO",
            Self::Internal => c"INTERNAL",
            Self::Panic => c"PANIC",
        }
    }
}

/// The library version, e.g. `"0.1.0"` (equals `DSVMPOOL_VERSION` of the header it was built
/// with). Static storage: never free it.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn dsvmpool_version() -> *const c_char {
    ffi::boundary_or(c"".as_ptr(), || {
        static VERSION: &CStr =
            match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
                Ok(v) => v,
                Err(_) => c"",
            };
        VERSION.as_ptr()
    })
}

/// The stable name of a result code (`"OK"`, `"NULL_PARAMETER"`, `"VALIDATION"`, ...), or
/// `"UNKNOWN"` for a number that is not a code. Takes an `int` so that any value is safe to
/// pass. Static storage: never free it.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn dsvmpool_result_name(result: c_int) -> *const c_char {
    ffi::boundary_or(c"UNKNOWN".as_ptr(), || {
        ALL_RESULTS
            .iter()
            .find(|r| **r as c_int == result)
            .map_or(c"UNKNOWN", |r| r.name())
            .as_ptr()
    })
}

/// Free a string returned by this library (JSON outputs). NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or a string this library returned and that was not freed yet; never pass
/// it to `free()`, and never pass the borrowed strings of a `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_string_free(s: *mut c_char) {
    ffi::boundary_or((), || {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` (the caller's contract).
            drop(unsafe { std::ffi::CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_ranges_and_names_are_stable() {
        for r in ALL_RESULTS {
            let n = r as i32;
            assert!(matches!(n, 0 | 1..=99 | 100..=199 | 900..=999), "{r:?}");
            let name = unsafe { CStr::from_ptr(dsvmpool_result_name(n)) };
            assert_eq!(name, r.name());
        }
        for kind in [
            dsvmpool::ErrorKind::Validation,
            dsvmpool::ErrorKind::NotFound,
            dsvmpool::ErrorKind::Conflict,
            dsvmpool::ErrorKind::Throttled,
            dsvmpool::ErrorKind::Auth,
            dsvmpool::ErrorKind::Http,
            dsvmpool::ErrorKind::Render,
            dsvmpool::ErrorKind::Io,
            dsvmpool::ErrorKind::Internal,
        ] {
            let r = error::result_of(kind);
            assert_eq!(r.name().to_str().unwrap(), kind.code());
        }
        let unknown = unsafe { CStr::from_ptr(dsvmpool_result_name(-7)) };
        assert_eq!(unknown, c"UNKNOWN");
    }

    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { CStr::from_ptr(dsvmpool_version()) };
        assert_eq!(v.to_str().unwrap(), dsvmpool::VERSION);
    }
}
