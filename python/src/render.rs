//! The render module: `dsvmpool.Artifacts`, what `Pool.render()` produces.

use crate::error::IntoPyResult;
use crate::html::Html;
use dsvmpool::render::{Artifacts, PARAMETERS_FILE, RenderOptions, TEMPLATE_FILE};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::path::PathBuf;

/// Everything a pool renders to: the ARM template (``azuredeploy.json``), its parameters file
/// (``azuredeploy.parameters.json``) and the provisioning files the instances run (cloud-init
/// user data, scripts). Rendering is deterministic and holds no secret: secrets stay references
/// (``secure_parameters`` lists the ones the deploy command fills from the environment).
///
/// ``files`` maps each relative path to its content; ``write(dir)`` writes them all.
#[pyclass(name = "Artifacts", module = "dsvmpool", frozen)]
pub struct PyArtifacts {
    inner: Artifacts,
}

/// Render a valid pool with the given options.
pub fn render(
    py: Python<'_>,
    pool: &dsvmpool::ValidPool,
    generator_metadata: bool,
    force_update_tag: Option<String>,
) -> PyResult<PyArtifacts> {
    let mut opts = RenderOptions::default().generator_metadata(generator_metadata);
    if let Some(tag) = force_update_tag {
        opts = opts.force_update_tag(tag);
    }
    py.detach(|| dsvmpool::render::render(pool, &opts))
        .py()
        .map(|inner| PyArtifacts { inner })
}

#[pymethods]
impl PyArtifacts {
    /// The ARM template (``azuredeploy.json``) as a dict.
    #[getter]
    fn template<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.template)?)
    }

    /// The parameters file (``azuredeploy.parameters.json``) as a dict.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.parameters)?)
    }

    /// The template as pretty JSON text (what ``azuredeploy.json`` holds).
    fn template_json(&self) -> String {
        self.inner.template_json()
    }

    /// The parameters file as pretty JSON text.
    fn parameters_json(&self) -> String {
        self.inner.parameters_json()
    }

    /// The cloud-init user data of Linux instances (``None`` for Windows pools).
    #[getter]
    fn user_data(&self) -> Option<&str> {
        self.inner.user_data.as_deref()
    }

    /// Every output file: relative path → content, template and parameters first.
    #[getter]
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (path, content) in self.inner.all_files() {
            d.set_item(path, content)?;
        }
        Ok(d)
    }

    /// The provisioning files alone: dicts with ``path``, ``description`` and ``content``.
    #[getter]
    fn provisioning_files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.files)?)
    }

    /// Secure parameters neither file holds: dicts with ``name`` (template parameter) and
    /// ``env`` (the environment variable the deploy command reads it from).
    #[getter]
    fn secure_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.secure_parameters)?)
    }

    /// The Azure resource names used.
    #[getter]
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.names)?)
    }

    /// The Azure CLI command that deploys the files once written into ``dir`` (secure
    /// parameters filled from their environment variables, never a value).
    fn deploy_command(&self, dir: PathBuf) -> String {
        self.inner.deploy_command(dir)
    }

    /// Write every file into ``dir`` (created if missing); returns the paths written. Each file
    /// is staged under a temporary name and renamed once all are written, so a failure leaves
    /// no half-written set. Raises ``IoError`` (an ``OSError``).
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        py.detach(|| self.inner.write_to(&dir)).py()
    }

    /// Everything as one dict (template, parameters, user data, files, secure parameters,
    /// names).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner)?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<Artifacts of scale set {}: {} files>",
            PyString::new(py, &self.inner.names.scale_set).repr()?,
            self.inner.files.len() + 2
        ))
    }

    /// HTML table of the files and secure parameters (Jupyter displays it).
    fn _repr_html_(&self) -> String {
        let a = &self.inner;
        let mut rows = vec![
            [
                TEMPLATE_FILE.to_string(),
                "ARM template".to_string(),
                format!("{} bytes", a.template_json().len()),
            ],
            [
                PARAMETERS_FILE.to_string(),
                "parameters file".to_string(),
                format!("{} bytes", a.parameters_json().len()),
            ],
        ];
        rows.extend(a.files.iter().map(|f| {
            [
                f.path.clone(),
                f.description.clone(),
                format!("{} bytes", f.content.len()),
            ]
        }));
        let mut h = Html::new("artifacts");
        h.heading("Rendered", &format!("scale set {}", a.names.scale_set))
            .table(&["File", "What", "Size"], rows);
        if !a.secure_parameters.is_empty() {
            h.heading(
                "Secure parameters (filled from the environment at deploy)",
                "",
            )
            .table(
                &["Parameter", "Environment variable"],
                a.secure_parameters
                    .iter()
                    .map(|p| [p.name.clone(), p.env.clone()]),
            );
        }
        h.finish()
    }
}
