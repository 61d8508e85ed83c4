//! [`connect`]: the ARM client for a pool, from the spec, options and the usual environment
//! variables — one place, so the CLI and the bindings resolve settings the same way.
//!
//! - Subscription: [`ConnectOptions::subscription_id`], else the spec's `subscription`, else
//!   `AZURE_SUBSCRIPTION_ID`.
//! - Endpoints: the spec's `cloud`; `AZURE_AUTHORITY_HOST` overrides the Entra ID authority.
//! - Credential: [`ConnectOptions::auth`] (`--auth`), with the `azure_identity` environment
//!   variables (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, …).
//! - Test options (for a local ARM test server, never needed against Azure):
//!   [`ConnectOptions::management_url`] / `DSVMPOOL_MANAGEMENT_URL` replaces the management
//!   endpoint, [`ConnectOptions::metrics_url`] / `DSVMPOOL_METRICS_URL` replaces the
//!   custom-metrics ingestion endpoint (`{region}` stands for the region; the token scope stays
//!   the cloud's monitoring scope), and [`ConnectOptions::ca_file`] / `DSVMPOOL_CA_FILE` is the
//!   only CA trusted. The endpoints must be https: bearer tokens never travel over plain http.
//!   An endpoint override is honoured only with the test server's own credential
//!   ([`crate::azure::CloudEndpoints::check_credential`]): the authority host on the same
//!   host and port, and `env` or `workload-identity` (the `auto` chain shrinks to those two);
//!   otherwise [`connect`] fails with rule `test-endpoint` before any request.

use super::{EnvSource, Progress, ProgressSink, process_env};
use crate::azure::client::ClientEvent;
use crate::azure::models::SecretString;
use crate::azure::{
    ArmClient, AuthMethod, AuthOptions, ClientConfig, CloudEndpoints, LroOptions, RetryPolicy,
};
use crate::error::{Diagnostic, Error, Result};
use crate::spec::{Cloud, ValidPool};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Environment variable of the management endpoint test option.
pub const MANAGEMENT_URL_ENV: &str = "DSVMPOOL_MANAGEMENT_URL";
/// Environment variable of the custom-metrics ingestion endpoint test option.
pub const METRICS_URL_ENV: &str = "DSVMPOOL_METRICS_URL";
/// Environment variable of the CA file test option.
pub const CA_FILE_ENV: &str = "DSVMPOOL_CA_FILE";

/// How to reach Resource Manager for a pool.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// Credential (`--auth`): the chain, or one method.
    pub auth: AuthMethod,
    /// Subscription id; default: the spec's, else `AZURE_SUBSCRIPTION_ID`.
    pub subscription_id: Option<String>,
    /// Test option: the https management endpoint of a local ARM test server (default:
    /// `DSVMPOOL_MANAGEMENT_URL`, else the spec's cloud).
    pub management_url: Option<String>,
    /// Test option: the https custom-metrics ingestion endpoint of a local test server, with
    /// `{region}` for the region (default: `DSVMPOOL_METRICS_URL`, else the spec's cloud,
    /// `https://{region}.monitoring.azure.com/` in the public cloud).
    pub metrics_url: Option<String>,
    /// Entra ID authority host (default: `AZURE_AUTHORITY_HOST`, else the spec's cloud).
    pub authority_host: Option<String>,
    /// Test option: trust only the CA certificate (PEM) in this file (default:
    /// `DSVMPOOL_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    /// Poll interval when the service sends no `Retry-After` (default: ARM's 60 s).
    pub poll_interval: Option<Duration>,
    /// Retry settings (default: [`RetryPolicy::default`]).
    pub retry: Option<RetryPolicy>,
    /// Receives the client's retry and throttling reports as [`Progress::Client`].
    pub progress: Option<ProgressSink>,
    /// Environment lookup (default: the process environment).
    pub env: Option<EnvSource>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("auth", &self.auth)
            .field("subscription_id", &self.subscription_id)
            .field("management_url", &self.management_url)
            .field("metrics_url", &self.metrics_url)
            .field("authority_host", &self.authority_host)
            .field("ca_file", &self.ca_file)
            .field("poll_interval", &self.poll_interval)
            .field("progress", &self.progress.as_ref().map(|_| "<sink>"))
            .finish_non_exhaustive()
    }
}

