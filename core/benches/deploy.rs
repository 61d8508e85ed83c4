//! Deploy benchmark: wall time and call count of `dsvmpool::lifecycle::deploy` against the ARM
//! test double, with latencies that give a known critical path.
//!
//! The double's timeline report gives the critical path of the deployment (start latency +
//! longest dependency chain of provisioning times + finish latency). A deploy cannot be
//! faster than that; the goal is a wall time ≤ 1.05 × the critical path, and a call count ≤
//! the minimum + 2, where the minimum for a new pool is: create the resource group, validate,
//! create the deployment, one status poll per `Retry-After` until the deployment ends
//! (⌈deployment duration / Retry-After⌉), and the final GET of the deployment; with live
//! progress, also one listing of the deployment's operations per poll and one at the end.
//!
//! Run: `cargo bench -p dsvmpool --bench deploy` (options: `--runs N`, `--time-scale F`).
//! Prints one line per run and a summary; writes `target/bench-deploy.json`.

use dsvmpool::ValidPool;
use dsvmpool::azure::{AuthMethod, RetryPolicy};
use dsvmpool::lifecycle::{ConnectOptions, DeployOptions, EnvSource, Progress, ProgressSink};
use dsvmpool_arm_double::{ArmDouble, Config, Latency, Running};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Simulated seconds: realistic provisioning times of the pool's resources.
fn latency() -> Latency {
    let mut provisioning = BTreeMap::new();
    for (t, s) in [
        ("Microsoft.Network/networkSecurityGroups", 5.0),
        ("Microsoft.Network/virtualNetworks", 6.0),
        ("Microsoft.Network/publicIPAddresses", 4.0),
        ("Microsoft.Network/loadBalancers", 8.0),
        ("Microsoft.Storage/storageAccounts", 25.0),
        ("Microsoft.Storage/storageAccounts/fileServices", 2.0),
        ("Microsoft.Storage/storageAccounts/fileServices/shares", 3.0),
        ("Microsoft.Compute/virtualMachineScaleSets", 120.0),
        ("Microsoft.Authorization/roleAssignments", 2.0),
        ("Microsoft.Insights/autoscalesettings", 2.0),
    ] {
        provisioning.insert(t.to_string(), s);
    }
    Latency {
        request_secs: 0.0,
        retry_after_secs: 5.0,
        deployment_start_secs: 1.0,
        deployment_finish_secs: 0.0,
        provisioning,
        ..Latency::default()
    }
}

fn pool() -> ValidPool {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/team.toml");
    let mut spec = dsvmpool::Pool::load(path).unwrap().spec().clone();
    // The double reports no principalId for system-assigned identities (see the tests).
    spec.storage.credential = Some(dsvmpool::spec::CredentialMethod::AccountKey);
    dsvmpool::Pool::from_spec(spec).validate().unwrap()
}

struct Run {
    wall: f64,
    critical: f64,
    calls: usize,
    minimum: usize,
    polls: usize,
}

