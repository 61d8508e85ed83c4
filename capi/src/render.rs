//! Rendering: `dsvmpool_pool_render`, `_render_into` and `_render_to_dir`.

use crate::dsvmpool_result;
use crate::error::{Failure, dsvmpool_error};
use crate::ffi::{boundary, c_bytes, give_string, non_null, out_ptr, write_into};
use crate::pool::{dsvmpool_pool, to_json};
use std::ffi::c_char;

/// Render flag: leave `metadata._generator` (dsvmpool and its version) out of the template.
pub const DSVMPOOL_RENDER_NO_GENERATOR_METADATA: u32 = 1;

const KNOWN_FLAGS: u32 = DSVMPOOL_RENDER_NO_GENERATOR_METADATA;

fn options(
    flags: u32,
    force_update_tag: *const c_char,
) -> Result<dsvmpool::render::RenderOptions, Failure> {
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Failure::invalid_argument(
            "flags",
            &format!("unknown bits {:#x}", flags & !KNOWN_FLAGS),
        ));
    }
    let mut opts = dsvmpool::render::RenderOptions::default()
        .generator_metadata(flags & DSVMPOOL_RENDER_NO_GENERATOR_METADATA == 0);
    if !force_update_tag.is_null() {
        let tag = std::str::from_utf8(c_bytes(force_update_tag, "force_update_tag")?)
            .map_err(|e| Failure::utf8("force_update_tag", e.valid_up_to()))?;
        opts = opts.force_update_tag(tag);
    }
    Ok(opts)
}

fn artifacts(
    pool: *const dsvmpool_pool,
    flags: u32,
    force_update_tag: *const c_char,
) -> Result<dsvmpool::render::Artifacts, Failure> {
    let p = non_null(pool, "pool")?;
    let opts = options(flags, force_update_tag)?;
    let valid = p.inner.validate()?;
    Ok(dsvmpool::render::render(&valid, &opts)?)
}

/// Render the pool as one JSON object: `template` and `parameters` (the ARM template and
/// parameters file as Azure reads them), `user_data` (cloud-init, or null on Windows), `files`
/// (`[{path, description, content}]`), `secure_parameters` (`[{name, env}]`: what the deploy
/// fills from the environment) and `names`. `flags` is 0 or `DSVMPOOL_RENDER_*` bits;
/// `force_update_tag` NULL or a NUL-terminated tag for the scale set's extensions. On success
/// `*json_out` gets a string to free with `dsvmpool_string_free`. Fails with
/// `DSVMPOOL_RESULT_VALIDATION` for an invalid spec and `DSVMPOOL_RESULT_RENDER` for what
/// Azure would reject.
///
/// # Safety
/// `pool` must be NULL or a live pool; `force_update_tag` NULL or NUL-terminated; `json_out`
/// and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_render(
    pool: *const dsvmpool_pool,
    flags: u32,
    force_update_tag: *const c_char,
    json_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(json_out, "json_out")?;
        give_string(out, to_json(&artifacts(pool, flags, force_update_tag)?)?);
        Ok(())
    })
}

/// As `dsvmpool_pool_render`, written into the caller's buffer `(buf, len)` with a terminating
/// NUL; `*written_out` (when not NULL) gets the length without the NUL. When it does not fit,
/// returns `DSVMPOOL_RESULT_INSUFFICIENT_SIZE`, writes nothing, and the error's details hold
/// `"needed"`.
///
/// # Safety
/// `pool` must be NULL or a live pool; `force_update_tag` NULL or NUL-terminated; `buf` NULL or
/// valid for `len` bytes; `written_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_render_into(
    pool: *const dsvmpool_pool,
    flags: u32,
    force_update_tag: *const c_char,
    buf: *mut c_char,
    len: usize,
    written_out: *mut usize,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        out_ptr(buf, "buf")?;
        let json = to_json(&artifacts(pool, flags, force_update_tag)?)?;
        write_into(&json, buf, len, written_out)
    })
}

/// Render and write every file (`azuredeploy.json`, `azuredeploy.parameters.json` and the
/// provisioning files) into the directory `dir` (NUL-terminated; created if missing). All files
/// are written or none. Fails with `DSVMPOOL_RESULT_IO` when a file cannot be written.
///
/// # Safety
/// `pool` must be NULL or a live pool; `dir` and `force_update_tag` NULL or NUL-terminated;
/// `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_render_to_dir(
    pool: *const dsvmpool_pool,
    flags: u32,
    force_update_tag: *const c_char,
    dir: *const c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let dir = crate::ffi::path(dir, "dir")?;
        artifacts(pool, flags, force_update_tag)?.write_to(dir)?;
        Ok(())
    })
}
