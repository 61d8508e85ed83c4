//! HTTPS serving: TLS, connections (and resetting them), the request pipeline (faults,
//! latency, authentication, throttling, recording), the token endpoint and `/_double/`.

use crate::arm::{self, Ctx};
use crate::config::Settings;
use crate::error::ArmError;
use crate::faults::{FaultAction, FaultRule, FaultScript};
use crate::record::{RecordedRequest, RequestKind};
use crate::state::{State, Token};
use crate::throttle::{Buckets, Class};
use crate::wire::{Body, Reply, Req};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

/// Where the double listens and how to authenticate (printed by the binary).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoints {
    /// Management endpoint, e.g. `https://127.0.0.1:40123/`.
    pub management_url: String,
    /// Authority host for the client-secret credential (same server).
    pub token_authority_url: String,
    /// Token URL (`{authority}{tenant}/oauth2/v2.0/token`).
    pub token_url: String,
    /// Control endpoint (`/_double/`).
    pub control_url: String,
    /// Custom-metrics ingestion endpoint template: `{region}` stands for the region
    /// (`https://127.0.0.1:PORT/regions/{region}/`).
    pub metrics_url: String,
    /// Where the CA certificate was written, if it was.
    pub ca_pem_path: Option<String>,
    /// Tenant id.
    pub tenant_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (a throwaway value of this double).
    pub client_secret: String,
    /// Subscription id.
    pub subscription_id: String,
    /// Location.
    pub location: String,
    /// Real seconds per simulated second.
    pub time_scale: f64,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("management_url", &self.management_url)
            .field("token_url", &self.token_url)
            .field("ca_pem_path", &self.ca_pem_path)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("subscription_id", &self.subscription_id)
            .finish_non_exhaustive()
    }
}

/// State shared by all connections.
pub struct Shared {
    /// Everything mutable.
    pub state: Mutex<State>,
    /// CA certificate (PEM).
    pub ca_pem: String,
    /// Endpoints.
    pub endpoints: Endpoints,
}

