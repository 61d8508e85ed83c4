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

    /// Resources: dicts with ``type``, ``name``, ``action`` (``create`` or ``use_existing``)
    /// and ``detail``.
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
