//! What dsvmpool does to a pool: plan it (offline now; against live state once deployed).

pub mod plan;

pub use plan::{Plan, plan};
