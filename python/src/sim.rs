//! The sim module: `dsvmpool.Trace` (who worked when) and `dsvmpool.SimReport` (what a
//! simulated autoscale policy costs and how long people wait).

use crate::error::IntoPyResult;
use crate::html::Html;
use dsvmpool::sim::{Policy, SimOptions, SimReport, Team, Trace};
use pyo3::exceptions::{PyImportError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::path::PathBuf;

/// Keyword arguments over a serde struct's defaults (`deny_unknown_fields` catches typos).
fn from_kwargs<T>(base: &T, kwargs: Option<&Bound<'_, PyDict>>, what: &str) -> PyResult<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut value =
        serde_json::to_value(base).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?;
    if let (Some(kwargs), Some(map)) = (kwargs, value.as_object_mut()) {
        let given: serde_json::Map<String, serde_json::Value> = pythonize::depythonize(kwargs)
            .map_err(|e| PyTypeError::new_err(format!("{what}: {e}")))?;
        map.extend(given);
    }
    serde_json::from_value(value).map_err(|e| PyTypeError::new_err(format!("{what}: {e}")))
}

/// Simulation options from keyword arguments (seconds for every duration).
pub fn sim_options(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<SimOptions> {
    from_kwargs(&SimOptions::default(), kwargs, "simulation option")
}

/// A policy name (`spec`, `fixed`, `cpu`, `sessions`).
pub fn policy(name: &str) -> PyResult<Policy> {
    Policy::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown policy {name:?}: expected one of {}",
            Policy::ALL.map(|p| format!("{:?}", p.name())).join(", ")
        ))
    })
}

/// A session trace: who asked for a session when, for how long, with how much CPU.
///
/// Read one with ``Trace.load(path)`` (CSV ``user,start,duration,cpu`` or JSON), parse text with
/// ``Trace.parse(text)``, or make a synthetic team's with ``Trace.generate(users=20, days=28)``.
#[pyclass(name = "Trace", module = "dsvmpool", frozen)]
pub struct PyTrace {
    pub(crate) inner: Trace,
}

#[pymethods]
impl PyTrace {
    /// Read a trace file: CSV or JSON, told apart by the content.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| Trace::load(&path)).py()?;
        Ok(PyTrace { inner })
    }

    /// Parse CSV or JSON text, telling them apart by the first non-blank character.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = py.detach(|| Trace::parse(text)).py()?;
        Ok(PyTrace { inner })
    }

    /// Parse CSV text (``user,start,duration,cpu``).
    #[staticmethod]
    fn from_csv(py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = py.detach(|| Trace::from_csv(text)).py()?;
        Ok(PyTrace { inner })
    }

    /// Parse JSON text (a list of sessions, or ``{"sessions": [...]}``).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = py.detach(|| Trace::from_json(text)).py()?;
        Ok(PyTrace { inner })
    }

    /// Generate a synthetic team's trace. Keyword arguments set the team: ``users`` (20),
    /// ``days`` (28), ``start_date`` (``"2026-01-05"``), ``time_zone`` (the pool's working
    /// hours' zone when ``pool`` is given, else ``"UTC"``), ``work_days``, ``work_start``,
    /// ``work_end``, ``lunch_dip``, ``weekend_share``, ``long_job_share``, ``absence``,
    /// ``seed`` (1; the same seed gives the same trace).
    #[staticmethod]
    #[pyo3(signature = (pool = None, **team))]
    fn generate(
        py: Python<'_>,
        pool: Option<PyRef<'_, crate::pool::PyPool>>,
        team: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let base = match &pool {
            Some(p) => Team::for_pool(&p.valid(py)?),
            None => Team::default(),
        };
        let team: Team = from_kwargs(&base, team, "Trace.generate")?;
        let inner = py.detach(|| dsvmpool::sim::generate(&team)).py()?;
        Ok(PyTrace { inner })
    }

    /// The sessions by start: dicts with ``user``, ``start`` (Unix seconds), ``duration``
    /// (seconds) and ``cpu`` (share of one instance, 0-1).
    #[getter]
    fn sessions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.sessions)?)
    }

    /// First start and last end (Unix seconds), or ``None`` for an empty trace.
    #[getter]
    fn span(&self) -> Option<(i64, i64)> {
        self.inner.span()
    }

    /// The trace as CSV (RFC 3339 UTC starts, whole seconds).
    fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    /// The sessions as a ``pandas.DataFrame`` (``start`` as UTC timestamps). Needs pandas.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pd = pandas(py, "Trace.to_pandas")?;
        let columns = ["user", "start", "duration", "cpu"];
        let df = frame(
            &pd,
            pythonize::pythonize(py, &self.inner.sessions)?,
            &columns,
        )?;
        to_datetime(&pd, &df, "start", Some("s"))?;
        Ok(df)
    }

    fn __len__(&self) -> usize {
        self.inner.sessions.len()
    }

    fn __repr__(&self) -> String {
        let users: std::collections::BTreeSet<&str> = self
            .inner
            .sessions
            .iter()
            .map(|s| s.user.as_str())
            .collect();
        match self.inner.span() {
            Some((a, b)) => format!(
                "<Trace: {} sessions of {} users from {} to {}>",
                self.inner.sessions.len(),
                users.len(),
                dsvmpool::sim::report::date_of(a),
                dsvmpool::sim::report::date_of(b)
            ),
            None => "<Trace: no sessions>".to_string(),
        }
    }
}

