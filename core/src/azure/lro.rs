//! Long-running operations: a sans-IO poller that follows the ARM asynchronous protocol.
//!
//! The poller is a state machine. [`LroPoller::start`] takes the request that started the
//! operation and its (successful) response; every [`Step`] it returns is either "wait this long,
//! then send this GET" or "done". The driver ([`client::Poller`](super::client::Poller)) sends
//! the GET and feeds the response to [`LroPoller::on_response`]. No I/O and no clock here, so
//! every rule is unit-tested with plain values:
//!
//! - `Azure-AsyncOperation` is polled when present, else `Location`, else (PUT/PATCH with a
//!   non-terminal `provisioningState`) the resource itself;
//! - PUT/PATCH finish with a GET of the resource, whose `provisioningState` must be terminal
//!   too (a resource still `Updating` is never reported as done);
//! - POST with both headers reads its result from `Location`; DELETE has no final GET;
//! - `Retry-After` is honoured exactly, the default interval applies only when it is absent;
//! - terminal states `Succeeded`, `Failed`, `Canceled` compare case-insensitively;
//! - relative URLs resolve against the management endpoint, and every URL must stay on it;
//! - an error answer from the status URL is a failure to *read* the status (the operation
//!   may still be running), never a failure of the operation;
//! - the state ([`LroState`]) serializes, so an interrupted command resumes polling.

use super::error_from_response;
use super::models::{ArmError, OperationStatus};
use super::requests::{ArmRequest, ArmRequests, ArmResponse, Method};
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// Poller settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LroOptions {
    /// Interval between polls when the service sends no `Retry-After` (ARM: 60 s).
    pub default_poll_interval: Duration,
    /// Give up waiting (the operation keeps running; polling can resume) after this long.
    pub max_wait: Option<Duration>,
}

impl Default for LroOptions {
    fn default() -> Self {
        Self {
            default_poll_interval: Duration::from_secs(60),
            max_wait: None,
        }
    }
}

/// A terminal state of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Terminal {
    /// `Succeeded`
    Succeeded,
    /// `Failed`
    Failed,
    /// `Canceled` (also `Cancelled`)
    Canceled,
}

/// Classifies a status / provisioning state, case-insensitively; `None` when not terminal.
pub fn terminal_state(s: &str) -> Option<Terminal> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("succeeded") {
        Some(Terminal::Succeeded)
    } else if s.eq_ignore_ascii_case("failed") {
        Some(Terminal::Failed)
    } else if s.eq_ignore_ascii_case("canceled") || s.eq_ignore_ascii_case("cancelled") {
        Some(Terminal::Canceled)
    } else {
        None
    }
}

/// `properties.provisioningState` of a resource body.
pub fn provisioning_state(body: &Value) -> Option<&str> {
    body.get("properties")?.get("provisioningState")?.as_str()
}

/// Where the poller reads the operation's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitorKind {
    /// The `Azure-AsyncOperation` URL (body `{"status": …}`).
    AsyncOperation,
    /// The `Location` URL (202 while running, 200/204 when done, error status when failed).
    Location,
    /// The resource itself (`properties.provisioningState`).
    Resource,
}

/// Phase of the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Polling the monitor.
    Polling,
    /// The operation succeeded; reading the final resource or result.
    FinalGet,
    /// Finished.
    Done,
}

/// The resumable state of a long-running operation (serializable: persist it to resume after
/// an interruption).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LroState {
    /// What the operation does, e.g. `PUT deployment dsvmpool-team`.
    pub operation: String,
    /// Method of the request that started it.
    pub method: Method,
    /// URL of the request that started it.
    pub resource_url: Url,
    /// Kind of the status monitor.
    pub monitor: Option<MonitorKind>,
    /// URL of the status monitor.
    pub monitor_url: Option<Url>,
    /// Where the final result is read after success.
    pub final_url: Option<Url>,
    /// Current phase.
    pub phase: Phase,
    /// Last status reported by the service (as sent, e.g. `InProgress`, `Running`).
    pub last_status: Option<String>,
    /// Request id of the response that started the operation.
    pub request_id: Option<String>,
    /// Number of status reads so far.
    pub polls: u32,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Wait `delay`, then send `request` and feed its response to [`LroPoller::on_response`].
    Wait {
        /// Exactly the `Retry-After` of the last response, or the default interval.
        delay: Duration,
        /// The GET to send.
        request: ArmRequest,
    },
    /// The operation finished successfully.
    Done(LroOutcome),
}

