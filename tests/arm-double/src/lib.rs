pub mod clock;
pub mod error;
pub mod expr;
pub mod template;
