//! dsvmpool: describe a shared pool of Azure Data Science VMs in one file, then validate,
//! render, deploy, operate and simulate it.

pub mod azure;
pub mod error;
pub mod spec;

pub use error::{Diagnostic, Error, ErrorKind, Result, Severity, ValidationErrors};

/// Version of the dsvmpool crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
