//! Spec-level properties: the committed JSON Schema is current, arbitrary input never panics and
//! every error carries a path, parse formats agree, Debug never shows secrets.

use dsvmpool::{Format, Pool};
use proptest::prelude::*;
use std::path::Path;

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/pool.schema.json");
    let now = dsvmpool::spec::schema::json_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "core/schema/pool.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p dsvmpool --test spec`"
    );
    let v: serde_json::Value = serde_json::from_str(&now).unwrap();
    assert!(v["properties"]["storage"].is_object());
}

#[test]
fn toml_yaml_json_parse_to_the_same_model() {
    let toml = r#"
name = "team"
location = "westeurope"
resource_group = "rg"
[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a a@b"]
[[users]]
name = "alice"
uid = 2001
"#;
    let a = Pool::parse(toml, Format::Toml).unwrap();
    let json = serde_json::to_string(a.spec()).unwrap();
    let b = Pool::parse(&json, Format::Json).unwrap();
    let yaml = serde_norway::to_string(a.spec()).unwrap();
    let c = Pool::parse(&yaml, Format::Yaml).unwrap();
    assert_eq!(a.spec(), b.spec());
    assert_eq!(a.spec(), c.spec());
}

#[test]
fn literal_secrets_never_reach_debug_or_errors() {
    let text = r#"
name = "team"
location = "westeurope"
resource_group = "rg"
[access]
password = "S3cret-Hunter2!"
[storage]
credential = "account_key"
key = "c2VjcmV0LWtleS1kYXRh=="
"#;
    let pool = Pool::from_toml(text).unwrap();
    let dbg = format!("{pool:?}");
    let err = pool.validate().unwrap_err();
    let shown = format!("{err} {err:?} {}", err.details());
    let ser = serde_json::to_string(pool.spec()).unwrap();
    for s in [&dbg, &shown, &ser] {
        assert!(
            !s.contains("Hunter2") && !s.contains("c2VjcmV0"),
            "secret leaked: {s}"
        );
    }
    let paths: Vec<_> = err
        .validation()
        .unwrap()
        .errors
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert!(paths.contains(&"access.password") && paths.contains(&"storage.key"));
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("team"),
            Just("westeurope"),
            Just("/mnt/x"),
            Just("$(touch /tmp/pwned)"),
            Just("PT5M"),
            Just("08:00")
        ]
        .prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("name"),
        Just("location"),
        Just("resource_group"),
        Just("vm"),
        Just("size"),
        Just("capacity"),
        Just("min"),
        Just("max"),
        Just("initial"),
        Just("access"),
        Just("ssh_keys"),
        Just("password"),
        Just("env"),
        Just("storage"),
        Just("kind"),
        Just("share"),
        Just("mount_path"),
        Just("users"),
        Just("uid"),
        Just("autoscale"),
        Just("profiles"),
        Just("rules"),
        Just("scale_to_zero"),
        Just("network"),
        Just("zones"),
        Just("bogus")
    ]
    .prop_map(String::from);
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn check(r: dsvmpool::Result<Pool>) {
    match r.and_then(|p| p.validate()) {
        Ok(_) => {}
        Err(e) => {
            let v = e
                .validation()
                .expect("parse/validate failures are validation errors");
            assert!(!v.errors.is_empty());
            for d in &v.errors {
                // The document root is "" only for syntax errors; every other problem names its field.
                assert!(
                    !d.path.is_empty() || d.rule == "syntax" || d.rule == "type",
                    "no path: {d}"
                );
                assert!(!d.message.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        check(Pool::from_value(v.clone()));
        check(Pool::from_json(&v.to_string()));
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        check(Pool::from_toml(&s));
        check(Pool::from_yaml(&s));
        check(Pool::from_json(&s));
    }

    #[test]
    fn mutated_example_never_panics(cut in 0usize..4000, insert in "[\\[\\]{}=\"',:\\n a-z0-9]{0,6}") {
        let text = include_str!("../../examples/team.toml");
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mutated = format!("{}{}{}", &text[..cut], insert, &text[cut..]);
        check(Pool::from_toml(&mutated));
    }
}
