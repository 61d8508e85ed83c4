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

#[cfg(test)]
mod tests {
    use super::*;
    use pyo3::types::PyDictMethods;
    use std::ffi::CString;

    /// Import the Python package with this test binary's `_native` in place of the built
    /// extension, so `dsvmpool.errors` is the real module.
    fn with_package<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
        Python::initialize();
        Python::attach(|py| {
            let sys = py.import("sys").unwrap();
            let path = sys.getattr("path").unwrap();
            path.call_method1("insert", (0, env!("CARGO_MANIFEST_DIR")))
                .unwrap();
            let native = pyo3::wrap_pymodule!(crate::_native)(py);
            sys.getattr("modules")
                .unwrap()
                .set_item("dsvmpool._native", native)
                .unwrap();
            f(py)
        })
    }

    fn http(kind: ErrorKind, status: u16) -> Error {
        Error::Http {
            operation: "GET virtualMachineScaleSets/team-vmss".into(),
            status,
            code: "SomeArmCode".into(),
            message: "the service said no".into(),
            request_id: "8a4f2c1e-0000-4000-8000-000000000042".into(),
            kind,
        }
    }

    fn check(py: Python<'_>, e: Error, class: &str, builtin: &str, script: &str) {
        let kind = e.kind().code();
        let err = to_py(e);
        let locals = PyDict::new(py);
        locals.set_item("err", err.value(py)).unwrap();
        locals.set_item("kind", kind).unwrap();
        let code = format!(
            "import builtins, pickle, dsvmpool\n\
             assert type(err) is dsvmpool.{class}, type(err)\n\
             assert isinstance(err, dsvmpool.DsvmpoolError)\n\
             assert isinstance(err, getattr(builtins, '{builtin}', None) or getattr(dsvmpool, '{builtin}'))\n\
             assert err.kind == kind, err.kind\n\
             back = pickle.loads(pickle.dumps(err))\n\
             assert type(back) is type(err) and vars(back) == vars(err) and str(back) == str(err)\n\
             {script}\n"
        );
        let code = CString::new(code).unwrap();
        if let Err(e) = py.run(&code, None, Some(&locals)) {
            panic!("{class}: {e}");
        }
    }

    #[test]
    fn every_kind_maps_to_its_class_with_its_attributes() {
        with_package(|py| {
            let http_attrs = "assert err.status == {s} and err.code == 'SomeArmCode'\n\
                              assert err.request_id == '8a4f2c1e-0000-4000-8000-000000000042'\n\
                              assert err.operation.startswith('GET ')\n\
                              assert 'the service said no' in str(err)";
            for (kind, status, class, builtin) in [
                (ErrorKind::NotFound, 404, "NotFoundError", "LookupError"),
                (ErrorKind::Conflict, 409, "ConflictError", "AzureError"),
                (ErrorKind::Throttled, 429, "ThrottledError", "AzureError"),
                (ErrorKind::Auth, 403, "AuthError", "PermissionError"),
                (ErrorKind::Http, 500, "AzureError", "Exception"),
            ] {
                let script = http_attrs.replace("{s}", &status.to_string());
                check(py, http(kind, status), class, builtin, &script);
            }
            check(
                py,
                Error::Auth("no credential found".into()),
                "AuthError",
                "PermissionError",
                "assert err.status is None and 'no credential found' in str(err)",
            );
            check(
                py,
                Error::io(
                    "/x/pool.toml",
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ),
                "IoError",
                "OSError",
                "assert err.path == '/x/pool.toml'",
            );
            check(
                py,
                Error::Render("no template".into()),
                "RenderError",
                "RuntimeError",
                "assert str(err) == 'render: no template'",
            );
            check(
                py,
                Error::Internal("bug".into()),
                "InternalError",
                "RuntimeError",
                "assert err.details == {'message': 'bug'}",
            );
            check(
                py,
                Error::invalid(
                    dsvmpool::Diagnostic::error("users[3].uid", "uid-range", "uid 5 is too low")
                        .hint("use 1000 or more"),
                ),
                "ValidationError",
                "ValueError",
                "assert err.errors == [{'severity': 'error', 'path': 'users[3].uid', \
                 'rule': 'uid-range', 'message': 'uid 5 is too low', 'hint': 'use 1000 or more'}]\n\
                 assert err.warnings == [] and err.paths == ['users[3].uid']",
            );
        });
    }
}
