//! Parse + validate of examples/team.toml and of a generated 1,000-user spec.

use criterion::{Criterion, criterion_group, criterion_main};
use dsvmpool::Pool;
use std::hint::black_box;

fn thousand_users() -> String {
    let mut s = String::from(include_str!("../../examples/team.toml"));
    s = s.split("\n[[users]]").next().unwrap().to_string();
    s = s.replace("max = 12", "max = 100");
    for i in 0..1000 {
        s.push_str(&format!("\n[[users]]\nname = \"user{i:04}\"\nuid = {}\nssh_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a u{i}@laptop\"]\n", 10_000 + i));
    }
    s
}

fn bench(c: &mut Criterion) {
    let team = include_str!("../../examples/team.toml");
    c.bench_function("parse+validate team.toml", |b| {
        b.iter(|| {
            Pool::from_toml(black_box(team))
                .unwrap()
                .validate()
                .unwrap()
        })
    });
    let big = thousand_users();
    assert!(Pool::from_toml(&big).unwrap().validate().is_ok());
    c.bench_function("parse+validate 1000 users", |b| {
        b.iter(|| {
            Pool::from_toml(black_box(&big))
                .unwrap()
                .validate()
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
