//! `dsvmpool render`: the files it writes, its text and JSON output, and that no secret value
//! from the environment reaches its output or its files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SENTINEL: &str = "Sentinel-Adm1n-Passw0rd-cli-7d2e";

fn dsvmpool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsvmpool"))
        .args(args)
        .env("DSVMPOOL_ADMIN_PASSWORD", SENTINEL)
        .env("STORAGE_KEY", SENTINEL)
        .output()
        .expect("run dsvmpool")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dsvmpool-cli-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn all_text(o: &Output, dir: &Path) -> String {
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            s.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap_or_default());
        }
    }
    s
}

#[test]
fn render_writes_the_template_parameters_and_provisioning_files() {
    let dir = tmp("team");
    let o = dsvmpool(&[
        "render",
        &example("team.toml"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "azuredeploy.json",
        "azuredeploy.parameters.json",
        "cloud-init.yaml",
        "instance/usr/local/sbin/dsvmpool-provision",
        "instance/etc/dsvmpool/pool.conf",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("az deployment group create -g "), "{out}");
    assert!(
        out.contains("--template-file") && out.contains("--parameters @"),
        "{out}"
    );
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("azuredeploy.json")).unwrap())
            .unwrap();
    assert!(
        t["$schema"]
            .as_str()
            .unwrap()
            .contains("2019-04-01/deploymentTemplate.json")
    );
    // The same spec gives the same bytes.
    let first = std::fs::read(dir.join("azuredeploy.json")).unwrap();
    let o = dsvmpool(&[
        "render",
        &example("team.toml"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read(dir.join("azuredeploy.json")).unwrap(), first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_json_output_and_no_secret_anywhere() {
    let dir = tmp("windows");
    // The Windows starter takes the admin password from DSVMPOOL_ADMIN_PASSWORD.
    let spec = root()
        .join("cli/src/starters/windows.toml")
        .display()
        .to_string();
    let o = dsvmpool(&[
        "render",
        &spec,
        "--out",
        dir.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        v["written"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with("provision.ps1"))
    );
    assert_eq!(v["secure_parameters"][0]["name"], "adminPassword");
    assert_eq!(v["secure_parameters"][0]["env"], "DSVMPOOL_ADMIN_PASSWORD");
    assert!(
        v["deploy_command"]
            .as_str()
            .unwrap()
            .contains("adminPassword=\"$DSVMPOOL_ADMIN_PASSWORD\"")
    );
    assert!(
        !all_text(&o, &dir).contains(SENTINEL),
        "the password value leaked"
    );
    // Text output too.
    let o = dsvmpool(&["render", &spec, "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!all_text(&o, &dir).contains(SENTINEL));
    // A storage key from the environment, and a vault-referenced password (examples/windows.toml).
    let env_key = root()
        .join("tests/fixtures/specs/valid/smb-existing-account-env.toml")
        .display()
        .to_string();
    for spec in [env_key, example("windows.toml")] {
        let _ = std::fs::remove_dir_all(&dir);
        for json in [false, true] {
            let mut args = vec!["render", spec.as_str(), "--out", dir.to_str().unwrap()];
            if json {
                args.extend(["-o", "json"]);
            }
            let o = dsvmpool(&args);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{spec}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                !all_text(&o, &dir).contains(SENTINEL),
                "{spec}: a secret value leaked"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_spec_writes_nothing() {
    let dir = tmp("invalid");
    let f = root().join("tests/fixtures/specs/invalid/many-problems.toml");
    let o = dsvmpool(&[
        "render",
        f.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.exists());
}

#[test]
fn unwritable_output_is_a_usage_error() {
    let file = tmp("blocker");
    std::fs::write(&file, "not a directory").unwrap();
    let o = dsvmpool(&[
        "render",
        &example("team.toml"),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("error: "));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn share_host_points_the_mount_elsewhere_and_a_bad_one_is_refused() {
    let dir = tmp("share-host");
    let o = dsvmpool(&[
        "render",
        &example("nfs.toml"),
        "--out",
        dir.to_str().unwrap(),
        "--share-host",
        "10.20.8.4",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let conf = std::fs::read_to_string(dir.join("instance/etc/dsvmpool/pool.conf")).unwrap();
    assert!(conf.contains("DSVMPOOL_SOURCE='10.20.8.4:"), "{conf}");
    let ud = std::fs::read_to_string(dir.join("cloud-init.yaml")).unwrap();
    assert!(ud.contains("DSVMPOOL_SOURCE='10.20.8.4:"));
    let _ = std::fs::remove_dir_all(&dir);

    let dir = tmp("share-host-bad");
    let o = dsvmpool(&[
        "render",
        &example("nfs.toml"),
        "--out",
        dir.to_str().unwrap(),
        "--share-host",
        "$(touch /tmp/pwned)",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("share_host") && err.contains("host name"),
        "{err}"
    );
    assert!(!dir.exists(), "nothing is written");
}