fn pandas<'py>(py: Python<'py>, what: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import("pandas").map_err(|e| {
        let err = PyImportError::new_err(format!("{what} needs pandas: pip install pandas"));
        err.set_cause(py, Some(e));
        err
    })
}

fn frame<'py>(
    pd: &Bound<'py, PyModule>,
    records: Bound<'py, PyAny>,
    columns: &[&str],
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(pd.py());
    kwargs.set_item("columns", PyList::new(pd.py(), columns)?)?;
    pd.getattr("DataFrame")?
        .call_method("from_records", (records,), Some(&kwargs))
}

fn to_datetime<'py>(
    pd: &Bound<'py, PyModule>,
    df: &Bound<'py, PyAny>,
    column: &str,
    unit: Option<&str>,
) -> PyResult<()> {
    let kwargs = PyDict::new(pd.py());
    if let Some(unit) = unit {
        kwargs.set_item("unit", unit)?;
        kwargs.set_item("utc", true)?;
    }
    let converted = pd
        .getattr("to_datetime")?
        .call((df.get_item(column)?,), Some(&kwargs))?;
    df.set_item(column, converted)
}

/// What simulating one autoscale policy on one trace gives: cost, instance hours, waits,
/// refused and killed sessions, a timeline and daily figures.
///
/// ``str(report)`` is the CLI's table; in Jupyter it displays as a table with plots;
/// ``to_pandas()`` gives the timeline (or ``to_pandas("daily")`` the days) as a DataFrame.
#[pyclass(name = "SimReport", module = "dsvmpool", frozen)]
pub struct PySimReport {
    inner: SimReport,
}

impl PySimReport {
    /// Wrap a core report.
    pub fn new(inner: SimReport) -> Self {
        PySimReport { inner }
    }
}