impl Shared {
    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Accepts connections until `shutdown` flips.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((tcp, _)) = accepted {
                    let acceptor = acceptor.clone();
                    let shared = shared.clone();
                    tokio::spawn(connection(tcp, acceptor, shared));
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

async fn connection(tcp: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    // A second handle on the socket, to turn the close into a reset on demand.
    let raw = tcp.as_fd().try_clone_to_owned().ok();
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    let kill = Arc::new(Notify::new());
    let kill_svc = kill.clone();
    let svc = service_fn(move |req| {
        let shared = shared.clone();
        let kill = kill_svc.clone();
        async move { Ok::<_, Infallible>(respond(shared, kill, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), svc);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {
            if let Some(fd) = &raw {
                let _ = socket2::SockRef::from(fd).set_linger(Some(std::time::Duration::ZERO));
            }
        }
    }
    drop(raw);
}

async fn respond(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, 32 * 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            return to_response(Reply::error(
                413,
                ArmError::new("RequestEntityTooLarge", "The request body is too large."),
            ));
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let req = Req::new(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        headers,
        body,
    );
    match process(&shared, req).await {
        Some(reply) => to_response(reply),
        None => {
            kill.notify_one();
            std::future::pending::<()>().await;
            unreachable!("the connection is dropped while this future is pending")
        }
    }
}

fn to_response(reply: Reply) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder().status(reply.status);
    let (bytes, ctype) = match reply.body {
        Body::Empty => (Bytes::new(), None),
        Body::Json(v) => (
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
            Some("application/json; charset=utf-8"),
        ),
        Body::Text(t, c) => (Bytes::from(t), Some(c)),
    };
    if let Some(c) = ctype {
        b = b.header("content-type", c);
    }
    b = b.header("cache-control", "no-cache");
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(bytes)).unwrap_or_else(|_| {
        hyper::Response::builder()
            .status(500)
            .body(Full::new(Bytes::from_static(b"invalid response header")))
            .expect("static response")
    })
}

fn is_token_path(req: &Req) -> bool {
    req.segments.len() == 4
        && req.segments[1].eq_ignore_ascii_case("oauth2")
        && req.segments[2].eq_ignore_ascii_case("v2.0")
        && req.segments[3].eq_ignore_ascii_case("token")
}

/// Runs one request through the pipeline. `None` means: reset the connection.
async fn process(shared: &Shared, req: Req) -> Option<Reply> {
    if req.segments.first().is_some_and(|s| s == "_double") {
        return Some(control(shared, &req));
    }
    let token_call = is_token_path(&req);
    let metrics_call = !token_call && crate::metrics::is_metrics_path(&req);
    let kind = if token_call {
        RequestKind::Token
    } else if metrics_call {
        RequestKind::Metrics
    } else {
        RequestKind::Management
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation = req
        .header("x-ms-correlation-request-id")
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let (fault, delay, arrival) = {
        let mut st = shared.lock();
        let fault = st.faults.check(&req.method, &req.path, false);
        let mut delay = if token_call || metrics_call {
            0.0
        } else {
            st.settings.latency.request_secs
        };
        if let Some(FaultAction::SlowPoll {
            delay_secs: Some(d),
            ..
        }) = &fault
        {
            delay += d;
        }
        let arrival = st.clock.now();
        (fault, st.clock.real(delay), arrival)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let fault_name = fault.as_ref().map(|f| f.name().to_string());
    let mut st = shared.lock();
    let reply = match &fault {
        Some(FaultAction::ConnectionReset) => None,
        Some(FaultAction::Throttle { retry_after_secs }) => {
            let class = Class::of(&req.method);
            let e = ArmError::new(
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{}' requests for subscription '{}' actor '{}' exceeded. Please try again after '{}' seconds after the last request (injected fault).",
                    class.word(),
                    st.subscription_id,
                    st.client_id,
                    retry_after_secs.ceil()
                ),
            );
            Some(arm::with_retry(
                &st,
                Reply::error(429, e).header(class.header(), "0"),
                *retry_after_secs,
            ))
        }
        Some(FaultAction::ServerError {
            status,
            retry_after_secs,
        }) => {
            let e = match status {
                503 => ArmError::new(
                    "ServiceUnavailable",
                    "The service is temporarily unavailable. Please retry (injected fault).",
                ),
                502 => ArmError::new("BadGateway", "Bad gateway (injected fault)."),
                504 => ArmError::new("GatewayTimeout", "The gateway timed out (injected fault)."),
                _ => ArmError::new(
                    "InternalServerError",
                    "Encountered internal server error (injected fault).",
                ),
            };
            let r = Reply::error(*status, e);
            Some(match retry_after_secs {
                Some(s) => arm::with_retry(&st, r, *s),
                None => r,
            })
        }
        Some(FaultAction::Error {
            status,
            code,
            message,
            retry_after_secs,
        }) => {
            let r = Reply::error(*status, ArmError::new(code.clone(), message.clone()));
            Some(match retry_after_secs {
                Some(s) => arm::with_retry(&st, r, *s),
                None => r,
            })
        }
        Some(FaultAction::ExpiredToken) => {
            let now = crate::clock::stamp(time::OffsetDateTime::now_utc());
            let past =
                crate::clock::stamp(time::OffsetDateTime::now_utc() - time::Duration::minutes(5));
            Some(unauthorized(
                &st,
                "ExpiredAuthenticationToken",
                &format!(
                    "The access token expiry UTC time '{past}' is earlier than current UTC time '{now}'."
                ),
                "The access token has expired.",
            ))
        }
        _ if token_call => Some(token(&mut st, &req)),
        _ if metrics_call => {
            let now = st.clock.now();
            st.advance(now);
            Some(
                match authenticate(&st, &req, crate::metrics::MONITORING_AUDIENCE) {
                    Err(r) => r,
                    Ok(()) => crate::metrics::handle(&st, &req),
                },
            )
        }
        _ => {
            let now = st.clock.now();
            let ctx = Ctx {
                now,
                correlation_id: correlation.clone(),
                fault: fault.clone(),
            };
            Some(management(&mut st, &req, &ctx))
        }
    };
    let reply = reply.map(|mut r| {
        if let Some(FaultAction::SlowPoll {
            retry_after_secs: Some(s),
            ..
        }) = &fault
            && r.get_header("Retry-After").is_some()
        {
            r.headers.retain(|(k, _)| {
                !k.eq_ignore_ascii_case("retry-after") && !k.eq_ignore_ascii_case("retry-after-ms")
            });
            r = arm::with_retry(&st, r, *s);
        }
        r = r
            .header("x-ms-request-id", request_id.clone())
            .header("x-ms-correlation-request-id", correlation.clone())
            .header(
                "x-ms-routing-request-id",
                format!("{}:{}", st.location.to_ascii_uppercase(), request_id),
            );
        if let Some(c) = req.header("x-ms-client-request-id") {
            r = r.header("x-ms-client-request-id", c.to_string());
        }
        r
    });
    record(
        &mut st,
        &req,
        kind,
        arrival,
        reply.as_ref().map(|r| r.status).unwrap_or(0),
        fault_name,
        reply.as_ref().map(|_| request_id.clone()),
    );
    reply
}

fn record(
    st: &mut State,
    req: &Req,
    kind: RequestKind,
    arrival: crate::clock::SimTime,
    status: u16,
    fault: Option<String>,
    request_id: Option<String>,
) {
    let body = if kind == RequestKind::Token {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&req.body)
            .map(|(k, v)| {
                let v = if k == "client_secret" {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    } else {
        String::from_utf8_lossy(&req.body).into_owned()
    };
    let mut headers = std::collections::BTreeMap::new();
    for (k, v) in &req.headers {
        if k == "authorization" {
            continue;
        }
        headers
            .entry(k.clone())
            .and_modify(|e: &mut String| {
                e.push_str(", ");
                e.push_str(v)
            })
            .or_insert_with(|| v.clone());
    }
    let seq = st.next_request;
    st.next_request += 1;
    st.requests.push(RecordedRequest {
        seq,
        timestamp: crate::clock::stamp(time::OffsetDateTime::now_utc()),
        sim_secs: arrival.secs(),
        kind,
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.raw_query.clone(),
        headers,
        body,
        status,
        fault,
        request_id,
    });
}

fn unauthorized(st: &State, code: &str, message: &str, description: &str) -> Reply {
    Reply::error(401, ArmError::new(code, message)).header(
        "WWW-Authenticate",
        format!(
            "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{description}\"",
            st.base_url, st.tenant_id
        ),
    )
}

/// Checks the bearer token; `audience` is the one the endpoint accepts (the management
/// endpoint accepts every token but the ones issued for the metrics ingestion audience).
fn authenticate(st: &State, req: &Req, audience: &str) -> Result<(), Reply> {
    let Some(h) = req.header("authorization") else {
        return Err(unauthorized(
            st,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let token = match h.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            return Err(unauthorized(
                st,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                "The authentication failed because of an invalid 'Authorization' header.",
            ));
        }
    };
    let Some(t) = st.tokens.get(token) else {
        return Err(unauthorized(
            st,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            "The access token is invalid.",
        ));
    };
    if std::time::Instant::now() >= t.expires {
        return Err(unauthorized(
            st,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                crate::clock::stamp(t.expires_wall),
                crate::clock::stamp(time::OffsetDateTime::now_utc())
            ),
            "The access token has expired.",
        ));
    }
    let metrics = audience == crate::metrics::MONITORING_AUDIENCE;
    let token_for_metrics = t.audience.as_deref() == Some(crate::metrics::MONITORING_AUDIENCE);
    if metrics != token_for_metrics {
        let got = t.audience.as_deref().unwrap_or(st.base_url.as_str());
        let want = if metrics {
            audience
        } else {
            "the management endpoint"
        };
        return Err(unauthorized(
            st,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{got}'. It should exactly match with one of the allowed audiences: {want}."
            ),
            "The access token audience is invalid.",
        ));
    }
    Ok(())
}

fn management(st: &mut State, req: &Req, ctx: &Ctx) -> Reply {
    st.advance(ctx.now);
    if let Err(r) = authenticate(st, req, "") {
        return r;
    }
    let class = Class::of(&req.method);
    let enforce = st.settings.throttling.enabled;
    match st.buckets.take(class, ctx.now, enforce) {
        Err(wait) => {
            let e = ArmError::new(
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{}' requests for subscription '{}' actor '{}' exceeded. Please try again after '{}' seconds after the last request.",
                    class.word(),
                    st.subscription_id,
                    st.client_id,
                    wait.ceil()
                ),
            );
            arm::with_retry(st, Reply::error(429, e).header(class.header(), "0"), wait)
        }
        Ok(remaining) => arm::handle(st, req, ctx).header(class.header(), remaining.to_string()),
    }
}

fn aad_error(status: u16, error: &str, code: u32, description: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {}", crate::clock::stamp(time::OffsetDateTime::now_utc())),
            "error_codes": [code],
            "timestamp": crate::clock::stamp(time::OffsetDateTime::now_utc()),
            "trace_id": trace,
            "correlation_id": trace,
        }),
    )
}

