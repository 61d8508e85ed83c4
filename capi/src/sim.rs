//! Simulation: `dsvmpool_trace` (session traces) and `dsvmpool_pool_simulate`.

use crate::dsvmpool_result;
use crate::error::{Failure, dsvmpool_error};
use crate::ffi::{boundary, c_bytes, give_string, non_null, out_ptr, text};
use crate::pool::{dsvmpool_pool, to_json};
use dsvmpool::sim::{Policy, SimOptions, Team};
use std::ffi::c_char;

/// A session trace (who worked when, how long, with how much CPU), sorted by start.
///
/// Immutable once created: any number of threads may use one trace at the same time with the
/// functions taking `const dsvmpool_trace *`. Free it once, with `dsvmpool_trace_free`, after
/// every other use has returned.
pub struct dsvmpool_trace {
    inner: dsvmpool::sim::Trace,
}

fn give_trace(out: *mut *mut dsvmpool_trace, inner: dsvmpool::sim::Trace) {
    let t = Box::into_raw(Box::new(dsvmpool_trace { inner }));
    // SAFETY: `out` was checked non-NULL; writable by the caller's contract.
    unsafe { out.write(t) }
}

/// An optional `(ptr, len)` JSON object argument: NULL means "none".
fn optional_json(
    p: *const c_char,
    len: usize,
    name: &'static str,
) -> Result<Option<serde_json::Value>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    let t = text(p, len, name)?;
    serde_json::from_str(t)
        .map(Some)
        .map_err(|e| Failure::invalid_argument(name, &format!("not JSON: {e}")))
}

/// Parse a trace from CSV (`user,start,duration,cpu` header) or JSON (`[{user, start,
/// duration, cpu}, ...]` or `{"sessions": [...]}`) text, told apart by the first character.
/// `start` is RFC 3339 or Unix seconds, `duration` seconds or a duration (`PT2H`, `90m`), `cpu`
/// the share of one instance's CPU (0-1 or `"25%"`). On success `*trace_out` gets a trace to
/// free with `dsvmpool_trace_free`; a bad trace gives `DSVMPOOL_RESULT_VALIDATION` with the
/// line or session at fault as the diagnostic's path.
///
/// # Safety
/// `text` must be NULL or valid for `len` bytes; `trace_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_parse(
    text: *const c_char,
    len: usize,
    trace_out: *mut *mut dsvmpool_trace,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(trace_out, "trace_out")?;
        let t = crate::ffi::text(text, len, "text")?;
        give_trace(out, dsvmpool::sim::Trace::parse(t)?);
        Ok(())
    })
}

/// Generate a synthetic trace for a team described by the JSON object `(team_json, len)`
/// (`{"users": 20, "days": 28, "time_zone": "UTC", "seed": 1, ...}`, every field optional;
/// NULL for the defaults). The same seed gives the same trace. An unknown or bad field gives
/// `DSVMPOOL_RESULT_VALIDATION` with its path; text that is not JSON gives
/// `DSVMPOOL_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
/// `team_json` must be NULL or valid for `len` bytes; `trace_out` and `error_out` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_generate(
    team_json: *const c_char,
    len: usize,
    trace_out: *mut *mut dsvmpool_trace,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(trace_out, "trace_out")?;
        let team: Team = match optional_json(team_json, len, "team_json")? {
            Some(v) => dsvmpool::spec::value_as(v)?,
            None => Team::default(),
        };
        give_trace(out, dsvmpool::sim::generate(&team)?);
        Ok(())
    })
}

/// Number of sessions in `trace` (0 when it is NULL).
///
/// # Safety
/// `trace` must be NULL or a live trace.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_session_count(trace: *const dsvmpool_trace) -> usize {
    crate::ffi::boundary_or(0, || {
        // SAFETY: NULL or live by the caller's contract.
        unsafe { trace.as_ref() }.map_or(0, |t| t.inner.sessions.len())
    })
}

/// The trace as CSV (RFC 3339 UTC starts). On success `*csv_out` gets a string to free with
/// `dsvmpool_string_free`.
///
/// # Safety
/// `trace` must be NULL or a live trace; `csv_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_to_csv(
    trace: *const dsvmpool_trace,
    csv_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(csv_out, "csv_out")?;
        let t = non_null(trace, "trace")?;
        give_string(out, t.inner.to_csv());
        Ok(())
    })
}

/// The sessions as a JSON array of `{user, start, duration, cpu}` (Unix seconds, seconds,
/// 0-1). On success `*json_out` gets a string to free with `dsvmpool_string_free`.
///
/// # Safety
/// `trace` must be NULL or a live trace; `json_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_sessions(
    trace: *const dsvmpool_trace,
    json_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(json_out, "json_out")?;
        let t = non_null(trace, "trace")?;
        give_string(out, to_json(&t.inner.sessions)?);
        Ok(())
    })
}

/// Free a trace. NULL is a no-op.
///
/// # Safety
/// `trace` must be NULL or a trace from this library not freed yet, with no call using it
/// still running (set your variable to NULL after freeing, e.g. with `DSVMPOOL_TRACE_CLEAR`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_trace_free(trace: *mut dsvmpool_trace) {
    crate::ffi::boundary_or((), || {
        if !trace.is_null() {
            // SAFETY: `trace` came from `Box::into_raw` (the caller's contract).
            drop(unsafe { Box::from_raw(trace) });
        }
    })
}

/// Simulate the pool on a trace with one scaling policy: `policy` is a NUL-terminated name
/// (`"spec"`: the spec's own autoscale, `"fixed"`, `"cpu"`, `"sessions"`) or NULL for
/// `"spec"`; `(options_json, options_len)` a JSON object of simulation settings
/// (`{"boot_time": 300, "patience": 900, ...}`, every field optional) or NULL for the defaults.
/// On success `*report_json_out` gets the report as a JSON object (cost, instance hours,
/// waits, refused and killed sessions, `daily`, `timeline`), to free with
/// `dsvmpool_string_free`. An invalid spec, policy or option gives `DSVMPOOL_RESULT_VALIDATION`
/// with the field's path; options text that is not JSON gives
/// `DSVMPOOL_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
/// `pool` and `trace` must be NULL or live; `policy` NULL or NUL-terminated; `options_json` NULL
/// or valid for `options_len` bytes; `report_json_out` and `error_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsvmpool_pool_simulate(
    pool: *const dsvmpool_pool,
    trace: *const dsvmpool_trace,
    policy: *const c_char,
    options_json: *const c_char,
    options_len: usize,
    report_json_out: *mut *mut c_char,
    error_out: *mut *mut dsvmpool_error,
) -> dsvmpool_result {
    boundary(error_out, || {
        let out = out_ptr(report_json_out, "report_json_out")?;
        let p = non_null(pool, "pool")?;
        let t = non_null(trace, "trace")?;
        let policy = if policy.is_null() {
            Policy::Spec
        } else {
            let name = std::str::from_utf8(c_bytes(policy, "policy")?)
                .map_err(|e| Failure::utf8("policy", e.valid_up_to()))?;
            Policy::parse(name, "policy")?
        };
        let opts: SimOptions = match optional_json(options_json, options_len, "options_json")? {
            Some(v) => dsvmpool::spec::value_as(v)?,
            None => SimOptions::default(),
        };
        let valid = p.inner.validate()?;
        let report = dsvmpool::sim::simulate_policy(&valid, policy, &t.inner, &opts);
        give_string(out, to_json(&report)?);
        Ok(())
    })
}