/// The result of a successful operation.
#[derive(Debug, Clone, PartialEq)]
pub struct LroOutcome {
    /// HTTP status of the last response.
    pub status: u16,
    /// Body of the final resource or result (`None` when empty, e.g. 204 or DELETE).
    pub body: Option<Value>,
    /// Request id of the last response.
    pub request_id: Option<String>,
}

/// The sans-IO poller.
#[derive(Debug, Clone)]
pub struct LroPoller {
    state: LroState,
    requests: ArmRequests,
    options: LroOptions,
}

impl LroPoller {
    /// Starts tracking the operation that `request` started with `response`. Returns the
    /// poller and its first step (possibly already `Done`).
    ///
    /// An error status in `response` is returned as the call's error.
    pub fn start(
        requests: &ArmRequests,
        request: &ArmRequest,
        response: &ArmResponse,
        options: LroOptions,
    ) -> Result<(Self, Step)> {
        if !response.is_success() {
            return Err(error_from_response(&request.operation, response));
        }
        let aao = header_url(requests, response, "azure-asyncoperation")?;
        let loc = header_url(requests, response, "location")?;
        let mut p = LroPoller {
            state: LroState {
                operation: request.operation.clone(),
                method: request.method,
                resource_url: request.url.clone(),
                monitor: None,
                monitor_url: None,
                final_url: None,
                phase: Phase::Polling,
                last_status: None,
                request_id: response.request_id().map(str::to_string),
                polls: 0,
            },
            requests: requests.clone(),
            options,
        };
        let body = response.json_body();
        let monitor = match request.method {
            Method::Put | Method::Patch => {
                p.state.final_url = Some(request.url.clone());
                let ps = body.as_ref().and_then(provisioning_state);
                if let Some(t) = ps.and_then(terminal_state) {
                    let step = p.finish(t, response, body.clone())?;
                    return Ok((p, step));
                }
                if let Some(u) = aao {
                    Some((MonitorKind::AsyncOperation, u))
                } else if let (Some(u), 202) = (loc, response.status) {
                    Some((MonitorKind::Location, u))
                } else if ps.is_some() || response.status == 202 {
                    Some((MonitorKind::Resource, request.url.clone()))
                } else {
                    None
                }
            }
            Method::Post | Method::Delete => {
                if let Some(u) = aao {
                    if request.method == Method::Post {
                        p.state.final_url = loc;
                    }
                    Some((MonitorKind::AsyncOperation, u))
                } else {
                    loc.map(|u| (MonitorKind::Location, u))
                }
            }
            Method::Get => None,
        };
        let step = match monitor {
            None => p.done(response, body),
            Some((kind, url)) => {
                p.state.last_status = body
                    .as_ref()
                    .and_then(provisioning_state)
                    .map(str::to_string);
                p.state.monitor = Some(kind);
                p.state.monitor_url = Some(url);
                p.wait(response)
            }
        };
        Ok((p, step))
    }

    /// Rebuilds a poller from a saved state; the first step polls immediately.
    pub fn resume(
        requests: &ArmRequests,
        state: LroState,
        options: LroOptions,
    ) -> Result<(Self, Step)> {
        // The saved URLs must still be on this endpoint.
        for u in [&state.monitor_url, &state.final_url].into_iter().flatten() {
            requests.resolve(u.as_str())?;
        }
        requests.resolve(state.resource_url.as_str())?;
        let p = LroPoller {
            state,
            requests: requests.clone(),
            options,
        };
        let step = match p.state.phase {
            Phase::Done => {
                return Err(Error::Internal(format!(
                    "{}: the saved operation state is already finished",
                    p.state.operation
                )));
            }
            _ => Step::Wait {
                delay: Duration::ZERO,
                request: p.next_request()?,
            },
        };
        Ok((p, step))
    }

    /// The resumable state.
    pub fn state(&self) -> &LroState {
        &self.state
    }

    /// The settings.
    pub fn options(&self) -> &LroOptions {
        &self.options
    }

