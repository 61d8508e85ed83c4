//! No secret (password, key, SAS) appears anywhere outside `protectedSettings`, `securestring`
//! parameters and Key Vault references: not in the template, the parameters file, the
//! provisioning files or their Debug output. (The CLI's output is covered in `cli/tests`.)

mod render_support;

use render_support::*;
use serde_json::Value;

/// Every string of a JSON document with its path.
fn strings<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((path, s)),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(x, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                strings(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Every object key of a JSON document with its path.
fn keys<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str, &'a Value)>) {
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                keys(x, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                out.push((path.clone(), k, x));
                keys(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn secure_params(t: &Value) -> Vec<String> {
    t["parameters"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, d)| {
            d["type"]
                .as_str()
                .is_some_and(|ty| ty.eq_ignore_ascii_case("securestring"))
        })
        .map(|(n, _)| n.clone())
        .collect()
}

#[test]
fn secret_values_from_the_environment_never_reach_any_file() {
    for (k, v) in SECRET_ENV {
        // SAFETY: tests in this binary only read these variables.
        unsafe { std::env::set_var(k, v) };
    }
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool);
        let mut all = String::new();
        for (_, content) in a.all_files() {
            all.push_str(&content);
        }
        all.push_str(&format!("{a:?}"));
        all.push_str(&serde_json::to_string(&a).unwrap());
        for (k, v) in SECRET_ENV {
            assert!(!all.contains(v), "{label}: the value of {k} leaked");
        }
    }
}

#[test]
fn secrets_appear_only_in_protected_settings_secure_parameters_and_vault_references() {
    let mut saw_list_keys = 0;
    let mut saw_secure = 0;
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool);
        let t = &a.template;
        let secure = secure_params(t);
        saw_secure += secure.len();
        // A securestring parameter has no default value.
        for name in &secure {
            assert!(
                t["parameters"][name].get("defaultValue").is_none(),
                "{label}: {name} has a default"
            );
        }
        let mut ss = vec![];
        strings(t, "$".into(), &mut ss);
        for (path, s) in &ss {
            let protected = path.contains(".protectedSettings.");
            if s.contains("listKeys(") || s.contains("listkeys(") {
                saw_list_keys += 1;
                assert!(
                    protected,
                    "{label}: listKeys outside protectedSettings at {path}"
                );
            }
            for name in &secure {
                if s.contains(&format!("parameters('{name}')")) {
                    assert!(
                        protected || path.ends_with(".osProfile.adminPassword"),
                        "{label}: secure parameter {name} used at {path}"
                    );
                }
            }
            assert!(
                !path.starts_with("$.outputs") || !s.contains("listKeys"),
                "{label}: {path}"
            );
        }
        // Every key that names a secret holds a secure parameter, outside protected settings.
        let mut ks = vec![];
        keys(t, "$".into(), &mut ks);
        for (path, k, v) in &ks {
            let lk = k.to_ascii_lowercase();
            let named_secret = lk.contains("password") && lk != "disablepasswordauthentication"
                || lk.contains("secret")
                || lk.contains("accountkey")
                || lk.contains("sastoken")
                || lk == "sas";
            if named_secret
                && !path.contains(".protectedSettings")
                && !path.starts_with("$.parameters")
            {
                let ok = v
                    .as_str()
                    .is_some_and(|s| secure.iter().any(|n| s == format!("[parameters('{n}')]")));
                assert!(ok, "{label}: {path}.{k} holds {v}");
            }
        }
        // Outputs and tags hold no secret expression.
        let outs = serde_json::to_string(&t["outputs"]).unwrap();
        for name in &secure {
            assert!(!outs.contains(name.as_str()), "{label}: output uses {name}");
        }
        // Parameters file: a securestring is a Key Vault reference or absent (filled at deploy).
        for name in &secure {
            let p = &a.parameters["parameters"][name];
            assert!(
                p.get("value").is_none(),
                "{label}: {name} has a value in the parameters file"
            );
            if !p.is_null() {
                assert!(
                    p["reference"]["keyVault"]["id"].is_string(),
                    "{label}: {name}: {p}"
                );
                assert!(p["reference"]["secretName"].is_string());
            }
        }
        for sp in &a.secure_parameters {
            assert!(secure.contains(&sp.name), "{label}: {}", sp.name);
            assert!(a.parameters["parameters"][&sp.name].is_null());
        }
        // Provisioning files hold no credential: only the path of the root-only credentials file.
        for f in &a.files {
            for line in f.content.lines() {
                let l = line.to_ascii_lowercase();
                if l.contains("password=") {
                    assert!(l.contains("password=%s"), "{label}: {}: {line}", f.path);
                }
                assert!(!l.contains("sig="), "{label}: {}: SAS in {line}", f.path);
            }
        }
    }
    assert!(saw_list_keys > 0, "some spec reads the key with listKeys");
    assert!(saw_secure > 0, "some spec has secure parameters");
}

#[test]
fn vault_secrets_become_key_vault_references() {
    let pools = all_pools();
    let (label, pool) = pools
        .iter()
        .find(|(l, _)| l.ends_with("linux-password-vault"))
        .unwrap();
    let a = render_ok(label, pool);
    let r = &a.parameters["parameters"]["adminPassword"]["reference"];
    assert_eq!(r["keyVault"]["id"], VAULT);
    assert_eq!(r["secretName"], "admin-password");
    assert_eq!(r["secretVersion"], "0123456789abcdef0123456789abcdef");
    assert!(a.secure_parameters.is_empty());
    // The password is what JupyterHub's PAM login uses; SSH stays key-only.
    let vmss = a.template["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Microsoft.Compute/virtualMachineScaleSets")
        .unwrap();
    let os = &vmss["properties"]["virtualMachineProfile"]["osProfile"];
    assert_eq!(os["adminPassword"], "[parameters('adminPassword')]");
    assert_eq!(
        os["linuxConfiguration"]["disablePasswordAuthentication"],
        false
    );
    assert!(
        a.user_data
            .as_deref()
            .unwrap()
            .contains("ssh_pwauth: false")
    );
}

#[test]
fn env_secrets_become_secure_parameters_the_deploy_fills() {
    let pools = all_pools();
    let (label, pool) = pools
        .iter()
        .find(|(l, _)| l.ends_with("smb-existing-env-key"))
        .unwrap();
    let a = render_ok(label, pool);
    let names: Vec<(&str, &str)> = a
        .secure_parameters
        .iter()
        .map(|s| (s.name.as_str(), s.env.as_str()))
        .collect();
    assert_eq!(names, [("storageAccountKey", "DSVMPOOL_STORAGE_KEY")]);
    assert_eq!(
        a.template["parameters"]["storageAccountKey"]["type"],
        "securestring"
    );
    let text = a.template_json();
    assert!(text.contains("parameters('storageAccountKey')"));
    assert!(
        !text.contains("listKeys("),
        "the key comes from the parameter, not listKeys"
    );
}
