//! The spec module: diagnostics as Python dicts, the spec's JSON Schema, input formats.

use dsvmpool::{Diagnostic, Format, Severity};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// One diagnostic as a dict with `severity`, `path`, `rule`, `message` and `hint` (`None` when
/// there is none), the `dsvmpool.Diagnostic` typed dict.
pub fn diagnostic_to_py<'py>(py: Python<'py>, d: &Diagnostic) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    out.set_item("severity", severity)?;
    out.set_item("path", &d.path)?;
    out.set_item("rule", &d.rule)?;
    out.set_item("message", &d.message)?;
    out.set_item("hint", d.hint.as_deref())?;
    Ok(out)
}

/// A list of diagnostics as a list of dicts.
pub fn diagnostics_to_py<'py>(py: Python<'py>, ds: &[Diagnostic]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for d in ds {
        list.append(diagnostic_to_py(py, d)?)?;
    }
    Ok(list)
}

/// A format name (`toml`, `yaml`, `yml`, `json`) → [`Format`].
pub fn format_from_name(name: &str) -> PyResult<Format> {
    Format::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown spec format {name:?}: expected \"toml\", \"yaml\" or \"json\""
        ))
    })
}

/// The JSON Schema of the pool spec, as JSON text (what `dsvmpool schema` prints).
#[pyfunction]
pub fn json_schema() -> String {
    dsvmpool::spec::schema::json_schema()
}