    /// Feeds the response of the last [`Step::Wait`] request.
    pub fn on_response(&mut self, response: &ArmResponse) -> Result<Step> {
        self.state.polls += 1;
        let body = response.json_body();
        match (self.state.phase, self.state.monitor) {
            (Phase::Done, _) => Err(Error::Internal(format!(
                "{}: response fed to a finished poller",
                self.state.operation
            ))),
            (Phase::FinalGet, _) => {
                if !response.is_success() {
                    return Err(self.read_failure_response(response, "read the final result"));
                }
                let ps = body.as_ref().and_then(provisioning_state);
                match ps {
                    Some(s) => match terminal_state(s) {
                        Some(t) => self.finish(t, response, body.clone()),
                        None => {
                            // Still changing (e.g. `Updating`): watch the resource until terminal.
                            self.state.last_status = Some(s.to_string());
                            self.state.phase = Phase::Polling;
                            self.state.monitor = Some(MonitorKind::Resource);
                            self.state.monitor_url = self.state.final_url.clone();
                            Ok(self.wait(response))
                        }
                    },
                    None => Ok(self.done(response, body)),
                }
            }
            (Phase::Polling, Some(MonitorKind::AsyncOperation)) => {
                if !response.is_success() {
                    return Err(self.read_failure_response(response, "read the operation status"));
                }
                let status: Option<OperationStatus> =
                    body.clone().and_then(|b| serde_json::from_value(b).ok());
                let Some(status) = status else {
                    return Err(self.protocol_error(response, "the status body is not JSON"));
                };
                let Some(s) = status.status.clone() else {
                    return Err(self.protocol_error(response, "the status body has no `status`"));
                };
                self.state.last_status = Some(s.clone());
                match terminal_state(&s) {
                    Some(Terminal::Succeeded) => {
                        if self.state.final_url.is_some() {
                            self.state.phase = Phase::FinalGet;
                            Ok(Step::Wait {
                                delay: Duration::ZERO,
                                request: self.next_request()?,
                            })
                        } else {
                            Ok(self.done(response, body))
                        }
                    }
                    Some(t) => Err(self.operation_failed(t, response, status.error.as_ref())),
                    None => Ok(self.wait(response)),
                }
            }
            (Phase::Polling, Some(MonitorKind::Location)) => {
                if response.status == 202 {
                    self.state.last_status = Some("Accepted".into());
                    return Ok(self.wait(response));
                }
                if response.is_success() {
                    self.state.last_status = Some("Succeeded".into());
                    if matches!(self.state.method, Method::Put | Method::Patch) {
                        self.state.phase = Phase::FinalGet;
                        return Ok(Step::Wait {
                            delay: Duration::ZERO,
                            request: self.next_request()?,
                        });
                    }
                    return Ok(self.done(response, body));
                }
                // A Location monitor reports a failed operation with the error status and an
                // ARM error body. Statuses that say something about the *read* itself (auth,
                // missing monitor, throttling, server errors the client already retried) are
                // failures to read the status.
                let about_read = matches!(response.status, 401 | 403 | 404 | 408 | 429)
                    || response.status >= 500;
                let err = arm_error(&body);
                match (about_read, err) {
                    (false, Some(e)) => {
                        Err(self.operation_failed(Terminal::Failed, response, Some(&e)))
                    }
                    _ => Err(self.read_failure_response(response, "read the operation status")),
                }
            }
            (Phase::Polling, Some(MonitorKind::Resource)) => {
                if !response.is_success() {
                    return Err(self.read_failure_response(response, "read the resource state"));
                }
                match body.as_ref().and_then(provisioning_state) {
                    Some(s) => {
                        self.state.last_status = Some(s.to_string());
                        match terminal_state(s) {
                            Some(t) => self.finish(t, response, body.clone()),
                            None => Ok(self.wait(response)),
                        }
                    }
                    None => Ok(self.done(response, body)),
                }
            }
            (Phase::Polling, None) => Err(Error::Internal(format!(
                "{}: poller has no monitor",
                self.state.operation
            ))),
        }
    }

    /// Rewrites an error of the status read itself (transport failure, retries spent) so it
    /// says what it is: the operation's state is unknown, and a rerun resumes.
    pub fn read_failure(&self, err: Error) -> Error {
        let what = match self.state.phase {
            Phase::FinalGet => "read the final result",
            _ => "read the operation status",
        };
        match err {
            Error::Http {
                status,
                code,
                message,
                request_id,
                kind,
                ..
            } => Error::Http {
                operation: self.state.operation.clone(),
                status,
                code,
                message: self.read_failure_message(what, &message),
                request_id,
                kind,
            },
            other => other,
        }
    }

