//! [`ArmClient`]: sends [`ArmRequest`]s with reqwest (rustls), retries, reports throttling
//! headers through an event sink, and drives the long-running-operation poller.
//!
//! - Retries follow [`RetryPolicy`] (408/429/5xx, `Retry-After` exactly, back-off with jitter,
//!   a total budget); connection failures and attempt timeouts are retried too.
//! - A 401 makes the client drop its cached token and try once more with a fresh one.
//! - Every error carries the operation, the status, the ARM code and a request id
//!   (`x-ms-request-id`, else the correlation id, else the client request id sent).
//! - Bearer tokens go only over https and only to the management endpoint's host.
//! - Cancellation: every future here can be dropped at any await point (e.g. on Ctrl-C); a
//!   [`Poller`]'s [`LroState`] can be saved and [`ArmClient::resume`]d later.

use super::auth::{AuthMethod, AuthOptions, BoxFuture, Credential, TokenEndpoint, TokenProvider};
use super::lro::{LroOptions, LroOutcome, LroPoller, LroState, Phase, Step};
use super::metrics::{MetricValue, MetricsEndpoint, publish_request};
use super::models::{
    ArmList, AutoscaleSetting, Deployment, DeploymentOperation, DeploymentRequest,
    ProtectionPolicy, ResourceGroup, ScaleSetVm, StorageAccountKeys, VirtualMachineScaleSet,
    WhatIfResult,
};
use super::requests::{ArmRequest, ArmRequests, ArmResponse, Method, RequestClass};
use super::retry::{AttemptOutcome, RetryDecision, RetryPolicy};
use super::{error_from_response, response_request_id};
use crate::error::{Diagnostic, Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Endpoints of an Azure cloud (or of a test server speaking the same protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// Resource Manager endpoint, e.g. `https://management.azure.com/`.
    pub management: Url,
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com/`.
    pub authority_host: Url,
    /// Token scope for Resource Manager, e.g. `https://management.azure.com/.default`.
    pub token_scope: String,
    /// Custom-metrics ingestion endpoint and its token scope.
    pub metrics: MetricsEndpoint,
}

impl CloudEndpoints {
    fn known(management: &str, authority: &str, metrics: MetricsEndpoint) -> Self {
        let management = Url::parse(management).expect("static URL");
        Self {
            token_scope: format!("{}.default", management.as_str()),
            management,
            authority_host: Url::parse(authority).expect("static URL"),
            metrics,
        }
    }

    /// Azure public cloud.
    pub fn public() -> Self {
        Self::known(
            "https://management.azure.com/",
            "https://login.microsoftonline.com/",
            MetricsEndpoint::public(),
        )
    }

    /// Azure US Government.
    pub fn us_government() -> Self {
        Self::known(
            "https://management.usgovcloudapi.net/",
            "https://login.microsoftonline.us/",
            MetricsEndpoint::us_government(),
        )
    }

    /// Azure operated by 21Vianet (China).
    pub fn china() -> Self {
        Self::known(
            "https://management.chinacloudapi.cn/",
            "https://login.chinacloudapi.cn/",
            MetricsEndpoint::china(),
        )
    }

    /// Custom endpoints (both must be https); the scope is `<management>/.default`; custom
    /// metrics go to the public cloud's ingestion endpoint (set [`Self::metrics`] to change it).
    pub fn custom(management: Url, authority_host: Url) -> Result<Self> {
        super::requests::require_https(&management, "management_endpoint")?;
        super::requests::require_https(&authority_host, "authority_host")?;
        let mut root = management.clone();
        root.set_path("/");
        root.set_query(None);
        Ok(Self {
            token_scope: format!("{}.default", root.as_str()),
            management,
            authority_host,
            metrics: MetricsEndpoint::public(),
        })
    }
}

/// Azure's Resource Manager hosts (public, US Government, China).
const AZURE_MANAGEMENT_HOSTS: [&str; 3] = [
    "management.azure.com",
    "management.usgovcloudapi.net",
    "management.chinacloudapi.cn",
];
/// Entra ID authority hosts of the three clouds.
const AZURE_AUTHORITY_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
];
/// Host suffixes of Azure Monitor's regional custom-metrics ingestion endpoints.
const AZURE_METRICS_SUFFIXES: [&str; 3] = [
    ".monitoring.azure.com",
    ".monitoring.azure.us",
    ".monitoring.azure.cn",
];

