//! The lifecycle module: `dsvmpool.Plan` (the offline plan of a pool).

use crate::html::Html;
use crate::spec::diagnostics_to_py;
use dsvmpool::lifecycle::Plan;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

/// The plan of a pool: every resource it will have, the addresses users will use, autoscale
/// behaviour in words and what it costs at min and max capacity.
///
/// ``str(plan)`` is the text the CLI prints; in Jupyter it displays as tables;
/// ``to_dict()`` is the same structure as ``dsvmpool plan --output json``.
#[pyclass(name = "Plan", module = "dsvmpool", frozen)]
pub struct PyPlan {
    inner: Plan,
}

impl PyPlan {
    /// Wrap a core plan.
    pub fn new(inner: Plan) -> Self {
        PyPlan { inner }
    }
}

fn short_type(t: &str) -> &str {
    t.rsplit('/').next().unwrap_or(t)
}

#[pymethods]
impl PyPlan {
    /// Pool name.
    #[getter]
    fn pool(&self) -> &str {
        &self.inner.pool
    }

    /// Region.
    #[getter]
    fn location(&self) -> &str {
        &self.inner.location
    }

    /// Resource group.
    #[getter]
    fn resource_group(&self) -> &str {
        &self.inner.resource_group
    }

    /// Image URN (``publisher:offer:sku:version``).
    #[getter]
    fn image(&self) -> &str {
        &self.inner.image
    }

    /// Capacity ``(min, initial, max)``.
    #[getter]
    fn capacity(&self) -> (u32, u32, u32) {
        self.inner.capacity
    }

