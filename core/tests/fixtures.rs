//! The golden spec fixtures shared by every suite (Rust, Python, Node, C): each invalid case
//! must give exactly its expected error paths and rules; each valid case must validate.

use dsvmpool::Pool;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/specs")
}

#[derive(serde::Deserialize)]
struct Expected {
    paths: Vec<String>,
    rules: Vec<String>,
}

#[test]
fn invalid_fixtures_give_exactly_the_expected_paths() {
    let dir = fixtures().join("invalid");
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: BTreeMap<String, Expected> = serde_json::from_str(&text).unwrap();
    assert!(
        expected.len() >= 150,
        "only {} invalid fixtures",
        expected.len()
    );
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| n != "expected.json")
        .count();
    assert_eq!(
        on_disk,
        expected.len(),
        "every fixture file has an expectation and vice versa"
    );
    let mut failures = Vec::new();
    for (file, want) in &expected {
        let err = match Pool::load(dir.join(file)).and_then(|p| p.validate()) {
            Ok(_) => {
                failures.push(format!(
                    "{file}: validated but should fail with {:?}",
                    want.paths
                ));
                continue;
            }
            Err(e) => e,
        };
        let Some(v) = err.validation() else {
            failures.push(format!("{file}: not a validation error: {err}"));
            continue;
        };
        let mut paths: Vec<String> = v.errors.iter().map(|d| d.path.clone()).collect();
        let mut rules: Vec<String> = v.errors.iter().map(|d| d.rule.clone()).collect();
        paths.sort();
        rules.sort();
        if paths != want.paths || rules != want.rules {
            failures.push(format!(
                "{file}: got paths {paths:?} rules {rules:?}, want {:?} {:?}\n    {}",
                want.paths,
                want.rules,
                v.errors
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ));
        }
        for d in &v.errors {
            if d.message.is_empty() || d.hint.is_none() {
                failures.push(format!("{file}: {d} lacks a message or hint"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_fixtures_validate() {
    let dir = fixtures().join("valid");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let pool = Pool::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        pool.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn examples_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let valid = Pool::load(&path)
                .and_then(|p| p.validate())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                valid.warnings().is_empty(),
                "{}: warnings {:?}",
                path.display(),
                valid.warnings()
            );
            n += 1;
        }
    }
    assert!(n >= 4, "examples/ holds the four example specs");
}
