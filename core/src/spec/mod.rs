//! The pool spec: model, parsing, validation and JSON Schema.

pub mod model;
pub mod parse;
pub mod schema;
pub mod tables;
pub mod validate;
pub mod values;

pub use model::*;
pub use parse::{Format, parse_file, parse_str, parse_value, value_as};
pub use validate::{ValidPool, validate};