    /// Resources: dicts with ``type``, ``name``, ``action`` (``create``, ``use_existing``, or
    /// for a live plan ``modify`` or ``no_change``) and ``detail``.
    #[getter]
    fn resources<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.resources)?)
    }

    /// How users reach the pool: ``fqdn``, ``jupyterhub_url``, ``ssh``,
    /// ``instance_ssh_ports`` (absent when not applicable), ``workspace``, ``notebooks``.
    #[getter]
    fn addresses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.addresses)?)
    }

    /// Autoscale behaviour, one sentence per item.
    #[getter]
    fn autoscale(&self) -> Vec<String> {
        self.inner.autoscale.clone()
    }

    /// Compute cost estimate (USD list prices of the bundled table).
    #[getter]
    fn cost<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.cost)?)
    }

    /// Validation warnings (``Diagnostic`` dicts).
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        diagnostics_to_py(py, &self.inner.warnings)
    }

    /// The whole plan as a dict: the structure of ``dsvmpool plan --output json``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner)?)
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (min, init, max) = self.inner.capacity;
        Ok(format!(
            "<Plan of pool {} in {}: {} resources, capacity {min}/{init}/{max}>",
            PyString::new(py, &self.inner.pool).repr()?,
            self.inner.location,
            self.inner.resources.len()
        ))
    }

    /// HTML tables of resources, addresses, autoscale and cost (Jupyter displays them).
    fn _repr_html_(&self) -> String {
        let p = &self.inner;
        let (min, init, max) = p.capacity;
        let mut h = Html::new("plan");
        h.heading(
            "Pool",
            &format!(
                "{} in {} (resource group {})",
                p.pool, p.location, p.resource_group
            ),
        )
        .para(&format!(
            "Image {}; capacity min {min} / initial {init} / max {max}",
            p.image
        ))
        .heading("Resources", "")
        .table(
            &["", "Type", "Name", "Detail"],
            p.resources.iter().map(|r| {
                [
                    r.action.label().to_string(),
                    short_type(&r.kind).to_string(),
                    r.name.clone(),
                    r.detail.clone(),
                ]
            }),
        );
        let a = &p.addresses;
        let mut addr = Vec::new();
        if let Some(u) = &a.jupyterhub_url {
            addr.push(["JupyterHub".to_string(), u.clone()]);
        }
        if let Some(s) = &a.ssh {
            addr.push(["SSH".into(), s.clone()]);
        }
        if let Some(ports) = &a.instance_ssh_ports {
            addr.push([
                "One instance".into(),
                format!("ssh -p <port> … on ports {ports}"),
            ]);
        }
        addr.push(["Workspace".into(), a.workspace.clone()]);
        addr.push(["Notebooks".into(), a.notebooks.clone()]);
        h.heading("Users will use", "")
            .table(&[], addr)
            .heading("Autoscale", "")
            .list(p.autoscale.iter().cloned());
        let c = &p.cost;
        match (c.instance_hourly, c.at_min, c.at_max) {
            (Some(hourly), Some(lo), Some(hi)) => {
                h.heading(
                    "Compute cost",
                    &format!(
                        "({} list prices, {}, as of {}{}): one {} ${hourly:.3}/h",
                        c.price_region,
                        c.currency,
                        c.price_date,
                        if c.estimated { "; spot: estimated" } else { "" },
                        c.size
                    ),
                )
                .table(
                    &["", "Instances", "$/hour", "$/month"],
                    [("at min", lo), ("at max", hi)].map(|(label, at)| {
                        [
                            label.to_string(),
                            at.instances.to_string(),
                            format!("{:.2}", at.hourly),
                            format!("{:.2}", at.monthly),
                        ]
                    }),
                );
                if let Some(floor) = c.scheduled_floor_monthly {
                    h.para(&format!("Working-hours minimum alone: ${floor:.2}/month"));
                }
                h.para("Storage, network and disks are extra.");
            }
            _ => {
                h.heading(
                    "Compute cost",
                    &format!(
                        "`{}` is not in the bundled price table ({}, {}).",
                        c.size, c.price_region, c.price_date
                    ),
                );
            }
        }
        if !p.warnings.is_empty() {
            h.heading("Warnings", "")
                .list(p.warnings.iter().map(|w| w.to_string()));
        }
        h.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The network verbs: deploy, status, scale, stop, start, destroy, plan_live. Each is one core
// call (`dsvmpool::lifecycle`) run on the binding's runtime, as an awaitable or (the `_sync`
// twins) blocking with the GIL released.

use crate::error::{IntoPyResult, to_py};
use crate::runtime;
use dsvmpool::azure::AuthMethod;
use dsvmpool::lifecycle::{
    ConnectOptions, DeployOptions, LivePlan, PlanOptions, PoolStatus, Progress, ProgressSink,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A lifecycle verb with its arguments.
#[derive(Clone, Copy)]
pub enum Verb {
    /// Deploy or update.
    Deploy {
        /// Deploy even when nothing changed.
        force: bool,
    },
    /// Live state.
    Status,
    /// Set the capacity.
    Scale(u32),
    /// Autoscale off, instances deallocated.
    Stop,
    /// Instances started, autoscale back on.
    Start,
    /// What destroy would delete.
    DestroyPreview,
    /// Delete the pool.
    Destroy,
    /// Drift-aware plan.
    PlanLive,
    /// Publish the session metrics (active, waiting, Unix seconds of the minute; now when
    /// `None`).
    PublishSessions {
        /// Active sessions.
        active: u32,
        /// Waiting sessions.
        waiting: u32,
        /// The time the values are for, in Unix seconds.
        at: Option<i64>,
    },
}

enum Outcome {
    Deploy(dsvmpool::lifecycle::DeployOutcome),
    Status(PoolStatus),
    Scale(dsvmpool::lifecycle::ScaleOutcome),
    Stop(dsvmpool::lifecycle::StopOutcome),
    Start(dsvmpool::lifecycle::StartOutcome),
    DestroyPreview(dsvmpool::lifecycle::DestroyPlan),
    Destroy(dsvmpool::lifecycle::DestroyOutcome),
    PlanLive(LivePlan),
    Sessions(dsvmpool::lifecycle::SessionsPublished),
}

/// The connection keyword arguments every network method takes.
pub struct Connection {
    options: ConnectOptions,
}

/// A Python callable as the core's progress sink: it gets each event as a dict
/// (``{"event": "step", ...}``); an exception it raises is reported as unraisable and the
/// command goes on.
fn progress_sink(callback: Py<PyAny>) -> ProgressSink {
    Arc::new(move |event: &Progress| {
        Python::attach(|py| {
            let result = pythonize::pythonize(py, event)
                .map_err(PyErr::from)
                .and_then(|e| callback.call1(py, (e,)));
            if let Err(err) = result {
                err.write_unraisable(py, Some(callback.bind(py)));
            }
        })
    })
}

impl Connection {
    /// From the ``**conn`` keyword arguments: ``credential`` (``"auto"``, ``"env"``,
    /// ``"workload-identity"``, ``"managed-identity"``, ``"azure-cli"``), ``subscription_id``,
    /// ``progress`` (a callable), ``poll_interval`` (seconds), and the test options
    /// ``management_url``, ``authority_host``, ``ca_file``.
    pub fn from_kwargs(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut options = ConnectOptions::default();
        let Some(kwargs) = kwargs else {
            return Ok(Connection { options });
        };
        for (key, value) in kwargs.iter() {
            let key: String = key.extract()?;
            match key.as_str() {
                "credential" => {
                    let name: String = value.extract()?;
                    options.auth = name.parse::<AuthMethod>().py()?;
                }
                "subscription_id" => options.subscription_id = value.extract()?,
                "management_url" => options.management_url = value.extract()?,
                "authority_host" => options.authority_host = value.extract()?,
                "metrics_url" => options.metrics_url = value.extract()?,
                "ca_file" => options.ca_file = value.extract::<Option<PathBuf>>()?,
                "poll_interval" => {
                    options.poll_interval = match value.extract::<Option<f64>>()? {
                        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
                        Some(s) => {
                            return Err(PyValueError::new_err(format!(
                                "poll_interval must be a positive number of seconds, not {s}"
                            )));
                        }
                        None => None,
                    }
                }
                "progress" => {
                    options.progress = if value.is_none() {
                        None
                    } else if value.is_callable() {
                        Some(progress_sink(value.clone().unbind()))
                    } else {
                        return Err(PyTypeError::new_err("progress must be a callable"));
                    }
                }
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "unexpected keyword argument {other:?} (connection options: credential, \
                         subscription_id, progress, poll_interval, management_url, \
                         authority_host, metrics_url, ca_file)"
                    )));
                }
            }
        }
        Ok(Connection { options })
    }
}

