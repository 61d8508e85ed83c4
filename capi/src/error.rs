//! `dsvmpool_error`: what went wrong, as a result code, a message, details JSON and (for
//! validation errors) the list of diagnostics.

use crate::dsvmpool_result;
use crate::ffi::c_string;
use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::ptr;

/// An error: result code, stable code name, message, details as JSON and, for
/// `DSVMPOOL_RESULT_VALIDATION`, every diagnostic with its field path.
///
/// Immutable: it may be read from several threads at once. Free it once with
/// `dsvmpool_error_free`; the strings its accessors return are borrowed from it and stay valid
/// until then.
pub struct dsvmpool_error {
    result: dsvmpool_result,
    message: CString,
    details: CString,
    diagnostics: Vec<Diag>,
    /// Borrowed views handed out by `dsvmpool_error_diagnostic` point into `diagnostics`.
    views: Vec<dsvmpool_diagnostic>,
}

struct Diag {
    severity: &'static CStr,
    path: CString,
    rule: CString,
    message: CString,
    hint: Option<CString>,
}

/// One problem in a pool spec. Every string is borrowed from the `dsvmpool_error` it came from
/// and valid until that error is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dsvmpool_diagnostic {
    /// `"error"` or `"warning"`.
    pub severity: *const c_char,
    /// Dotted field path, e.g. `"storage.share.name"` or `"users[3].uid"` (`""`: the whole
    /// document).
    pub path: *const c_char,
    /// Stable identifier of the rule broken, e.g. `"share-name"`.
    pub rule: *const c_char,
    /// What is wrong.
    pub message: *const c_char,
    /// How to fix it, or NULL.
    pub hint: *const c_char,
}

/// Why a call failed, before it becomes a `dsvmpool_error`.
pub enum Failure {
    /// An argument problem found by the binding.
    Arg {
        result: dsvmpool_result,
        message: String,
        details: serde_json::Value,
    },
    /// An error of the core.
    Core(dsvmpool::Error),
}

impl From<dsvmpool::Error> for Failure {
    fn from(e: dsvmpool::Error) -> Self {
        Failure::Core(e)
    }
}

/// The result code of a core error kind.
pub fn result_of(kind: dsvmpool::ErrorKind) -> dsvmpool_result {
    use dsvmpool::ErrorKind as K;
    match kind {
        K::Validation => dsvmpool_result::Validation,
        K::NotFound => dsvmpool_result::NotFound,
        K::Conflict => dsvmpool_result::Conflict,
        K::Throttled => dsvmpool_result::Throttled,
        K::Auth => dsvmpool_result::Auth,
        K::Http => dsvmpool_result::Azure,
        K::Render => dsvmpool_result::Render,
        K::Io => dsvmpool_result::Io,
        K::Internal => dsvmpool_result::Internal,
        // A kind added to the core later and not mapped yet: a bug to fix here.
        _ => dsvmpool_result::Internal,
    }
}

impl Failure {
    pub fn null(name: &str) -> Self {
        Failure::Arg {
            result: dsvmpool_result::NullParameter,
            message: format!("{name} is NULL"),
            details: serde_json::json!({ "parameter": name }),
        }
    }

    pub fn utf8(name: &str, valid_up_to: usize) -> Self {
        Failure::Arg {
            result: dsvmpool_result::InvalidUtf8,
            message: format!("{name} is not valid UTF-8 (invalid byte at offset {valid_up_to})"),
            details: serde_json::json!({ "parameter": name, "valid_up_to": valid_up_to }),
        }
    }

    pub fn insufficient(needed: usize, len: usize) -> Self {
        Failure::Arg {
            result: dsvmpool_result::InsufficientSize,
            message: format!("buffer too small: {needed} bytes needed (with the NUL), {len} given"),
            details: serde_json::json!({ "parameter": "len", "needed": needed, "len": len }),
        }
    }

    pub fn invalid_argument(name: &str, why: &str) -> Self {
        Failure::Arg {
            result: dsvmpool_result::InvalidArgument,
            message: format!("{name}: {why}"),
            details: serde_json::json!({ "parameter": name }),
        }
    }

    pub fn panic(payload: &(dyn Any + Send)) -> Self {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Failure::Arg {
            result: dsvmpool_result::Panic,
            message: format!("panic in dsvmpool (a bug): {msg}"),
            details: serde_json::json!({ "message": msg }),
        }
    }

    pub fn result(&self) -> dsvmpool_result {
        match self {
            Failure::Arg { result, .. } => *result,
            Failure::Core(e) => result_of(e.kind()),
        }
    }
}

