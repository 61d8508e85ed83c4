//! The hidden endpoint overrides through the binary: a stray `DSVMPOOL_METRICS_URL` or
//! `DSVMPOOL_MANAGEMENT_URL` without the test server's own credential is refused before any
//! request (a token of Entra ID never leaves for another host), with the rule in the message.

use std::process::Command;

const SPEC: &str = r#"
name = "cliovr"
location = "westeurope"
resource_group = "rg-cli-ovr"
subscription = "11111111-2222-3333-4444-555555555555"
[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
[autoscale.sessions]
target_per_vm = 3
"#;

#[test]
fn overrides_without_a_test_credential_are_refused() {
    let dir = std::env::temp_dir().join(format!("dsvmpool-cli-ovr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("pool.toml");
    std::fs::write(&spec, SPEC).unwrap();
    let spec = spec.to_str().unwrap();
    for (var, url, args) in [
        (
            "DSVMPOOL_METRICS_URL",
            "https://127.0.0.1:1/regions/{region}/",
            vec!["sessions", spec, "--active", "1", "--waiting", "0"],
        ),
        (
            "DSVMPOOL_MANAGEMENT_URL",
            "https://127.0.0.1:1/",
            vec!["status", spec],
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
            .args(&args)
            .env_remove("AZURE_AUTHORITY_HOST")
            .env_remove("DSVMPOOL_MANAGEMENT_URL")
            .env_remove("DSVMPOOL_METRICS_URL")
            .env(var, url)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{var}: {err}");
        assert!(
            err.contains("test-endpoint") && err.contains("AZURE_AUTHORITY_HOST"),
            "{var}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
