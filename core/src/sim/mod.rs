//! The pool simulator: a session trace ([`trace`]) played against a pool and one or more
//! scaling policies ([`engine`]), giving cost, instance hours, waits, refused and killed
//! sessions and a timeline ([`report`]), with plots ([`plot`]).
//!
//! ```
//! use dsvmpool::{Pool, sim};
//! let pool = Pool::from_toml(r#"
//!     name = "team"
//!     location = "westeurope"
//!     resource_group = "rg-team"
//!     [access]
//!     ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
//!     source_cidrs = ["203.0.113.0/24"]
//!     [autoscale.sessions]
//!     target_per_vm = 4
//! "#)?.validate()?;
//! let trace = sim::generate(&sim::Team { users: 10, days: 7, ..Default::default() })?;
//! let report = pool.simulate(&trace, &sim::SimOptions::default());
//! assert_eq!(report.sessions as usize, trace.sessions.len());
//! # Ok::<(), dsvmpool::Error>(())
//! ```

pub mod engine;
pub mod plot;
pub mod report;
pub mod trace;

pub use engine::{Policy, SimOptions, compare, simulate, simulate_policy};
pub use plot::{plot_svg, write_plot};
pub use report::{SimReport, comparison_table};
pub use trace::{Session, Team, Trace, generate};

impl crate::ValidPool {
    /// Simulate this pool's autoscale on a session trace ([`simulate`]).
    pub fn simulate(&self, trace: &Trace, opts: &SimOptions) -> SimReport {
        simulate(self, trace, opts)
    }
}

impl Trace {
    /// Read a trace file: CSV or JSON, told apart by the content ([`Trace::parse`]).
    pub fn load(path: impl AsRef<std::path::Path>) -> crate::Result<Trace> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
        Trace::parse(&text)
    }
}

impl Team {
    /// The default synthetic team for a pool: working in the time zone of the pool's working
    /// hours (`autoscale.scale_to_zero.time_zone`), else UTC.
    pub fn for_pool(pool: &crate::ValidPool) -> Team {
        let time_zone = pool
            .spec()
            .autoscale
            .scale_to_zero
            .as_ref()
            .map_or_else(|| "UTC".to_string(), |z| z.time_zone.clone());
        Team {
            time_zone,
            ..Team::default()
        }
    }
}

#[cfg(test)]
mod tests;
