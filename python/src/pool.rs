//! `dsvmpool.Pool`: a parsed pool spec and the verbs on it.

use crate::error::IntoPyResult;
use crate::html::Html;
use crate::lifecycle::{self, Connection, PyPlan, Verb};
use crate::render::{self, PyArtifacts};
use crate::sim::{self, PySimReport, PyTrace};
use crate::spec::{diagnostics_to_py, format_from_name};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::path::PathBuf;

/// A parsed (not yet validated) pool spec, with where it came from.
///
/// Create one with ``Pool.load(path)``, ``Pool.from_toml(text)``, ``Pool.from_yaml(text)``,
/// ``Pool.from_json(text)`` or ``Pool.from_dict(mapping)``; then ``validate()`` it, ``plan()``
/// it, ``render()`` it. Parse errors and invalid specs raise ``dsvmpool.ValidationError``
/// with every problem and its field path.
#[pyclass(name = "Pool", module = "dsvmpool", frozen)]
pub struct PyPool {
    pub(crate) inner: dsvmpool::Pool,
}

impl PyPool {
    fn wrap(r: dsvmpool::Result<dsvmpool::Pool>) -> PyResult<Self> {
        r.py().map(|inner| PyPool { inner })
    }

    /// Validate (with the GIL released), mapping the failure to `ValidationError`.
    pub(crate) fn valid(&self, py: Python<'_>) -> PyResult<dsvmpool::ValidPool> {
        py.detach(|| self.inner.validate()).py()
    }
}

fn repr_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

#[pymethods]
impl PyPool {
    /// Load a spec file; the format comes from the extension (``.toml``, ``.yaml``/``.yml``,
    /// ``.json``) unless ``format`` (``"toml"``, ``"yaml"`` or ``"json"``) is given.
    ///
    /// Raises ``IoError`` (an ``OSError``) when the file cannot be read and
    /// ``ValidationError`` when it does not parse.
    #[staticmethod]
    #[pyo3(signature = (path, format = None))]
    fn load(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<Self> {
        let format = format.map(format_from_name).transpose()?;
        Self::wrap(py.detach(|| dsvmpool::Pool::load_as(&path, format)))
    }

    /// Parse a spec from text in ``format`` (``"toml"``, ``"yaml"`` or ``"json"``).
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str, format: &str) -> PyResult<Self> {
        let format = format_from_name(format)?;
        Self::wrap(py.detach(|| dsvmpool::Pool::parse(text, format)))
    }

