//! [`publish_sessions`]: publishes the session metrics that `autoscale.sessions` scales on.
//!
//! Whatever fronts the pool (the portal backend in front of JupyterHub, a cron job) knows how
//! many sessions are active and how many wait for an instance, and calls this once a minute.
//! It publishes two Azure Monitor custom metrics on the spec's resource (default: the scale
//! set), for the minute the given time falls in, through the ingestion endpoint of the pool's
//! region:
//!
//! - `autoscale.sessions.metric` (default `Sessions`) = active + waiting;
//! - `autoscale.sessions.waiting_metric` (default `WaitingSessions`) = waiting.
//!
//! Because they are published for the pool rather than read from the instances, they exist at
//! zero instances, so the autoscale rules can scale out from zero when someone waits.
//! Publishing the same minute twice is harmless: the rules read the maximum and the average of
//! each minute's values. The identity needs the *Monitoring Metrics Publisher* role on the
//! resource (a 403 says so).

use crate::azure::metrics::{MetricValue, minute_of, minute_stamp, region_name};
use crate::azure::{ArmClient, requests::check_name};
use crate::error::{Diagnostic, Error, Result};
use crate::names::ResourceNames;
use crate::spec::ValidPool;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

/// One value [`publish_sessions`] published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedMetric {
    /// Metric name.
    pub metric: String,
    /// Value.
    pub value: u64,
    /// Request id of the service's answer.
    pub request_id: String,
}

/// What [`publish_sessions`] published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionsPublished {
    /// Pool name.
    pub pool: String,
    /// Resource the metrics were published on.
    pub resource_id: String,
    /// Region of the ingestion endpoint.
    pub region: String,
    /// Metric namespace.
    pub namespace: String,
    /// The minute the values are for (ISO 8601 UTC).
    pub time: String,
    /// Active sessions.
    pub active: u32,
    /// Waiting sessions.
    pub waiting: u32,
    /// The sessions metric (active + waiting), then the waiting metric.
    pub metrics: Vec<PublishedMetric>,
}

impl fmt::Display for SessionsPublished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<String> = self
            .metrics
            .iter()
            .map(|m| format!("{} = {}", m.metric, m.value))
            .collect();
        writeln!(
            f,
            "Pool `{}`: published {} for {} ({} active, {} waiting) on {}",
            self.pool,
            values.join(", "),
            self.time,
            self.active,
            self.waiting,
            crate::azure::requests::short_id(&self.resource_id)
        )
    }
}

/// The resource the session metrics of `pool` go to: `autoscale.sessions.resource_id`, else
/// the pool's scale set in `subscription`.
pub fn sessions_resource_id(pool: &ValidPool, subscription: &str) -> Result<String> {
    let z = sessions_spec(pool)?;
    if let Some(id) = &z.resource_id {
        return Ok(id.clone());
    }
    check_name("subscription_id", subscription)?;
    let names = ResourceNames::for_pool(pool);
    Ok(format!(
        "/subscriptions/{subscription}/resourceGroups/{}/providers/Microsoft.Compute/\
         virtualMachineScaleSets/{}",
        pool.spec().resource_group,
        names.scale_set
    ))
}

fn sessions_spec(pool: &ValidPool) -> Result<&crate::spec::SessionScaling> {
    pool.spec()
        .autoscale
        .sessions
        .as_ref()
        .filter(|_| pool.spec().autoscale.enabled)
        .ok_or_else(|| {
            Error::invalid(
                Diagnostic::error(
                    "autoscale.sessions",
                    "sessions-required",
                    format!(
                        "pool `{}` does not scale on sessions (no `autoscale.sessions`, or \
                         autoscale is off): no rule reads the session metrics",
                        pool.name()
                    ),
                )
                .hint("add `[autoscale.sessions]` with `target_per_vm` to the spec and deploy it"),
            )
        })
}

/// Publishes the pool's session metrics for the minute `at` falls in: the sessions metric
/// (`active + waiting`) and the waiting metric (`waiting`) of `autoscale.sessions` (see the
/// [module docs](self)). The spec must have `autoscale.sessions` (a validation error naming it
/// otherwise). Call it once a minute with the current time.
pub async fn publish_sessions(
    client: &ArmClient,
    pool: &ValidPool,
    active: u32,
    waiting: u32,
    at: DateTime<Utc>,
) -> Result<SessionsPublished> {
    let z = sessions_spec(pool)?;
    let resource_id = sessions_resource_id(pool, client.requests().subscription())?;
    let region = region_name(&pool.spec().location)?;
    let minute = minute_of(at);
    let total = u64::from(active) + u64::from(waiting);
    let mut out = SessionsPublished {
        pool: pool.name().to_string(),
        resource_id,
        region,
        namespace: z.namespace.clone(),
        time: minute_stamp(minute),
        active,
        waiting,
        metrics: Vec::with_capacity(2),
    };
    for (metric, value) in [(&z.metric, total), (&z.waiting_metric, u64::from(waiting))] {
        let v = MetricValue {
            namespace: z.namespace.clone(),
            metric: metric.clone(),
            value,
            time: minute,
        };
        let request_id = client
            .publish_metric(&out.region, &out.resource_id, &v)
            .await?;
        out.metrics.push(PublishedMetric {
            metric: metric.clone(),
            value,
            request_id,
        });
    }
    Ok(out)
}

/// The time of a session count given as Unix seconds (`None`: now), as the bindings take it.
/// A value out of chrono's range is a validation error naming `at`.
pub fn session_time(unix_seconds: Option<i64>) -> Result<DateTime<Utc>> {
    match unix_seconds {
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
        Some(s) => DateTime::from_timestamp(s, 0).ok_or_else(|| {
            Error::invalid(Diagnostic::error(
                "at",
                "time",
                format!("{s} is not a time (Unix seconds)"),
            ))
        }),
    }
}
