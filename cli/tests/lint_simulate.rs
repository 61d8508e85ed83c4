//! `dsvmpool lint` and `dsvmpool simulate` end to end.

use std::process::Command;

const BASE: &str = r#"
name = "team"
location = "westeurope"
resource_group = "rg-team"
[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
[capacity]
max = 10
[[autoscale.rules]]
metric = "Percentage CPU"
operator = ">"
threshold = 70
action = "increase"
value = 2
cooldown = "PT10M"
[[autoscale.rules]]
metric = "Percentage CPU"
operator = "<"
threshold = 25
action = "decrease"
value = 1
"#;

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dsvmpool-cli-sim-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn lint_exit_codes_and_json() {
    let d = dir();
    // CPU-only rules at minimum 0 and no schedule: scale from zero is impossible (error).
    let bad = d.join("bad.toml");
    std::fs::write(&bad, BASE).unwrap();
    let (code, out) = run(&["lint", bad.to_str().unwrap(), "--output", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    let f = v["findings"].as_array().unwrap();
    assert!(f.iter().any(|x| x["rule"] == "scale-from-zero"
        && x["severity"] == "error"
        && x["path"] == "capacity"));
    // Working hours raise the minimum: warnings only, exit 0.
    let good = d.join("good.toml");
    std::fs::write(
        &good,
        format!("{BASE}\n[autoscale.scale_to_zero]\nmin = 1\n"),
    )
    .unwrap();
    let (code, out) = run(&["lint", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[scale-from-zero]"), "{out}");
}

#[test]
fn simulate_trace_compare_and_plot() {
    let d = dir();
    let spec = d.join("pool.toml");
    std::fs::write(
        &spec,
        format!(
            "{BASE}\n[autoscale.scale_to_zero]\nmin = 1\n[autoscale.sessions]\ntarget_per_vm = 4\n"
        ),
    )
    .unwrap();
    let trace = d.join("t.csv");
    std::fs::write(
        &trace,
        "user,start,duration,cpu\nann,2026-03-02T09:00:00Z,PT2H,0.3\nbob,2026-03-07T10:00:00Z,3600,0.2\n",
    )
    .unwrap();
    let svg = d.join("p.svg");
    let (code, out) = run(&[
        "simulate",
        spec.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--compare",
        "cpu,sessions",
        "--plot",
        svg.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = v["reports"].as_array().unwrap();
    assert_eq!(
        (r[0]["policy"].as_str(), r[1]["policy"].as_str()),
        (Some("cpu"), Some("sessions"))
    );
    // Saturday's session: refused by the CPU-only pool, served by the session rules.
    assert_eq!(
        (r[0]["refused"].as_u64(), r[1]["refused"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let (code, _) = run(&[
        "simulate",
        spec.to_str().unwrap(),
        "--trace",
        "/nonexistent.csv",
    ]);
    assert_eq!(code, 2);
    let (code, _) = run(&[
        "simulate",
        spec.to_str().unwrap(),
        "--synthetic",
        "5",
        "--days",
        "3",
        "--compare",
        "nope",
    ]);
    assert_eq!(code, 2);
}
