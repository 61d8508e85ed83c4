//! The one error model of dsvmpool.
//!
//! Every fallible call in the crate returns [`Error`]. [`Error::kind`] gives a stable
//! [`ErrorKind`] that the bindings map to their own idiom (Python exception classes, Node
//! `code` strings, C result codes). Validation errors carry every problem found, each with its
//! field path, the rule broken and a hint.

use serde::Serialize;
use std::fmt;

/// Severity of a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The spec cannot be used as it is.
    Error,
    /// The spec works but probably not as intended, or is insecure.
    Warning,
}

/// One problem found in a pool spec: where (`path`), which rule, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Dotted field path, e.g. `storage.share.name` or `users[3].uid`.
    pub path: String,
    /// Stable identifier of the rule broken, e.g. `share-name`.
    pub rule: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A new error diagnostic.
    pub fn error(path: impl Into<String>, rule: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: path.into(),
            rule: rule.to_string(),
            message: message.into(),
            hint: None,
        }
    }

    /// A new warning diagnostic.
    pub fn warning(path: impl Into<String>, rule: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, rule, message)
        }
    }

    /// Attach a fix hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let path = if self.path.is_empty() {
            "<root>"
        } else {
            &self.path
        };
        write!(f, "{sev}[{}]: {path}: {}", self.rule, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// Stable classification of an [`Error`]; the bindings map it to their idiom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The spec (or another input) is invalid.
    Validation,
    /// A resource does not exist.
    NotFound,
    /// A concurrent change or a state conflict.
    Conflict,
    /// The service throttled the request beyond the retry budget.
    Throttled,
    /// Authentication or authorization failed.
    Auth,
    /// Any other HTTP failure.
    Http,
    /// Rendering failed.
    Render,
    /// Local I/O failed.
    Io,
    /// A bug in dsvmpool.
    Internal,
}

impl ErrorKind {
    /// Upper-case stable code, as used by the Node binding and in JSON output.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "VALIDATION",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::Throttled => "THROTTLED",
            ErrorKind::Auth => "AUTH",
            ErrorKind::Http => "AZURE",
            ErrorKind::Render => "RENDER",
            ErrorKind::Io => "IO",
            ErrorKind::Internal => "INTERNAL",
        }
    }
}

/// The list of problems a failed validation found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationErrors {
    /// Every error found (never empty).
    pub errors: Vec<Diagnostic>,
    /// Warnings found on the way (the spec would still be rejected for its errors).
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid pool spec: {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Every failure dsvmpool reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is invalid; every problem is listed.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Rendering failed (a bug or an impossible combination the validator missed).
    #[error("render: {0}")]
    Render(String),
    /// An HTTP call failed.
    #[error("{operation}: HTTP {status} {code}: {message} (request id {request_id})")]
    Http {
        /// What dsvmpool was doing, e.g. `PUT deployment dsvmpool-team`.
        operation: String,
        /// HTTP status.
        status: u16,
        /// ARM error code, e.g. `InvalidTemplate`.
        code: String,
        /// The service's message.
        message: String,
        /// `x-ms-request-id` (or the correlation id) of the failing response.
        request_id: String,
        /// Classification of this HTTP failure.
        kind: ErrorKind,
    },
    /// Authentication failed.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Stable classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation(_) => ErrorKind::Validation,
            Error::Io { .. } => ErrorKind::Io,
            Error::Render(_) => ErrorKind::Render,
            Error::Http { kind, .. } => *kind,
            Error::Auth(_) => ErrorKind::Auth,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The validation problems, when this is a validation error.
    pub fn validation(&self) -> Option<&ValidationErrors> {
        match self {
            Error::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// A validation error with a single diagnostic.
    pub fn invalid(d: Diagnostic) -> Self {
        Error::Validation(ValidationErrors {
            errors: vec![d],
            warnings: vec![],
        })
    }

    /// An I/O error about `path`.
    pub fn io(path: impl AsRef<std::path::Path>, e: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            message: e.to_string(),
        }
    }

    /// Structured details of the error as JSON (used by the bindings and `--output json`).
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Error::Validation(v) => json!({"errors": v.errors, "warnings": v.warnings}),
            Error::Io { path, message } => json!({"path": path, "message": message}),
            Error::Http {
                operation,
                status,
                code,
                message,
                request_id,
                ..
            } => json!({"operation": operation, "status": status, "code": code,
                        "message": message, "request_id": request_id}),
            Error::Render(m) | Error::Auth(m) | Error::Internal(m) => json!({"message": m}),
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