/// Issues a management token (also used by the library API).
pub fn issue_token(st: &mut State) -> String {
    issue_token_for(st, None)
}

/// Issues a token for `audience` (`None`: a management token).
pub fn issue_token_for(st: &mut State, audience: Option<String>) -> String {
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let life = std::time::Duration::from_secs(st.token_lifetime_secs);
    st.tokens.insert(
        token.clone(),
        Token {
            audience,
            expires: std::time::Instant::now() + life,
            expires_wall: time::OffsetDateTime::now_utc() + life,
        },
    );
    token
}

fn token(st: &mut State, req: &Req) -> Reply {
    if req.method != "POST" {
        return aad_error(
            405,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
        );
    }
    let tenant = &req.segments[0];
    if !tenant.eq_ignore_ascii_case(&st.tenant_id) {
        return aad_error(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
        None => {
            return aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let client_id = get("client_id").unwrap_or("");
    if client_id != st.client_id {
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                st.tenant_id
            ),
        );
    }
    if get("client_secret") != Some(st.client_secret.as_str()) {
        return aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    let Some(scope) = get("scope").filter(|s| !s.is_empty()) else {
        return aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    if !scope.split(' ').all(|s| s.ends_with("/.default")) {
        return aad_error(
            400,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    let life = st.token_lifetime_secs;
    let audience = crate::metrics::audience_of_scope(scope);
    let token = issue_token_for(st, Some(audience));
    Reply::json(
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": life,
            "ext_expires_in": life,
            "access_token": token
        }),
    )
}

fn control_error(status: u16, message: impl Into<String>) -> Reply {
    Reply::error(status, ArmError::new("InvalidControlRequest", message))
}

fn parse_rules(v: Value) -> Result<Vec<FaultRule>, String> {
    let list = match v {
        Value::Array(_) => v,
        Value::Object(ref o) if o.contains_key("rules") => o["rules"].clone(),
        Value::Object(_) => Value::Array(vec![v]),
        _ => return Err("expected a fault rule, a list of rules or {\"rules\": [...]}".into()),
    };
    let rules: Vec<FaultRule> = serde_json::from_value(list).map_err(|e| e.to_string())?;
    for (i, r) in rules.iter().enumerate() {
        r.check().map_err(|m| format!("rule {i}: {m}"))?;
    }
    Ok(rules)
}

/// Applies new settings (validated).
pub fn apply_settings(st: &mut State, s: Settings) -> Result<(), String> {
    s.check()?;
    let now = st.clock.now();
    if s.throttling != st.settings.throttling {
        st.buckets.reconfigure(&s.throttling, now);
    }
    st.settings = s;
    Ok(())
}

/// Resets throttling buckets to full.
pub fn refill_buckets(st: &mut State) {
    let now = st.clock.now();
    st.buckets = Buckets::new(&st.settings.throttling, now);
}

fn control(shared: &Shared, req: &Req) -> Reply {
    let parts: Vec<&str> = req.segments[1..].iter().map(String::as_str).collect();
    let mut st = shared.lock();
    let now = st.clock.now();
    st.advance(now);
    let body = || -> Result<Value, Reply> {
        if req.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&req.body)
            .map_err(|e| control_error(400, format!("invalid JSON: {e}")))
    };
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["info"]) => Reply::json(
            200,
            serde_json::to_value(&shared.endpoints).unwrap_or_default(),
        ),
        ("GET", ["ca.pem"]) => Reply {
            status: 200,
            headers: Vec::new(),
            body: Body::Text(shared.ca_pem.clone(), "application/x-pem-file"),
        },
        ("GET", ["requests"]) => {
            Reply::json(200, serde_json::to_value(&st.requests).unwrap_or_default())
        }
        ("DELETE", ["requests"]) => {
            st.requests.clear();
            Reply::empty(204)
        }
        ("GET", ["faults"]) => {
            Reply::json(200, serde_json::to_value(&st.faults).unwrap_or_default())
        }
        ("PUT", ["faults"]) | ("POST", ["faults"]) => {
            let v = match body() {
                Ok(v) => v,
                Err(r) => return r,
            };
            match parse_rules(v) {
                Ok(rules) => {
                    if req.method == "PUT" {
                        st.faults = FaultScript::new(rules);
                    } else {
                        st.faults.rules.extend(FaultScript::new(rules).rules);
                    }
                    Reply::json(200, serde_json::to_value(&st.faults).unwrap_or_default())
                }
                Err(m) => control_error(400, m),
            }
        }
        ("DELETE", ["faults"]) => {
            st.faults = FaultScript::default();
            Reply::empty(204)
        }
        ("GET", ["settings"]) => {
            Reply::json(200, serde_json::to_value(&st.settings).unwrap_or_default())
        }
        ("PUT", ["settings"]) | ("PATCH", ["settings"]) => {
            let v = match body() {
                Ok(v) => v,
                Err(r) => return r,
            };
            let merged = if req.method == "PATCH" {
                let mut cur = serde_json::to_value(&st.settings).unwrap_or_default();
                merge(&mut cur, &v);
                cur
            } else {
                v
            };
            match serde_json::from_value::<Settings>(merged)
                .map_err(|e| e.to_string())
                .and_then(|s| apply_settings(&mut st, s))
            {
                Ok(()) => Reply::json(200, serde_json::to_value(&st.settings).unwrap_or_default()),
                Err(m) => control_error(400, m),
            }
        }
        ("POST", ["throttling", "refill"]) => {
            refill_buckets(&mut st);
            Reply::empty(204)
        }
        ("POST", ["tokens", "expire"]) => {
            let past = std::time::Instant::now();
            for t in st.tokens.values_mut() {
                t.expires = past;
                t.expires_wall = time::OffsetDateTime::now_utc();
            }
            Reply::empty(204)
        }
        ("GET", ["state"]) => Reply::json(200, st.snapshot()),
        ("GET", ["deployments", rg, name, "timeline"]) => {
            let key = crate::template::normalise_id(&format!(
                "{}/providers/Microsoft.Resources/deployments/{name}",
                st.rg_id(rg)
            ));
            match st.deployments.get(&key) {
                Some(d) => Reply::json(200, st.deployment_timeline(d)),
                None => control_error(
                    404,
                    format!("no deployment '{name}' in resource group '{rg}'"),
                ),
            }
        }
        _ => control_error(
            404,
            format!(
                "unknown control call {} {}; see tests/arm-double/README.md",
                req.method, req.path
            ),
        ),
    }
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
