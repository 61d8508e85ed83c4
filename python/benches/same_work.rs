//! The work `python/bench/bench.py` times from Python, done in Rust: the baseline that shows
//! what the binding adds.
//!
//!     cargo bench -p dsvmpool-python --bench same_work              # criterion
//!     cargo bench -p dsvmpool-python --bench same_work -- --timeit  # bench.py's method
//!
//! `--timeit` measures exactly like bench.py measures Python (Python's `timeit.autorange`
//! loop size, 15 repeats, min and median per call) and prints one JSON object per line.

use criterion::Criterion;
use dsvmpool::Pool;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Work = Box<dyn Fn()>;

fn work() -> Vec<(&'static str, Work)> {
    let team: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/team.toml");
    let text = std::fs::read_to_string(&team).expect("examples/team.toml");
    let opts = dsvmpool::render::RenderOptions::default();
    let t1 = team.clone();
    let t2 = team;
    vec![
        (
            "load+validate team.toml",
            Box::new(move || {
                black_box(Pool::load(black_box(&t1)).and_then(|p| p.validate())).ok();
            }),
        ),
        (
            "load+validate+render team.toml",
            Box::new(move || {
                black_box(
                    Pool::load(black_box(&t2))
                        .and_then(|p| p.validate())
                        .and_then(|v| dsvmpool::render::render(&v, &opts)),
                )
                .ok();
            }),
        ),
        (
            "from_toml+validate+plan team.toml",
            Box::new(move || {
                black_box(
                    Pool::from_toml(black_box(&text))
                        .and_then(|p| p.validate())
                        .map(|v| dsvmpool::lifecycle::plan(&v)),
                )
                .ok();
            }),
        ),
    ]
}

/// Python's `timeit`: grow the loop (1, 2, 5, 10, 20, 50, …) until it takes ≥ 0.2 s, then
/// time 15 loops of that size.
fn timeit(f: &dyn Fn()) -> (f64, f64) {
    let run = |n: u64| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let mut n = 1;
    'grow: for exp in 0.. {
        for m in [1, 2, 5] {
            n = m * 10u64.pow(exp);
            if run(n) >= 0.2 {
                break 'grow;
            }
        }
    }
    let mut per_call: Vec<f64> = (0..15).map(|_| run(n) / n as f64).collect();
    per_call.sort_by(f64::total_cmp);
    (per_call[0], per_call[per_call.len() / 2])
}

fn main() {
    if std::env::args().any(|a| a == "--timeit") {
        for (name, f) in work() {
            let (min, median) = timeit(&f);
            println!(r#"{{"name": "{name}", "min": {min:e}, "median": {median:e}}}"#);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    for (name, f) in work() {
        c.bench_function(name, |b| b.iter(&f));
    }
    c.final_summary();
}
