//! Small scenarios with known outcomes.

use super::*;
use crate::Pool;

fn pool(extra: &str) -> crate::ValidPool {
    Pool::from_toml(&format!(
        r#"
        name = "team"
        location = "westeurope"
        resource_group = "rg-team"
        [access]
        ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
        source_cidrs = ["203.0.113.0/24"]
        {extra}
        "#
    ))
    .unwrap()
    .validate()
    .unwrap()
}

/// Monday 2026-03-02 00:00 UTC.
const MON: i64 = 1_772_409_600;
const H: i64 = 3600;

fn trace(rows: &[(&str, i64, i64, f64)]) -> Trace {
    let mut sessions: Vec<Session> = rows
        .iter()
        .map(|(u, s, d, c)| Session {
            user: u.to_string(),
            start: *s,
            duration: *d,
            cpu: *c,
        })
        .collect();
    sessions.sort_by_key(|s| s.start);
    Trace { sessions }
}

fn opts() -> SimOptions {
    SimOptions {
        start: Some(MON),
        end: Some(MON + 7 * 86_400),
        ..SimOptions::default()
    }
}

#[test]
fn fixed_pool_serves_everyone_at_full_cost() {
    let p = pool("[capacity]\nmax = 2");
    let t = trace(&[
        ("ann", MON + 9 * H, 2 * H, 0.3),
        ("bob", MON + 9 * H, H, 0.3),
    ]);
    let r = simulate_policy(&p, Policy::Fixed, &t, &opts());
    assert_eq!((r.sessions, r.served, r.refused, r.killed), (2, 2, 0, 0));
    assert_eq!(r.wait_max_s, 0.0);
    assert!((r.instance_hours - 2.0 * 7.0 * 24.0).abs() < 1e-6);
    let price = r.hourly_price.unwrap();
    assert!((r.cost.unwrap() - price * r.instance_hours).abs() < 1e-6);
    assert_eq!(r.daily.len(), 7);
    assert!(
        (r.daily.iter().map(|d| d.instance_hours).sum::<f64>() - r.instance_hours).abs() < 1e-6
    );
}

const WORK_HOURS: &str = r#"
    [capacity]
    max = 10
    [autoscale.scale_to_zero]
    start = "08:00"
    end = "19:00"
    min = 2
"#;

#[test]
fn cpu_only_rules_never_wake_a_pool_at_zero() {
    // Saturday 10:00: the CPU-only pool is at zero and no VM means no metric: refused.
    let p = pool(WORK_HOURS);
    let sat = MON + 5 * 86_400 + 10 * H;
    let t = trace(&[("ann", MON + 9 * H, 2 * H, 0.3), ("carl", sat, H, 0.3)]);
    let r = simulate_policy(&p, Policy::CpuOnly, &t, &opts());
    assert_eq!(r.refused, 1, "{r:#?}");
    assert_eq!(r.served, 1);
    // Work hours: 2 instances Mon-Fri 08-19 → 2 × 11 h × 5 days (+ deallocation minutes).
    assert!(
        r.instance_hours >= 110.0 && r.instance_hours < 111.0,
        "{}",
        r.instance_hours
    );
}

#[test]
fn session_rules_wake_the_pool_and_scale_with_demand() {
    let p = pool(WORK_HOURS);
    let sat = MON + 5 * 86_400 + 10 * H;
    let t = trace(&[("carl", sat, H, 0.3)]);
    let r = simulate_policy(&p, Policy::Sessions, &t, &opts());
    assert_eq!((r.served, r.refused), (1, 0), "{r:#?}");
    // Waits for the next minute's metric, the next autoscale run, then the boot.
    assert!(
        r.wait_max_s >= 300.0 && r.wait_max_s <= 420.0,
        "{}",
        r.wait_max_s
    );
    // Twelve people at 09:00 on Monday: 2 instances at 08:00, then +1 per cooldown until
    // 12 / 4 = 3 per instance ≤ 4.
    let rows: Vec<(String, i64, i64, f64)> = (0..12)
        .map(|i| (format!("u{i}"), MON + 9 * H, 4 * H, 0.2))
        .collect();
    let rows: Vec<(&str, i64, i64, f64)> = rows
        .iter()
        .map(|(u, s, d, c)| (u.as_str(), *s, *d, *c))
        .collect();
    let r = simulate_policy(&p, Policy::Sessions, &trace(&rows), &opts());
    assert_eq!(r.served, 12);
    assert!(r.peak_instances >= 3, "{}", r.peak_instances);
}

#[test]
fn scale_in_kills_sessions_unless_protected() {
    // A long job keeps running after 19:00; the off-hours profile is a hard zero (no rules).
    let p = pool(WORK_HOURS);
    let t = trace(&[("ann", MON + 17 * H, 6 * H, 0.9)]);
    let r = simulate_policy(&p, Policy::Spec, &t, &opts());
    assert_eq!((r.served, r.killed), (1, 1));
    assert!(r.killed_pct() > 99.0);
    let r = simulate_policy(
        &p,
        Policy::Spec,
        &t,
        &SimOptions {
            protect_busy: true,
            ..opts()
        },
    );
    assert_eq!(r.killed, 0);
}