fn parse_url(field: &str, value: &str) -> Result<Url> {
    Url::parse(value.trim()).map_err(|e| {
        Error::invalid(Diagnostic::error(
            field,
            "url",
            format!("`{value}` is not a URL: {e}"),
        ))
    })
}

/// The subscription a pool is deployed to.
pub fn subscription_for(pool: &ValidPool, options: &ConnectOptions) -> Result<String> {
    let env = options.env.clone().unwrap_or_else(process_env);
    options
        .subscription_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| pool.spec().subscription.clone())
        .or_else(|| env("AZURE_SUBSCRIPTION_ID"))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| {
            Error::invalid(
                Diagnostic::error(
                    "subscription",
                    "subscription-required",
                    "no subscription to deploy to",
                )
                .hint(
                    "set `subscription` in the spec, pass --subscription, or set \
                     AZURE_SUBSCRIPTION_ID (`az account show --query id -o tsv`)",
                ),
            )
        })
}

/// Builds the ARM client for `pool`.
pub fn connect(pool: &ValidPool, options: &ConnectOptions) -> Result<ArmClient> {
    let env = options.env.clone().unwrap_or_else(process_env);
    let subscription = subscription_for(pool, options)?;
    let base = match pool.spec().cloud {
        Cloud::AzureCloud => CloudEndpoints::public(),
        Cloud::AzureChinaCloud => CloudEndpoints::china(),
        Cloud::AzureUsGovernment => CloudEndpoints::us_government(),
    };
    let management = options
        .management_url
        .clone()
        .or_else(|| env(MANAGEMENT_URL_ENV));
    let authority = options
        .authority_host
        .clone()
        .or_else(|| env("AZURE_AUTHORITY_HOST"));
    let mut cloud = if management.is_some() || authority.is_some() {
        let m = match &management {
            Some(m) => parse_url("management_url", m)?,
            None => base.management.clone(),
        };
        let a = match &authority {
            Some(a) => parse_url("authority_host", a)?,
            None => base.authority_host.clone(),
        };
        CloudEndpoints::custom(m, a)?
    } else {
        base.clone()
    };
    cloud.metrics = match options.metrics_url.clone().or_else(|| env(METRICS_URL_ENV)) {
        Some(m) => base.metrics.with_url(&m)?,
        None => base.metrics.clone(),
    };
    let ca_file = options
        .ca_file
        .clone()
        .or_else(|| env(CA_FILE_ENV).map(PathBuf::from));
    let test_ca_pem = match ca_file {
        Some(path) => Some(std::fs::read(&path).map_err(|e| Error::io(&path, e))?),
        None => None,
    };
    let mut config = ClientConfig::new(subscription);
    config.cloud = cloud;
    config.auth = AuthOptions {
        method: options.auth,
        tenant_id: env("AZURE_TENANT_ID"),
        client_id: env("AZURE_CLIENT_ID"),
        client_secret: env("AZURE_CLIENT_SECRET").map(SecretString::new),
        federated_token_file: env("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
    };
    config.test_ca_pem = test_ca_pem;
    if let Some(r) = &options.retry {
        config.retry = r.clone();
    }
    config.lro = LroOptions {
        default_poll_interval: options
            .poll_interval
            .unwrap_or(LroOptions::default().default_poll_interval),
        max_wait: None,
    };
    if let Some(sink) = options.progress.clone() {
        config.events = Some(Arc::new(move |e: &ClientEvent| {
            if matches!(e, ClientEvent::Retry { .. } | ClientEvent::RateLimit { .. }) {
                sink(&Progress::Client { detail: e.clone() });
            }
        }));
    }
    ArmClient::new(config)
}
