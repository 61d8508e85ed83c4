//! Binding crate placeholder: the binding issue fills it in. It depends on the core so the workspace proves it links.
pub use dsvmpool::VERSION;
