//! What dsvmpool does to a pool: plan it (offline, or against live state), deploy it, and
//! operate it (status, scale, stop, start, destroy).
//!
//! Every verb is one async function over an [`ArmClient`](crate::azure::ArmClient) and a
//! [`ValidPool`](crate::ValidPool); progress is reported through a [`ProgressSink`] callback, so
//! the CLI, Python, Node and C surfaces call the same functions and only render the events.
//!
//! - [`deploy`]: validate → render → ensure the resource group → preflight → create the
//!   deployment → poll with per-resource progress → outputs. A rerun of an unchanged spec makes
//!   no write call; a rerun after an interruption re-attaches to the running deployment.
//! - [`status`], [`scale`], [`stop`], [`start`], [`destroy`]: see [`ops`].
//! - [`plan()`] (offline) and [`plan_live()`] (drift-aware, with what-if).
//! - [`publish_sessions`]: the session metrics `autoscale.sessions` scales on, called once a
//!   minute by whatever fronts the pool.

pub mod apply;
pub mod connect;
pub mod ops;
pub mod plan;
pub mod plan_live;
pub mod sessions;

pub use apply::{
    DeployAction, DeployOptions, DeployOutcome, PoolOutputs, ResourceProgress, deploy,
};
pub use connect::{ConnectOptions, connect};
pub use ops::{
    DestroyOutcome, DestroyPlan, InstanceStatus, PoolStatus, ScaleOutcome, StartOutcome,
    StopOutcome, destroy, destroy_preview, scale, start, status, stop,
};
pub use plan::{Plan, plan};
pub use plan_live::{LivePlan, LiveState, PlanOptions, plan_live};
pub use sessions::{
    PublishedMetric, SessionsPublished, publish_sessions, session_time, sessions_resource_id,
};

use crate::azure::client::ClientEvent;
use serde::Serialize;
use std::sync::Arc;

/// A progress event of a lifecycle command.
///
/// Serializes as `{"event": "<kind>", ...}` (kebab-case kinds), so bindings can pass events on
/// as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Progress {
    /// A step of the command begins (`render`, `resource group`, `validate`, `submit`, …).
    Step {
        /// Short name of the step.
        step: String,
        /// One line about it.
        message: String,
    },
    /// A resource of the deployment was seen in a new state (or is still in it).
    Resource(ResourceProgress),
    /// A long-running operation is still running.
    Waiting {
        /// The operation, e.g. `scale team-vmss to 5`.
        operation: String,
        /// The last status the service reported.
        status: Option<String>,
        /// Seconds since the operation started (as this process saw it).
        elapsed_secs: f64,
    },
    /// Somebody else changed the resource between our read and our write; the command reads
    /// it again and retries.
    Conflict {
        /// The operation that met the conflict.
        operation: String,
        /// What happened.
        message: String,
        /// 1 for the first conflict.
        attempt: u32,
    },
    /// Something to know about the result (e.g. autoscale will move the capacity back).
    Warning {
        /// The warning.
        message: String,
    },
    /// A retry or throttling report of the ARM client.
    Client {
        /// The client event.
        detail: ClientEvent,
    },
}

/// Receives [`Progress`] events (called synchronously; keep it quick).
pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A source of environment variables (secure parameters are read through it).
pub type EnvSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment as an [`EnvSource`] (empty values count as unset).
pub fn process_env() -> EnvSource {
    Arc::new(crate::azure::auth::process_env)
}

/// Emits events to an optional sink.
#[derive(Clone, Default)]
pub(crate) struct Reporter(pub(crate) Option<ProgressSink>);

impl Reporter {
    pub(crate) fn new(sink: Option<&ProgressSink>) -> Self {
        Self(sink.cloned())
    }
    pub(crate) fn enabled(&self) -> bool {
        self.0.is_some()
    }
    pub(crate) fn emit(&self, p: Progress) {
        if let Some(s) = &self.0 {
            s(&p);
        }
    }
    pub(crate) fn step(&self, step: &str, message: impl Into<String>) {
        self.emit(Progress::Step {
            step: step.into(),
            message: message.into(),
        });
    }
    pub(crate) fn warn(&self, message: impl Into<String>) {
        self.emit(Progress::Warning {
            message: message.into(),
        });
    }
}
