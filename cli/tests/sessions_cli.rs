//! `dsvmpool sessions` through the binary, against an ARM test double the test starts (it also
//! serves the custom-metrics ingestion API): values published for the minute, text and JSON
//! output, and the errors (no `autoscale.sessions`, a missing role, a bad `--at`).

use dsvmpool_arm_double::{ArmDouble, Config, FaultAction, FaultRule, Running};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "Cli-Pa55-w0rd-never-shown";

const SPEC: &str = r#"
name = "clisess"
location = "westeurope"
resource_group = "rg-cli-sessions"

[capacity]
min = 0
max = 10
initial = 0

[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
password = { env = "CLI_ADMIN_PASSWORD" }

[storage]
kind = "azure_files_smb"
share = { name = "workspace", quota_gib = 100 }
credential = "account_key"
"#;

struct Env {
    double: Running,
    dir: PathBuf,
}

fn setup(name: &str) -> Env {
    let double = ArmDouble::start(Config {
        time_scale: 0.001,
        ..Default::default()
    })
    .expect("the ARM test double starts");
    let dir = std::env::temp_dir().join(format!(
        "dsvmpool-cli-sessions-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), &double.ca_pem).unwrap();
    std::fs::write(
        dir.join("pool.toml"),
        format!("{SPEC}\n[autoscale.sessions]\ntarget_per_vm = 3\n"),
    )
    .unwrap();
    std::fs::write(dir.join("plain.toml"), SPEC).unwrap();
    Env { double, dir }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        let d = &self.double;
        let o = Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AZURE_TENANT_ID", &d.tenant_id)
            .env("AZURE_CLIENT_ID", &d.client_id)
            .env("AZURE_CLIENT_SECRET", &d.client_secret)
            .env("AZURE_SUBSCRIPTION_ID", &d.subscription_id)
            .env("AZURE_AUTHORITY_HOST", &d.token_authority_url)
            .env("DSVMPOOL_MANAGEMENT_URL", &d.management_url)
            .env("DSVMPOOL_METRICS_URL", &d.metrics_url)
            .env("DSVMPOOL_CA_FILE", self.dir.join("ca.pem"))
            .env("DSVMPOOL_POLL_INTERVAL_MS", "20")
            .env("CLI_ADMIN_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("run dsvmpool");
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(!all.contains(PASSWORD), "the secret leaked: {all}");
        assert!(!all.contains(&d.client_secret), "the client secret leaked");
        o
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn deploy(&self) {
        let o = self.run(&[
            "deploy",
            &self.file("pool.toml"),
            "--auth",
            "env",
            "-o",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        self.double.clear_requests();
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn now_minute() -> (String, String) {
    let t = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let m = t.format("%Y-%m-%dT%H:%M");
    (format!("{m}:17.5+00:00"), format!("{m}:00Z"))
}

#[test]
fn publishes_the_session_metrics() {
    let e = setup("ok");
    e.deploy();
    let (at, minute) = now_minute();
    let o = e.run(&[
        "sessions",
        &e.file("pool.toml"),
        "--active",
        "3",
        "--waiting",
        "2",
        "--at",
        &at,
        "--auth",
        "env",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["command"], "sessions");
    assert_eq!(j["time"], minute.as_str());
    assert_eq!(j["region"], "westeurope");
    assert!(
        j["resource_id"]
            .as_str()
            .unwrap()
            .ends_with("/resourceGroups/rg-cli-sessions/providers/Microsoft.Compute/virtualMachineScaleSets/clisess-vmss"),
        "{j}"
    );
    let values: Vec<(String, u64)> = j["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["metric"].as_str().unwrap().to_string(),
                m["value"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("Sessions".to_string(), 5),
            ("WaitingSessions".to_string(), 2)
        ]
    );
    let points = e.double.metric_points();
    assert_eq!(points.len(), 2);
    assert!(
        points
            .iter()
            .all(|p| p.time == minute && p.namespace == "dsvmpool")
    );
    assert_eq!(points[0].series[0].sum, 5.0);
    assert_eq!(points[1].series[0].sum, 2.0);

    // Text output, default time (now) and default --waiting 0.
    let o = e.run(&[
        "sessions",
        &e.file("pool.toml"),
        "--active",
        "1",
        "--auth",
        "env",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("Sessions = 1, WaitingSessions = 0") && out.contains("clisess-vmss"),
        "{out}"
    );
    assert_eq!(e.double.metric_points().len(), 4);
}

#[test]
fn errors() {
    let e = setup("errors");
    // No autoscale.sessions: exit 1 naming the field, nothing sent.
    let o = e.run(&[
        "sessions",
        &e.file("plain.toml"),
        "--active",
        "1",
        "--auth",
        "env",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], false);
    assert!(j.to_string().contains("autoscale.sessions"), "{j}");
    assert!(e.double.requests().is_empty());

    // A bad --at is a usage error.
    let o = e.run(&[
        "sessions",
        &e.file("pool.toml"),
        "--active",
        "1",
        "--at",
        "yesterday",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("RFC 3339"), "{}", text(&o.stderr));

    // The identity lacks the role: the message says which one.
    e.deploy();
    e.double
        .set_faults(vec![FaultRule {
            method: "POST".into(),
            path: "/regions/*/metrics".into(),
            nth: 1,
            times: 0,
            action: FaultAction::Error {
                status: 403,
                code: "AuthorizationFailed".into(),
                message: "The client does not have authorization to perform action \
                          'Microsoft.Insights/Metrics/Write'."
                    .into(),
                retry_after_secs: None,
            },
        }])
        .unwrap();
    let o = e.run(&[
        "sessions",
        &e.file("pool.toml"),
        "--active",
        "2",
        "--auth",
        "env",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = text(&o.stderr);
    assert!(
        err.contains("403") && err.contains("Monitoring Metrics Publisher"),
        "{err}"
    );
    assert!(e.double.metric_points().is_empty());
}