    fn read_failure_message(&self, what: &str, message: &str) -> String {
        let url = match self.state.phase {
            Phase::FinalGet => self.state.final_url.as_ref(),
            _ => self.state.monitor_url.as_ref(),
        };
        let last = self
            .state
            .last_status
            .as_deref()
            .map(|s| format!(", last known status {s}"))
            .unwrap_or_default();
        format!(
            "could not {what} at {} ({message}); the operation itself may still be running{last} \
             — run the command again to resume",
            url.map(Url::as_str).unwrap_or("<none>")
        )
    }

    fn read_failure_response(&self, response: &ArmResponse, what: &str) -> Error {
        match error_from_response(&self.state.operation, response) {
            Error::Http {
                status,
                code,
                message,
                request_id,
                kind,
                ..
            } => Error::Http {
                operation: self.state.operation.clone(),
                status,
                code,
                message: self.read_failure_message(what, &message),
                request_id,
                kind,
            },
            other => other,
        }
    }

    fn protocol_error(&self, response: &ArmResponse, why: &str) -> Error {
        Error::Http {
            operation: self.state.operation.clone(),
            status: response.status,
            code: "InvalidStatusResponse".into(),
            message: self.read_failure_message("read the operation status", why),
            request_id: super::response_request_id(response),
            kind: ErrorKind::Http,
        }
    }

    fn operation_failed(
        &mut self,
        t: Terminal,
        response: &ArmResponse,
        err: Option<&ArmError>,
    ) -> Error {
        self.state.phase = Phase::Done;
        let state = match t {
            Terminal::Failed => "Failed",
            Terminal::Canceled => "Canceled",
            Terminal::Succeeded => "Succeeded",
        };
        let (code, detail) = match err {
            Some(e) if !e.code.is_empty() => (e.code.clone(), e.describe()),
            Some(e) => (format!("Operation{state}"), e.describe()),
            None => (format!("Operation{state}"), String::new()),
        };
        let message = if detail.is_empty() {
            format!("the operation ended {state}")
        } else {
            format!("the operation ended {state}: {detail}")
        };
        Error::Http {
            operation: self.state.operation.clone(),
            status: response.status,
            code,
            message,
            request_id: self
                .state
                .request_id
                .clone()
                .unwrap_or_else(|| super::response_request_id(response)),
            kind: ErrorKind::Http,
        }
    }

    fn finish(&mut self, t: Terminal, response: &ArmResponse, body: Option<Value>) -> Result<Step> {
        match t {
            Terminal::Succeeded => Ok(self.done(response, body)),
            _ => {
                let err = arm_error(&body);
                Err(self.operation_failed(t, response, err.as_ref()))
            }
        }
    }

    fn done(&mut self, response: &ArmResponse, body: Option<Value>) -> Step {
        self.state.phase = Phase::Done;
        Step::Done(LroOutcome {
            status: response.status,
            body,
            request_id: response.request_id().map(str::to_string),
        })
    }

    fn wait(&self, response: &ArmResponse) -> Step {
        Step::Wait {
            delay: response
                .retry_after()
                .unwrap_or(self.options.default_poll_interval),
            request: self
                .next_request()
                .expect("monitor URLs are validated when stored"),
        }
    }

    fn next_request(&self) -> Result<ArmRequest> {
        let url = match self.state.phase {
            Phase::FinalGet => self.state.final_url.as_ref(),
            _ => self.state.monitor_url.as_ref(),
        }
        .ok_or_else(|| Error::Internal(format!("{}: nothing to poll", self.state.operation)))?;
        self.requests
            .get_url(url.as_str(), self.state.operation.clone())
    }
}

fn header_url(requests: &ArmRequests, response: &ArmResponse, name: &str) -> Result<Option<Url>> {
    match response.header(name).filter(|v| !v.is_empty()) {
        Some(v) => requests.resolve(v).map(Some),
        None => Ok(None),
    }
}

