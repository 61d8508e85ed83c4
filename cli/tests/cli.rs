//! The CLI as a user runs it: exit codes, compiler-style errors, JSON output, init starters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dsvmpool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
        .args(args)
        .output()
        .expect("run dsvmpool")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_ok_and_json() {
    let o = dsvmpool(&["validate", &example("team.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("valid"));
    let o = dsvmpool(&["validate", &example("team.toml"), "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
}

#[test]
fn invalid_spec_exits_1_with_compiler_style_errors() {
    let f = root().join("tests/fixtures/specs/invalid/many-problems.toml");
    let o = dsvmpool(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("error[mount-path-mnt]: "), "{e}");
    assert!(
        e.contains("many-problems.toml: storage.mount_path: "),
        "{e}"
    );
    assert!(e.contains("= hint: "), "{e}");
    assert!(e.contains("5 errors"), "{e}");
    let o = dsvmpool(&["validate", f.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["code"], "VALIDATION");
    let paths: Vec<&str> = v["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 5);
    assert!(paths.contains(&"users[1].uid"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(dsvmpool(&["validate"]).status.code(), Some(2));
    assert_eq!(dsvmpool(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        dsvmpool(&["validate", "/nonexistent/pool.toml"])
            .status
            .code(),
        Some(2)
    );
    let o = dsvmpool(&["validate", "Cargo.lock.unknown-extension"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn format_override() {
    let dir = tempdir();
    let f = dir.join("spec.txt");
    std::fs::copy(root().join("tests/fixtures/specs/valid/windows.json"), &f).unwrap();
    let o = dsvmpool(&["validate", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn plan_reads_well_and_parses_as_json() {
    let o = dsvmpool(&["plan", &example("team.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    for want in [
        "Resources:",
        "virtualMachineScaleSets team-vmss",
        "JupyterHub     https://team-",
        ":8000",
        "Autoscale:",
        "Mon–Fri 08:00–19:00",
        "$0.192/h",
        "/month",
        "as of 2026-11-01",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    let o = dsvmpool(&["plan", &example("team.toml"), "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pool"], "team");
    assert!(v["cost"]["at_max"]["monthly"].as_f64().unwrap() > 0.0);
    assert!(v["resources"].as_array().unwrap().len() >= 7);
}

#[test]
fn schema_matches_committed() {
    let o = dsvmpool(&["schema"]);
    let committed = std::fs::read_to_string(root().join("core/schema/pool.schema.json")).unwrap();
    assert_eq!(stdout(&o), committed);
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "dsvmpool-cli-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn init_starters_validate_and_do_not_overwrite() {
    let dir = tempdir();
    for kind in ["smb", "nfs", "windows"] {
        let f = dir.join(format!("{kind}.toml"));
        let _ = std::fs::remove_file(&f);
        let o = dsvmpool(&["init", "--kind", kind, f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let o = dsvmpool(&["validate", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{kind}: {}", stderr(&o));
        let o = dsvmpool(&["init", "--kind", kind, f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "refuses to overwrite");
    }
    let o = dsvmpool(&["init", "-"]);
    assert!(stdout(&o).contains("[storage]"));
}