#[pymethods]
impl PySimReport {
    /// Policy name (``spec``, ``fixed``, ``cpu``, ``sessions``).
    #[getter]
    fn policy(&self) -> &str {
        &self.inner.policy
    }
    /// Start (RFC 3339).
    #[getter]
    fn start(&self) -> &str {
        &self.inner.start
    }
    /// End (RFC 3339).
    #[getter]
    fn end(&self) -> &str {
        &self.inner.end
    }
    /// Days simulated.
    #[getter]
    fn days(&self) -> f64 {
        self.inner.days
    }
    /// Sessions that arrived.
    #[getter]
    fn sessions(&self) -> u64 {
        self.inner.sessions
    }
    /// Sessions that got an instance.
    #[getter]
    fn served(&self) -> u64 {
        self.inner.served
    }
    /// Served sessions that had to wait.
    #[getter]
    fn waited(&self) -> u64 {
        self.inner.waited
    }
    /// Sessions that gave up waiting.
    #[getter]
    fn refused(&self) -> u64 {
        self.inner.refused
    }
    /// Sessions still waiting at the end.
    #[getter]
    fn still_waiting(&self) -> u64 {
        self.inner.still_waiting
    }
    /// Served sessions killed by a scale-in.
    #[getter]
    fn killed(&self) -> u64 {
        self.inner.killed
    }
    /// Served sessions whose user was mapped to another instance while the session ran.
    #[getter]
    fn affinity_moved(&self) -> u64 {
        self.inner.affinity_moved
    }
    /// Median wait of served sessions (seconds).
    #[getter]
    fn wait_p50_s(&self) -> f64 {
        self.inner.wait_p50_s
    }
    /// 95th-percentile wait of served sessions (seconds).
    #[getter]
    fn wait_p95_s(&self) -> f64 {
        self.inner.wait_p95_s
    }
    /// Longest wait of a served session (seconds).
    #[getter]
    fn wait_max_s(&self) -> f64 {
        self.inner.wait_max_s
    }
    /// Instance hours billed.
    #[getter]
    fn instance_hours(&self) -> f64 {
        self.inner.instance_hours
    }
    /// Most instances at once.
    #[getter]
    fn peak_instances(&self) -> u32 {
        self.inner.peak_instances
    }
    /// Price of one instance per hour (bundled table), if known.
    #[getter]
    fn hourly_price(&self) -> Option<f64> {
        self.inner.hourly_price
    }
    /// Compute cost, if the price is known.
    #[getter]
    fn cost(&self) -> Option<f64> {
        self.inner.cost
    }
    /// Compute cost per 30 days, if the price is known.
    #[getter]
    fn cost_per_month(&self) -> Option<f64> {
        self.inner.cost_per_month
    }
    /// Currency of the costs.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.currency
    }
    /// Scale-out actions.
    #[getter]
    fn scale_outs(&self) -> u64 {
        self.inner.scale_outs
    }
    /// Scale-in actions.
    #[getter]
    fn scale_ins(&self) -> u64 {
        self.inner.scale_ins
    }
    /// Share of arrived sessions refused, in percent.
    #[getter]
    fn refused_pct(&self) -> f64 {
        self.inner.refused_pct()
    }
    /// Share of served sessions killed, in percent.
    #[getter]
    fn killed_pct(&self) -> f64 {
        self.inner.killed_pct()
    }
    /// What the simulation could not model.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }
    /// Per day (UTC): dicts with ``date``, ``instance_hours``, ``cost``, ``sessions``,
    /// ``refused``, ``killed``.
    #[getter]
    fn daily<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.daily)?)
    }
    /// The pool over time: dicts with ``time`` (Unix seconds), ``instances``, ``running``,
    /// ``active_sessions``, ``waiting``, ``active_users``.
    #[getter]
    fn timeline<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.timeline)?)
    }

    /// The whole report as a dict: the structure of ``dsvmpool simulate --output json``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner)?)
    }

    /// The timeline (``table="timeline"``, indexed by UTC time) or the days
    /// (``table="daily"``, indexed by date) as a ``pandas.DataFrame``. Needs pandas.
    #[pyo3(signature = (table = "timeline"))]
    fn to_pandas<'py>(&self, py: Python<'py>, table: &str) -> PyResult<Bound<'py, PyAny>> {
        let pd = pandas(py, "SimReport.to_pandas")?;
        let (df, index) = match table {
            "timeline" => {
                let columns = [
                    "time",
                    "instances",
                    "running",
                    "active_sessions",
                    "waiting",
                    "active_users",
                ];
                let df = frame(
                    &pd,
                    pythonize::pythonize(py, &self.inner.timeline)?,
                    &columns,
                )?;
                to_datetime(&pd, &df, "time", Some("s"))?;
                (df, "time")
            }
            "daily" => {
                let columns = [
                    "date",
                    "instance_hours",
                    "cost",
                    "sessions",
                    "refused",
                    "killed",
                ];
                let df = frame(&pd, pythonize::pythonize(py, &self.inner.daily)?, &columns)?;
                to_datetime(&pd, &df, "date", None)?;
                (df, "date")
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown table {other:?}: expected \"timeline\" or \"daily\""
                )));
            }
        };
        df.call_method1("set_index", (index,))
    }

    /// The plots (instances and users over time, cost per day) as SVG text.
    fn plot_svg(&self) -> PyResult<String> {
        dsvmpool::sim::plot_svg(std::slice::from_ref(&self.inner)).py()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.inner;
        Ok(format!(
            "<SimReport {}: {} sessions over {:.1} days, {:.1} instance hours, {} refused, {} killed>",
            PyString::new(py, &r.policy).repr()?,
            r.sessions,
            r.days,
            r.instance_hours,
            r.refused,
            r.killed
        ))
    }

    /// HTML table of the figures and the plots (Jupyter displays them).
    fn _repr_html_(&self) -> String {
        let mut html = Html::new("simreport");
        html.heading(
            "Policy",
            &format!(
                "{} from {} to {} ({:.1} days)",
                self.inner.policy, self.inner.start, self.inner.end, self.inner.days
            ),
        )
        .pre(&dsvmpool::sim::comparison_table(std::slice::from_ref(
            &self.inner,
        )));
        if let Ok(svg) = dsvmpool::sim::plot_svg(std::slice::from_ref(&self.inner)) {
            html.raw_svg(&svg);
        }
        html.finish()
    }
}

/// Several reports side by side as a text table (what ``dsvmpool simulate --compare`` prints).
#[pyfunction]
pub fn comparison_table(reports: Vec<PyRef<'_, PySimReport>>) -> String {
    let reports: Vec<SimReport> = reports.iter().map(|r| r.inner.clone()).collect();
    dsvmpool::sim::comparison_table(&reports)
}

/// Plots of several reports (instances and users over time, cost per day) as SVG text.
#[pyfunction]
pub fn plot_svg(reports: Vec<PyRef<'_, PySimReport>>) -> PyResult<String> {
    let reports: Vec<SimReport> = reports.iter().map(|r| r.inner.clone()).collect();
    dsvmpool::sim::plot_svg(&reports).py()
}

/// Write the plots of several reports to ``path``: SVG for ``.svg``, PNG for ``.png``.
#[pyfunction]
pub fn write_plot(
    py: Python<'_>,
    path: PathBuf,
    reports: Vec<PyRef<'_, PySimReport>>,
) -> PyResult<()> {
    let reports: Vec<SimReport> = reports.iter().map(|r| r.inner.clone()).collect();
    py.detach(|| dsvmpool::sim::write_plot(&path, &reports))
        .py()
}
