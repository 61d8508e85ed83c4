//! The Azure CLI credential (`--auth azure-cli`, and the end of the `auto` chain) through
//! `azure_identity`, with an `az` stand-in on `PATH` that hands out tokens of the ARM test
//! double. Its own test binary: it changes `PATH` for the whole process.

use dsvmpool::azure::auth::{Credential, TokenEndpoint, TokenProvider};
use dsvmpool::azure::client::{ReqwestTransport, build_http_client};
use dsvmpool::azure::{
    ArmClient, ArmRequests, AuthMethod, AuthOptions, ClientConfig, CloudEndpoints, LroOptions,
    RetryPolicy,
};
use dsvmpool_arm_double::{ArmDouble, Config, RequestKind};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Writes an `az` that prints the token stored in `token_file` and counts its runs.
fn fake_az(dir: &Path, token_file: &Path, runs: &Path) {
    let script = format!(
        "#!/bin/sh\n\
         echo \"$*\" >> '{runs}'\n\
         case \"$*\" in *'account get-access-token'*) ;; *) echo 'unexpected' >&2; exit 2;; esac\n\
         exp=$(( $(date +%s) + 3600 ))\n\
         printf '{{\"accessToken\": \"%s\", \"expires_on\": %s, \"tokenType\": \"Bearer\"}}' \"$(cat '{token}')\" \"$exp\"\n",
        runs = runs.display(),
        token = token_file.display()
    );
    let az = dir.join("az");
    std::fs::write(&az, script).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn azure_cli_credential_tokens_are_cached_and_refreshed() {
    let d = ArmDouble::start(Config {
        time_scale: 0.001,
        ..Default::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("dsvmpool-az-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    let runs = dir.join("runs");
    std::fs::write(&token_file, d.issue_token()).unwrap();
    fake_az(&dir, &token_file, &runs);
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY: the only test of this binary; no other thread reads the environment yet.
    unsafe { std::env::set_var("PATH", path) };
    let count = || {
        std::fs::read_to_string(&runs)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut cfg = ClientConfig::new(d.subscription_id.clone());
        cfg.cloud = CloudEndpoints::custom(
            Url::parse(&d.management_url).unwrap(),
            Url::parse(&d.token_authority_url).unwrap(),
        )
        .unwrap();
        cfg.auth = AuthOptions {
            method: AuthMethod::AzureCli,
            ..Default::default()
        };
        cfg.test_ca_pem = Some(d.ca_pem.as_bytes().to_vec());
        cfg.retry = RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            ..Default::default()
        };
        // `ArmClient::new` never pairs the Azure CLI (real Entra ID tokens) with a test server;
        // the stand-in `az` hands out the double's tokens, so the client is assembled by hand.
        let e = ArmClient::new(cfg.clone()).unwrap_err();
        assert_eq!(e.kind(), dsvmpool::ErrorKind::Validation, "{e}");
        let http = build_http_client(cfg.test_ca_pem.as_deref(), Duration::from_secs(10)).unwrap();
        let credential = Credential::new(
            &cfg.auth,
            &TokenEndpoint {
                authority_host: cfg.cloud.authority_host.clone(),
                http_client: Some(http.clone()),
            },
        )
        .unwrap();
        let c = ArmClient::with_parts(
            ArmRequests::new(&cfg.cloud.management, &cfg.subscription_id).unwrap(),
            cfg.cloud.token_scope.clone(),
            Arc::new(ReqwestTransport::new(http)),
            Arc::new(credential),
            cfg.retry.clone(),
            LroOptions::default(),
            None,
        );
        for _ in 0..3 {
            assert!(c.resource_group_get("rg").await.unwrap().is_none());
        }
        assert_eq!(
            count(),
            1,
            "one `az` run for three calls: the token is cached"
        );
        let first = std::fs::read_to_string(&runs).unwrap();
        assert!(first.contains("--scope"), "{first}");

        // The token expires: a 401, then a fresh token from `az`, then success.
        d.expire_tokens();
        std::fs::write(&token_file, d.issue_token()).unwrap();
        assert!(c.resource_group_get("rg").await.unwrap().is_none());
        assert_eq!(count(), 2);
        assert_eq!(
            d.requests()
                .iter()
                .filter(|r| r.kind == RequestKind::Token)
                .count(),
            0,
            "the CLI path never calls the token endpoint itself"
        );

        // The `auto` chain without service-principal or workload variables ends at the CLI.
        let cred = Credential::with_env(
            &AuthOptions::default(),
            &TokenEndpoint {
                authority_host: Url::parse("https://login.microsoftonline.com").unwrap(),
                http_client: None,
            },
            &|_: &str| None,
        )
        .unwrap();
        assert_eq!(cred.chain(), vec!["managed identity", "Azure CLI"]);
        let tok = cred
            .token("https://management.azure.com/.default")
            .await
            .unwrap();
        assert_eq!(tok.expose(), std::fs::read_to_string(&token_file).unwrap());
        assert_eq!(cred.selected(), Some("Azure CLI"));

        // `az` failing is an authentication error that says which credential failed.
        std::fs::write(
            dir.join("az"),
            "#!/bin/sh\necho 'Please run az login to setup account.' >&2\nexit 1\n",
        )
        .unwrap();
        let cred = Credential::with_env(
            &AuthOptions {
                method: AuthMethod::AzureCli,
                ..Default::default()
            },
            &TokenEndpoint {
                authority_host: Url::parse("https://login.microsoftonline.com").unwrap(),
                http_client: None,
            },
            &|_: &str| None,
        )
        .unwrap();
        let e = cred
            .token("https://management.azure.com/.default")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), dsvmpool::ErrorKind::Auth);
        let s = e.to_string();
        assert!(s.contains("Azure CLI") && s.contains("az login"), "{s}");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
