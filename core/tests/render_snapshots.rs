//! Snapshots of every example's rendered template and parameters file (and of the inline cases
//! that cover each template branch). ARM accepts misspelled properties silently, so any change to
//! what we render shows up here for review (`cargo insta review`).

mod render_support;

use dsvmpool::render::{RenderOptions, render};
use render_support::*;

fn opts() -> RenderOptions {
    // Without the generator version, so a version bump does not churn every snapshot.
    RenderOptions::default().generator_metadata(false)
}

fn snapshot(name: &str, pool: &dsvmpool::ValidPool) {
    let a = render(pool, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
    insta::assert_snapshot!(format!("template@{name}"), a.template_json());
    insta::assert_snapshot!(format!("parameters@{name}"), a.parameters_json());
}

#[test]
fn examples() {
    let dir = repo_root().join("examples");
    let mut n = 0;
    for f in spec_files().into_iter().filter(|f| f.starts_with(&dir)) {
        let pool = dsvmpool::Pool::load(&f).unwrap().validate().unwrap();
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        snapshot(&stem, &pool);
        n += 1;
    }
    assert!(n >= 4, "examples/ holds the quickstart and its variants");
}

#[test]
fn inline_cases() {
    for (label, pool) in all_pools()
        .into_iter()
        .filter(|(l, _)| l.starts_with("inline/"))
    {
        snapshot(&label.replace("inline/", "case-"), &pool);
    }
}
