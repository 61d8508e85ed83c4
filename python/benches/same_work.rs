//! The work `python/bench/bench.py` times from Python, done in Rust: the baseline that shows
//! what the binding adds. Run with `cargo bench -p dsvmpool-python --bench same_work`.

use criterion::{Criterion, criterion_group, criterion_main};
use dsvmpool::Pool;
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let team = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/team.toml");
    let text = std::fs::read_to_string(&team).expect("examples/team.toml");
    c.bench_function("load+validate team.toml", |b| {
        b.iter(|| Pool::load(black_box(&team)).and_then(|p| p.validate()))
    });
    let opts = dsvmpool::render::RenderOptions::default();
    c.bench_function("load+validate+render team.toml", |b| {
        b.iter(|| {
            Pool::load(black_box(&team))
                .and_then(|p| p.validate())
                .and_then(|v| dsvmpool::render::render(&v, &opts))
        })
    });
    c.bench_function("from_toml+validate+plan team.toml", |b| {
        b.iter(|| {
            Pool::from_toml(black_box(&text))
                .and_then(|p| p.validate())
                .map(|v| dsvmpool::lifecycle::plan(&v))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
