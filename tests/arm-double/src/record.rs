//! The request log.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Which endpoint a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// The management (ARM) endpoint.
    Management,
    /// The token endpoint.
    Token,
    /// The custom-metrics ingestion endpoint (`/regions/{region}/…/metrics`).
    Metrics,
}

/// One request as received, with the status it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// 1-based arrival order.
    pub seq: u64,
    /// Wall-clock arrival time (RFC 3339).
    pub timestamp: String,
    /// Simulated seconds since start at arrival.
    pub sim_secs: f64,
    /// Endpoint.
    pub kind: RequestKind,
    /// HTTP method.
    pub method: String,
    /// Path (as sent, not decoded).
    pub path: String,
    /// Raw query string (without `?`).
    pub query: String,
    /// Headers (lowercase names) except `authorization`.
    pub headers: BTreeMap<String, String>,
    /// Body as text (a token request's `client_secret` is redacted).
    pub body: String,
    /// Response status (0 when the connection was reset).
    pub status: u16,
    /// The injected fault, if one fired.
    pub fault: Option<String>,
    /// `x-ms-request-id` of the response.
    pub request_id: Option<String>,
}

impl RecordedRequest {
    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// A query parameter (decoded), by case-insensitive name.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    }

    /// Whether this is a management write (PUT, PATCH, POST, DELETE).
    pub fn is_write(&self) -> bool {
        self.kind == RequestKind::Management
            && matches!(self.method.as_str(), "PUT" | "PATCH" | "POST" | "DELETE")
    }

    /// Whether the path matches a `*` glob (case-insensitive).
    pub fn path_matches(&self, pattern: &str) -> bool {
        crate::faults::glob(
            &pattern.to_ascii_lowercase(),
            &self.path.to_ascii_lowercase(),
        )
    }
}
