//! Maps the core's one error model to the Python exceptions of `dsvmpool.errors`.
//!
//! The classes are plain Python classes (so they can inherit both `DsvmpoolError` and a builtin
//! such as `ValueError`, and pickle with their attributes); this module picks the class from
//! [`ErrorKind`] and passes the message and the structured details.

use crate::spec::diagnostics_to_py;
use dsvmpool::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Name of the `dsvmpool.errors` class for an error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "ValidationError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::Throttled => "ThrottledError",
        ErrorKind::Auth => "AuthError",
        ErrorKind::Http => "AzureError",
        ErrorKind::Render => "RenderError",
        ErrorKind::Io => "IoError",
        _ => "InternalError",
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("dsvmpool.errors").map(Bound::unbind))?;
    let class = module.bind(py).getattr(class_name(e.kind()))?;
    let details = match e.validation() {
        Some(v) => {
            let d = PyDict::new(py);
            d.set_item("errors", diagnostics_to_py(py, &v.errors)?)?;
            d.set_item("warnings", diagnostics_to_py(py, &v.warnings)?)?;
            d.into_any()
        }
        None => pythonize::pythonize(py, &e.details())?,
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", e.kind().code())?;
    let exc = class.call((e.to_string(), details), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// Convert a core error into the matching `dsvmpool.errors` exception.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| {
        build(py, &e).unwrap_or_else(|import_failure| {
            // Only when `dsvmpool.errors` cannot be imported (a broken install): keep the
            // original message and chain the import failure.
            let err = PyRuntimeError::new_err(e.to_string());
            err.set_cause(py, Some(import_failure));
            err
        })
    })
}

/// `Result<T, dsvmpool::Error>` → `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Map the error to the matching Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for dsvmpool::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