impl CloudEndpoints {
    /// Whether these endpoints point at a test server, and if so that the test server can only
    /// ever receive tokens it issued itself.
    ///
    /// A management or metrics endpoint that is not Azure's is honoured only with a test
    /// credential: the authority host is not Entra ID and is the same host (and port) as
    /// every such endpoint, and `method` gets its tokens from that authority (`Environment`,
    /// `WorkloadIdentity`, or `Auto`, whose chain then holds only those two). A managed
    /// identity or the Azure CLI is refused: their tokens come from Entra ID whatever the
    /// authority says. Otherwise a token for Azure (say, the monitoring scope the metrics
    /// endpoint keeps) could be sent to any host.
    pub fn check_credential(&self, method: AuthMethod) -> Result<bool> {
        fn host_port(u: &Url) -> (Option<String>, Option<u16>) {
            (
                u.host_str().map(str::to_ascii_lowercase),
                u.port_or_known_default(),
            )
        }
        let authority = host_port(&self.authority_host);
        let entra = authority
            .0
            .as_deref()
            .is_some_and(|h| AZURE_AUTHORITY_HOSTS.contains(&h));
        let metrics = self.metrics.sample_url()?;
        let management_azure = host_port(&self.management)
            .0
            .is_some_and(|h| AZURE_MANAGEMENT_HOSTS.contains(&h.as_str()));
        let metrics_azure = host_port(&metrics)
            .0
            .is_some_and(|h| AZURE_METRICS_SUFFIXES.iter().any(|s| h.ends_with(s)));
        let mut test = false;
        for (field, azure, url) in [
            ("management_url", management_azure, &self.management),
            ("metrics_url", metrics_azure, &metrics),
        ] {
            if azure {
                continue;
            }
            test = true;
            let problem = if entra || host_port(url) != authority {
                Some("the authority host (AZURE_AUTHORITY_HOST) is not the same test server")
            } else if matches!(method, AuthMethod::ManagedIdentity | AuthMethod::AzureCli) {
                Some("this credential's tokens come from Entra ID, not from the test server")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Error::invalid(
                    Diagnostic::error(
                        field,
                        "test-endpoint",
                        format!(
                            "`{}` is not an Azure endpoint, and an endpoint override is honoured \
                             only with a test server's own credential: {problem}",
                            url.as_str().escape_debug()
                        ),
                    )
                    .hint(
                        "against Azure, unset DSVMPOOL_MANAGEMENT_URL and DSVMPOOL_METRICS_URL; \
                         for a local test server, set AZURE_AUTHORITY_HOST to that server and \
                         use its credential with --auth env",
                    ),
                ));
            }
        }
        Ok(test)
    }
}

impl Default for CloudEndpoints {
    fn default() -> Self {
        Self::public()
    }
}

/// Remaining ARM request quota, from the `x-ms-ratelimit-remaining-subscription-*` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RateLimits {
    /// Reads left in the bucket.
    pub reads: Option<u32>,
    /// Writes left.
    pub writes: Option<u32>,
    /// Deletes left.
    pub deletes: Option<u32>,
}

impl RateLimits {
    /// Reads the headers of `response` (`None` when it has none).
    pub fn from_response(response: &ArmResponse) -> Option<Self> {
        let get = |kind: &str| {
            response
                .header(&format!("x-ms-ratelimit-remaining-subscription-{kind}"))
                .or_else(|| {
                    response.header(&format!(
                        "x-ms-ratelimit-remaining-subscription-global-{kind}"
                    ))
                })
                .and_then(|v| v.trim().parse().ok())
        };
        let r = Self {
            reads: get("reads"),
            writes: get("writes"),
            deletes: get("deletes"),
        };
        (r != Self::default()).then_some(r)
    }

    fn merge(&mut self, other: Self) {
        self.reads = other.reads.or(self.reads);
        self.writes = other.writes.or(self.writes);
        self.deletes = other.deletes.or(self.deletes);
    }
}

/// What the client is doing, for progress display (no tracing dependency).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ClientEvent {
    /// A request is being sent.
    Request {
        /// Operation.
        operation: String,
        /// Method.
        method: Method,
        /// URL (no secrets: tokens travel in headers).
        url: String,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// A response arrived.
    Response {
        /// Operation.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Request id.
        request_id: String,
        /// Time of this attempt.
        elapsed: Duration,
    },
    /// The call will be retried.
    Retry {
        /// Operation.
        operation: String,
        /// The attempt that failed.
        attempt: u32,
        /// Wait before the next attempt.
        delay: Duration,
        /// Why (`HTTP 429`, `connection failed: …`, `timeout`, `expired token`).
        reason: String,
    },
    /// Throttling headers were seen.
    RateLimit {
        /// Bucket of the request.
        class: RequestClass,
        /// Remaining quota.
        remaining: RateLimits,
    },
    /// A long-running operation was polled.
    Poll {
        /// Operation.
        operation: String,
        /// Last status reported by the service.
        status: Option<String>,
        /// Wait before the next poll (`None` when finished).
        next_poll_in: Option<Duration>,
    },
}