/// The ARM error of a body: `{"error": …}` at the top or under `properties` (deployments).
fn arm_error(body: &Option<Value>) -> Option<ArmError> {
    let b = body.as_ref()?;
    let e = b
        .get("error")
        .or_else(|| b.get("properties").and_then(|p| p.get("error")))?;
    serde_json::from_value(e.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EP: &str = "https://management.azure.com/";

    fn reqs() -> ArmRequests {
        ArmRequests::new(&Url::parse(EP).unwrap(), "sub").unwrap()
    }

    fn opts() -> LroOptions {
        LroOptions {
            default_poll_interval: Duration::from_secs(60),
            max_wait: None,
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: Value) -> ArmResponse {
        ArmResponse::json(status, headers, &body)
    }

    fn empty(status: u16, headers: &[(&str, &str)]) -> ArmResponse {
        ArmResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: vec![],
        }
    }

    fn wait(step: &Step) -> (Duration, &ArmRequest) {
        match step {
            Step::Wait { delay, request } => (*delay, request),
            other => panic!("expected Wait, got {other:?}"),
        }
    }

    fn done(step: Step) -> LroOutcome {
        match step {
            Step::Done(o) => o,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    #[test]
    fn terminal_states_are_case_insensitive() {
        assert_eq!(terminal_state("Succeeded"), Some(Terminal::Succeeded));
        assert_eq!(terminal_state("succeeded"), Some(Terminal::Succeeded));
        assert_eq!(terminal_state("SUCCEEDED"), Some(Terminal::Succeeded));
        assert_eq!(terminal_state("failed"), Some(Terminal::Failed));
        assert_eq!(terminal_state("Canceled"), Some(Terminal::Canceled));
        assert_eq!(terminal_state("cancelled"), Some(Terminal::Canceled));
        for s in [
            "InProgress",
            "Running",
            "Accepted",
            "Updating",
            "Creating",
            "",
        ] {
            assert_eq!(terminal_state(s), None, "{s}");
        }
    }

    #[test]
    fn put_with_async_operation_then_final_get() {
        let r = reqs();
        let put = r.deployment_put("rg", "d", &Default::default()).unwrap();
        let initial = resp(
            201,
            &[
                (
                    "Azure-AsyncOperation",
                    "https://management.azure.com/subscriptions/sub/providers/Microsoft.Resources/deployments/d/operationStatuses/1?api-version=2024-03-01",
                ),
                ("Location", "https://management.azure.com/ignored-for-put"),
                ("Retry-After", "7"),
                ("x-ms-request-id", "req-initial"),
            ],
            json!({"properties": {"provisioningState": "Accepted"}}),
        );
        let (mut p, step) = LroPoller::start(&r, &put, &initial, opts()).unwrap();
        let (d, q) = wait(&step);
        assert_eq!(d, Duration::from_secs(7));
        assert_eq!(q.method, Method::Get);
        assert!(q.url.path().ends_with("/operationStatuses/1"));
        assert_eq!(q.operation, "PUT deployment d");
        assert_eq!(p.state().monitor, Some(MonitorKind::AsyncOperation));
        assert_eq!(p.state().last_status.as_deref(), Some("Accepted"));

        // In progress without Retry-After: default interval.
        let s = p
            .on_response(&resp(200, &[], json!({"status": "Running"})))
            .unwrap();
        assert_eq!(wait(&s).0, Duration::from_secs(60));
        assert_eq!(p.state().last_status.as_deref(), Some("Running"));
        // Lower-case terminal state, then the final GET of the resource.
        let s = p
            .on_response(&resp(
                200,
                &[("Retry-After", "3")],
                json!({"status": "succeeded"}),
            ))
            .unwrap();
        let (d, q) = wait(&s);
        assert_eq!(d, Duration::ZERO);
        assert_eq!(q.url, put.url);
        assert_eq!(p.state().phase, Phase::FinalGet);
        let o = done(
            p.on_response(&resp(
                200,
                &[("x-ms-request-id", "req-final")],
                json!({"name": "d", "properties": {"provisioningState": "Succeeded"}}),
            ))
            .unwrap(),
        );
        assert_eq!(o.status, 200);
        assert_eq!(o.body.unwrap()["name"], "d");
        assert_eq!(o.request_id.as_deref(), Some("req-final"));
        assert_eq!(p.state().phase, Phase::Done);
        assert_eq!(p.state().polls, 3);
        assert!(p.on_response(&resp(200, &[], json!({}))).is_err());
    }

    #[test]
    fn final_get_still_updating_keeps_polling_the_resource() {
        let r = reqs();
        let patch = r.scale_set_update_capacity("rg", "vmss", 3, None).unwrap();
        let (mut p, _) = LroPoller::start(
            &r,
            &patch,
            &resp(
                200,
                &[("Azure-AsyncOperation", "/subscriptions/sub/providers/Microsoft.Compute/locations/westus/operations/9?api-version=2024-07-01")],
                json!({"sku": {"capacity": 3}, "properties": {"provisioningState": "Updating"}}),
            ),
            opts(),
        )
        .unwrap();
        // Relative Azure-AsyncOperation resolved against the endpoint.
        assert_eq!(
            p.state().monitor_url.as_ref().unwrap().as_str(),
            "https://management.azure.com/subscriptions/sub/providers/Microsoft.Compute/locations/westus/operations/9?api-version=2024-07-01"
        );
        p.on_response(&resp(200, &[], json!({"status": "Succeeded"})))
            .unwrap();
        // The resource still says Updating: never report that as success.
        let s = p
            .on_response(&resp(
                200,
                &[("Retry-After", "2")],
                json!({"properties": {"provisioningState": "Updating"}}),
            ))
            .unwrap();
        let (d, q) = wait(&s);
        assert_eq!(d, Duration::from_secs(2));
        assert_eq!(q.url, patch.url);
        assert_eq!(p.state().monitor, Some(MonitorKind::Resource));
        let o = done(
            p.on_response(&resp(
                200,
                &[],
                json!({"properties": {"provisioningState": "Succeeded"}}),
            ))
            .unwrap(),
        );
        assert_eq!(
            o.body.unwrap()["properties"]["provisioningState"],
            "Succeeded"
        );
    }

    #[test]
    fn operation_failed_and_canceled_carry_the_arm_error() {
        let r = reqs();
        let put = r.deployment_put("rg", "d", &Default::default()).unwrap();
        let initial = resp(
            201,
            &[
                ("Azure-AsyncOperation", "/op/1"),
                ("x-ms-request-id", "req-put"),
            ],
            json!({"properties": {"provisioningState": "Running"}}),
        );
        let (mut p, _) = LroPoller::start(&r, &put, &initial, opts()).unwrap();
        let e = p
            .on_response(&resp(
                200,
                &[],
                json!({"status": "Failed", "error": {"code": "DeploymentFailed",
                  "message": "At least one resource deployment operation failed.",
                  "details": [{"code": "SkuNotAvailable", "message": "not in westus"}]}}),
            ))
            .unwrap_err();
        match &e {
            Error::Http {
                operation,
                code,
                message,
                request_id,
                kind,
                ..
            } => {
                assert_eq!(operation, "PUT deployment d");
                assert_eq!(code, "DeploymentFailed");
                assert!(message.contains("ended Failed"), "{message}");
                assert!(
                    message.contains("SkuNotAvailable: not in westus"),
                    "{message}"
                );
                assert_eq!(request_id, "req-put");
                assert_eq!(*kind, ErrorKind::Http);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.state().phase, Phase::Done);

        let (mut p, _) = LroPoller::start(&r, &put, &initial, opts()).unwrap();
        let e = p
            .on_response(&resp(200, &[], json!({"status": "canceled"})))
            .unwrap_err();
        assert!(e.to_string().contains("OperationCanceled"), "{e}");
    }

    #[test]
    fn status_url_error_is_a_read_failure_not_an_operation_failure() {
        let r = reqs();
        let put = r.deployment_put("rg", "d", &Default::default()).unwrap();
        let (mut p, _) = LroPoller::start(
            &r,
            &put,
            &resp(201, &[("Azure-AsyncOperation", "/op/1")], json!({})),
            opts(),
        )
        .unwrap();
        p.on_response(&resp(200, &[], json!({"status": "InProgress"})))
            .unwrap();
        let e = p
            .on_response(&resp(
                500,
                &[("x-ms-request-id", "req-500")],
                json!({"error": {"code": "InternalServerError", "message": "boom"}}),
            ))
            .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("could not read the operation status"), "{s}");
        assert!(s.contains("may still be running"), "{s}");
        assert!(s.contains("last known status InProgress"), "{s}");
        assert!(s.contains("req-500"), "{s}");
        // Not finished: the state can be saved and resumed.
        assert_eq!(p.state().phase, Phase::Polling);
        let (p2, step) = LroPoller::resume(&r, p.state().clone(), opts()).unwrap();
        let (d, q) = wait(&step);
        assert_eq!(d, Duration::ZERO);
        assert!(q.url.path().ends_with("/op/1"));
        assert_eq!(p2.state().polls, 2);

        // A 404 from the status URL is also a read failure (kind NotFound of the read).
        let e = p
            .on_response(&resp(
                404,
                &[],
                json!({"error": {"code": "NotFound", "message": "x"}}),
            ))
            .unwrap_err();
        assert!(e.to_string().contains("could not read"), "{e}");
        // A status body without a status.
        let e = p
            .on_response(&resp(200, &[], json!({"foo": 1})))
            .unwrap_err();
        assert!(e.to_string().contains("no `status`"), "{e}");
    }

    #[test]
    fn post_with_location_only_returns_location_result() {
        let r = reqs();
        let post = r
            .deployment_what_if("rg", "d", &Default::default())
            .unwrap();
        let (mut p, step) = LroPoller::start(
            &r,
            &post,
            &empty(
                202,
                &[
                    (
                        "Location",
                        "/subscriptions/sub/operationresults/abc?api-version=2024-03-01",
                    ),
                    ("Retry-After", "15"),
                ],
            ),
            opts(),
        )
        .unwrap();
        assert_eq!(p.state().monitor, Some(MonitorKind::Location));
        assert_eq!(wait(&step).0, Duration::from_secs(15));
        let s = p.on_response(&empty(202, &[])).unwrap();
        assert_eq!(wait(&s).0, Duration::from_secs(60));
        let o = done(
            p.on_response(&resp(
                200,
                &[],
                json!({"status": "Succeeded", "properties": {"changes": []}}),
            ))
            .unwrap(),
        );
        assert_eq!(o.body.unwrap()["properties"]["changes"], json!([]));
    }

    #[test]
    fn post_with_both_headers_reads_result_at_location() {
        let r = reqs();
        let post = r.scale_set_deallocate("rg", "vmss", None).unwrap();
        let (mut p, step) = LroPoller::start(
            &r,
            &post,
            &empty(
                202,
                &[("Azure-AsyncOperation", "/aao/1"), ("Location", "/loc/1")],
            ),
            opts(),
        )
        .unwrap();
        assert!(wait(&step).1.url.path().ends_with("/aao/1"));
        let s = p
            .on_response(&resp(200, &[], json!({"status": "Succeeded"})))
            .unwrap();
        assert!(wait(&s).1.url.path().ends_with("/loc/1"));
        let o = done(p.on_response(&empty(204, &[])).unwrap());
        assert_eq!(o.status, 204);
        assert!(o.body.is_none());
    }

    #[test]
    fn location_monitor_error_status_is_operation_failure() {
        let r = reqs();
        let del = r.resource_group_delete("rg").unwrap();
        let (mut p, _) =
            LroPoller::start(&r, &del, &empty(202, &[("Location", "/loc/2")]), opts()).unwrap();
        let e = p
            .on_response(&resp(
                409,
                &[],
                json!({"error": {"code": "ResourceGroupDeletionBlocked", "message": "locked"}}),
            ))
            .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("ResourceGroupDeletionBlocked"), "{s}");
        assert!(s.contains("ended Failed"), "{s}");
        // But 503 or 404 there is a failure to read.
        let (mut p, _) =
            LroPoller::start(&r, &del, &empty(202, &[("Location", "/loc/2")]), opts()).unwrap();
        assert!(
            p.on_response(&empty(503, &[]))
                .unwrap_err()
                .to_string()
                .contains("could not read")
        );
    }

    #[test]
    fn delete_async_operation_has_no_final_get() {
        let r = reqs();
        let del = r.resource_group_delete("rg").unwrap();
        let (mut p, _) = LroPoller::start(
            &r,
            &del,
            &empty(
                202,
                &[("Azure-AsyncOperation", "/aao/3"), ("Location", "/loc/3")],
            ),
            opts(),
        )
        .unwrap();
        assert_eq!(p.state().final_url, None);
        done(
            p.on_response(&resp(200, &[], json!({"status": "Succeeded"})))
                .unwrap(),
        );
    }

    #[test]
    fn synchronous_answers_finish_immediately() {
        let r = reqs();
        // PUT 200 with terminal state.
        let put = r.resource_group_put("rg", &Default::default()).unwrap();
        let (_, s) = LroPoller::start(
            &r,
            &put,
            &resp(
                200,
                &[],
                json!({"name": "rg", "properties": {"provisioningState": "Succeeded"}}),
            ),
            opts(),
        )
        .unwrap();
        done(s);
        // PUT without provisioningState: finished and succeeded.
        let (_, s) =
            LroPoller::start(&r, &put, &resp(201, &[], json!({"name": "rg"})), opts()).unwrap();
        done(s);
        // PUT 200 whose body already says Failed.
        let e = LroPoller::start(
            &r,
            &put,
            &resp(
                200,
                &[],
                json!({"properties": {"provisioningState": "Failed",
                       "error": {"code": "Boom", "message": "m"}}}),
            ),
            opts(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("Boom"), "{e}");
        // POST 200 / DELETE 204.
        let post = r.storage_list_keys("rg", "acct").unwrap();
        let o = done(
            LroPoller::start(&r, &post, &resp(200, &[], json!({"keys": []})), opts())
                .unwrap()
                .1,
        );
        assert_eq!(o.body, Some(json!({"keys": []})));
        let del = r.resource_group_delete("rg").unwrap();
        done(
            LroPoller::start(&r, &del, &empty(204, &[]), opts())
                .unwrap()
                .1,
        );
        // An error status is the call's error.
        let e = LroPoller::start(
            &r,
            &put,
            &resp(
                409,
                &[("x-ms-request-id", "r409")],
                json!({"error": {"code": "Conflict", "message": "busy"}}),
            ),
            opts(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn put_without_headers_polls_the_resource_state() {
        let r = reqs();
        let put = r.autoscale_put("rg", "a", &Default::default()).unwrap();
        let (mut p, s) = LroPoller::start(
            &r,
            &put,
            &resp(
                201,
                &[],
                json!({"properties": {"provisioningState": "Creating"}}),
            ),
            opts(),
        )
        .unwrap();
        assert_eq!(wait(&s).1.url, put.url);
        assert_eq!(p.state().monitor, Some(MonitorKind::Resource));
        let s = p
            .on_response(&resp(
                200,
                &[],
                json!({"properties": {"provisioningState": "Creating"}}),
            ))
            .unwrap();
        wait(&s);
        let e = p
            .on_response(&resp(
                200,
                &[],
                json!({"properties": {"provisioningState": "Canceled"}}),
            ))
            .unwrap_err();
        assert!(e.to_string().contains("ended Canceled"), "{e}");
    }

    #[test]
    fn monitor_urls_must_stay_on_the_endpoint() {
        let r = reqs();
        let put = r.deployment_put("rg", "d", &Default::default()).unwrap();
        for bad in ["https://evil.example/op", "http://management.azure.com/op"] {
            let e = LroPoller::start(
                &r,
                &put,
                &resp(201, &[("Azure-AsyncOperation", bad)], json!({})),
                opts(),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Validation, "{bad}");
        }
        // A saved state pointing elsewhere is refused on resume.
        let (p, _) = LroPoller::start(
            &r,
            &put,
            &resp(201, &[("Azure-AsyncOperation", "/op")], json!({})),
            opts(),
        )
        .unwrap();
        let mut st = p.state().clone();
        st.monitor_url = Some(Url::parse("https://evil.example/op").unwrap());
        assert!(LroPoller::resume(&r, st, opts()).is_err());
    }

    #[test]
    fn state_serializes_for_resume() {
        let r = reqs();
        let put = r.deployment_put("rg", "d", &Default::default()).unwrap();
        let (p, _) = LroPoller::start(
            &r,
            &put,
            &resp(201, &[("Azure-AsyncOperation", "/op")], json!({})),
            opts(),
        )
        .unwrap();
        let saved = serde_json::to_string(p.state()).unwrap();
        let back: LroState = serde_json::from_str(&saved).unwrap();
        assert_eq!(&back, p.state());
        assert!(saved.contains("\"monitor\":\"async-operation\""), "{saved}");
    }
}
