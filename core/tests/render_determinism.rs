//! Rendering is deterministic (byte-identical files for the same spec, however it was written),
//! and every resource name follows the one convention within Azure's length rules, also for the
//! longest allowed pool name.

mod render_support;

use dsvmpool::Pool;
use dsvmpool::names::ResourceNames;
use render_support::*;
use serde_json::Value;

#[test]
fn the_same_spec_renders_byte_identical_files() {
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool).all_files();
        let b = render_ok(&label, &pool).all_files();
        assert_eq!(a, b, "{label}");
        // The same spec written as JSON renders the same bytes.
        let json = serde_json::to_value(pool.spec()).unwrap();
        let again = Pool::from_value(json).unwrap().validate().unwrap();
        assert_eq!(render_ok(&label, &again).all_files(), a, "{label} via JSON");
    }
}

#[test]
fn written_files_match_the_in_memory_artifacts() {
    let pools = all_pools();
    let (label, pool) = &pools[0];
    let a = render_ok(label, pool);
    let dir = std::env::temp_dir().join(format!("dsvmpool-render-det-{}", std::process::id()));
    let written = a.write_to(&dir).unwrap();
    assert_eq!(written.len(), a.all_files().len());
    for (rel, content) in a.all_files() {
        assert_eq!(
            std::fs::read_to_string(dir.join(&rel)).unwrap(),
            content,
            "{rel}"
        );
    }
    // Rewriting gives the same bytes and leaves no temporary file.
    a.write_to(&dir).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Azure's name length limits per resource type.
fn max_len(ty: &str) -> usize {
    match ty {
        "Microsoft.Compute/virtualMachineScaleSets" => 64,
        "Microsoft.Network/networkSecurityGroups"
        | "Microsoft.Network/virtualNetworks"
        | "Microsoft.Network/publicIPAddresses"
        | "Microsoft.Network/loadBalancers" => 80,
        "Microsoft.Storage/storageAccounts" => 24,
        "Microsoft.Storage/storageAccounts/fileServices" => 24 + 8,
        "Microsoft.Storage/storageAccounts/fileServices/shares" => 24 + 9 + 63,
        "Microsoft.Insights/autoscalesettings" => 260,
        "Microsoft.Authorization/roleAssignments" => 36,
        "Microsoft.Resources/deployments" => 64,
        other => panic!("no length rule for {other}"),
    }
}

fn check_names(label: &str, t: &Value) {
    for r in t["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let name = r["name"].as_str().unwrap();
        assert!(
            !name.starts_with('['),
            "{label}: {ty} name is an expression: {name}"
        );
        assert!(
            name.len() <= max_len(ty),
            "{label}: {ty} `{name}` is longer than {}",
            max_len(ty)
        );
        if ty == "Microsoft.Authorization/roleAssignments" {
            assert_eq!(
                name.split('-').map(str::len).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{label}: {name}"
            );
        }
        if ty == "Microsoft.Storage/storageAccounts" {
            assert!(
                name.len() >= 3
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
        }
        if ty == "Microsoft.Resources/deployments" {
            check_names(label, &r["properties"]["template"]);
        }
    }
}

#[test]
fn names_stay_within_azure_limits_for_the_longest_pool_name() {
    for (label, pool) in all_pools() {
        check_names(&label, &render_ok(&label, &pool).template);
    }
    // The longest name with every kind of resource, nested deployments included.
    let name = longest_name();
    let text = format!(
        "name = \"{name}\"\nlocation = \"westeurope\"\nresource_group = \"{rg}\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n\
         [identity]\nentra_id_login = true\nlogin_users = [\"bbbbbbbb-cccc-dddd-eeee-ffffffffffff\"]\n\
         [storage]\nkey = {{ key_vault = {{ id = \"{VAULT}\", secret = \"share-key\" }} }}\n",
        rg = "r".repeat(90)
    );
    let pool = Pool::from_toml(&text).unwrap().validate().unwrap();
    let a = render_ok("longest", &pool);
    check_names("longest", &a.template);
    let n = ResourceNames::for_pool(&pool);
    assert!(n.scale_set.len() <= 64 && n.vnet.len() <= 80 && n.autoscale.len() <= 260);
    assert!(pool.dns_label().len() <= 63);
    assert!(pool.computer_name_prefix().len() <= 58);
    let types: Vec<&str> = a.template["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Microsoft.Resources/deployments"),
        "{types:?}"
    );
}

#[test]
fn role_assignment_names_are_stable_and_differ_between_pools() {
    let ra = |toml: &str| -> Vec<String> {
        let pool = Pool::from_toml(toml).unwrap().validate().unwrap();
        render_ok("", &pool).template["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "Microsoft.Authorization/roleAssignments")
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let spec = |name: &str, rg: &str| {
        format!(
            "name = \"{name}\"\nlocation = \"westeurope\"\nresource_group = \"{rg}\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n"
        )
    };
    let a = ra(&spec("team", "rg-a"));
    assert_eq!(a.len(), 1);
    assert_eq!(a, ra(&spec("team", "rg-a")));
    assert_ne!(a, ra(&spec("team", "rg-b")));
    assert_ne!(a, ra(&spec("team2", "rg-a")));
}