async fn run(
    verb: Verb,
    pool: &dsvmpool::ValidPool,
    conn: &ConnectOptions,
) -> dsvmpool::Result<Outcome> {
    use dsvmpool::lifecycle as lc;
    let client = lc::connect(pool, conn)?;
    let progress = conn.progress.clone();
    Ok(match verb {
        Verb::Deploy { force } => {
            let mut opts = DeployOptions {
                progress,
                force,
                ..Default::default()
            };
            if let Some(p) = conn.poll_interval {
                opts.reattach_poll_interval = p;
            }
            Outcome::Deploy(lc::deploy(&client, pool, &opts).await?)
        }
        Verb::Status => Outcome::Status(lc::status(&client, pool).await?),
        Verb::Scale(n) => Outcome::Scale(lc::scale(&client, pool, n, progress).await?),
        Verb::Stop => Outcome::Stop(lc::stop(&client, pool, progress).await?),
        Verb::Start => Outcome::Start(lc::start(&client, pool, progress).await?),
        Verb::DestroyPreview => Outcome::DestroyPreview(lc::destroy_preview(&client, pool).await?),
        Verb::Destroy => Outcome::Destroy(lc::destroy(&client, pool, progress).await?),
        Verb::PlanLive => {
            Outcome::PlanLive(lc::plan_live(&client, pool, &PlanOptions::default()).await?)
        }
        Verb::PublishSessions {
            active,
            waiting,
            at,
        } => {
            let at = lc::session_time(at)?;
            Outcome::Sessions(lc::publish_sessions(&client, pool, active, waiting, at).await?)
        }
    })
}

