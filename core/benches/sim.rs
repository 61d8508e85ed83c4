//! One year of a 200-user synthetic team at the engine's 60-second evaluation interval
//! (goal: under a second per policy on the 2-core CI machine).

use criterion::{Criterion, criterion_group, criterion_main};
use dsvmpool::Pool;
use dsvmpool::sim::{self, Policy, SimOptions, Team};
use std::hint::black_box;

const SPEC: &str = r#"
name = "team"
location = "westeurope"
resource_group = "rg-team"
[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
[capacity]
max = 60
[autoscale.scale_to_zero]
min = 2
time_zone = "W. Europe Standard Time"
[autoscale.sessions]
target_per_vm = 4
"#;

fn year(c: &mut Criterion) {
    let pool = Pool::from_toml(SPEC).unwrap().validate().unwrap();
    let trace = sim::generate(&Team {
        users: 200,
        days: 365,
        time_zone: "W. Europe Standard Time".into(),
        ..Team::default()
    })
    .unwrap();
    let opts = SimOptions::default();
    let mut g = c.benchmark_group("sim_year_200_users");
    g.sample_size(10);
    for policy in [Policy::CpuOnly, Policy::Sessions, Policy::Fixed] {
        g.bench_function(policy.name(), |b| {
            b.iter(|| black_box(sim::simulate_policy(&pool, policy, &trace, &opts)))
        });
    }
    g.bench_function("generate_trace", |b| {
        b.iter(|| {
            black_box(sim::generate(&Team {
                users: 200,
                days: 365,
                ..Team::default()
            }))
        })
    });
    g.finish();
}

criterion_group!(benches, year);
criterion_main!(benches);
