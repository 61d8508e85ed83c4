//! The ARM test double: a local HTTPS server that follows the Azure Resource Manager protocol
//! (resource groups, template deployments, scale sets, autoscale settings, storage keys,
//! async operations, throttling, errors), with a token endpoint for a client-secret
//! credential, scripted fault injection, simulated latencies and a request log.
//!
//! ```no_run
//! use dsvmpool_arm_double::{ArmDouble, Config};
//! let mut config = Config::default();
//! config.time_scale = 0.01; // 100 simulated seconds last one real second
//! let double = ArmDouble::start(config).expect("the double starts");
//! println!("{} trusts {} bytes of CA", double.management_url, double.ca_pem.len());
//! let calls = double.requests();
//! assert!(calls.is_empty());
//! double.shutdown();
//! ```
//!
//! See `README.md` for the knobs and the `/_double/` control endpoints.

#![warn(missing_docs)]

pub mod arm;
pub mod clock;
pub mod config;
pub mod error;
pub mod expr;
pub mod faults;
pub mod metrics;
pub mod record;
pub mod server;
pub mod state;
pub mod template;
pub mod throttle;
pub mod tls;
pub mod whatif;
pub mod wire;

pub use config::{
    Behaviour, Bucket, Config, ConfigError, Latency, PatchResponse, Settings, Throttling,
};
pub use error::ArmError;
pub use faults::{FaultAction, FaultRule, RuleState};
pub use metrics::{MetricPoint, SeriesValue};
pub use record::{RecordedRequest, RequestKind};
pub use server::Endpoints;

use server::Shared;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Why the double could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The port could not be bound.
    #[error("the ARM test double cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// Port asked for.
        port: u16,
        /// Cause.
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("the ARM test double cannot create its certificates: {0}")]
    Tls(String),
    /// The CA file could not be written.
    #[error("the ARM test double cannot write its CA certificate to {path}: {source}")]
    WriteCa {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The server thread or runtime could not start.
    #[error("the ARM test double cannot start its server: {0}")]
    Runtime(std::io::Error),
}

/// Entry point.
pub struct ArmDouble;

