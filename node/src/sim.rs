//! Simulation: session traces (`Trace`) and `Pool.simulate` / `Pool.compare`.

use crate::error::call;
use crate::json::{js_to_value, snake_keys, to_camel_value, to_js, to_value};
use crate::pool::Pool;
use dsvmpool::sim::{Policy, SimOptions, Team};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A session trace (who worked when, how long, with how much CPU), sorted by start.
#[napi]
pub struct Trace {
    inner: dsvmpool::sim::Trace,
}

#[napi]
impl Trace {
    /// Parse CSV (`user,start,duration,cpu`) or JSON text, told apart by the first character.
    #[napi(factory, catch_unwind)]
    pub fn parse(env: Env, text: String) -> Result<Trace> {
        call(&env, || dsvmpool::sim::Trace::parse(&text).map(Trace::wrap))
    }

    /// Parse CSV text with the header `user,start,duration,cpu`.
    #[napi(factory, catch_unwind)]
    pub fn from_csv(env: Env, text: String) -> Result<Trace> {
        call(&env, || {
            dsvmpool::sim::Trace::from_csv(&text).map(Trace::wrap)
        })
    }

    /// From sessions as objects (`[{user, start, duration, cpu}]` or `{sessions: [...]}`) or
    /// JSON text.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "trace: SessionInput[] | { sessions: SessionInput[] } | string"
    )]
    pub fn from_json(env: Env, trace: Unknown<'_>) -> Result<Trace> {
        let text = match trace.get_type()? {
            ValueType::String => String::from_unknown(trace)?,
            _ => js_to_value(&env, trace, "trace")?.to_string(),
        };
        call(&env, || {
            dsvmpool::sim::Trace::from_json(&text).map(Trace::wrap)
        })
    }

    /// A synthetic trace for a team (every field optional; the same seed gives the same trace).
    #[napi(factory, catch_unwind, ts_args_type = "team?: TeamOptions")]
    pub fn generate(env: Env, team: Option<Unknown<'_>>) -> Result<Trace> {
        let team = options(&env, team, "team")?;
        call(&env, || {
            let team: Team = match team {
                Some(v) => dsvmpool::spec::value_as(v)?,
                None => Team::default(),
            };
            dsvmpool::sim::generate(&team).map(Trace::wrap)
        })
    }

    /// Number of sessions.
    #[napi(getter, catch_unwind)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.sessions.len()).unwrap_or(u32::MAX)
    }

    /// The sessions as plain objects (`start` in Unix seconds, `duration` in seconds).
    #[napi(catch_unwind, ts_return_type = "Session[]")]
    pub fn sessions<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, &call(env, || to_value(&self.inner.sessions))?)
    }

    /// The trace as CSV (RFC 3339 UTC starts).
    #[napi(catch_unwind)]
    pub fn to_csv(&self) -> String {
        self.inner.to_csv()
    }
}

impl Trace {
    fn wrap(inner: dsvmpool::sim::Trace) -> Trace {
        Trace { inner }
    }
}

#[napi]
impl Pool {
    /// Simulate the pool on a trace: cost, instance hours, waits, refused and killed sessions,
    /// a daily breakdown and a timeline. `options.policy` picks the scaling policy (default
    /// `'spec'`, the spec's own autoscale). Throws `VALIDATION` when the spec or an option is
    /// invalid.
    #[napi(
        catch_unwind,
        ts_args_type = "trace: Trace, options?: SimOptions & { policy?: Policy }",
        ts_return_type = "SimReport"
    )]
    pub fn simulate<'env>(
        &self,
        env: &'env Env,
        trace: &Trace,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        let mut options = options_object(env, options)?;
        let policy = options.as_mut().and_then(|o| o.remove("policy"));
        let report = call(env, || {
            let valid = self.inner.validate()?;
            let policy = match policy {
                None => Policy::Spec,
                Some(p) => Policy::parse(p.as_str().unwrap_or_default(), "policy")?,
            };
            let opts = sim_options(options)?;
            let report = dsvmpool::sim::simulate_policy(&valid, policy, &trace.inner, &opts);
            to_camel_value(&report)
        })?;
        to_js(env, &report)
    }

    /// Simulate several policies on the same trace (default: every policy, in the order
    /// `fixed`, `cpu`, `spec`, `sessions`).
    #[napi(
        catch_unwind,
        ts_args_type = "trace: Trace, policies?: Policy[] | null, options?: SimOptions",
        ts_return_type = "SimReport[]"
    )]
    pub fn compare<'env>(
        &self,
        env: &'env Env,
        trace: &Trace,
        policies: Option<Vec<String>>,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        let options = options_object(env, options)?;
        let reports = call(env, || {
            let valid = self.inner.validate()?;
            let policies = match policies {
                None => Policy::ALL.to_vec(),
                Some(names) => names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Policy::parse(n, &format!("policies[{i}]")))
                    .collect::<dsvmpool::Result<Vec<_>>>()?,
            };
            let opts = sim_options(options)?;
            to_camel_value(&dsvmpool::sim::compare(
                &valid,
                &policies,
                &trace.inner,
                &opts,
            ))
        })?;
        to_js(env, &reports)
    }
}

/// An optional options argument as a JSON value with snake_case keys.
fn options(env: &Env, value: Option<Unknown<'_>>, what: &str) -> Result<Option<serde_json::Value>> {
    match value {
        Some(v) if !matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => {
            Ok(Some(snake_keys(js_to_value(env, v, what)?)))
        }
        _ => Ok(None),
    }
}

fn options_object(
    env: &Env,
    value: Option<Unknown<'_>>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    match options(env, value, "options")? {
        None => Ok(None),
        Some(serde_json::Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(napi::Error::new(
            Status::InvalidArg,
            "options must be an object",
        )),
    }
}

fn sim_options(
    options: Option<serde_json::Map<String, serde_json::Value>>,
) -> dsvmpool::Result<SimOptions> {
    match options {
        Some(m) => dsvmpool::spec::value_as(serde_json::Value::Object(m)),
        None => Ok(SimOptions::default()),
    }
}