/// Receives [`ClientEvent`]s.
pub type EventSink = Arc<dyn Fn(&ClientEvent) + Send + Sync>;

/// An HTTP request as the transport sends it (with `Authorization`). `Debug` redacts it.
#[derive(Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// URL.
    pub url: Url,
    /// All headers, including `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("authorization") {
                    (k.as_str(), "***")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// Timed out.
    Timeout,
    /// The connection broke (reset, closed mid-body) or another I/O failure.
    Io,
    /// The server's certificate is not trusted (never retried: it will not change).
    Certificate,
}

/// A request that got no (complete) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// Classification.
    pub kind: TransportErrorKind,
    /// Description (with the causes).
    pub message: String,
}

/// Sends one HTTP request. The client retries; a transport does not.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<ArmResponse, TransportError>>;
}

/// The reqwest (rustls) transport.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Wraps a reqwest client.
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

/// Builds the reqwest client: rustls, https only, no redirects; with `test_ca_pem`, only that
/// CA is trusted (for a local test server), else the system roots.
pub fn build_http_client(
    test_ca_pem: Option<&[u8]>,
    connect_timeout: Duration,
) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("dsvmpool/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = test_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            Error::invalid(Diagnostic::error(
                "test_ca",
                "pem",
                format!("the CA file is not a PEM certificate bundle: {e}"),
            ))
        })?;
        if certs.is_empty() {
            return Err(Error::invalid(Diagnostic::error(
                "test_ca",
                "pem",
                "the CA file holds no certificate",
            )));
        }
        b = b.tls_certs_only(certs);
    }
    b.build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {}", chain(&e))))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<ArmResponse, TransportError>> {
        Box::pin(async move {
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Put => reqwest::Method::PUT,
                Method::Post => reqwest::Method::POST,
                Method::Patch => reqwest::Method::PATCH,
                Method::Delete => reqwest::Method::DELETE,
            };
            let mut rb = self.client.request(method, request.url.clone());
            for (k, v) in &request.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            // ARM wants a Content-Length on bodyless POSTs.
            rb = match request.body {
                Some(b) => rb.body(b),
                None if matches!(request.method, Method::Post | Method::Put | Method::Patch) => {
                    rb.header("Content-Length", "0")
                }
                None => rb,
            };
            let map_err = |e: reqwest::Error| {
                let message = chain(&e);
                TransportError {
                    kind: if e.is_timeout() {
                        TransportErrorKind::Timeout
                    } else if message.contains("invalid peer certificate") {
                        TransportErrorKind::Certificate
                    } else if e.is_connect() {
                        TransportErrorKind::Connect
                    } else {
                        TransportErrorKind::Io
                    },
                    message,
                }
            };
            let resp = rb.send().await.map_err(map_err)?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp.bytes().await.map_err(map_err)?.to_vec();
            Ok(ArmResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Everything [`ArmClient::new`] needs.
#[derive(Clone)]
pub struct ClientConfig {
    /// Cloud endpoints.
    pub cloud: CloudEndpoints,
    /// Subscription id.
    pub subscription_id: String,
    /// Credential settings.
    pub auth: AuthOptions,
    /// Test option: trust only this CA (PEM) for the management and token endpoints, e.g. the
    /// throwaway CA of a local test server. Never needed against Azure.
    pub test_ca_pem: Option<Vec<u8>>,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Poller settings.
    pub lro: LroOptions,
    /// Progress events.
    pub events: Option<EventSink>,
}

impl ClientConfig {
    /// Public cloud, the credential chain, default retry and polling.
    pub fn new(subscription_id: impl Into<String>) -> Self {
        Self {
            cloud: CloudEndpoints::public(),
            subscription_id: subscription_id.into(),
            auth: AuthOptions::default(),
            test_ca_pem: None,
            retry: RetryPolicy::default(),
            lro: LroOptions::default(),
            events: None,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("cloud", &self.cloud)
            .field("subscription_id", &self.subscription_id)
            .field("auth", &self.auth)
            .field("test_ca_pem", &self.test_ca_pem.as_ref().map(|_| "<pem>"))
            .field("retry", &self.retry)
            .field("lro", &self.lro)
            .field("events", &self.events.as_ref().map(|_| "<sink>"))
            .finish()
    }
}

struct Inner {
    requests: ArmRequests,
    scope: String,
    metrics: MetricsEndpoint,
    transport: Arc<dyn Transport>,
    tokens: Arc<dyn TokenProvider>,
    retry: RetryPolicy,
    lro: LroOptions,
    events: Option<EventSink>,
    rng: Mutex<fastrand::Rng>,
    rate_limits: Mutex<RateLimits>,
}

/// The ARM client. Cheap to clone (shared state).
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.requests.endpoint().as_str())
            .field("subscription", &self.inner.requests.subscription())
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

/// Progress of a [`Poller`] after one step.
#[derive(Debug, Clone, PartialEq)]
pub enum PollStatus {
    /// Still running.
    Running {
        /// Last status reported (`InProgress`, `Running`, `Updating`, …).
        status: Option<String>,
        /// Wait before the next poll.
        next_poll_in: Duration,
    },
    /// Finished successfully.
    Done(LroOutcome),
}

impl ArmClient {
    /// A client with an `azure_identity` credential and the reqwest transport.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let requests = ArmRequests::new(&config.cloud.management, &config.subscription_id)?;
        // Tokens only ever go to where they come from (see CloudEndpoints::check_credential).
        let test_server = config.cloud.check_credential(config.auth.method)?;
        let http = build_http_client(config.test_ca_pem.as_deref(), Duration::from_secs(10))?;
        let mut credential = Credential::new(
            &config.auth,
            &TokenEndpoint {
                authority_host: config.cloud.authority_host.clone(),
                http_client: config.test_ca_pem.as_ref().map(|_| http.clone()),
            },
        )?;
        if test_server {
            credential = credential.authority_only()?;
        }
        Ok(Self::with_parts(
            requests,
            config.cloud.token_scope,
            Arc::new(ReqwestTransport::new(http)),
            Arc::new(credential),
            config.retry,
            config.lro,
            config.events,
        )
        .with_metrics_endpoint(config.cloud.metrics))
    }

    /// This client with another custom-metrics ingestion endpoint (default: the public
    /// cloud's); the other settings and the credential are shared. Crate-only: the endpoint
    /// must have passed [`CloudEndpoints::check_credential`] with this client's credential.
    pub(crate) fn with_metrics_endpoint(self, metrics: MetricsEndpoint) -> Self {
        let i = &self.inner;
        let rng = i.rng.lock().expect("rng lock").fork();
        Self {
            inner: Arc::new(Inner {
                requests: i.requests.clone(),
                scope: i.scope.clone(),
                metrics,
                transport: i.transport.clone(),
                tokens: i.tokens.clone(),
                retry: i.retry.clone(),
                lro: i.lro.clone(),
                events: i.events.clone(),
                rng: Mutex::new(rng),
                rate_limits: Mutex::new(*i.rate_limits.lock().expect("rate limit lock")),
            }),
        }
    }

    /// The custom-metrics ingestion endpoint of this client.
    pub fn metrics_endpoint(&self) -> &MetricsEndpoint {
        &self.inner.metrics
    }

    /// A client from its parts (custom transport or token provider).
    pub fn with_parts(
        requests: ArmRequests,
        token_scope: String,
        transport: Arc<dyn Transport>,
        tokens: Arc<dyn TokenProvider>,
        retry: RetryPolicy,
        lro: LroOptions,
        events: Option<EventSink>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                requests,
                scope: token_scope,
                metrics: MetricsEndpoint::public(),
                transport,
                tokens,
                retry,
                lro,
                events,
                rng: Mutex::new(fastrand::Rng::new()),
                rate_limits: Mutex::new(RateLimits::default()),
            }),
        }
    }

    /// Seeds the jitter (tests).
    pub fn seed_jitter(&self, seed: u64) {
        *self.inner.rng.lock().expect("rng lock") = fastrand::Rng::with_seed(seed);
    }

    /// The request builders of this client.
    pub fn requests(&self) -> &ArmRequests {
        &self.inner.requests
    }

    /// The last remaining-quota values seen.
    pub fn rate_limits(&self) -> RateLimits {
        *self.inner.rate_limits.lock().expect("rate limit lock")
    }

    fn emit(&self, e: ClientEvent) {
        if let Some(sink) = &self.inner.events {
            sink(&e);
        }
    }

    /// Sends `request` with retries and returns the final response, whatever its status.
    /// Fails only when no response came (connection or timeout after the retries), or when
    /// no token could be obtained.
    pub async fn execute(&self, request: &ArmRequest) -> Result<ArmResponse> {
        super::requests::require_https(&request.url, "url")?;
        // Never send a token to another host than the management endpoint.
        self.inner.requests.resolve(request.url.as_str())?;
        self.execute_for(request, &self.inner.scope).await
    }

    /// [`execute`](Self::execute) with a token for `scope`, to any https URL: only for URLs
    /// this crate builds from configured endpoints (never for URLs a service returned).
    async fn execute_for(&self, request: &ArmRequest, scope: &str) -> Result<ArmResponse> {
        super::requests::require_https(&request.url, "url")?;
        let client_request_id = new_request_id(&self.inner.rng);
        let started = Instant::now();
        let mut retries = 0u32;
        let mut refreshed = false;
        let body = request.body_bytes();
        loop {
            let token = self.inner.tokens.token(scope).await?;
            let mut headers = request.headers.clone();
            headers.push(("Authorization".into(), format!("Bearer {}", token.expose())));
            headers.push(("x-ms-client-request-id".into(), client_request_id.clone()));
            headers.push(("x-ms-return-client-request-id".into(), "true".into()));
            let http = HttpRequest {
                method: request.method,
                url: request.url.clone(),
                headers,
                body: body.clone(),
            };
            let attempt = retries + 1;
            self.emit(ClientEvent::Request {
                operation: request.operation.clone(),
                method: request.method,
                url: request.url.to_string(),
                attempt,
            });
            let attempt_start = Instant::now();
            let result = tokio::time::timeout(
                self.inner.retry.attempt_timeout,
                self.inner.transport.send(http),
            )
            .await;
            let (outcome, reason, result) = match result {
                Ok(Ok(mut resp)) => {
                    if resp.header("x-ms-client-request-id").is_none() {
                        resp.headers
                            .push(("x-ms-client-request-id".into(), client_request_id.clone()));
                    }
                    self.emit(ClientEvent::Response {
                        operation: request.operation.clone(),
                        status: resp.status,
                        request_id: response_request_id(&resp),
                        elapsed: attempt_start.elapsed(),
                    });
                    if let Some(rl) = RateLimits::from_response(&resp) {
                        self.inner
                            .rate_limits
                            .lock()
                            .expect("rate limit lock")
                            .merge(rl);
                        self.emit(ClientEvent::RateLimit {
                            class: request.class(),
                            remaining: rl,
                        });
                    }
                    if resp.status == 401 && !refreshed {
                        // Expired or revoked token: one more try with a fresh one.
                        refreshed = true;
                        self.inner.tokens.invalidate();
                        self.emit(ClientEvent::Retry {
                            operation: request.operation.clone(),
                            attempt,
                            delay: Duration::ZERO,
                            reason: "HTTP 401: getting a new token".into(),
                        });
                        continue;
                    }
                    (
                        AttemptOutcome::Response {
                            status: resp.status,
                            retry_after: resp.retry_after(),
                        },
                        format!("HTTP {}", resp.status),
                        Ok(resp),
                    )
                }
                Ok(Err(e)) => {
                    let outcome = match e.kind {
                        TransportErrorKind::Timeout => AttemptOutcome::Timeout,
                        TransportErrorKind::Certificate => AttemptOutcome::Permanent,
                        _ => AttemptOutcome::Transport,
                    };
                    (outcome, e.message.clone(), Err(e))
                }
                Err(_) => {
                    let e = TransportError {
                        kind: TransportErrorKind::Timeout,
                        message: format!(
                            "no response within {:?}",
                            self.inner.retry.attempt_timeout
                        ),
                    };
                    (AttemptOutcome::Timeout, e.message.clone(), Err(e))
                }
            };
            let decision = {
                let mut rng = self.inner.rng.lock().expect("rng lock");
                self.inner
                    .retry
                    .decide(&outcome, retries, started.elapsed(), &mut rng)
            };
            match decision {
                RetryDecision::Retry { delay, .. } => {
                    self.emit(ClientEvent::Retry {
                        operation: request.operation.clone(),
                        attempt,
                        delay,
                        reason,
                    });
                    tokio::time::sleep(delay).await;
                    retries += 1;
                }
                RetryDecision::Stop { exhausted } => {
                    return match result {
                        Ok(resp) => Ok(resp),
                        Err(e) => Err(Error::Http {
                            operation: request.operation.clone(),
                            status: 0,
                            code: match e.kind {
                                TransportErrorKind::Connect => "ConnectionFailed",
                                TransportErrorKind::Timeout => "Timeout",
                                TransportErrorKind::Io => "ConnectionBroken",
                                TransportErrorKind::Certificate => "UntrustedCertificate",
                            }
                            .into(),
                            message: if exhausted {
                                format!("{} (gave up after {attempt} attempts)", e.message)
                            } else {
                                e.message
                            },
                            request_id: client_request_id,
                            kind: ErrorKind::Http,
                        }),
                    };
                }
            }
        }
    }

    /// Sends `request` with retries; a non-2xx final response becomes an [`Error::Http`].
    pub async fn send(&self, request: &ArmRequest) -> Result<ArmResponse> {
        let resp = self.execute(request).await?;
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(error_from_response(&request.operation, &resp))
        }
    }

    /// Sends `request` and parses the JSON body of the 2xx response.
    pub async fn send_json<T: DeserializeOwned>(&self, request: &ArmRequest) -> Result<T> {
        let resp = self.send(request).await?;
        resp.parse(&request.operation)
    }

    /// Like [`send_json`](Self::send_json), but a 404 is `Ok(None)`.
    pub async fn get_optional<T: DeserializeOwned>(
        &self,
        request: &ArmRequest,
    ) -> Result<Option<T>> {
        match self.send_json(request).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a list request and follows `nextLink` to the end.
    pub async fn list_all<T: DeserializeOwned>(&self, request: &ArmRequest) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut req = request.clone();
        loop {
            let page: ArmList<T> = self.send_json(&req).await?;
            out.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) => {
                    if !seen.insert(next.clone()) || seen.len() > 10_000 {
                        return Err(Error::Http {
                            operation: request.operation.clone(),
                            status: 200,
                            code: "PagingLoop".into(),
                            message: format!("the service returned nextLink {next} twice"),
                            request_id: String::new(),
                            kind: ErrorKind::Http,
                        });
                    }
                    req = self
                        .inner
                        .requests
                        .get_url(&next, request.operation.clone())?;
                }
                None => return Ok(out),
            }
        }
    }

    /// Sends a request that may start a long-running operation and returns its poller.
    pub async fn begin(&self, request: &ArmRequest) -> Result<Poller> {
        let resp = self.send(request).await?;
        let (lro, step) =
            LroPoller::start(&self.inner.requests, request, &resp, self.inner.lro.clone())?;
        Ok(Poller::new(self.clone(), lro, step))
    }

    /// Resumes polling a saved operation.
    pub fn resume(&self, state: LroState) -> Result<Poller> {
        let (lro, step) = LroPoller::resume(&self.inner.requests, state, self.inner.lro.clone())?;
        Ok(Poller::new(self.clone(), lro, step))
    }

    // ---- typed calls ----------------------------------------------------------------------

    /// Creates or updates a resource group.
    pub async fn resource_group_put(
        &self,
        name: &str,
        group: &ResourceGroup,
    ) -> Result<ResourceGroup> {
        let req = self.inner.requests.resource_group_put(name, group)?;
        self.send_json(&req).await
    }

    /// Reads a resource group (`None` when it does not exist).
    pub async fn resource_group_get(&self, name: &str) -> Result<Option<ResourceGroup>> {
        let req = self.inner.requests.resource_group_get(name)?;
        self.get_optional(&req).await
    }

    /// Starts deleting a resource group and everything in it.
    pub async fn resource_group_delete(&self, name: &str) -> Result<Poller> {
        let req = self.inner.requests.resource_group_delete(name)?;
        self.begin(&req).await
    }

    /// Validates a deployment (preflight). A template the service rejects is an error with
    /// the ARM code (e.g. `InvalidTemplateDeployment`) and the inner details.
    pub async fn deployment_validate(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<Deployment> {
        let req = self
            .inner
            .requests
            .deployment_validate(resource_group, name, deployment)?;
        let out = self.begin(&req).await?.wait().await?;
        parse_outcome(&req.operation, out)
    }

    /// Predicts the changes of a deployment.
    pub async fn deployment_what_if(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<WhatIfResult> {
        let req = self
            .inner
            .requests
            .deployment_what_if(resource_group, name, deployment)?;
        let out = self.begin(&req).await?.wait().await?;
        parse_outcome(&req.operation, out)
    }

    /// Starts a deployment (PUT); poll or wait on the returned [`Poller`].
    pub async fn deploy(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<Poller> {
        let req = self
            .inner
            .requests
            .deployment_put(resource_group, name, deployment)?;
        self.begin(&req).await
    }

    /// Reads a deployment (`None` when it does not exist).
    pub async fn deployment_get(
        &self,
        resource_group: &str,
        name: &str,
    ) -> Result<Option<Deployment>> {
        let req = self.inner.requests.deployment_get(resource_group, name)?;
        self.get_optional(&req).await
    }

    /// Lists the operations of a deployment (one per resource).
    pub async fn deployment_operations(
        &self,
        resource_group: &str,
        name: &str,
    ) -> Result<Vec<DeploymentOperation>> {
        let req = self
            .inner
            .requests
            .deployment_operations(resource_group, name)?;
        self.list_all(&req).await
    }

    /// Reads a scale set (`None` when it does not exist).
    pub async fn scale_set_get(
        &self,
        resource_group: &str,
        scale_set: &str,
    ) -> Result<Option<VirtualMachineScaleSet>> {
        let req = self
            .inner
            .requests
            .scale_set_get(resource_group, scale_set)?;
        self.get_optional(&req).await
    }

    /// Starts changing the capacity; with `if_match` (the ETag read before), a concurrent
    /// change fails with a Conflict error instead of being lost.
    pub async fn scale_set_update_capacity(
        &self,
        resource_group: &str,
        scale_set: &str,
        capacity: u32,
        if_match: Option<&str>,
    ) -> Result<Poller> {
        let req = self.inner.requests.scale_set_update_capacity(
            resource_group,
            scale_set,
            capacity,
            if_match,
        )?;
        self.begin(&req).await
    }

    /// Starts deallocating all instances, or `instance_ids`.
    pub async fn scale_set_deallocate(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<Poller> {
        let req =
            self.inner
                .requests
                .scale_set_deallocate(resource_group, scale_set, instance_ids)?;
        self.begin(&req).await
    }

    /// Starts starting all instances, or `instance_ids`.
    pub async fn scale_set_start(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<Poller> {
        let req = self
            .inner
            .requests
            .scale_set_start(resource_group, scale_set, instance_ids)?;
        self.begin(&req).await
    }

    /// Lists the instances, with their instance view (power state) when `instance_view`.
    pub async fn scale_set_instances(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_view: bool,
    ) -> Result<Vec<ScaleSetVm>> {
        let req =
            self.inner
                .requests
                .scale_set_instances(resource_group, scale_set, instance_view)?;
        self.list_all(&req).await
    }

    /// Starts setting the instance protection of one instance.
    pub async fn scale_set_instance_protection(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_id: &str,
        policy: &ProtectionPolicy,
    ) -> Result<Poller> {
        let req = self.inner.requests.scale_set_instance_protection(
            resource_group,
            scale_set,
            instance_id,
            policy,
        )?;
        self.begin(&req).await
    }

    /// Reads an autoscale setting (`None` when it does not exist).
    pub async fn autoscale_get(
        &self,
        resource_group: &str,
        name: &str,
    ) -> Result<Option<AutoscaleSetting>> {
        let req = self.inner.requests.autoscale_get(resource_group, name)?;
        self.get_optional(&req).await
    }

    /// Creates or replaces an autoscale setting.
    pub async fn autoscale_put(
        &self,
        resource_group: &str,
        name: &str,
        setting: &AutoscaleSetting,
    ) -> Result<AutoscaleSetting> {
        let req = self
            .inner
            .requests
            .autoscale_put(resource_group, name, setting)?;
        let out = self.begin(&req).await?.wait().await?;
        parse_outcome(&req.operation, out)
    }

    /// Lists the keys of a storage account (secret values: keep them out of messages).
    pub async fn storage_list_keys(
        &self,
        resource_group: &str,
        account: &str,
    ) -> Result<StorageAccountKeys> {
        let req = self
            .inner
            .requests
            .storage_list_keys(resource_group, account)?;
        self.send_json(&req).await
    }

    /// Reads any resource by id (`None` when it does not exist).
    pub async fn get_resource(
        &self,
        resource_id: &str,
        api_version: &str,
    ) -> Result<Option<Value>> {
        let req = self.inner.requests.get_resource(resource_id, api_version)?;
        self.get_optional(&req).await
    }

    /// Starts deleting any resource by id. A resource that is already gone is not an error
    /// (the returned poller is already done).
    pub async fn delete_resource(&self, resource_id: &str, api_version: &str) -> Result<Poller> {
        let req = self
            .inner
            .requests
            .delete_resource(resource_id, api_version)?;
        let resp = self.execute(&req).await?;
        let resp = if resp.status == 404 {
            ArmResponse {
                status: 204,
                ..resp
            }
        } else if !resp.is_success() {
            return Err(error_from_response(&req.operation, &resp));
        } else {
            resp
        };
        let (lro, step) =
            LroPoller::start(&self.inner.requests, &req, &resp, self.inner.lro.clone())?;
        Ok(Poller::new(self.clone(), lro, step))
    }
}

impl ArmClient {
    /// Publishes one custom-metric value on `resource_id` through the ingestion endpoint of
    /// `region` (token for the endpoint's monitoring scope; the usual retries and throttling
    /// handling). Returns the request id of the answer. A 403 says which role is missing.
    pub async fn publish_metric(
        &self,
        region: &str,
        resource_id: &str,
        value: &MetricValue,
    ) -> Result<String> {
        let req = publish_request(&self.inner.metrics, region, resource_id, value)?;
        let resp = self
            .execute_for(&req, &self.inner.metrics.token_scope)
            .await?;
        if resp.is_success() {
            return Ok(response_request_id(&resp));
        }
        let mut e = error_from_response(&req.operation, &resp);
        if resp.status == 403
            && let Error::Http { message, .. } = &mut e
        {
            message.push_str(&format!(
                " — the identity publishing custom metrics needs the \"Monitoring Metrics \
                 Publisher\" role on {resource_id} (or its resource group or subscription): \
                 az role assignment create --role \"Monitoring Metrics Publisher\" \
                 --assignee <principal id> --scope {resource_id}"
            ));
        }
        Err(e)
    }
}

fn parse_outcome<T: DeserializeOwned>(operation: &str, out: LroOutcome) -> Result<T> {
    let body = out.body.unwrap_or(Value::Object(Default::default()));
    serde_json::from_value(body).map_err(|e| Error::Http {
        operation: operation.to_string(),
        status: out.status,
        code: "InvalidResponseBody".into(),
        message: format!("the result is not the expected JSON: {e}"),
        request_id: out.request_id.unwrap_or_default(),
        kind: ErrorKind::Http,
    })
}

fn new_request_id(rng: &Mutex<fastrand::Rng>) -> String {
    let mut rng = rng.lock().expect("rng lock");
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Drives an [`LroPoller`]: waits exactly the delays it asks for, sends its GETs (with the
/// client's retries) and feeds the responses back.
#[derive(Debug)]
pub struct Poller {
    client: ArmClient,
    lro: LroPoller,
    next: Step,
    started: Instant,
}

impl Poller {
    fn new(client: ArmClient, lro: LroPoller, next: Step) -> Self {
        Self {
            client,
            lro,
            next,
            started: Instant::now(),
        }
    }

    /// The resumable state (save it to resume after an interruption).
    pub fn state(&self) -> &LroState {
        self.lro.state()
    }

    /// The last status reported by the service.
    pub fn status(&self) -> Option<&str> {
        self.lro.state().last_status.as_deref()
    }

    /// Whether the operation has finished successfully.
    pub fn is_done(&self) -> bool {
        matches!(self.next, Step::Done(_))
    }

    /// Waits for the next status (or returns the result when finished).
    pub async fn poll(&mut self) -> Result<PollStatus> {
        let (delay, request) = match &self.next {
            Step::Done(o) => return Ok(PollStatus::Done(o.clone())),
            Step::Wait { .. } if self.lro.state().phase == Phase::Done => {
                return Err(Error::Internal(format!(
                    "{}: the operation already ended with an error",
                    self.lro.state().operation
                )));
            }
            Step::Wait { delay, request } => (*delay, request.clone()),
        };
        if let Some(max) = self.lro.options().max_wait
            && self.started.elapsed() + delay > max
        {
            let st = self.lro.state();
            return Err(Error::Http {
                operation: st.operation.clone(),
                status: 0,
                code: "OperationTimeout".into(),
                message: format!(
                    "still {} after waiting {:?}; the operation continues — run the command \
                     again to resume",
                    st.last_status.as_deref().unwrap_or("running"),
                    max
                ),
                request_id: st.request_id.clone().unwrap_or_default(),
                kind: ErrorKind::Http,
            });
        }
        tokio::time::sleep(delay).await;
        let resp = match self.client.execute(&request).await {
            Ok(r) => r,
            Err(e) => return Err(self.lro.read_failure(e)),
        };
        let step = self.lro.on_response(&resp)?;
        let (status, next_in) = match &step {
            Step::Wait { delay, .. } => (self.lro.state().last_status.clone(), Some(*delay)),
            Step::Done(_) => (self.lro.state().last_status.clone(), None),
        };
        self.client.emit(ClientEvent::Poll {
            operation: self.lro.state().operation.clone(),
            status: status.clone(),
            next_poll_in: next_in,
        });
        self.next = step;
        Ok(match &self.next {
            Step::Done(o) => PollStatus::Done(o.clone()),
            Step::Wait { delay, .. } => PollStatus::Running {
                status,
                next_poll_in: *delay,
            },
        })
    }

    /// Polls until the operation finishes.
    pub async fn wait(mut self) -> Result<LroOutcome> {
        loop {
            if let PollStatus::Done(o) = self.poll().await? {
                return Ok(o);
            }
        }
    }

    /// Polls until the operation finishes and parses the final body.
    pub async fn wait_json<T: DeserializeOwned>(self) -> Result<T> {
        let op = self.lro.state().operation.clone();
        let out = self.wait().await?;
        parse_outcome(&op, out)
    }
}