fn outcome_to_py(py: Python<'_>, outcome: Outcome) -> PyResult<Py<PyAny>> {
    let dict = |v: &dyn erased::Ser| -> PyResult<Py<PyAny>> { v.to_py(py) };
    match outcome {
        Outcome::Status(s) => Ok(Py::new(py, PyStatus { inner: s })?.into_any()),
        Outcome::PlanLive(p) => Ok(Py::new(py, PyLivePlan { inner: p })?.into_any()),
        Outcome::Deploy(o) => dict(&o),
        Outcome::Scale(o) => dict(&o),
        Outcome::Stop(o) => dict(&o),
        Outcome::Start(o) => dict(&o),
        Outcome::DestroyPreview(o) => dict(&o),
        Outcome::Destroy(o) => dict(&o),
        Outcome::Sessions(o) => dict(&o),
    }
}

mod erased {
    //! One conversion for every serializable outcome.
    use pyo3::prelude::*;

    pub trait Ser {
        fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            Ok(pythonize::pythonize(py, self)?.unbind())
        }
    }
}

/// The awaitable form of a verb.
pub fn call_async<'py>(
    py: Python<'py>,
    pool: dsvmpool::ValidPool,
    verb: Verb,
    conn: Connection,
) -> PyResult<Bound<'py, PyAny>> {
    runtime::future_into_py(py, async move {
        let outcome = run(verb, &pool, &conn.options).await.map_err(to_py)?;
        Python::attach(|py| outcome_to_py(py, outcome))
    })
}

/// The blocking form of a verb (GIL released; Ctrl-C interrupts).
pub fn call_sync(
    py: Python<'_>,
    pool: dsvmpool::ValidPool,
    verb: Verb,
    conn: Connection,
) -> PyResult<Py<PyAny>> {
    let outcome = runtime::block_on(py, async {
        run(verb, &pool, &conn.options).await.map_err(to_py)
    })?;
    outcome_to_py(py, outcome)
}

/// The live state of a deployed pool: scale set, instances with power state and protection,
/// autoscale setting, addresses.
///
/// ``str(status)`` is the CLI's text; in Jupyter it displays as tables; ``to_dict()`` is the
/// structure of ``dsvmpool status --output json``.
#[pyclass(name = "Status", module = "dsvmpool", frozen)]
pub struct PyStatus {
    inner: PoolStatus,
}

