//! dsvmpool: describe a shared pool of Azure Data Science VMs in one file, then validate,
//! render, deploy, operate and simulate it.
//!
//! ```
//! use dsvmpool::Pool;
//! let pool = Pool::from_toml(r#"
//!     name = "team"
//!     location = "westeurope"
//!     resource_group = "rg-team"
//!     [access]
//!     ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
//!     source_cidrs = ["203.0.113.0/24"]
//! "#)?;
//! let valid = pool.validate()?;
//! assert_eq!(valid.spec().vm.size, "Standard_D4s_v5");
//! assert!(valid.fqdn().ends_with(".westeurope.cloudapp.azure.com"));
//! # Ok::<(), dsvmpool::Error>(())
//! ```

pub mod autoscale;
pub mod azure;
pub mod error;
pub mod lifecycle;
pub mod names;
pub mod pool;
pub mod pricing;
pub mod render;
pub mod sim;
pub mod spec;

pub use error::{Diagnostic, Error, ErrorKind, Result, Severity, ValidationErrors};
pub use pool::Pool;
pub use spec::{Format, PoolSpec, ValidPool};

/// Version of the dsvmpool crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
