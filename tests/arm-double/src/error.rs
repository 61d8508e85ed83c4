//! The ARM error body: `{"error": {"code", "message", "details": [...]}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One ARM error (also used for nested `details`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmError {
    /// Invariant error code, e.g. `ResourceNotFound`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The element the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Inner errors.
    #[serde(default)]
    pub details: Vec<ArmError>,
}

impl ArmError {
    /// An error without details.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ArmError {
            code: code.into(),
            message: message.into(),
            target: None,
            details: Vec::new(),
        }
    }

    /// Adds an inner error.
    pub fn detail(mut self, inner: ArmError) -> Self {
        self.details.push(inner);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The error object (without the `error` envelope).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }

    /// The full response body `{"error": {...}}`.
    pub fn body(&self) -> Value {
        json!({ "error": self.to_value() })
    }
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ArmError {}
