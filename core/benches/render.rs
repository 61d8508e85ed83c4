//! Render benchmarks: `examples/team.toml` (the quickstart) and a 1,000-user pool.
//!
//! `cargo bench -p dsvmpool --bench render`

use criterion::{Criterion, criterion_group, criterion_main};
use dsvmpool::Pool;
use dsvmpool::render::{RenderOptions, render};
use std::hint::black_box;
use std::path::Path;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop";

/// The quickstart spec: `examples/team.toml`, or the bundled SMB starter until it exists.
fn team_spec() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join("examples/team.toml"))
        .or_else(|_| std::fs::read_to_string(root.join("cli/src/starters/smb.toml")))
        .expect("examples/team.toml or the SMB starter")
}

/// A pool of 1,000 users with fixed ids (no per-user keys: they log in with Entra ID).
fn thousand_users() -> String {
    let mut s = format!(
        "name = \"bigteam\"\nlocation = \"westeurope\"\nresource_group = \"rg-bigteam\"\n\
         [capacity]\nmin = 0\nmax = 200\ninitial = 2\n\
         [access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n\
         [identity]\nentra_id_login = true\n\
         [autoscale.scale_to_zero]\nmin = 10\n"
    );
    for i in 0..1000 {
        s.push_str(&format!(
            "[[users]]\nname = \"user{i:04}\"\nuid = {}\n",
            10_000 + i
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let opts = RenderOptions::default();
    for (name, text) in [("team", team_spec()), ("1000-users", thousand_users())] {
        let pool = Pool::from_toml(&text)
            .expect("parses")
            .validate()
            .expect("valid");
        c.bench_function(&format!("render {name}"), |b| {
            b.iter(|| render(black_box(&pool), &opts).expect("renders"))
        });
        c.bench_function(&format!("render+serialize {name}"), |b| {
            b.iter(|| {
                let a = render(black_box(&pool), &opts).expect("renders");
                (a.template_json().len(), a.parameters_json().len())
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
