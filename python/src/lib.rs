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
mod render;
mod runtime;
mod sim;
mod spec;

use pyo3::prelude::*;

/// Native core of the ``dsvmpool`` package (import ``dsvmpool``, not this module).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", dsvmpool::VERSION)?;
    m.add_class::<pool::PyPool>()?;
    m.add_class::<lifecycle::PyPlan>()?;
    m.add_class::<render::PyArtifacts>()?;
    m.add_class::<sim::PyTrace>()?;
    m.add_class::<sim::PySimReport>()?;
    m.add_function(wrap_pyfunction!(spec::json_schema, m)?)?;
    m.add_function(wrap_pyfunction!(sim::comparison_table, m)?)?;
    m.add_function(wrap_pyfunction!(sim::plot_svg, m)?)?;
    m.add_function(wrap_pyfunction!(sim::write_plot, m)?)?;
    Ok(())
}
