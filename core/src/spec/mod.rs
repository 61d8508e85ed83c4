//! The pool spec: model, parsing, validation and JSON Schema.

pub mod model;
pub mod parse;

pub use model::*;
pub use parse::{Format, parse_file, parse_str, parse_value};
