//! Autoscale: the `Microsoft.Insights/autoscalesettings` model and the conversion from a pool
//! spec ([`model`]), the decision engine with Azure Monitor's documented semantics
//! ([`engine`]), and lint ([`lint`]).

pub mod engine;
pub mod lint;
pub mod model;

pub use engine::{Decision, Engine, MetricKey, MetricPoint, MetricSeries, Metrics, Outcome};
pub use lint::{LintOptions, lint};
pub use model::{AutoscaleSettings, settings_from_pool};
