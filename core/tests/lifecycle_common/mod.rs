//! Shared helpers of the lifecycle tests: an ARM test double started by the test, a client
//! connected to it through the same `connect` the CLI and bindings use, and event capture.

#![allow(dead_code)]

use dsvmpool::ValidPool;
use dsvmpool::azure::{ArmClient, AuthMethod, RetryPolicy};
use dsvmpool::lifecycle::{ConnectOptions, DeployOptions, EnvSource, Progress, ProgressSink};
use dsvmpool_arm_double::{ArmDouble, Config, FaultAction, FaultRule, RecordedRequest, Running};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The admin password the secret spec references (`{ env = "TEAM_ADMIN_PASSWORD" }`).
pub const PASSWORD: &str = "Pa55-w0rd-that-must-never-leak";

/// A double where one simulated second lasts `time_scale` real seconds.
pub fn double_with(time_scale: f64) -> Running {
    let c = Config {
        time_scale,
        ..Default::default()
    };
    ArmDouble::start(c).expect("the ARM test double starts")
}

/// A fast double (a 90 s scale set takes 90 ms).
pub fn double() -> Running {
    double_with(0.001)
}

/// The examples' team pool (`examples/team.toml`) with the storage key passed through the
/// extension's protected settings (`listKeys` in the template) instead of fetched by the
/// instances' managed identity: the ARM test double does not report the `principalId` of a
/// system-assigned identity, which the managed-identity role assignment reads.
pub fn team() -> ValidPool {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/team.toml");
    let mut spec = dsvmpool::Pool::load(path).unwrap().spec().clone();
    spec.storage.credential = Some(dsvmpool::spec::CredentialMethod::AccountKey);
    dsvmpool::Pool::from_spec(spec).validate().unwrap()
}

/// A pool with a secure parameter from the environment.
pub fn secret_pool() -> ValidPool {
    dsvmpool::Pool::from_toml(
        r#"
        name = "lab"
        location = "westeurope"
        resource_group = "rg-lab"
        [capacity]
        min = 0
        max = 8
        initial = 2
        [access]
        ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
        source_cidrs = ["203.0.113.0/24"]
        password = { env = "TEAM_ADMIN_PASSWORD" }
        [storage]
        kind = "azure_files_smb"
        share = { name = "workspace", quota_gib = 100 }
        credential = "account_key"
        "#,
    )
    .unwrap()
    .validate()
    .unwrap()
}

/// The environment a user would have: the double's service principal and subscription, the
/// admin password.
pub fn env(d: &Running) -> EnvSource {
    let mut m = HashMap::new();
    m.insert("AZURE_TENANT_ID".to_string(), d.tenant_id.clone());
    m.insert("AZURE_CLIENT_ID".to_string(), d.client_id.clone());
    m.insert("AZURE_CLIENT_SECRET".to_string(), d.client_secret.clone());
    m.insert(
        "AZURE_SUBSCRIPTION_ID".to_string(),
        d.subscription_id.clone(),
    );
    m.insert("TEAM_ADMIN_PASSWORD".to_string(), PASSWORD.to_string());
    Arc::new(move |k: &str| m.get(k).cloned())
}

/// Writes the double's CA to a file (the `--ca-file` test option).
pub fn ca_file(d: &Running) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsvmpool-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("ca-{}.pem", d.addr.port()));
    std::fs::write(&p, &d.ca_pem).unwrap();
    p
}

/// Captured progress events.
pub type Events = Arc<Mutex<Vec<Progress>>>;

pub fn sink() -> (ProgressSink, Events) {
    let ev: Events = Arc::default();
    let e2 = ev.clone();
    (
        Arc::new(move |p: &Progress| e2.lock().unwrap().push(p.clone())),
        ev,
    )
}

/// Connection options for the double (environment credential, its CA, quick retries).
pub fn connect_options(d: &Running, progress: Option<ProgressSink>) -> ConnectOptions {
    ConnectOptions {
        auth: AuthMethod::Environment,
        management_url: Some(d.management_url.clone()),
        metrics_url: Some(d.metrics_url.clone()),
        authority_host: Some(d.token_authority_url.clone()),
        ca_file: Some(ca_file(d)),
        poll_interval: Some(Duration::from_millis(50)),
        retry: Some(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            budget: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(10),
            ..Default::default()
        }),
        progress,
        env: Some(env(d)),
        ..Default::default()
    }
}

pub fn client(d: &Running, pool: &ValidPool, progress: Option<ProgressSink>) -> ArmClient {
    dsvmpool::lifecycle::connect(pool, &connect_options(d, progress)).expect("client")
}

pub fn deploy_options(d: &Running, progress: Option<ProgressSink>) -> DeployOptions {
    DeployOptions {
        progress,
        env: Some(env(d)),
        reattach_poll_interval: Duration::from_millis(20),
        ..Default::default()
    }
}

pub fn fault(method: &str, path: &str, nth: u32, times: u32, action: FaultAction) -> FaultRule {
    FaultRule {
        method: method.into(),
        path: path.into(),
        nth,
        times,
        action,
    }
}

/// Management writes (PUT, PATCH, POST, DELETE) in the log.
pub fn writes(d: &Running) -> Vec<RecordedRequest> {
    d.management_requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect()
}

/// `METHOD path` of each request, for messages.
pub fn calls(rs: &[RecordedRequest]) -> Vec<String> {
    rs.iter()
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

/// Successful deployment PUTs.
pub fn deployment_puts(d: &Running) -> usize {
    d.management_requests()
        .iter()
        .filter(|r| {
            r.method == "PUT"
                && r.path_matches("*/Microsoft.Resources/deployments/*")
                && (200..300).contains(&r.status)
        })
        .count()
}
