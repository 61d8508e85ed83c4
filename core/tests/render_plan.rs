//! The plan lists exactly what the rendered template creates (one source of truth), and render
//! refuses, with a clear error, what Azure would reject although the spec is valid.

mod render_support;

use dsvmpool::lifecycle::plan::{Action, plan};
use dsvmpool::{ErrorKind, Pool};
use render_support::*;
use serde_json::Value;

fn template_resources(t: &Value) -> Vec<(String, String)> {
    let mut out = vec![];
    for r in t["resources"].as_array().unwrap() {
        if r["type"] == "Microsoft.Resources/deployments" {
            out.extend(template_resources(&r["properties"]["template"]));
        } else {
            out.push((
                r["type"].as_str().unwrap().into(),
                r["name"].as_str().unwrap().into(),
            ));
        }
    }
    out
}

#[test]
fn the_plan_lists_the_template_resources() {
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool);
        let p = plan(&pool);
        let created: Vec<(String, String)> = p
            .resources
            .iter()
            .filter(|r| r.action == Action::Create)
            .map(|r| (r.kind.clone(), r.name.clone()))
            .collect();
        assert_eq!(created, template_resources(&a.template), "{label}");
        assert!(
            p.resources
                .iter()
                .all(|r| !r.detail.is_empty() || r.kind.contains("deployments")),
            "{label}"
        );
        assert!(p.warnings.iter().all(|w| w.rule != "render"), "{label}");
        if pool.spec().network.existing_subnet_id.is_some() {
            assert!(
                p.resources
                    .iter()
                    .any(|r| r.action == Action::UseExisting && r.kind.ends_with("subnets"))
            );
        }
    }
}

fn spec_without_admin_key() -> String {
    format!(
        "name = \"nokey\"\nlocation = \"westeurope\"\nresource_group = \"rg-nokey\"\n[access]\nsource_cidrs = [\"203.0.113.0/24\"]\n\
         [[users]]\nname = \"alice\"\nuid = 2001\nssh_keys = [\"{KEY2}\"]\n"
    )
}

#[test]
fn a_linux_admin_without_key_or_password_is_a_render_error_and_a_plan_warning() {
    let pool = Pool::from_toml(&spec_without_admin_key())
        .unwrap()
        .validate()
        .unwrap();
    let e = dsvmpool::render::render(&pool, &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Render);
    assert!(e.to_string().contains("access.ssh_keys"), "{e}");
    let p = plan(&pool);
    assert!(p.warnings.iter().any(|w| w.rule == "render"));
    assert!(!p.resources.is_empty());
}

#[test]
fn user_data_larger_than_azure_accepts_is_a_render_error() {
    let mut s = format!(
        "name = \"huge\"\nlocation = \"westeurope\"\nresource_group = \"rg-huge\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n"
    );
    for i in 0..700 {
        s.push_str(&format!(
            "[[users]]\nname = \"user{i:04}\"\nuid = {}\nssh_keys = [\"{KEY2}\"]\n",
            10_000 + i
        ));
    }
    let pool = Pool::from_toml(&s).unwrap().validate().unwrap();
    let e = dsvmpool::render::render(&pool, &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Render);
    assert!(e.to_string().contains("customData"), "{e}");
}

#[test]
fn a_thousand_users_without_keys_fit() {
    let mut s = format!(
        "name = \"bigteam\"\nlocation = \"westeurope\"\nresource_group = \"rg-big\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n[identity]\nentra_id_login = true\n"
    );
    for i in 0..1000 {
        s.push_str(&format!(
            "[[users]]\nname = \"user{i:04}\"\nuid = {}\n",
            10_000 + i
        ));
    }
    let pool = Pool::from_toml(&s).unwrap().validate().unwrap();
    let a = render_ok("1000 users", &pool);
    let ud = a.user_data.unwrap();
    assert!(ud.len() < 65_535 && ud.contains("user0999:10999:10999:0"));
}