#[pymethods]
impl PyStatus {
    /// Pool name.
    #[getter]
    fn pool(&self) -> &str {
        &self.inner.pool
    }
    /// Resource group.
    #[getter]
    fn resource_group(&self) -> &str {
        &self.inner.resource_group
    }
    /// Whether the scale set exists.
    #[getter]
    fn deployed(&self) -> bool {
        self.inner.deployed
    }
    /// Stopped by ``stop()``: autoscale off and no instance running.
    #[getter]
    fn stopped(&self) -> bool {
        self.inner.stopped
    }
    /// Instances: dicts with ``instance_id``, ``name``, ``computer_name``, ``power_state``,
    /// ``provisioning_state``, ``protect_from_scale_in``, ``protect_from_scale_set_actions``,
    /// ``latest_model_applied`` (keys absent when unknown).
    #[getter]
    fn instances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.instances)?)
    }
    /// Instances per power state, e.g. ``{"running": 2}``.
    #[getter]
    fn power(&self) -> std::collections::BTreeMap<String, u32> {
        self.inner.power.clone()
    }
    /// The scale set (``None`` when not deployed).
    #[getter]
    fn scale_set<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.scale_set)?)
    }
    /// The autoscale setting (``None`` when there is none).
    #[getter]
    fn autoscale<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.autoscale)?)
    }
    /// Addresses from the deployment outputs.
    #[getter]
    fn addresses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.addresses)?)
    }
    /// The whole status as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner)?)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = &self.inner;
        Ok(format!(
            "<Status of pool {}: {}, {} instances{}>",
            PyString::new(py, &s.pool).repr()?,
            if s.deployed {
                "deployed"
            } else {
                "not deployed"
            },
            s.instances.len(),
            if s.stopped { ", stopped" } else { "" }
        ))
    }
    /// HTML tables of the instances and addresses (Jupyter displays them).
    fn _repr_html_(&self) -> String {
        let s = &self.inner;
        let mut h = Html::new("status");
        h.heading(
            "Pool",
            &format!(
                "{} in resource group {}: {}{}",
                s.pool,
                s.resource_group,
                if s.deployed {
                    "deployed"
                } else {
                    "not deployed"
                },
                if s.stopped { ", stopped" } else { "" }
            ),
        );
        if !s.instances.is_empty() {
            h.table(
                &[
                    "Instance",
                    "Computer name",
                    "Power",
                    "Provisioning",
                    "Protected",
                ],
                s.instances.iter().map(|i| {
                    [
                        i.instance_id.clone(),
                        i.computer_name.clone().unwrap_or_default(),
                        i.power_state.clone(),
                        i.provisioning_state.clone().unwrap_or_default(),
                        if i.protect_from_scale_in { "yes" } else { "" }.to_string(),
                    ]
                }),
            );
        }
        if let Some(a) = &s.autoscale {
            h.heading(
                "Autoscale",
                &format!("{} ({})", a.name, if a.enabled { "on" } else { "off" }),
            )
            .table(
                &["Profile", "Min", "Default", "Max", "When"],
                a.profiles.iter().map(|p| {
                    [
                        p.name.clone(),
                        p.minimum.clone(),
                        p.default.clone(),
                        p.maximum.clone(),
                        p.when.clone(),
                    ]
                }),
            );
        }
        let o = &s.addresses;
        let rows: Vec<[String; 2]> = [
            ("FQDN", &o.fqdn),
            ("Public IP", &o.public_ip),
            ("JupyterHub", &o.jupyterhub_url),
            ("SSH", &o.ssh_command),
            ("RDP", &o.rdp_address),
            ("Instance ports", &o.instance_ssh_ports),
            ("Workspace", &o.share),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| [k.to_string(), v.clone()]))
        .collect();
        if !rows.is_empty() {
            h.heading("Addresses", "").table(&[], rows);
        }
        h.finish()
    }
}

/// The plan against the live pool: the offline plan, what is deployed, and the changes a
/// deploy would make (what-if).
///
/// ``str(live_plan)`` is the CLI's text (``dsvmpool plan --live``); ``no_changes`` tells
/// whether a deploy would change anything.
#[pyclass(name = "LivePlan", module = "dsvmpool", frozen)]
pub struct PyLivePlan {
    inner: LivePlan,
}

#[pymethods]
impl PyLivePlan {
    /// The offline plan.
    #[getter]
    fn plan(&self) -> PyPlan {
        PyPlan::new(self.inner.plan.clone())
    }
    /// What is deployed and how it differs (a dict).
    #[getter]
    fn live<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.live)?)
    }
    /// Whether a deploy would change nothing.
    #[getter]
    fn no_changes(&self) -> bool {
        self.inner.no_changes()
    }
    /// The whole plan as a dict: the structure of ``dsvmpool plan --live --output json``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner)?)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<LivePlan of pool {}: {}>",
            PyString::new(py, &self.inner.plan.pool).repr()?,
            if self.inner.no_changes() {
                "no changes"
            } else {
                "changes"
            }
        ))
    }
    /// The plan's text (Jupyter displays it).
    fn _repr_html_(&self) -> String {
        Html::new("liveplan").pre(&self.inner.to_string()).finish()
    }
}
