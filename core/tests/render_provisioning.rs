//! Provisioning renderer: snapshots of every artifact, structural checks, and hostile strings
//! through every string field of the spec.

use dsvmpool::render::{ProvisionOptions, ProvisioningArtifacts, render_cloud_init};
use dsvmpool::{ErrorKind, Pool, ValidPool};
use std::collections::BTreeMap;
use std::process::Command;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop";
const KV: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/teamkv";

fn base(storage: &str, extra: &str) -> String {
    format!(
        r#"
name = "team"
location = "westeurope"
resource_group = "rg-team"
{extra}
[access]
ssh_keys = ["{KEY}"]
source_cidrs = ["203.0.113.0/24"]

[storage]
{storage}

[[users]]
name = "alice"
uid = 2001
ssh_keys = ["{KEY}"]

[[users]]
name = "bob"
uid = 2002
gid = 2102
admin = true
"#
    )
}

fn smb_kv() -> String {
    base(
        &format!(
            r#"kind = "azure_files_smb"
account = {{ name = "teamfiles" }}
credential = "managed_identity"
key = {{ key_vault = {{ id = "{KV}", secret = "teamfiles-key" }} }}
notebooks = {{ sharing = "team", group = "datasci", gid = 3000 }}"#
        ),
        "",
    )
}

fn smb_listkeys() -> String {
    base(
        r#"kind = "azure_files_smb"
account = { name = "teamfiles" }"#,
        "",
    )
}

fn smb_account_key() -> String {
    base(
        r#"kind = "azure_files_smb"
account = { name = "teamfiles" }
credential = "account_key""#,
        "",
    )
}

fn azure_nfs() -> String {
    base(
        r#"kind = "azure_files_nfs"
account = { name = "teamfiles" }
share = { name = "workspace", quota_gib = 100 }"#,
        "",
    )
}

fn generic_nfs() -> String {
    base(
        r#"kind = "nfs"
mount_path = "/shared/team"
nfs = { server = "10.20.8.4", export = "/export/team", version = "3" }"#,
        "",
    )
}

fn windows() -> String {
    format!(
        r#"
name = "winteam"
location = "westeurope"
resource_group = "rg-win"
[vm]
os = "windows"
computer_name_prefix = "winteam"
[access]
password = {{ env = "DSVMPOOL_ADMIN_PASSWORD" }}
source_cidrs = ["203.0.113.0/24"]
[storage]
kind = "azure_files_smb"
account = {{ name = "winfiles" }}
key = {{ key_vault = {{ id = "{KV}", secret = "winfiles-key" }} }}
"#
    )
}

fn valid(toml: &str) -> ValidPool {
    Pool::from_toml(toml)
        .expect("parses")
        .validate()
        .unwrap_or_else(|e| panic!("valid spec: {e}\n{:?}", e.validation()))
}

fn render(toml: &str) -> ProvisioningArtifacts {
    render_cloud_init(&valid(toml), &ProvisionOptions::default()).expect("renders")
}

fn file<'a>(a: &'a ProvisioningArtifacts, path: &str) -> &'a str {
    &a.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} rendered"))
        .content
}

#[test]
fn smb_key_vault_user_data_snapshot() {
    let a = render(&smb_kv());
    insta::assert_snapshot!("smb_key_vault_user_data", a.user_data.as_deref().unwrap());
    assert!(a.key_delivery.is_none());
    assert!(a.powershell.is_none());
}

#[test]
fn pool_conf_snapshots() {
    for (name, spec) in [
        ("smb_listkeys", smb_listkeys()),
        ("smb_account_key", smb_account_key()),
        ("azure_nfs", azure_nfs()),
        ("generic_nfs", generic_nfs()),
    ] {
        let a = render(&spec);
        insta::assert_snapshot!(
            format!("pool_conf_{name}"),
            file(&a, "/etc/dsvmpool/pool.conf")
        );
        insta::assert_snapshot!(format!("users_{name}"), file(&a, "/etc/dsvmpool/users"));
    }
}