    /// Parse TOML text.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str) -> PyResult<Self> {
        Self::wrap(py.detach(|| dsvmpool::Pool::from_toml(text)))
    }

    /// Parse YAML text.
    #[staticmethod]
    fn from_yaml(py: Python<'_>, text: &str) -> PyResult<Self> {
        Self::wrap(py.detach(|| dsvmpool::Pool::from_yaml(text)))
    }

    /// Parse JSON text.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        Self::wrap(py.detach(|| dsvmpool::Pool::from_json(text)))
    }

    /// Build from an in-memory mapping shaped like the spec file (nested dicts, lists, str,
    /// int, float, bool). Raises ``TypeError`` for values JSON cannot hold.
    #[staticmethod]
    fn from_dict(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value: serde_json::Value = pythonize::depythonize(spec)
            .map_err(|e| PyTypeError::new_err(format!("Pool.from_dict: {e}")))?;
        Self::wrap(dsvmpool::Pool::from_value(value))
    }

    /// Pool name, as written in the spec.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.spec().name
    }

    /// The file it was loaded from, if any.
    #[getter]
    fn source(&self) -> Option<PathBuf> {
        self.inner.source().map(|p| p.to_path_buf())
    }

    /// The parsed spec as a dict (defaults filled in; secrets are references, never values).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, self.inner.spec())?)
    }

    /// Validate: every problem at once. Returns the warnings (a list of ``Diagnostic`` dicts);
    /// raises ``ValidationError`` whose ``errors`` list every problem with its field path,
    /// rule, message and hint.
    fn validate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        diagnostics_to_py(py, self.valid(py)?.warnings())
    }

    /// The offline plan: every resource the pool will have, the addresses users will use,
    /// autoscale in words and the compute cost at min and max. Validates first.
    fn plan(&self, py: Python<'_>) -> PyResult<PyPlan> {
        let valid = self.valid(py)?;
        Ok(PyPlan::new(py.detach(|| dsvmpool::lifecycle::plan(&valid))))
    }

    /// Render the deployment artifacts: ARM template, parameters file, provisioning files.
    /// Validates first. ``generator_metadata`` puts dsvmpool's name and version into the
    /// template; ``force_update_tag`` makes the instances run their extensions again.
    #[pyo3(signature = (*, generator_metadata = true, force_update_tag = None))]
    fn render(
        &self,
        py: Python<'_>,
        generator_metadata: bool,
        force_update_tag: Option<String>,
    ) -> PyResult<PyArtifacts> {
        let valid = self.valid(py)?;
        render::render(py, &valid, generator_metadata, force_update_tag)
    }

    /// What the autoscale settings will do that was probably not intended (flapping, scale
    /// from zero, profile windows, budget): the validation warnings, then the findings, as
    /// ``Diagnostic`` dicts. ``boot_time`` (seconds) defaults to 300 (600 for Windows).
    #[pyo3(signature = (*, boot_time = None))]
    fn lint<'py>(&self, py: Python<'py>, boot_time: Option<i64>) -> PyResult<Bound<'py, PyList>> {
        let valid = self.valid(py)?;
        let opts = dsvmpool::autoscale::LintOptions { boot_time };
        let findings = py.detach(|| dsvmpool::autoscale::lint(&valid, &opts));
        diagnostics_to_py(py, &findings)
    }

    /// Simulate a scaling policy on a session trace: ``"spec"`` (this pool's autoscale, the
    /// default), ``"fixed"`` (always ``capacity.max``), ``"cpu"`` (plain CPU rules) or
    /// ``"sessions"``. Keyword options, durations in seconds: ``eval_interval`` (60),
    /// ``boot_time`` (300), ``deallocate_time`` (60), ``patience`` (900), ``protect_busy``
    /// (False), ``idle_cpu`` (0.02), ``timeline_step`` (3600), ``start``/``end`` (Unix seconds),
    /// ``session_target`` (4), ``fixed_instances``.
    #[pyo3(signature = (trace, policy = "spec", **options))]
    fn simulate(
        &self,
        py: Python<'_>,
        trace: PyRef<'_, PyTrace>,
        policy: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PySimReport> {
        let valid = self.valid(py)?;
        let policy = sim::policy(policy)?;
        let opts = sim::sim_options(options)?;
        let trace = &trace.inner;
        let report = py.detach(|| dsvmpool::sim::simulate_policy(&valid, policy, trace, &opts));
        Ok(PySimReport::new(report))
    }

    /// Simulate several policies on the same trace (all four when ``policies`` is ``None``:
    /// fixed, cpu, spec, sessions); the options are ``simulate``'s. Compare the reports with
    /// ``dsvmpool.comparison_table(reports)``.
    #[pyo3(signature = (trace, policies = None, **options))]
    fn compare(
        &self,
        py: Python<'_>,
        trace: PyRef<'_, PyTrace>,
        policies: Option<Vec<String>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<PySimReport>> {
        let valid = self.valid(py)?;
        let policies = match policies {
            Some(names) => names
                .iter()
                .map(|n| sim::policy(n))
                .collect::<PyResult<Vec<_>>>()?,
            None => dsvmpool::sim::Policy::ALL.to_vec(),
        };
        let opts = sim::sim_options(options)?;
        let trace = &trace.inner;
        let reports = py.detach(|| dsvmpool::sim::compare(&valid, &policies, trace, &opts));
        Ok(reports.into_iter().map(PySimReport::new).collect())
    }

    /// Deploy (or update) the pool: validate, render, ensure the resource group, preflight, create
    /// the deployment and follow it to the end. A rerun of an unchanged spec writes nothing;
    /// a rerun after an interruption follows the deployment already running. ``force`` deploys
    /// even when nothing changed (e.g. after changing a secret). Returns the outcome (a dict:
    /// ``action``, ``state``, ``outputs``, ``resources``, …).
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``deploy_sync`` is the blocking twin.
    #[pyo3(signature = (*, force = false, **conn))]
    fn deploy<'py>(
        &self,
        py: Python<'py>,
        force: bool,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Deploy { force }, conn)
    }

    /// The blocking twin of ``deploy`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (*, force = false, **conn))]
    fn deploy_sync(
        &self,
        py: Python<'_>,
        force: bool,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Deploy { force }, conn)
    }

    /// The live state: scale set, instances with power state and protection, autoscale setting,
    /// addresses (a ``Status``). Only reads.
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``status_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn status<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Status, conn)
    }

    /// The blocking twin of ``status`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn status_sync(&self, py: Python<'_>, conn: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Status, conn)
    }

    /// Set the pool's capacity to ``capacity`` instances (autoscale may move it again within its
    /// range). Returns the outcome (a dict).
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``scale_sync`` is the blocking twin.
    #[pyo3(signature = (capacity, **conn))]
    fn scale<'py>(
        &self,
        py: Python<'py>,
        capacity: u32,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Scale(capacity), conn)
    }

    /// The blocking twin of ``scale`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (capacity, **conn))]
    fn scale_sync(
        &self,
        py: Python<'_>,
        capacity: u32,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Scale(capacity), conn)
    }

    /// Publish the session metrics ``autoscale.sessions`` scales on, for the minute ``at``
    /// (Unix seconds; default now) falls in: ``active + waiting`` sessions and ``waiting``
    /// sessions. Call it once a minute from whatever fronts the pool. The identity needs the
    /// *Monitoring Metrics Publisher* role on the scale set. Returns what was published (a
    /// dict). Connection keywords as for ``scale``, plus ``metrics_url`` (tests). Awaitable;
    /// ``publish_sessions_sync`` is the blocking twin.
    #[pyo3(signature = (active, waiting = 0, at = None, **conn))]
    fn publish_sessions<'py>(
        &self,
        py: Python<'py>,
        active: u32,
        waiting: u32,
        at: Option<i64>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        let verb = Verb::PublishSessions {
            active,
            waiting,
            at,
        };
        lifecycle::call_async(py, self.valid(py)?, verb, conn)
    }

    /// The blocking twin of ``publish_sessions``.
    #[pyo3(signature = (active, waiting = 0, at = None, **conn))]
    fn publish_sessions_sync(
        &self,
        py: Python<'_>,
        active: u32,
        waiting: u32,
        at: Option<i64>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        let verb = Verb::PublishSessions {
            active,
            waiting,
            at,
        };
        lifecycle::call_sync(py, self.valid(py)?, verb, conn)
    }

    /// Stop the pool: autoscale off, every instance deallocated (billing for compute stops).
    /// Returns the outcome (a dict).
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``stop_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn stop<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Stop, conn)
    }

    /// The blocking twin of ``stop`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn stop_sync(&self, py: Python<'_>, conn: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Stop, conn)
    }

    /// Start the pool: every deallocated or stopped instance, then autoscale back on when the
    /// spec has it. Returns the outcome (a dict).
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``start_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn start<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Start, conn)
    }

    /// The blocking twin of ``start`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn start_sync(&self, py: Python<'_>, conn: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Start, conn)
    }

    /// What ``destroy()`` would delete (a dict). Only reads.
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``destroy_preview_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn destroy_preview<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::DestroyPreview, conn)
    }

    /// The blocking twin of ``destroy_preview`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn destroy_preview_sync(
        &self,
        py: Python<'_>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::DestroyPreview, conn)
    }

    /// Delete the pool: the resource group when dsvmpool created it and holds nothing else,
    /// else the pool's resources. ``destroy_preview()`` says what goes. Returns the outcome.
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``destroy_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn destroy<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::Destroy, conn)
    }

    /// The blocking twin of ``destroy`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn destroy_sync(
        &self,
        py: Python<'_>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::Destroy, conn)
    }

    /// Compare the spec with the live pool: the offline plan, what is deployed and the changes a
    /// deploy would make (a ``LivePlan``). Only reads.
    ///
    /// Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
    /// managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
    /// ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
    /// else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
    /// dict), ``poll_interval`` (seconds). Awaitable; ``plan_live_sync`` is the blocking twin.
    #[pyo3(signature = (**conn))]
    fn plan_live<'py>(
        &self,
        py: Python<'py>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_async(py, self.valid(py)?, Verb::PlanLive, conn)
    }

    /// The blocking twin of ``plan_live`` (the GIL is released while it waits; Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (**conn))]
    fn plan_live_sync(
        &self,
        py: Python<'_>,
        conn: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let conn = Connection::from_kwargs(conn)?;
        lifecycle::call_sync(py, self.valid(py)?, Verb::PlanLive, conn)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.spec();
        let mut out = format!(
            "Pool(name={}, location={}, resource_group={}",
            repr_str(py, &s.name)?,
            repr_str(py, &s.location)?,
            repr_str(py, &s.resource_group)?
        );
        if let Some(src) = self.inner.source() {
            out.push_str(&format!(
                ", source={}",
                repr_str(py, &src.display().to_string())?
            ));
        }
        out.push(')');
        Ok(out)
    }

    /// HTML summary table (Jupyter displays it).
    fn _repr_html_(&self) -> String {
        let s = self.inner.spec();
        let text = |v: serde_json::Result<serde_json::Value>| match v {
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => e.to_string(),
        };
        let mut rows = vec![
            ["Location".to_string(), s.location.clone()],
            ["Resource group".into(), s.resource_group.clone()],
            [
                "VM".into(),
                format!(
                    "{} × {} ({})",
                    text(serde_json::to_value(s.vm.os)),
                    s.vm.size,
                    text(serde_json::to_value(s.vm.priority))
                ),
            ],
            [
                "Capacity".into(),
                format!(
                    "min {} / initial {} / max {}",
                    s.capacity.min,
                    s.capacity.initial(),
                    s.capacity.max
                ),
            ],
            [
                "Workspace".into(),
                format!(
                    "{} share `{}` at {}",
                    text(serde_json::to_value(s.storage.kind)),
                    s.storage.share.name,
                    s.storage.mount_path
                ),
            ],
            [
                "Users".into(),
                s.users
                    .iter()
                    .map(|u| u.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ],
            [
                "Autoscale".into(),
                if s.autoscale.enabled { "on" } else { "off" }.into(),
            ],
        ];
        if let Some(src) = self.inner.source() {
            rows.push(["Source".into(), src.display().to_string()]);
        }
        Html::new("pool")
            .heading("Pool", &s.name)
            .table(&[], rows)
            .finish()
    }
}
