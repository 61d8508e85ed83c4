//! Endpoint overrides (management, custom metrics) are for a local test server: they never
//! carry a token of Entra ID. An override is honoured only with a test credential: the
//! authority host overridden to the same host, and a method that gets its tokens from that
//! authority (`env` or `workload-identity`, never the chain, a managed identity or the Azure
//! CLI, whose tokens are real whatever the authority). Anything else is a clear error before
//! any request is made.

use dsvmpool::azure::{
    ArmClient, AuthMethod, AuthOptions, ClientConfig, CloudEndpoints, MetricsEndpoint,
};
use dsvmpool::lifecycle::{ConnectOptions, EnvSource, connect};
use dsvmpool::{ErrorKind, Pool, ValidPool};
use std::collections::HashMap;
use std::sync::Arc;
use url::Url;

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const TEST: &str = "https://127.0.0.1:8443/";
const METRICS: &str = "https://127.0.0.1:8443/regions/{region}/";

fn pool() -> ValidPool {
    Pool::from_toml(
        "name = \"ovr\"\nlocation = \"westeurope\"\nresource_group = \"rg-ovr\"\n[access]\nssh_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n",
    )
    .unwrap()
    .validate()
    .unwrap()
}

fn env(vars: &[(&str, &str)]) -> EnvSource {
    let mut m: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.insert("AZURE_TENANT_ID".into(), "tenant".into());
    m.insert("AZURE_CLIENT_ID".into(), "client".into());
    m.insert("AZURE_CLIENT_SECRET".into(), "secret".into());
    Arc::new(move |k: &str| m.get(k).cloned())
}

fn opts(auth: AuthMethod, vars: &[(&str, &str)]) -> ConnectOptions {
    ConnectOptions {
        auth,
        subscription_id: Some(SUB.into()),
        env: Some(env(vars)),
        ..Default::default()
    }
}

/// `connect` refuses, with a validation error at `field` that says what a test override needs.
fn refused(o: ConnectOptions, field: &str) {
    let e = connect(&pool(), &o).expect_err("the override must be refused");
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let v = e.validation().unwrap();
    assert!(
        v.errors
            .iter()
            .any(|d| d.path == field && d.rule == "test-endpoint"),
        "{e}"
    );
    assert!(e.to_string().contains("test"), "{e}");
}

#[test]
fn an_override_alone_is_refused() {
    // the metrics override with the usual credential chain: a monitoring token would leave
    refused(
        opts(AuthMethod::Auto, &[("DSVMPOOL_METRICS_URL", METRICS)]),
        "metrics_url",
    );
    refused(
        opts(AuthMethod::Auto, &[("DSVMPOOL_MANAGEMENT_URL", TEST)]),
        "management_url",
    );
    // an explicit method, but tokens from Entra ID
    refused(
        opts(
            AuthMethod::Environment,
            &[("DSVMPOOL_METRICS_URL", METRICS)],
        ),
        "metrics_url",
    );
    let mut o = opts(AuthMethod::Environment, &[]);
    o.management_url = Some(TEST.into());
    refused(o, "management_url");
}

#[test]
fn the_authority_must_be_the_same_test_host() {
    let mut o = opts(
        AuthMethod::Environment,
        &[("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9443/")],
    );
    o.management_url = Some(TEST.into());
    refused(o, "management_url");
    let mut o = opts(AuthMethod::Environment, &[("AZURE_AUTHORITY_HOST", TEST)]);
    o.metrics_url = Some("https://{region}.collector.example.net/".into());
    refused(o, "metrics_url");
}

#[test]
fn methods_whose_tokens_are_real_are_refused() {
    for m in [AuthMethod::ManagedIdentity, AuthMethod::AzureCli] {
        let mut o = opts(m, &[("AZURE_AUTHORITY_HOST", TEST)]);
        o.management_url = Some(TEST.into());
        o.metrics_url = Some(METRICS.into());
        refused(o, "management_url");
    }
    // The chain shrinks to the credentials of the test server's authority...
    let mut o = opts(AuthMethod::Auto, &[("AZURE_AUTHORITY_HOST", TEST)]);
    o.management_url = Some(TEST.into());
    let c = connect(&pool(), &o).unwrap();
    assert!(
        format!("{c:?}").contains("candidates: [\"environment\"]"),
        "{c:?}"
    );
    // ... and with none of them configured, nothing is left.
    let mut o = opts(AuthMethod::Auto, &[("AZURE_AUTHORITY_HOST", TEST)]);
    o.management_url = Some(TEST.into());
    o.env = Some(Arc::new(|k: &str| {
        (k == "AZURE_AUTHORITY_HOST").then(|| TEST.to_string())
    }));
    refused(o, "auth");
}

#[test]
fn a_test_server_with_its_own_credential_is_honoured() {
    for m in [AuthMethod::Environment, AuthMethod::WorkloadIdentity] {
        let mut o = opts(
            m,
            &[
                ("AZURE_AUTHORITY_HOST", TEST),
                ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
            ],
        );
        o.management_url = Some(TEST.into());
        o.metrics_url = Some(METRICS.into());
        connect(&pool(), &o).unwrap_or_else(|e| panic!("{m:?}: {e}"));
    }
    // no override: Azure's endpoints with any method
    connect(&pool(), &opts(AuthMethod::Auto, &[])).unwrap();
}

#[test]
fn the_client_itself_refuses_a_mixed_configuration() {
    // built without `connect`: Azure's authority, a custom metrics host
    let mut cloud = CloudEndpoints::public();
    cloud.metrics = MetricsEndpoint::public().with_url(METRICS).unwrap();
    let mut config = ClientConfig::new(SUB);
    config.cloud = cloud;
    config.auth = AuthOptions::default();
    let e = ArmClient::new(config).expect_err("a monitoring token would go to a test host");
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");

    let cloud =
        CloudEndpoints::custom(Url::parse(TEST).unwrap(), Url::parse(TEST).unwrap()).unwrap();
    let mut config = ClientConfig::new(SUB);
    config.cloud = cloud.clone();
    assert!(
        format!("{:?}", ArmClient::new(config)).contains("test-endpoint"),
        "the chain without a test credential"
    );
    let mut config = ClientConfig::new(SUB);
    config.cloud = cloud;
    config.auth = AuthOptions {
        method: AuthMethod::Environment,
        tenant_id: Some("t".into()),
        client_id: Some("c".into()),
        client_secret: Some(dsvmpool::azure::models::SecretString::new("s".to_string())),
        federated_token_file: None,
    };
    ArmClient::new(config).unwrap();
}