impl dsvmpool_error {
    pub fn boxed(failure: Failure) -> *mut dsvmpool_error {
        let result = failure.result();
        let (message, details, diags) = match failure {
            Failure::Arg {
                message, details, ..
            } => (message, details, Vec::new()),
            Failure::Core(e) => {
                let diags = e
                    .validation()
                    .map(|v| v.errors.iter().map(Diag::from).collect())
                    .unwrap_or_default();
                (e.to_string(), e.details(), diags)
            }
        };
        let mut err = Box::new(dsvmpool_error {
            result,
            message: c_string(message),
            details: c_string(details.to_string()),
            diagnostics: diags,
            views: Vec::new(),
        });
        // The CStrings live on the heap: moving the Vec does not move their bytes.
        err.views = err.diagnostics.iter().map(Diag::view).collect();
        Box::into_raw(err)
    }
}

impl From<&dsvmpool::Diagnostic> for Diag {
    fn from(d: &dsvmpool::Diagnostic) -> Self {
        Diag {
            severity: match d.severity {
                dsvmpool::Severity::Error => c"error",
                dsvmpool::Severity::Warning => c"warning",
            },
            path: c_string(d.path.clone()),
            rule: c_string(d.rule.clone()),
            message: c_string(d.message.clone()),
            hint: d.hint.clone().map(c_string),
        }
    }
}

impl Diag {
    fn view(&self) -> dsvmpool_diagnostic {
        dsvmpool_diagnostic {
            severity: self.severity.as_ptr(),
            path: self.path.as_ptr(),
            rule: self.rule.as_ptr(),
            message: self.message.as_ptr(),
            hint: self.hint.as_ref().map_or(ptr::null(), |h| h.as_ptr()),
        }
    }
}

fn with_error<T: Copy>(
    err: *const dsvmpool_error,
    fallback: T,
    f: impl FnOnce(&dsvmpool_error) -> T,
) -> T {
    crate::ffi::boundary_or(fallback, || {
        // SAFETY: `err` is NULL or a live error by the caller's contract.
        match unsafe { err.as_ref() } {
            Some(e) => f(e),
            None => fallback,
        }
    })
}

/// The result code of `err` (the same value the failing call returned);
/// `DSVMPOOL_RESULT_NULL_PARAMETER` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_result(err: *const dsvmpool_error) -> dsvmpool_result {
    with_error(err, dsvmpool_result::NullParameter, |e| e.result)
}

/// The stable upper-case code of `err`: `"VALIDATION"`, `"IO"`, `"NULL_PARAMETER"`, ... (the
/// same names as the Node and Python bindings and `dsvmpool --output json`). Static storage;
/// `""` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_code(err: *const dsvmpool_error) -> *const c_char {
    with_error(err, c"".as_ptr(), |e| e.result.name().as_ptr())
}

/// The human-readable message of `err` (for validation errors: every problem, one per line).
/// Borrowed from `err`: valid until `dsvmpool_error_free(err)`; `""` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_message(err: *const dsvmpool_error) -> *const c_char {
    with_error(err, c"".as_ptr(), |e| e.message.as_ptr())
}

/// Structured details of `err` as a JSON object: for validation errors
/// `{"errors": [...], "warnings": [...]}` with `{severity, path, rule, message, hint?}` items;
/// for I/O errors `{"path", "message"}`; for argument errors `{"parameter", ...}`.
/// Borrowed from `err`: valid until `dsvmpool_error_free(err)`; `""` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_details(err: *const dsvmpool_error) -> *const c_char {
    with_error(err, c"".as_ptr(), |e| e.details.as_ptr())
}

/// How many diagnostics (validation errors, each with its field path) `err` carries; 0 when it
/// is not a validation error or is NULL.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_diagnostic_count(err: *const dsvmpool_error) -> usize {
    with_error(err, 0, |e| e.views.len())
}

/// Write diagnostic number `index` (from 0) of `err` to `*diagnostic_out`. Its strings are
/// borrowed from `err`. Returns `DSVMPOOL_RESULT_INVALID_ARGUMENT` when `index` is out of range.
///
/// # Safety
/// `err` must be NULL or a live `dsvmpool_error`; `diagnostic_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_diagnostic(
    err: *const dsvmpool_error,
    index: usize,
    diagnostic_out: *mut dsvmpool_diagnostic,
) -> dsvmpool_result {
    crate::ffi::boundary(ptr::null_mut(), || {
        let e = crate::ffi::non_null(err, "err")?;
        let out = crate::ffi::out_ptr(diagnostic_out, "diagnostic_out")?;
        let d = e
            .views
            .get(index)
            .ok_or_else(|| Failure::invalid_argument("index", "out of range"))?;
        // SAFETY: checked non-NULL; writable by the caller's contract.
        unsafe { out.write(*d) };
        Ok(())
    })
}

/// Free an error. NULL is a no-op.
///
/// # Safety
/// `err` must be NULL or an error returned by this library that was not freed yet (set your
/// variable to NULL after freeing, e.g. with `DSVMPOOL_ERROR_CLEAR`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_error_free(err: *mut dsvmpool_error) {
    crate::ffi::boundary_or((), || {
        if !err.is_null() {
            // SAFETY: `err` came from `Box::into_raw` (the caller's contract).
            drop(unsafe { Box::from_raw(err) });
        }
    })
}