impl ArmDouble {
    /// Starts a double on 127.0.0.1 with a fresh throwaway CA, on its own thread and runtime
    /// (usable from sync and async tests alike). It stops when the [`Running`] is dropped.
    pub fn start(config: Config) -> Result<Running, StartError> {
        config.check()?;
        let certs = tls::generate().map_err(StartError::Tls)?;
        if let Some(path) = &config.ca_pem_path {
            std::fs::write(path, &certs.ca_pem).map_err(|source| StartError::WriteCa {
                path: path.clone(),
                source,
            })?;
        }
        let std_listener =
            std::net::TcpListener::bind(("127.0.0.1", config.port)).map_err(|source| {
                StartError::Bind {
                    port: config.port,
                    source,
                }
            })?;
        std_listener
            .set_nonblocking(true)
            .map_err(StartError::Runtime)?;
        let addr = std_listener.local_addr().map_err(StartError::Runtime)?;
        let base = format!("https://127.0.0.1:{}", addr.port());
        let secret = config.client_secret.clone().unwrap_or_else(|| {
            format!(
                "dbl~{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        });
        let endpoints = Endpoints {
            management_url: format!("{base}/"),
            token_authority_url: format!("{base}/"),
            token_url: format!("{base}/{}/oauth2/v2.0/token", config.tenant_id),
            control_url: format!("{base}/_double/"),
            metrics_url: format!("{base}/regions/{{region}}/"),
            ca_pem_path: config
                .ca_pem_path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            tenant_id: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: secret.clone(),
            subscription_id: config.subscription_id.clone(),
            location: config.location.clone(),
            time_scale: config.time_scale,
        };
        let settings = Settings {
            behaviour: config.behaviour.clone(),
            latency: config.latency.clone(),
            throttling: config.throttling.clone(),
        };
        let st = state::State::new(
            clock::Clock::new(config.time_scale),
            settings,
            config.subscription_id.clone(),
            config.tenant_id.clone(),
            config.client_id.clone(),
            secret.clone(),
            config.location.clone(),
            base,
            config.token_lifetime_secs,
            faults::FaultScript::new(config.faults.clone()),
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(st),
            ca_pem: certs.ca_pem.clone(),
            endpoints: endpoints.clone(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("arm-double")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let acceptor = tokio_rustls::TlsAcceptor::from(certs.server_config);
        let serve_shared = shared.clone();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(StartError::Runtime)?
        };
        let thread = std::thread::Builder::new()
            .name("arm-double".into())
            .spawn(move || {
                runtime.block_on(server::serve(listener, acceptor, serve_shared, rx));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(StartError::Runtime)?;
        Ok(Running {
            management_url: endpoints.management_url.clone(),
            token_authority_url: endpoints.token_authority_url.clone(),
            token_url: endpoints.token_url.clone(),
            control_url: endpoints.control_url.clone(),
            metrics_url: endpoints.metrics_url.clone(),
            ca_pem: certs.ca_pem,
            ca_pem_path: config.ca_pem_path.clone(),
            tenant_id: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: secret,
            subscription_id: config.subscription_id.clone(),
            location: config.location.clone(),
            time_scale: config.time_scale,
            addr,
            shared,
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

/// A running double. Dropping it stops the server.
pub struct Running {
    /// Management endpoint (`https://127.0.0.1:PORT/`).
    pub management_url: String,
    /// Authority host for `ClientSecretCredential` (`https://127.0.0.1:PORT/`).
    pub token_authority_url: String,
    /// Full token URL.
    pub token_url: String,
    /// Control endpoint (`https://127.0.0.1:PORT/_double/`).
    pub control_url: String,
    /// Custom-metrics ingestion endpoint template (`https://127.0.0.1:PORT/regions/{region}/`).
    pub metrics_url: String,
    /// The throwaway CA certificate (PEM) to trust explicitly.
    pub ca_pem: String,
    /// Where the CA was written, if `ca_pem_path` was configured.
    pub ca_pem_path: Option<PathBuf>,
    /// Tenant id.
    pub tenant_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Subscription id.
    pub subscription_id: String,
    /// Location.
    pub location: String,
    /// Real seconds per simulated second.
    pub time_scale: f64,
    /// Listening address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("management_url", &self.management_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("subscription_id", &self.subscription_id)
            .field("time_scale", &self.time_scale)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Endpoints and credentials (what the binary prints).
    pub fn endpoints(&self) -> Endpoints {
        self.shared.endpoints.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Management requests only (token and control calls left out).
    pub fn management_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.kind == RequestKind::Management)
            .collect()
    }

    /// The ingestion requests (kind `metrics`), whatever their status.
    pub fn metrics_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.kind == RequestKind::Metrics)
            .collect()
    }

    /// The custom-metric points accepted so far, in arrival order (read from the request log).
    pub fn metric_points(&self) -> Vec<MetricPoint> {
        self.requests()
            .iter()
            .filter_map(MetricPoint::from_request)
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Replaces the fault script (counters restart).
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), String> {
        for (i, r) in rules.iter().enumerate() {
            r.check().map_err(|m| format!("rule {i}: {m}"))?;
        }
        self.shared.lock().faults = faults::FaultScript::new(rules);
        Ok(())
    }

    /// Appends one rule to the fault script.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        rule.check()?;
        self.shared
            .lock()
            .faults
            .rules
            .extend(faults::FaultScript::new(vec![rule]).rules);
        Ok(())
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.lock().faults = faults::FaultScript::default();
    }

    /// The fault rules with their `matched` / `fired` counters.
    pub fn faults(&self) -> Vec<RuleState> {
        self.shared.lock().faults.rules.clone()
    }

    /// Current run-time settings.
    pub fn settings(&self) -> Settings {
        self.shared.lock().settings.clone()
    }

    /// Changes run-time settings (validated; nothing changes on error).
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), String> {
        let mut st = self.shared.lock();
        let mut s = st.settings.clone();
        change(&mut s);
        server::apply_settings(&mut st, s)
    }

    /// Fills the throttling buckets again.
    pub fn refill_throttling(&self) {
        server::refill_buckets(&mut self.shared.lock());
    }

    /// Makes every token issued so far expired.
    pub fn expire_tokens(&self) {
        let mut st = self.shared.lock();
        for t in st.tokens.values_mut() {
            t.expires = std::time::Instant::now();
            t.expires_wall = time::OffsetDateTime::now_utc();
        }
    }

    /// Issues a valid bearer token without going through the token endpoint.
    pub fn issue_token(&self) -> String {
        server::issue_token(&mut self.shared.lock())
    }

    /// Everything the double holds, rendered (resource groups, resources with scale set
    /// instances, deployments).
    pub fn snapshot(&self) -> serde_json::Value {
        let mut st = self.shared.lock();
        let now = st.clock.now();
        st.advance(now);
        st.snapshot()
    }

    /// Simulated start/end of each resource of a deployment and the critical path under the
    /// current latencies; `None` if there is no such deployment.
    pub fn deployment_timeline(
        &self,
        resource_group: &str,
        name: &str,
    ) -> Option<serde_json::Value> {
        let mut st = self.shared.lock();
        let now = st.clock.now();
        st.advance(now);
        let key = template::normalise_id(&format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            st.rg_id(resource_group)
        ));
        st.deployments.get(&key).map(|d| st.deployment_timeline(d))
    }

    /// Real duration of a number of simulated seconds.
    pub fn real_duration(&self, simulated_secs: f64) -> Duration {
        Duration::from_secs_f64((simulated_secs * self.time_scale).max(0.0))
    }

    /// Current simulated time, in seconds since start.
    pub fn simulated_now(&self) -> f64 {
        self.shared.lock().clock.now().secs()
    }

    /// Stops the server and waits for it.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_now();
    }
}
