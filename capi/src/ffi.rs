//! The panic boundary and argument conversion shared by every export.

use crate::dsvmpool_result;
use crate::error::{Failure, dsvmpool_error};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `f`; on a panic return `fallback` (for exports that cannot report an error).
pub fn boundary_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Run a fallible export: on failure (or a panic) write a new error to `error_out` when it is
/// not NULL and return its code; on success return `DSVMPOOL_RESULT_OK` and leave `error_out`
/// alone.
pub fn boundary(
    error_out: *mut *mut dsvmpool_error,
    f: impl FnOnce() -> Result<(), Failure>,
) -> dsvmpool_result {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return dsvmpool_result::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::panic(payload.as_ref()),
    };
    let result = failure.result();
    if !error_out.is_null() {
        // Building the error may allocate; keep it inside a boundary too.
        let made = catch_unwind(AssertUnwindSafe(|| dsvmpool_error::boxed(failure)));
        if let Ok(err) = made {
            // SAFETY: `error_out` is non-NULL and, by the caller's contract, writable.
            unsafe { error_out.write(err) };
        }
    }
    result
}

/// A required pointer argument.
pub fn non_null<'a, T>(p: *const T, name: &'static str) -> Result<&'a T, Failure> {
    // SAFETY: non-NULL pointers are valid for reads by the caller's contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A required output pointer argument.
pub fn out_ptr<T>(p: *mut T, name: &'static str) -> Result<*mut T, Failure> {
    if p.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(p)
    }
}

/// A `(ptr, len)` UTF-8 text argument.
pub fn text<'a>(p: *const c_char, len: usize, name: &'static str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid_argument(name, "length exceeds isize::MAX"));
    }
    // SAFETY: `p` is valid for `len` bytes by the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| Failure::utf8(name, e.valid_up_to()))
}

/// A NUL-terminated C string argument, as raw bytes (without the NUL).
pub fn c_bytes<'a>(p: *const c_char, name: &'static str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `p` is a valid NUL-terminated string by the caller's contract.
    Ok(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
}

/// A NUL-terminated file name (any bytes on Unix; UTF-8 elsewhere).
pub fn path(p: *const c_char, name: &'static str) -> Result<std::path::PathBuf, Failure> {
    let bytes = c_bytes(p, name)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(std::path::PathBuf::from)
            .map_err(|e| Failure::utf8(name, e.valid_up_to()))
    }
}

/// A C string for output (a NUL inside `s` becomes the two characters `\0`).
pub fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let s = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
        CString::new(s).unwrap_or_default()
    })
}

/// Hand a JSON (or other) string to the caller: `*out` gets a string they free with
/// `dsvmpool_string_free`.
pub fn give_string(out: *mut *mut c_char, s: String) {
    // SAFETY: `out` was checked non-NULL; writable by the caller's contract.
    unsafe { out.write(c_string(s).into_raw()) }
}

/// Copy `s` and a terminating NUL into `(buf, len)`; `*written_out` (when not NULL) gets
/// `strlen`. Nothing is written when it does not fit.
pub fn write_into(
    s: &str,
    buf: *mut c_char,
    len: usize,
    written_out: *mut usize,
) -> Result<(), Failure> {
    let buf = out_ptr(buf, "buf")?;
    let needed = s.len() + 1;
    if needed > len {
        return Err(Failure::insufficient(needed, len));
    }
    // SAFETY: `buf` is valid for `len >= s.len() + 1` bytes by the caller's contract, and a
    // Rust string never overlaps caller memory.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, s.len());
        buf.add(s.len()).write(0);
        if !written_out.is_null() {
            written_out.write(s.len());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_dsvmpool_result_panic_with_an_error() {
        let mut err: *mut dsvmpool_error = std::ptr::null_mut();
        let r = boundary(&mut err, || panic!("boom {}", 42));
        assert_eq!(r, dsvmpool_result::Panic);
        assert!(!err.is_null());
        unsafe {
            let msg = CStr::from_ptr(crate::error::dsvmpool_error_message(err));
            assert!(msg.to_str().unwrap().contains("boom 42"), "{msg:?}");
            let code = CStr::from_ptr(crate::error::dsvmpool_error_code(err));
            assert_eq!(code, c"PANIC");
            crate::error::dsvmpool_error_free(err);
        }
        assert_eq!(
            boundary(std::ptr::null_mut(), || panic!("no error_out")),
            dsvmpool_result::Panic
        );
        assert_eq!(boundary_or(7, || panic!("fallback")), 7);
    }

    #[test]
    fn a_core_error_keeps_its_kind() {
        let mut err: *mut dsvmpool_error = std::ptr::null_mut();
        let r = boundary(&mut err, || {
            Err(dsvmpool::Error::Auth("token expired".into()).into())
        });
        assert_eq!(r, dsvmpool_result::Auth);
        unsafe {
            assert_eq!(
                crate::error::dsvmpool_error_result(err),
                dsvmpool_result::Auth
            );
            let details = CStr::from_ptr(crate::error::dsvmpool_error_details(err));
            assert_eq!(details.to_str().unwrap(), r#"{"message":"token expired"}"#);
            crate::error::dsvmpool_error_free(err);
        }
    }

    #[test]
    fn c_string_escapes_interior_nul() {
        assert_eq!(c_string("a\0b".into()).as_bytes(), b"a\\0b");
    }
}