#[test]
fn key_delivery_snapshot_and_refusals() {
    let a = render(&smb_account_key());
    let kd = a
        .key_delivery
        .expect("account_key SMB pools get a key delivery script");
    let script = kd.with_key("ZXhhbXBsZSBzdG9yYWdlIGFjY291bnQga2V5OiBzaXh0eS1mb3VyIGJ5dGVzLCBpbGx1c3RyYXRpb24gb25seQ==").unwrap();
    insta::assert_snapshot!("key_delivery", script);
    assert!(!script.contains("ZXhhbXBsZSBzdG9yYWdlIGFjY291bnQga2V5OiBzaXh0eS1mb3VyIGJ5dGVzLCBpbGx1c3RyYXRpb24gb25seQ=="), "the key itself is never script text");
    for bad in [
        "",
        "abc\nDSVMPOOL_STORAGE_KEY\nrm -rf /",
        "a'b",
        "$(touch /tmp/x)",
        "c2VjcmV0K2tleS8vPT0=",
        "ZXhhbXBsZSBzdG9yYWdlIGFjY291bnQga2V5OiBzaXh0eS1mb3VyIGJ5dGVzLCBpbGx1c3RyYXRpb24gb25seQ==\n",
    ] {
        let e = kd.with_key(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(!e.to_string().contains(bad) || bad.is_empty());
    }
    // managed identity and NFS pools need none
    assert!(render(&smb_kv()).key_delivery.is_none());
    assert!(render(&azure_nfs()).key_delivery.is_none());
}

/// What the template does (base64 of whatever the key expression yields, between the halves),
/// run with `sh` against a stand-in for dsvmpool-storage-key: every byte of a hostile "key"
/// arrives on standard input as data and nothing of it runs.
#[test]
fn key_delivery_passes_any_key_as_data() {
    use base64::Engine as _;
    use std::os::unix::fs::PermissionsExt;
    let kd = render(&smb_account_key())
        .key_delivery
        .expect("account_key SMB pools get a key delivery script");
    let dir = std::env::temp_dir().join(format!("dsvmpool-kd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let got = dir.join("stdin");
    let pwned = dir.join("pwned");
    let stub = dir.join("store");
    std::fs::write(&stub, format!("#!/bin/sh\ncat > '{}'\n", got.display())).unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o700)).unwrap();
    let cmd = dsvmpool::render::cloud_init::STORAGE_KEY_COMMAND;
    let p = pwned.display();
    for key in [
        "ZXhhbXBsZSBzdG9yYWdlIGFjY291bnQga2V5OiBzaXh0eS1mb3VyIGJ5dGVzLCBpbGx1c3RyYXRpb24gb25seQ=="
            .to_string(),
        format!("x\nDSVMPOOL_STORAGE_KEY\ntouch '{p}'\n"),
        format!("x' ; touch '{p}' ; echo '"),
        format!("$(touch '{p}')`touch '{p}'`"),
    ] {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
        let script = format!("{}{encoded}{}", kd.before_key, kd.after_key)
            .replace(cmd, &stub.display().to_string());
        let _ = std::fs::remove_file(&got);
        let o = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert!(
            o.status.success(),
            "{key:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!pwned.exists(), "{key:?}: ran as code");
        assert_eq!(std::fs::read_to_string(&got).unwrap(), key, "{key:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn windows_script_snapshot() {
    let a = render(&windows());
    assert!(a.user_data.is_none());
    insta::assert_snapshot!("windows_provision_ps1", a.powershell.unwrap());
}

#[test]
fn mount_options_follow_the_azure_files_rules() {
    let smb = render(&smb_kv());
    let conf = file(&smb, "/etc/dsvmpool/pool.conf");
    for want in [
        "vers=3.1.1",
        "credentials=/etc/smbcredentials/teamfiles.cred",
        "serverino",
        "nosharesock",
        "actimeo=30",
        "mfsymlinks",
        "_netdev",
        "nofail",
        "x-systemd.automount",
    ] {
        assert!(conf.contains(want), "SMB options lack {want}");
    }
    assert!(
        !conf.contains("password="),
        "never a password in the options"
    );
    assert!(conf.contains("DSVMPOOL_SOURCE='//teamfiles.file.core.windows.net/workspace'"));
    let nfs = render(&azure_nfs());
    let conf = file(&nfs, "/etc/dsvmpool/pool.conf");
    assert!(
        conf.contains("DSVMPOOL_SOURCE='teamfiles.file.core.windows.net:/teamfiles/workspace'")
    );
    assert!(
        conf.contains(
            "vers=4,minorversion=1,sec=sys,nconnect=4,_netdev,nofail,x-systemd.automount"
        )
    );
    let g = render(&generic_nfs());
    let conf = file(&g, "/etc/dsvmpool/pool.conf");
    assert!(conf.contains("DSVMPOOL_SOURCE='10.20.8.4:/export/team'"));
    assert!(conf.contains("DSVMPOOL_FSTYPE='nfs'"));
    assert!(conf.contains("DSVMPOOL_OPTIONS='vers=3,sec=sys,"));
}

#[test]
fn share_host_override_changes_only_the_endpoint() {
    let pool = valid(&smb_kv());
    let plain = render_cloud_init(&pool, &ProvisionOptions::default()).unwrap();
    let over =
        render_cloud_init(&pool, &ProvisionOptions::with_share_host("169.254.0.100")).unwrap();
    let a = plain.user_data.unwrap();
    let b = over.user_data.unwrap();
    let diff: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(
        diff,
        vec![(
            "    DSVMPOOL_SOURCE='//teamfiles.file.core.windows.net/workspace'",
            "    DSVMPOOL_SOURCE='//169.254.0.100/workspace'"
        )]
    );
    for bad in ["", "a b", "x;touch /tmp/p", "-oproxy", "h\n", "$(id)"] {
        let e = render_cloud_init(&pool, &ProvisionOptions::with_share_host(bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}");
        assert_eq!(e.validation().unwrap().errors[0].path, "share_host");
    }
}

#[test]
fn user_data_is_yaml_whose_files_are_the_rendered_files() {
    for spec in [smb_kv(), smb_listkeys(), azure_nfs(), generic_nfs()] {
        let a = render(&spec);
        let ud = a.user_data.as_deref().unwrap();
        assert!(ud.starts_with("#cloud-config\n"));
        let doc: serde_json::Value = serde_norway::from_str(ud).expect("YAML");
        let files = doc["write_files"].as_array().unwrap();
        assert_eq!(files.len(), a.files.len());
        for (y, f) in files.iter().zip(&a.files) {
            assert_eq!(y["path"], f.path.as_str());
            assert_eq!(y["content"], f.content.as_str());
            assert_eq!(y["permissions"], f.permissions);
            assert_eq!(y["owner"], "root:root");
        }
        assert_eq!(
            doc["runcmd"],
            serde_json::json!([["/usr/local/sbin/dsvmpool-provision"]])
        );
        assert_eq!(
            ud.matches("password=").count(),
            ud.matches("password=%s").count(),
            "nothing secret in the user data"
        );
    }
}

#[test]
fn user_data_fits_custom_data_or_is_refused_by_name() {
    let a = render(&smb_kv());
    assert!(a.user_data.unwrap().len() < 30_000);
    let user = |i: usize| {
        format!(
            "[[users]]\nname = \"dsu{i}\"\nuid = {}\nssh_keys = [\"{KEY}\", \"{KEY}\"]\n",
            3000 + i
        )
    };
    let many: String = (0..40).map(user).collect();
    let spec = format!("{}\n{many}", smb_listkeys());
    assert!(render(&spec).user_data.unwrap().len() <= dsvmpool::render::cloud_init::MAX_USER_DATA);
    let too_many: String = (0..400).map(user).collect();
    let e = render_cloud_init(
        &valid(&format!("{}\n{too_many}", smb_listkeys())),
        &ProvisionOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.validation().unwrap().errors[0].rule, "custom-data-size");
}

// ------------------------------------------------------------------ hostile strings

const HOSTILE: &[&str] = &[
    "$(touch /tmp/dsvmpool-pwned)",
    "`touch /tmp/dsvmpool-pwned`",
    "a; touch /tmp/dsvmpool-pwned",
    "a\ntouch /tmp/dsvmpool-pwned",
    "a'b\"c",
    "' ; touch /tmp/dsvmpool-pwned ; '",
    "../../etc/passwd",
    "ünïcødé\u{202e}",
    "a\u{0}b",
    "${IFS}x",
    "-rf",
    "x\r\ny: 1",
    "{{ds.meta_data}}",
    "## template: jinja\n{{ 7*7 }}",
];

/// Every string leaf of a JSON value, with its pointer.
fn string_leaves(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(_) => out.push(at),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                string_leaves(x, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                string_leaves(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// Values of `NAME='value'` lines, as bash reads them after sourcing the file.
fn sourced_by_bash(conf: &str) -> BTreeMap<String, String> {
    let dir = std::env::temp_dir().join(format!("dsvmpool-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pool.conf");
    std::fs::write(&path, conf).unwrap();
    // A clean environment: only what the file sets may show up (not e.g. the caller's
    // DSVMPOOL_REQUIRE_TOOLS).
    let out = Command::new("bash")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("-c")
        .arg(r#"set -eu; cd "$1"; . ./pool.conf; for v in ${!DSVMPOOL_*}; do printf '%s=%s\0' "$v" "${!v}"; done"#)
        .arg("sh")
        .arg(&dir)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "sourcing failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The values the conf file meant to hold, read back from its single-quoted form.
fn conf_literals(conf: &str) -> BTreeMap<String, String> {
    conf.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or_else(|| panic!("not one quoted word: {l}"));
            (k.to_string(), v.replace(r"'\''", "'"))
        })
        .collect()
}

/// Read a PowerShell single-quoted assignment `$Name = '...'` back.
fn ps_literal(line: &str) -> Option<(String, String)> {
    let (name, rest) = line.strip_prefix('$')?.split_once(" = ")?;
    let inner = rest.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut cs = inner.chars().peekable();
    while let Some(c) = cs.next() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            // inside the string a quote only appears doubled
            assert_eq!(cs.next(), Some(c), "lone quote in {line}");
        }
        out.push(c);
    }
    Some((name.to_string(), out))
}

#[test]
fn hostile_strings_in_every_field_are_rejected_or_inert() {
    let marker = std::path::Path::new("/tmp/dsvmpool-pwned");
    let _ = std::fs::remove_file(marker);
    let (mut rejected, mut rendered) = (0, 0);
    for spec in [smb_kv(), smb_account_key(), generic_nfs(), windows()] {
        let base = serde_json::to_value(Pool::from_toml(&spec).unwrap().spec()).unwrap();
        let mut leaves = vec![];
        string_leaves(&base, String::new(), &mut leaves);
        assert!(leaves.len() > 15, "few string fields found: {leaves:?}");
        for leaf in &leaves {
            for &h in HOSTILE {
                let mut v = base.clone();
                *v.pointer_mut(leaf).unwrap() = serde_json::Value::String(h.to_string());
                let Ok(pool) = Pool::from_value(v) else {
                    rejected += 1;
                    continue;
                };
                let Ok(valid) = pool.validate() else {
                    rejected += 1;
                    continue;
                };
                let a = render_cloud_init(&valid, &ProvisionOptions::default())
                    .unwrap_or_else(|e| panic!("{leaf} = {h:?}: valid spec fails to render: {e}"));
                rendered += 1;
                if let Some(ud) = &a.user_data {
                    // YAML round trip: every file arrives exactly as rendered
                    let doc: serde_json::Value = serde_norway::from_str(ud)
                        .unwrap_or_else(|e| panic!("{leaf} = {h:?}: user data is not YAML: {e}"));
                    for (y, f) in doc["write_files"].as_array().unwrap().iter().zip(&a.files) {
                        assert_eq!(y["content"], f.content.as_str(), "{leaf} = {h:?}");
                    }
                    let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
                    keys.sort();
                    assert_eq!(
                        keys,
                        ["runcmd", "ssh_pwauth", "write_files"],
                        "{leaf} = {h:?}: extra keys"
                    );
                    assert_eq!(doc["ssh_pwauth"], false, "{leaf} = {h:?}");
                    // the shell reads back exactly the values meant, and runs nothing
                    let conf = file(&a, "/etc/dsvmpool/pool.conf");
                    assert_eq!(sourced_by_bash(conf), conf_literals(conf), "{leaf} = {h:?}");
                    // the users file: one colon-separated record per line, nothing else
                    for line in file(&a, "/etc/dsvmpool/users").lines() {
                        let f: Vec<&str> = line.split(':').collect();
                        assert_eq!(f.len(), 4, "{leaf} = {h:?}: {line}");
                        assert!(dsvmpool::spec::validate::is_valid_username(f[0]));
                    }
                }
                if let Some(ps) = &a.powershell {
                    for line in ps
                        .lines()
                        .filter(|l| l.starts_with('$') && l.contains(" = '"))
                    {
                        let (_, val) = ps_literal(line)
                            .unwrap_or_else(|| panic!("{leaf} = {h:?}: not a literal: {line}"));
                        assert!(!val.contains('\n'));
                    }
                }
            }
        }
    }
    assert!(!marker.exists(), "a hostile string ran a command");
    assert!(
        rejected > 0 && rendered > 0,
        "rejected {rejected}, rendered {rendered}"
    );
}
