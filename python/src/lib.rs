//! `dsvmpool._native`: the Python binding of dsvmpool (pyo3).
//!
//! Thin by design: each wrapper holds one core value, converts arguments, calls the core and
//! maps the error (see `../shared/docs/DESIGN.md`). The public package is `dsvmpool`
//! (`python/dsvmpool/__init__.py`), which re-exports these classes next to the exceptions of
//! `dsvmpool.errors`.

mod error;
mod html;
mod lifecycle;
mod pool;
mod runtime;
mod spec;

use pyo3::prelude::*;

/// Native core of the ``dsvmpool`` package (import ``dsvmpool``, not this module).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", dsvmpool::VERSION)?;
    m.add_class::<pool::PyPool>()?;
    m.add_class::<lifecycle::PyPlan>()?;
    m.add_function(wrap_pyfunction!(spec::json_schema, m)?)?;
    Ok(())
}