#[test]
fn affinity_moves_when_membership_changes() {
    let p = pool(WORK_HOURS);
    // Eight users at 08:30 on two instances; a ninth burst at 10:00 adds instances.
    let rows: Vec<(String, i64, i64, f64)> = (0..8)
        .map(|i| (format!("a{i}"), MON + 8 * H + 1800, 6 * H, 0.1))
        .chain((0..8).map(|i| (format!("b{i}"), MON + 10 * H, 3 * H, 0.1)))
        .collect();
    let rows: Vec<(&str, i64, i64, f64)> = rows
        .iter()
        .map(|(u, s, d, c)| (u.as_str(), *s, *d, *c))
        .collect();
    let r = simulate_policy(&p, Policy::Sessions, &trace(&rows), &opts());
    assert!(r.scale_outs > 0);
    assert!(r.affinity_moved > 0);
}

#[test]
fn unknown_metrics_are_reported_and_reports_serialize() {
    let p = pool(
        r#"
        [[autoscale.profiles]]
        name = "all"
        min = 1
        max = 3
        default = 1
        [[autoscale.profiles.rules]]
        metric = "Available Memory Bytes"
        operator = "<"
        threshold = 1e9
        action = "increase"
        value = 1
        "#,
    );
    let t = trace(&[("ann", MON + 9 * H, H, 0.3)]);
    let r = simulate(&p, &t, &opts());
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("available memory bytes")),
        "{:?}",
        r.warnings
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["policy"], "spec");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 7 * 24);
    let reports = compare(&p, &Policy::ALL, &t, &opts());
    let table = comparison_table(&reports);
    assert!(table.contains("fixed") && table.contains("sessions") && table.contains("refused"));
    let svg = plot_svg(&reports).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Instances and active users"));
    let dir = std::env::temp_dir().join(format!("dsvmpool-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("plot.png");
    write_plot(&png, &reports).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(write_plot(&dir.join("plot.gif"), &reports).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn team_for_pool_works_in_the_pools_time_zone() {
    assert_eq!(Team::for_pool(&pool("")).time_zone, "UTC");
    let p = pool(
        r#"[autoscale.scale_to_zero]
        days = ["mon"]
        start = "08:00"
        end = "18:00"
        time_zone = "W. Europe Standard Time"
        min = 1"#,
    );
    let team = Team::for_pool(&p);
    assert_eq!(team.time_zone, "W. Europe Standard Time");
    assert_eq!(team.users, Team::default().users);
}

#[test]
fn trace_load_reads_csv_and_json_and_reports_missing_files() {
    let dir = std::env::temp_dir().join(format!("dsvmpool-trace-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("t.csv");
    std::fs::write(
        &csv,
        "user,start,duration,cpu\nana,2026-03-02T09:00:00Z,3600,0.5\n",
    )
    .unwrap();
    let json = dir.join("t.json");
    std::fs::write(
        &json,
        r#"[{"user": "ana", "start": 1772442000, "duration": "1h", "cpu": 0.5}]"#,
    )
    .unwrap();
    let a = Trace::load(&csv).unwrap();
    let b = Trace::load(&json).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.sessions.len(), 1);
    let missing = Trace::load(dir.join("missing.csv")).unwrap_err();
    assert_eq!(missing.kind(), crate::ErrorKind::Io);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jumping_over_idle_stretches_changes_nothing() {
    // Nights and weekends at zero instances with CPU-only rules: the loop jumps over them. The
    // report (every figure, the whole timeline, the daily costs) equals the tick-by-tick one.
    let p = pool(
        "[capacity]\nmax = 6\n[autoscale.scale_to_zero]\nmin = 1\nstart = \"08:00\"\nend = \"18:00\"\ntime_zone = \"UTC\"",
    );
    let t = generate(&Team {
        users: 25,
        days: 28,
        time_zone: "UTC".into(),
        ..Team::default()
    })
    .unwrap();
    for (policy, step) in [
        (Policy::CpuOnly, 3600),
        (Policy::CpuOnly, 60),
        (Policy::Spec, 900),
        (Policy::Sessions, 3600),
    ] {
        let o = SimOptions {
            timeline_step: step,
            ..SimOptions::default()
        };
        let fast = simulate_policy(&p, policy, &t, &o);
        engine::TICK_BY_TICK.with(|c| c.set(true));
        let slow = simulate_policy(&p, policy, &t, &o);
        engine::TICK_BY_TICK.with(|c| c.set(false));
        assert!(fast.served > 0 && fast.instance_hours > 0.0);
        assert_eq!(
            serde_json::to_value(&fast).unwrap(),
            serde_json::to_value(&slow).unwrap(),
            "{policy:?} at a {step} s timeline"
        );
        let times: Vec<i64> = fast.timeline.iter().map(|x| x.time).collect();
        assert!(
            times.windows(2).all(|w| w[1] - w[0] == step),
            "one point per step"
        );
    }
}
