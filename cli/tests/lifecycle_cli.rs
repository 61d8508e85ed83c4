//! The lifecycle through the `dsvmpool` binary, against an ARM test double each test starts:
//! deploy → status → scale 5 → stop → start → plan --live shows no changes → destroy; a second
//! deploy that writes nothing; confirmation rules; errors with operation, code and request id;
//! an interrupted deploy resumed by rerunning.

use dsvmpool_arm_double::{ArmDouble, Config, FaultAction, FaultRule, RecordedRequest, Running};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "Cli-Pa55-w0rd-never-shown";

struct Env {
    double: Running,
    dir: PathBuf,
    spec: PathBuf,
}

fn setup(name: &str, time_scale: f64) -> Env {
    let double = ArmDouble::start(Config {
        time_scale,
        ..Default::default()
    })
    .expect("the ARM test double starts");
    let dir = std::env::temp_dir().join(format!(
        "dsvmpool-cli-lifecycle-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), &double.ca_pem).unwrap();
    let spec = dir.join("pool.toml");
    std::fs::write(
        &spec,
        r#"
name = "clipool"
location = "westeurope"
resource_group = "rg-cli-pool"

[capacity]
min = 0
max = 10
initial = 2

[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
password = { env = "CLI_ADMIN_PASSWORD" }

[storage]
kind = "azure_files_smb"
share = { name = "workspace", quota_gib = 100 }
credential = "account_key"

[autoscale.scale_to_zero]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"
time_zone = "UTC"
min = 1
"#,
    )
    .unwrap();
    Env { double, dir, spec }
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let d = &self.double;
        let mut c = Command::new(env!("CARGO_BIN_EXE_dsvmpool"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AZURE_TENANT_ID", &d.tenant_id)
            .env("AZURE_CLIENT_ID", &d.client_id)
            .env("AZURE_CLIENT_SECRET", &d.client_secret)
            .env("AZURE_SUBSCRIPTION_ID", &d.subscription_id)
            .env("AZURE_AUTHORITY_HOST", &d.token_authority_url)
            .env("DSVMPOOL_MANAGEMENT_URL", &d.management_url)
            .env("DSVMPOOL_CA_FILE", self.dir.join("ca.pem"))
            .env("DSVMPOOL_POLL_INTERVAL_MS", "20")
            .env("CLI_ADMIN_PASSWORD", PASSWORD)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let o = self.cmd(args).output().expect("run dsvmpool");
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(!all.contains(PASSWORD), "the secret leaked: {all}");
        assert!(
            !all.contains(&self.double.client_secret),
            "the client secret leaked"
        );
        o
    }

    fn spec(&self) -> &str {
        self.spec.to_str().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--auth", "env", "-o", "json"]);
        let o = self.run(&a);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", text(&o.stdout)))
    }

    fn writes(&self) -> Vec<RecordedRequest> {
        self.double
            .management_requests()
            .into_iter()
            .filter(|r| r.is_write())
            .collect()
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

fn deployment_puts(d: &Running) -> usize {
    d.management_requests()
        .iter()
        .filter(|r| {
            r.method == "PUT"
                && r.path_matches("*/Microsoft.Resources/deployments/*")
                && (200..300).contains(&r.status)
        })
        .count()
}

#[test]
fn deploy_status_scale_stop_start_plan_destroy() {
    let e = setup("happy", 0.001);
    let spec = e.spec();

    let v = e.json(&["deploy", spec]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["action"], "created");
    assert_eq!(v["state"], "Succeeded");
    let fqdn = v["outputs"]["fqdn"].as_str().unwrap().to_string();
    assert!(
        v["outputs"]["jupyterhub_url"]
            .as_str()
            .unwrap()
            .contains(&fqdn)
    );
    assert_eq!(
        v["outputs"]["ssh_command"].as_str().unwrap(),
        format!("ssh dsvmadmin@{fqdn}")
    );
    assert!(
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "Succeeded")
    );

    // Text output, and a second deploy that writes nothing.
    e.double.clear_requests();
    let o = e.run(&["deploy", spec, "--auth", "env"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("up to date, nothing deployed"), "{out}");
    assert!(out.contains(&fqdn) && out.contains("JupyterHub"), "{out}");
    assert!(e.writes().is_empty(), "{:?}", e.writes());

    let s = e.json(&["status", spec]);
    assert_eq!(s["deployed"], true);
    assert_eq!(s["scale_set"]["capacity"], 2);
    assert_eq!(s["instances"].as_array().unwrap().len(), 2);
    assert_eq!(s["instances"][0]["power_state"], "running");
    assert_eq!(s["instances"][0]["protect_from_scale_in"], false);
    assert_eq!(s["autoscale"]["enabled"], true);
    assert_eq!(s["addresses"]["fqdn"], fqdn.as_str());
    let o = e.run(&["status", spec, "--auth", "env"]);
    assert!(
        text(&o.stdout).contains("capacity 2, 2 running"),
        "{}",
        text(&o.stdout)
    );

    let s = e.json(&["scale", spec, "5"]);
    assert_eq!((s["from"].as_u64(), s["to"].as_u64()), (Some(2), Some(5)));
    assert_eq!(e.json(&["status", spec])["scale_set"]["capacity"], 5);

    // Stop is destructive: without a terminal and without --yes it is refused (exit 2).
    e.double.clear_requests();
    let o = e.run(&["stop", spec, "--auth", "env"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--yes"), "{}", text(&o.stderr));
    assert!(e.writes().is_empty());
    let s = e.json(&["stop", spec, "--yes"]);
    assert_eq!(s["autoscale_disabled"], true);
    assert_eq!(s["deallocated"].as_array().unwrap().len(), 5);
    let st = e.json(&["status", spec]);
    assert_eq!(st["stopped"], true);
    assert_eq!(st["power"]["deallocated"], 5);

    let s = e.json(&["start", spec]);
    assert_eq!(s["started"].as_array().unwrap().len(), 5);
    assert_eq!(s["autoscale_enabled"], true);

    let p = e.json(&["plan", spec, "--live"]);
    assert_eq!(p["live"]["changes"], 0, "{p}");
    assert_eq!(p["live"]["summary"], "no changes");
    assert_eq!(p["live"]["capacity"], 5);
    let o = e.run(&["plan", spec, "--live", "--auth", "env"]);
    assert!(
        text(&o.stdout).contains("no changes"),
        "{}",
        text(&o.stdout)
    );
    // The offline plan is unchanged and needs no credentials.
    let o = Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
        .args(["plan", spec, "-o", "json"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let offline: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(offline.get("live").is_none());

    e.double.clear_requests();
    let o = e.run(&["destroy", spec, "--auth", "env"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("Delete resource group rg-cli-pool"));
    assert!(e.writes().is_empty());
    let d = e.json(&["destroy", spec, "--yes"]);
    assert_eq!(d["delete_group"], true);
    assert_eq!(e.json(&["status", spec])["deployed"], false);
}

#[test]
fn errors_name_the_operation_code_and_request_id() {
    let e = setup("errors", 0.001);
    let spec = e.spec();
    e.double
        .add_fault(FaultRule {
            method: "PUT".into(),
            path: "*/Microsoft.Resources/deployments/*".into(),
            nth: 1,
            times: 1,
            action: FaultAction::OperationFailed {
                code: "DeploymentFailed".into(),
                message: "injected".into(),
            },
        })
        .unwrap();
    let o = e.run(&["deploy", spec, "--auth", "env", "-o", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["details"]["operation"], "PUT deployment dsvmpool-clipool");
    assert_eq!(v["details"]["code"], "DeploymentFailed");
    assert!(!v["details"]["request_id"].as_str().unwrap().is_empty());
    // Text mode says the same on stderr; the rerun converges.
    let o = e.run(&["deploy", spec, "--auth", "env"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(deployment_puts(&e.double), 2);

    // A missing secret is named, before anything is sent.
    e.double.clear_requests();
    let o = e
        .cmd(&["deploy", spec, "--auth", "env", "--force"])
        .env_remove("CLI_ADMIN_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("CLI_ADMIN_PASSWORD"),
        "{}",
        text(&o.stderr)
    );
    assert!(e.double.management_requests().is_empty());

    // Bearer tokens never go over plain http.
    let http = e.double.management_url.replace("https://", "http://");
    let before = e.double.requests().len();
    let o = e.run(&["status", spec, "--auth", "env", "--management-url", &http]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o.stderr).contains("https"), "{}", text(&o.stderr));
    assert_eq!(e.double.requests().len(), before);

    // An unknown --auth is a usage error.
    let o = e.run(&["status", spec, "--auth", "password"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("azure-cli"), "{}", text(&o.stderr));
}

#[cfg(unix)]
#[test]
fn an_interrupted_deploy_resumes_on_rerun() {
    // Slow enough that the deployment is still running when the command is interrupted.
    let e = setup("interrupt", 0.01);
    let spec = e.spec();
    let child = e
        .cmd(&["deploy", spec, "--auth", "env"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the deployment was submitted.
    let start = std::time::Instant::now();
    while deployment_puts(&e.double) == 0 {
        assert!(
            start.elapsed().as_secs() < 60,
            "the deployment was never submitted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let pid = child.id().to_string();
    let k = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(k.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("run `dsvmpool deploy"),
        "{}",
        text(&o.stderr)
    );
    let running = e.double.snapshot()["deployments"][0]["provisioningState"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        running == "Running" || running == "Accepted",
        "the deployment goes on: {running}"
    );
    let v = e.json(&["deploy", spec]);
    assert_eq!(v["reattached"], true, "{v}");
    assert_eq!(v["state"], "Succeeded");
    assert_eq!(
        deployment_puts(&e.double),
        1,
        "followed, not submitted again"
    );
}