fn run_once(time_scale: f64, progress: bool) -> Run {
    let d: Running = ArmDouble::start(Config {
        time_scale,
        latency: latency(),
        ..Default::default()
    })
    .expect("the ARM test double starts");
    let dir = std::env::temp_dir().join(format!("dsvmpool-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join(format!("ca-{}.pem", d.addr.port()));
    std::fs::write(&ca, &d.ca_pem).unwrap();
    let vars: BTreeMap<&str, String> = [
        ("AZURE_TENANT_ID", d.tenant_id.clone()),
        ("AZURE_CLIENT_ID", d.client_id.clone()),
        ("AZURE_CLIENT_SECRET", d.client_secret.clone()),
        ("AZURE_SUBSCRIPTION_ID", d.subscription_id.clone()),
    ]
    .into_iter()
    .collect();
    let env: EnvSource = Arc::new(move |k: &str| vars.get(k).cloned());
    let sink: Option<ProgressSink> = progress.then(|| Arc::new(|_: &Progress| {}) as ProgressSink);
    let pool = pool();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = dsvmpool::lifecycle::connect(
        &pool,
        &ConnectOptions {
            auth: AuthMethod::Environment,
            management_url: Some(d.management_url.clone()),
            authority_host: Some(d.token_authority_url.clone()),
            ca_file: Some(ca.clone()),
            retry: Some(RetryPolicy::default()),
            env: Some(env.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    // The token is fetched once per process; fetch it outside the measurement.
    rt.block_on(client.resource_group_get("warm-up")).unwrap();
    d.clear_requests();
    let opts = DeployOptions {
        progress: sink,
        env: Some(env),
        ..Default::default()
    };
    let t0 = Instant::now();
    let out = rt
        .block_on(dsvmpool::lifecycle::deploy(&client, &pool, &opts))
        .expect("deploy");
    let wall = t0.elapsed().as_secs_f64();
    assert_eq!(out.state, "Succeeded");
    let timeline = d
        .deployment_timeline(&pool.spec().resource_group, &out.deployment)
        .expect("timeline");
    let critical_sim = timeline["critical_path_secs"].as_f64().unwrap();
    let critical = timeline["critical_path_real_secs"].as_f64().unwrap();
    let calls = d.management_requests();
    let polls = calls
        .iter()
        .filter(|r| r.path_matches("*/operationStatuses/*"))
        .count();
    let retry_after = latency().retry_after_secs;
    // The deployment's own duration in the double (from its PUT to its end), which the critical
    // path bounds from below.
    let duration_sim =
        timeline["finished_secs"].as_f64().unwrap() - timeline["created_secs"].as_f64().unwrap();
    assert!(duration_sim + 1e-6 >= critical_sim, "{timeline}");
    let polls_min = (duration_sim / retry_after).ceil() as usize;
    // With live progress, the deployment's operations are listed once per poll and once at the
    // end: that is part of the minimum of a deploy that shows per-resource progress.
    let minimum = 3 + polls_min + 1 + if progress { polls_min + 1 } else { 0 };
    let _ = std::fs::remove_file(&ca);
    Run {
        wall,
        critical,
        calls: calls.len(),
        minimum,
        polls,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it once, quickly.
    let quick = !args.iter().any(|a| a == "--bench");
    let runs: usize = arg("--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let time_scale: f64 = arg("--time-scale")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 0.002 } else { 0.02 });
    if quick {
        println!(
            "quick smoke run (simulated time too fast for the goals to mean anything); \
             measure with `cargo bench -p dsvmpool --bench deploy`"
        );
    }
    let mut report = Vec::new();
    for progress in [false, true] {
        let mut rs = Vec::new();
        for i in 0..runs {
            let r = run_once(time_scale, progress);
            println!(
                "deploy{} run {}: wall {:.3} s, critical path {:.3} s, ratio {:.3}; calls {} \
                 (minimum {}, {} status polls)",
                if progress { " with progress" } else { "" },
                i + 1,
                r.wall,
                r.critical,
                r.wall / r.critical,
                r.calls,
                r.minimum,
                r.polls
            );
            rs.push(r);
        }
        let ratio = median(rs.iter().map(|r| r.wall / r.critical).collect());
        let wall = median(rs.iter().map(|r| r.wall).collect());
        let critical = median(rs.iter().map(|r| r.critical).collect());
        let calls = rs.iter().map(|r| r.calls).max().unwrap_or(0);
        let minimum = rs.iter().map(|r| r.minimum).min().unwrap_or(0);
        println!(
            "deploy{}: median wall {wall:.3} s vs critical path {critical:.3} s = {ratio:.3}× \
             (goal ≤ 1.05); calls ≤ {calls} vs minimum {minimum} (goal ≤ minimum + 2){}",
            if progress { " with progress" } else { "" },
            if progress {
                " (the minimum includes one operations listing per poll)"
            } else {
                ""
            }
        );
        report.push(json!({
            "progress": progress,
            "runs": runs,
            "time_scale": time_scale,
            "median_wall_secs": wall,
            "critical_path_secs": critical,
            "ratio": ratio,
            "max_calls": calls,
            "minimum_calls": minimum,
        }));
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-deploy.json");
    let _ = std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap());
}
