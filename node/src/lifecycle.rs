//! Lifecycle: `Pool.deploy`, `status`, `scale`, `stop`, `start`, `destroyPreview`, `destroy`
//! and `planLive` — network calls that return Promises and run on napi's tokio runtime, so they
//! never block the event loop.

use crate::error::{guard, to_js as error_to_js};
use crate::json::{camel_keys, to_camel_value, to_js};
use crate::pool::Pool;
use dsvmpool::lifecycle::{self, ConnectOptions, DeployOptions, PlanOptions, Progress};
use dsvmpool::{Diagnostic, Error, ValidPool};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

type ProgressFn = ThreadsafeFunction<serde_json::Value, (), serde_json::Value, Status, false, true>;

/// What every lifecycle call accepts (from the JavaScript options object).
struct Conn {
    connect: ConnectOptions,
    force: bool,
}

/// Read the options object: `auth`, `subscriptionId`, `managementUrl`, `metricsUrl`, `authorityHost`,
/// `caFile`, `pollIntervalMs`, `env`, `onProgress`, and (deploy) `force`.
fn conn(options: Option<Object<'_>>) -> Result<std::result::Result<Conn, Error>> {
    let mut c = ConnectOptions::default();
    let Some(o) = options else {
        return Ok(Ok(Conn {
            connect: c,
            force: false,
        }));
    };
    if let Some(auth) = o.get::<String>("auth")? {
        match auth.parse() {
            Ok(a) => c.auth = a,
            Err(e) => return Ok(Err(e)),
        }
    }
    c.subscription_id = o.get::<String>("subscriptionId")?;
    c.management_url = o.get::<String>("managementUrl")?;
    c.authority_host = o.get::<String>("authorityHost")?;
    c.metrics_url = o.get::<String>("metricsUrl")?;
    c.ca_file = o.get::<String>("caFile")?.map(Into::into);
    if let Some(ms) = o.get::<f64>("pollIntervalMs")? {
        if !(ms.is_finite() && ms >= 0.0) {
            return Ok(Err(Error::invalid(
                Diagnostic::error("pollIntervalMs", "range", format!("{ms} is not a duration"))
                    .hint("milliseconds, 0 or more"),
            )));
        }
        c.poll_interval = Some(Duration::from_millis(ms as u64));
    }
    if let Some(vars) = o.get::<HashMap<String, String>>("env")? {
        c.env = Some(Arc::new(move |k: &str| {
            vars.get(k).filter(|v| !v.is_empty()).cloned()
        }));
    }
    if let Some(f) = o.get::<Function<serde_json::Value, ()>>("onProgress")? {
        let tsfn: ProgressFn = f
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        let tsfn = Arc::new(tsfn);
        c.progress = Some(Arc::new(move |p: &Progress| {
            if let Ok(v) = serde_json::to_value(p) {
                tsfn.call(camel_keys(v), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }));
    }
    let force = o.get::<bool>("force")?.unwrap_or(false);
    Ok(Ok(Conn { connect: c, force }))
}

/// Validate and connect on the JavaScript thread, run `op` on the tokio runtime, and settle the
/// Promise on the JavaScript thread: the outcome as a plain object (camelCase keys), or a
/// `DsvmpoolError` with its code and details.
fn run<'env, T, F, Fut>(
    env: &'env Env,
    pool: &Pool,
    options: Option<Object<'_>>,
    op: F,
) -> Result<PromiseRaw<'env, Unknown<'env>>>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(dsvmpool::azure::ArmClient, ValidPool, Conn) -> Fut,
    Fut: Future<Output = dsvmpool::Result<T>> + Send + 'static,
{
    let prepared = match conn(options)? {
        Ok(c) => guard(|| {
            let valid = pool.inner.validate()?;
            let client = lifecycle::connect(&valid, &c.connect)?;
            Ok((client, valid, c))
        }),
        Err(e) => Err(e),
    };
    let fut = match prepared {
        Ok((client, valid, c)) => Some(op(client, valid, c)),
        Err(e) => return Err(error_to_js(env, &e)),
    };
    env.spawn_future_with_callback(
        async move {
            let out = match fut {
                Some(f) => f.await.and_then(|o| to_camel_value(&o)),
                None => Err(Error::Internal("no operation".into())),
            };
            Ok(out)
        },
        |env, out: dsvmpool::Result<serde_json::Value>| match out {
            Ok(v) => to_js(env, &v),
            Err(e) => Err(error_to_js(env, &e)),
        },
    )
}

#[napi]
impl Pool {
    /// Deploy (or update) the pool: validate → render → resource group → preflight →
    /// deployment, followed until it ends. Resolves with the outcome (`action`: `created`,
    /// `updated` or `unchanged`, the addresses in `outputs`); rejects with a `DsvmpoolError`
    /// (`AUTH`, `AZURE`, `THROTTLED`, `VALIDATION`, ...). Secure parameters and credentials
    /// are read from `options.env` (default: `process.env`). A rerun of an unchanged spec writes
    /// nothing (`options.force` deploys anyway).
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions & { force?: boolean }",
        ts_return_type = "Promise<DeployOutcome>"
    )]
    pub fn deploy<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, c| async move {
            let mut opts = DeployOptions {
                progress: c.connect.progress.clone(),
                force: c.force,
                env: c.connect.env.clone(),
                ..Default::default()
            };
            if let Some(p) = c.connect.poll_interval {
                opts.reattach_poll_interval = p;
            }
            lifecycle::deploy(&client, &valid, &opts).await
        })
    }

    /// The pool's live state: scale set, instances with their power state, autoscale setting,
    /// addresses. Only reads.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<PoolStatus>"
    )]
    pub fn status<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, _| async move {
            lifecycle::status(&client, &valid).await
        })
    }

    /// Set the pool's capacity to `capacity` instances now (autoscale may move it later).
    #[napi(
        catch_unwind,
        ts_args_type = "capacity: number, options?: LifecycleOptions",
        ts_return_type = "Promise<ScaleOutcome>"
    )]
    pub fn scale<'env>(
        &self,
        env: &'env Env,
        capacity: u32,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, move |client, valid, c| async move {
            lifecycle::scale(&client, &valid, capacity, c.connect.progress.clone()).await
        })
    }

    /// Publish the session metrics `autoscale.sessions` scales on, for the minute `at` (Unix
    /// seconds; default now) falls in: `active + waiting` sessions and `waiting` sessions. Call it
    /// once a minute from whatever fronts the pool; the identity needs the *Monitoring Metrics
    /// Publisher* role on the scale set.
    #[napi(
        catch_unwind,
        ts_args_type = "active: number, waiting?: number, at?: number, options?: LifecycleOptions",
        ts_return_type = "Promise<SessionsPublished>"
    )]
    pub fn publish_sessions<'env>(
        &self,
        env: &'env Env,
        active: u32,
        waiting: Option<u32>,
        at: Option<i64>,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, move |client, valid, _| async move {
            let at = lifecycle::session_time(at)?;
            lifecycle::publish_sessions(&client, &valid, active, waiting.unwrap_or(0), at).await
        })
    }

    /// Stop the pool: autoscale off, every instance deallocated.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<StopOutcome>"
    )]
    pub fn stop<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, c| async move {
            lifecycle::stop(&client, &valid, c.connect.progress.clone()).await
        })
    }

    /// Start the pool: every deallocated or stopped instance, then autoscale on again.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<StartOutcome>"
    )]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, c| async move {
            lifecycle::start(&client, &valid, c.connect.progress.clone()).await
        })
    }

    /// What `destroy` would delete (only reads): show it to the user before calling `destroy`.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<DestroyPlan>"
    )]
    pub fn destroy_preview<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, _| async move {
            lifecycle::destroy_preview(&client, &valid).await
        })
    }

    /// Delete the pool's resources (see `destroyPreview`). There is no confirmation here: ask
    /// the user first.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<DestroyOutcome>"
    )]
    pub fn destroy<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, c| async move {
            lifecycle::destroy(&client, &valid, c.connect.progress.clone()).await
        })
    }

    /// The plan against the live pool: each resource's action (create, update, no change)
    /// from what-if, ignoring what autoscale owns. Only reads.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: LifecycleOptions",
        ts_return_type = "Promise<LivePlan>"
    )]
    pub fn plan_live<'env>(
        &self,
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        run(env, self, options, |client, valid, c| async move {
            let opts = PlanOptions {
                env: c.connect.env.clone(),
            };
            lifecycle::plan_live(&client, &valid, &opts).await
        })
    }
}
