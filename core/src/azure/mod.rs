//! A small typed Azure Resource Manager client.
//!
//! - [`requests`]: sans-IO request builders (method, URL with `api-version`, headers, JSON body)
//!   for the calls dsvmpool makes;
//! - [`lro`]: a sans-IO long-running-operation poller following the ARM protocol;
//! - [`retry`]: the sans-IO retry policy (408/429/5xx, `Retry-After`, back-off, budget);
//! - [`client`]: [`ArmClient`], which sends requests with reqwest (rustls), retries, reports
//!   throttling headers, and drives the poller ([`Poller`]);
//! - [`auth`]: credentials from the official `azure_identity` crate ([`AuthMethod`]);
//! - [`metrics`]: the sans-IO request builder of the Azure Monitor custom-metrics ingestion
//!   API ([`ArmClient::publish_metric`] sends it);
//! - [`models`]: serde models that keep unknown fields, so a GET-then-PUT round-trips.
//!
//! Only this module does network I/O; the rest of the crate stays synchronous and pure.
//! Bearer tokens are only ever sent over https, and only to the management endpoint (and,
//! with the monitoring scope, to the configured custom-metrics ingestion endpoint).

pub mod auth;
pub mod client;
pub mod lro;
pub mod metrics;
pub mod models;
pub mod requests;
pub mod retry;

pub use auth::{AuthMethod, AuthOptions, Credential, TokenProvider};
pub use client::{ArmClient, ClientConfig, ClientEvent, CloudEndpoints, PollStatus, Poller};
pub use lro::{LroOptions, LroOutcome, LroPoller, LroState, Step};
pub use metrics::{MetricValue, MetricsEndpoint};
pub use requests::{ArmRequest, ArmRequests, ArmResponse, Method, api_version};
pub use retry::RetryPolicy;

use crate::error::{Error, ErrorKind};
use models::ArmErrorResponse;

/// The stable kind of an HTTP error status.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Http,
    }
}

/// The request id to quote for a response: `x-ms-request-id`, else
/// `x-ms-correlation-request-id`, else the client request id the client sent.
pub fn response_request_id(response: &ArmResponse) -> String {
    response
        .request_id()
        .or_else(|| response.header("x-ms-client-request-id"))
        .unwrap_or("")
        .to_string()
}

/// Maps an error response to [`Error::Http`]: ARM error code and message (with the innermost
/// details), status, request id and kind (404 → NotFound, 409/412 → Conflict, 429 → Throttled,
/// 401/403 → Auth).
pub fn error_from_response(operation: &str, response: &ArmResponse) -> Error {
    let parsed: Option<ArmErrorResponse> = serde_json::from_slice(&response.body).ok();
    let (code, message) = match parsed {
        Some(ArmErrorResponse { error: Some(e), .. })
            if !e.code.is_empty() || !e.message.is_empty() =>
        {
            (e.code.clone(), e.describe())
        }
        Some(ArmErrorResponse { extra, .. })
            if extra.get("code").and_then(|c| c.as_str()).is_some() =>
        {
            // Some providers send the error object without the envelope.
            let code = extra["code"].as_str().unwrap_or_default().to_string();
            let message = extra
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_string();
            (code, message)
        }
        _ => {
            let text = String::from_utf8_lossy(&response.body);
            let text = text.trim();
            let message = if text.is_empty() {
                "no error body".to_string()
            } else {
                let mut t: String = text.chars().take(400).collect();
                if t.len() < text.len() {
                    t.push('…');
                }
                t
            };
            (reason(response.status).to_string(), message)
        }
    };
    Error::Http {
        operation: operation.to_string(),
        status: response.status,
        code: if code.is_empty() {
            reason(response.status).to_string()
        } else {
            code
        },
        message,
        request_id: response_request_id(response),
        kind: kind_for_status(response.status),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "HttpError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_status_to_kind() {
        assert_eq!(kind_for_status(404), ErrorKind::NotFound);
        assert_eq!(kind_for_status(409), ErrorKind::Conflict);
        assert_eq!(kind_for_status(412), ErrorKind::Conflict);
        assert_eq!(kind_for_status(429), ErrorKind::Throttled);
        assert_eq!(kind_for_status(401), ErrorKind::Auth);
        assert_eq!(kind_for_status(403), ErrorKind::Auth);
        assert_eq!(kind_for_status(400), ErrorKind::Http);
        assert_eq!(kind_for_status(503), ErrorKind::Http);
    }

    #[test]
    fn error_bodies() {
        let r = ArmResponse::json(
            412,
            &[
                ("x-ms-request-id", "rid"),
                ("x-ms-correlation-request-id", "cid"),
            ],
            &json!({"error": {"code": "PreconditionFailed", "message": "etag mismatch"}}),
        );
        let e = error_from_response("scale pool to 5", &r);
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(
            e.to_string(),
            "scale pool to 5: HTTP 412 PreconditionFailed: etag mismatch (request id rid)"
        );
        // Unwrapped error object, correlation id fallback.
        let r = ArmResponse::json(
            400,
            &[("x-ms-correlation-request-id", "cid")],
            &json!({"code": "InvalidParameter", "message": "bad"}),
        );
        let e = error_from_response("op", &r);
        assert_eq!(
            e.to_string(),
            "op: HTTP 400 InvalidParameter: bad (request id cid)"
        );
        // No body at all: reason phrase, client request id fallback.
        let r = ArmResponse {
            status: 503,
            headers: vec![("x-ms-client-request-id".into(), "client-1".into())],
            body: b"<html>gateway</html>".to_vec(),
        };
        let e = error_from_response("op", &r);
        assert_eq!(
            e.to_string(),
            "op: HTTP 503 ServiceUnavailable: <html>gateway</html> (request id client-1)"
        );
        let r = ArmResponse {
            status: 404,
            ..Default::default()
        };
        let e = error_from_response("GET x", &r);
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("NotFound: no error body"));
    }
}
