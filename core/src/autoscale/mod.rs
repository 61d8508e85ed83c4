//! Autoscale: the `Microsoft.Insights/autoscalesettings` model and the conversion from a pool
//! spec ([`model`]), the decision engine with Azure Monitor's documented semantics
//! ([`engine`]), and lint ([`lint`]).

pub mod model;

pub use model::{AutoscaleSettings, settings_from_pool};
