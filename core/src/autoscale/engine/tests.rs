//! The documentation's worked examples, as tests.

use super::*;
use serde_json::json;

const VMSS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss";
const QUEUE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/queueServices/default";

/// A rule in ARM JSON: `(metric, op, threshold, direction, type, value, cooldown)`.
fn rule(
    metric: &str,
    op: &str,
    threshold: f64,
    dir: &str,
    kind: &str,
    value: u32,
) -> serde_json::Value {
    json!({
        "metricTrigger": {
            "metricName": metric, "metricResourceUri": VMSS,
            "metricNamespace": "microsoft.compute/virtualmachinescalesets",
            "timeGrain": "PT1M", "statistic": "Average", "timeWindow": "PT5M",
            "timeAggregation": "Average", "operator": op, "threshold": threshold
        },
        "scaleAction": {"direction": dir, "type": kind, "value": value.to_string(), "cooldown": "PT5M"}
    })
}

fn engine(min: u32, max: u32, default: u32, rules: Vec<serde_json::Value>) -> Engine {
    let s: AutoscaleSettings = serde_json::from_value(json!({
        "enabled": true,
        "targetResourceUri": VMSS,
        "profiles": [{"name": "p", "capacity": {"minimum": min.to_string(), "maximum": max.to_string(), "default": default.to_string()}, "rules": rules}]
    }))
    .unwrap();
    Engine::new(&s).unwrap()
}

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z, a Thursday

/// Metrics with a constant per-instance value of each named metric over the last hour.
fn flat(values: &[(&str, f64)]) -> MetricSeries {
    let mut m = MetricSeries::new();
    for (name, v) in values {
        let key = MetricKey::new(name, SCALE_SET_NAMESPACE, VMSS);
        m.extend_minutes(&key, T0 - 3600, &[*v; 60]);
    }
    m
}

fn decide(e: &Engine, current: u32, m: &MetricSeries) -> Decision {
    e.decide(&Input {
        now: T0,
        current,
        last_action: None,
        metrics: m,
    })
}

#[test]
fn understanding_scale_out_takes_largest_count() {
    // "Understand autoscale settings": rule 1 scales out by 3, rule 2 by 5 → by 5; one by 3
    // and one by 15 % → the higher count.
    let e = engine(
        1,
        100,
        1,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                70.0,
                "Increase",
                "ChangeCount",
                3,
            ),
            rule(
                "Percentage CPU",
                "GreaterThan",
                60.0,
                "Increase",
                "ChangeCount",
                5,
            ),
        ],
    );
    let d = decide(&e, 10, &flat(&[("Percentage CPU", 80.0)]));
    assert_eq!(
        (d.new_count, d.outcome),
        (15, Outcome::ScaleOut { rule: 1 })
    );
    // Current 10: +10 % → 11, +3 → 13: the second wins.
    let e = engine(
        1,
        100,
        1,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                70.0,
                "Increase",
                "PercentChangeCount",
                10,
            ),
            rule(
                "Percentage CPU",
                "GreaterThan",
                70.0,
                "Increase",
                "ChangeCount",
                3,
            ),
        ],
    );
    assert_eq!(
        decide(&e, 10, &flat(&[("Percentage CPU", 80.0)])).new_count,
        13
    );
}

#[test]
fn understanding_scale_in_takes_largest_remaining_count() {
    // Two scale-in rules: −50 % gives 5, −3 gives 7 → 7.
    let e = engine(
        1,
        100,
        1,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                90.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule(
                "Percentage CPU",
                "LessThan",
                20.0,
                "Decrease",
                "PercentChangeCount",
                50,
            ),
            rule(
                "Percentage CPU",
                "LessThan",
                20.0,
                "Decrease",
                "ChangeCount",
                3,
            ),
        ],
    );
    let d = decide(&e, 10, &flat(&[("Percentage CPU", 5.0)]));
    assert_eq!((d.new_count, d.outcome), (7, Outcome::ScaleIn { rule: 2 }));
}

#[test]
fn best_practices_any_out_all_in() {
    // "Best practices": CPU < 30 → −1, Memory < 50 → −1, CPU > 75 → +1, Memory > 75 → +1.
    let e = engine(
        1,
        10,
        1,
        vec![
            rule(
                "Percentage CPU",
                "LessThan",
                30.0,
                "Decrease",
                "ChangeCount",
                1,
            ),
            rule("Memory", "LessThan", 50.0, "Decrease", "ChangeCount", 1),
            rule(
                "Percentage CPU",
                "GreaterThan",
                75.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule("Memory", "GreaterThan", 75.0, "Increase", "ChangeCount", 1),
        ],
    );
    let at = |cpu, mem| decide(&e, 5, &flat(&[("Percentage CPU", cpu), ("Memory", mem)]));
    assert_eq!(at(76.0, 50.0).new_count, 6);
    assert_eq!(at(50.0, 76.0).new_count, 6);
    assert_eq!(at(25.0, 51.0).outcome, Outcome::NoChange);
    let d = at(29.0, 49.0);
    assert_eq!(d.new_count, 4);
    assert!(matches!(d.outcome, Outcome::ScaleIn { .. }));
}

#[test]
fn best_practices_manual_scaling_is_reset() {
    // Range 3..6: one instance → 3 on the next run; eight → 6.
    let e = engine(3, 6, 3, vec![]);
    let m = MetricSeries::new();
    assert_eq!(
        (decide(&e, 1, &m).new_count, decide(&e, 1, &m).outcome),
        (3, Outcome::BelowMinimum)
    );
    assert_eq!(
        (decide(&e, 8, &m).new_count, decide(&e, 8, &m).outcome),
        (6, Outcome::AboveMaximum)
    );
    // min == max == current: nothing can happen.
    assert_eq!(
        decide(&engine(2, 2, 2, vec![]), 2, &m).outcome,
        Outcome::NoChange
    );
}

#[test]
fn best_practices_queue_threshold_is_per_instance() {
    // Queue length ≥ 50 per instance → +1, ≤ 10 → −1 (dividePerInstance).
    let q = |op, th, dir| {
        let mut r = rule("ApproximateMessageCount", op, th, dir, "ChangeCount", 1);
        r["metricTrigger"]["metricResourceUri"] = json!(QUEUE);
        r["metricTrigger"]["metricNamespace"] =
            json!("microsoft.storage/storageaccounts/queueservices");
        r["metricTrigger"]["dividePerInstance"] = json!(true);
        r
    };
    let e = engine(
        1,
        10,
        1,
        vec![
            q("GreaterThanOrEqual", 50.0, "Increase"),
            q("LessThanOrEqual", 10.0, "Decrease"),
        ],
    );
    let queue = |total: f64| {
        let mut m = MetricSeries::new();
        let key = MetricKey::new(
            "ApproximateMessageCount",
            "microsoft.storage/storageaccounts/queueservices",
            QUEUE,
        );
        m.extend_minutes(&key, T0 - 3600, &[total; 60]);
        m
    };
    // Two instances, 50 messages: 25 each, no scale-out; 100 → 50 each → 3.
    assert_eq!(decide(&e, 2, &queue(50.0)).outcome, Outcome::NoChange);
    assert_eq!(decide(&e, 2, &queue(100.0)).new_count, 3);
    // Three instances: the next scale-out needs 150.
    assert_eq!(decide(&e, 3, &queue(149.0)).outcome, Outcome::NoChange);
    assert_eq!(decide(&e, 3, &queue(150.0)).new_count, 4);
    // Scale-in at 30 messages (10 each); projected 15 each at 2, no flapping.
    assert_eq!(decide(&e, 3, &queue(31.0)).outcome, Outcome::NoChange);
    let d = decide(&e, 3, &queue(30.0));
    assert_eq!((d.new_count, d.outcome), (2, Outcome::ScaleIn { rule: 1 }));
}

#[test]
fn flapping_doc_first_example_defers_scale_in() {
    // "Flapping": out > 50 % (+1), in < 30 % (−1). One instance at 56 % → 2; at 2 the average is
    // 28 %: scaling in would give 56 % again, so the scale-in is skipped.
    let e = engine(
        1,
        10,
        1,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                50.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule(
                "Percentage CPU",
                "LessThan",
                30.0,
                "Decrease",
                "ChangeCount",
                1,
            ),
        ],
    );
    assert_eq!(
        decide(&e, 1, &flat(&[("Percentage CPU", 56.0)])).new_count,
        2
    );
    let d = decide(&e, 2, &flat(&[("Percentage CPU", 28.0)]));
    assert_eq!(
        d.outcome,
        Outcome::Flapping {
            rule: 1,
            intended: 1
        }
    );
    assert_eq!((d.new_count, d.event()), (2, Some("Flapping")));
    // "The scale-in will only happen once the average CPU usage is below 30 %" — and only once
    // the projection stays at or under 50 %: 25 % × 2 = 50.
    assert_eq!(
        decide(&e, 2, &flat(&[("Percentage CPU", 25.0)])).new_count,
        1
    );
}

#[test]
fn flapping_doc_thread_count_margins() {
    let rules = |in_th| {
        vec![
            rule(
                "Threads",
                "GreaterThanOrEqual",
                600.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule("Threads", "LessThan", in_th, "Decrease", "ChangeCount", 1),
        ]
    };
    // No margin (>= 600 / < 600): 2 × 625 → 3; at 3 (417 each) the scale-in would give 625 → skip.
    let e = engine(1, 10, 1, rules(600.0));
    assert_eq!(decide(&e, 2, &flat(&[("Threads", 625.0)])).new_count, 3);
    assert!(matches!(
        decide(&e, 3, &flat(&[("Threads", 1250.0 / 3.0)])).outcome,
        Outcome::Flapping { .. }
    ));
    // With < 400: 417 → no event; 1180 / 3 = 393 → scale in to 2 (590 each < 600).
    // (The page's table then shows 3 instances at T3 although it just scaled in to 2.)
    let e = engine(1, 10, 1, rules(400.0));
    assert_eq!(
        decide(&e, 3, &flat(&[("Threads", 1250.0 / 3.0)])).outcome,
        Outcome::NoChange
    );
    let d = decide(&e, 3, &flat(&[("Threads", 1180.0 / 3.0)]));
    assert_eq!((d.new_count, d.outcome), (2, Outcome::ScaleIn { rule: 1 }));
}

#[test]
fn flapping_doc_scales_in_by_less() {
    // Out by 20 when requests ≥ 200 per instance or CPU > 70 %; in by 10 when requests ≤ 50.
    // 30 instances, CPU 65 %, 1500 requests (50 each): −10 → 20 would put CPU at 97.5 %.
    // The page says autoscale goes to 27, but its own estimate at 27 is 65 × 30 ÷ 27 = 72.2 %,
    // still above 70; the first count that does not flap is 28 (69.6 %).
    let mut req_out = rule(
        "Requests",
        "GreaterThanOrEqual",
        200.0,
        "Increase",
        "ChangeCount",
        20,
    );
    let mut req_in = rule(
        "Requests",
        "LessThanOrEqual",
        50.0,
        "Decrease",
        "ChangeCount",
        10,
    );
    for r in [&mut req_out, &mut req_in] {
        r["metricTrigger"]["statistic"] = json!("Sum");
        r["metricTrigger"]["dividePerInstance"] = json!(true);
    }
    let e = engine(
        1,
        60,
        1,
        vec![
            req_out,
            rule(
                "Percentage CPU",
                "GreaterThan",
                70.0,
                "Increase",
                "ChangeCount",
                20,
            ),
            req_in,
        ],
    );
    let d = decide(
        &e,
        30,
        &flat(&[("Percentage CPU", 65.0), ("Requests", 1500.0)]),
    );
    assert_eq!(
        (d.new_count, d.outcome),
        (
            28,
            Outcome::FlappingOccurred {
                rule: 2,
                intended: 20
            }
        )
    );
    assert_eq!(d.event(), Some("FlappingOccurred"));
}

#[test]
fn best_practices_estimate_80_60() {
    // Out when CPU ≥ 80 (+1), in when CPU ≤ 60 (−1). At 3 instances and 60 %: 60 × 3 ÷ 2 = 90
    // → skip; at 50 %: 75 < 80 → scale in to 2.
    let e = engine(
        1,
        10,
        1,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThanOrEqual",
                80.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule(
                "Percentage CPU",
                "LessThanOrEqual",
                60.0,
                "Decrease",
                "ChangeCount",
                1,
            ),
        ],
    );
    assert!(matches!(
        decide(&e, 3, &flat(&[("Percentage CPU", 60.0)])).outcome,
        Outcome::Flapping { .. }
    ));
    assert_eq!(
        decide(&e, 3, &flat(&[("Percentage CPU", 50.0)])).new_count,
        2
    );
}

#[test]
fn understanding_cooldown_follows_the_last_action() {
    // Scale-out cooldown 60 min, scale-in cooldown 40 min. Out at 10:00 → nothing until 11:00;
    // in at 13:00 → nothing in either direction until 13:40; a spike at 13:20 waits.
    let mut out = rule(
        "Percentage CPU",
        "GreaterThan",
        75.0,
        "Increase",
        "ChangeCount",
        1,
    );
    out["scaleAction"]["cooldown"] = json!("PT60M");
    let mut inr = rule(
        "Percentage CPU",
        "LessThan",
        25.0,
        "Decrease",
        "ChangeCount",
        1,
    );
    inr["scaleAction"]["cooldown"] = json!("PT40M");
    let e = engine(1, 10, 1, vec![out, inr]);
    let ten = T0 + 10 * 3600;
    let hot = |at: i64| {
        let mut m = MetricSeries::new();
        m.extend_minutes(
            &MetricKey::new("Percentage CPU", SCALE_SET_NAMESPACE, VMSS),
            at - 600,
            &[90.0; 10],
        );
        m
    };
    let cold = |at: i64| {
        let mut m = MetricSeries::new();
        m.extend_minutes(
            &MetricKey::new("Percentage CPU", SCALE_SET_NAMESPACE, VMSS),
            at - 600,
            &[5.0; 10],
        );
        m
    };
    let run = |now: i64, current: u32, last: Option<LastAction>, m: &MetricSeries| {
        e.decide(&Input {
            now,
            current,
            last_action: last,
            metrics: m,
        })
    };
    let d = run(ten, 2, None, &hot(ten));
    assert_eq!((d.new_count, d.cooldown), (3, 3600));
    let last = Some(LastAction {
        time: ten,
        cooldown: d.cooldown,
    });
    assert!(matches!(
        run(ten + 1800, 3, last, &hot(ten + 1800)).outcome,
        Outcome::Cooldown { .. }
    ));
    assert_eq!(run(ten + 3600, 3, last, &hot(ten + 3600)).new_count, 4);
    let thirteen = ten + 3 * 3600;
    let d = run(thirteen, 4, last, &cold(thirteen));
    assert_eq!((d.new_count, d.cooldown), (3, 2400));
    let last = Some(LastAction {
        time: thirteen,
        cooldown: d.cooldown,
    });
    let d = run(thirteen + 1200, 3, last, &hot(thirteen + 1200));
    assert_eq!(
        d.outcome,
        Outcome::Cooldown {
            until: thirteen + 2400
        }
    );
    assert_eq!(
        run(thirteen + 2400, 3, last, &hot(thirteen + 2400)).new_count,
        4
    );
}

#[test]
fn missing_metrics_use_the_default_capacity() {
    // "If there's a problem reading the resource metric, and the current capacity is below the
    // default, autoscale scales out to the default ... If the current capacity is already
    // higher than the default capacity, autoscale doesn't scale in."
    let e = engine(
        0,
        10,
        3,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                70.0,
                "Increase",
                "ChangeCount",
                1,
            ),
            rule(
                "Percentage CPU",
                "LessThan",
                20.0,
                "Decrease",
                "ChangeCount",
                1,
            ),
        ],
    );
    let none = MetricSeries::new();
    let d = decide(&e, 1, &none);
    assert_eq!(
        (d.new_count, d.outcome, d.metrics_missing),
        (3, Outcome::DefaultCapacity, true)
    );
    let d = decide(&e, 5, &none);
    assert_eq!((d.new_count, d.outcome), (5, Outcome::NoChange));
    assert_eq!(d.event(), Some("MetricsUnavailable"));
    // At zero instances with default 0, a VM metric never has data: zero stays zero.
    let e0 = engine(
        0,
        10,
        0,
        vec![rule(
            "Percentage CPU",
            "GreaterThan",
            70.0,
            "Increase",
            "ChangeCount",
            2,
        )],
    );
    assert_eq!(decide(&e0, 0, &none).new_count, 0);
}

#[test]
fn statistic_then_time_aggregation() {
    // "Best practices": 1-minute grain, statistic Average, timeAggregation Maximum → the highest
    // 1-minute average in the window. Two instances per minute: (10, 30), (50, 70), (20, 20).
    let mut r = rule(
        "Percentage CPU",
        "GreaterThan",
        59.0,
        "Increase",
        "ChangeCount",
        1,
    );
    r["metricTrigger"]["timeAggregation"] = json!("Maximum");
    let e = engine(1, 10, 1, vec![r]);
    let key = MetricKey::new("Percentage CPU", SCALE_SET_NAMESPACE, VMSS);
    let mut m = MetricSeries::new();
    for (i, pair) in [[10.0, 30.0], [50.0, 70.0], [20.0, 20.0]]
        .iter()
        .enumerate()
    {
        m.push(
            &key,
            MetricPoint::of(T0 - 300 + 60 * i as i64, pair).unwrap(),
        );
    }
    let input = Input {
        now: T0,
        current: 2,
        last_action: None,
        metrics: &m,
    };
    assert_eq!(e.rule_value(0, 0, &input), Some(60.0));
    assert_eq!(e.decide(&input).new_count, 3);
    // A 5-minute grain with statistic Max folds all samples into one grain: 70.
    let mut r = rule(
        "Percentage CPU",
        "GreaterThan",
        59.0,
        "Increase",
        "ChangeCount",
        1,
    );
    r["metricTrigger"]["timeGrain"] = json!("PT5M");
    r["metricTrigger"]["statistic"] = json!("Max");
    let e = engine(1, 10, 1, vec![r]);
    assert_eq!(e.rule_value(0, 0, &input), Some(70.0));
    // An incomplete grain at the end of the window is not used.
    let input = Input {
        now: T0 + 120,
        current: 2,
        last_action: None,
        metrics: &m,
    };
    assert_eq!(e.rule_value(0, 0, &input), None);
}

fn settings(profiles: serde_json::Value) -> Engine {
    let s: AutoscaleSettings = serde_json::from_value(json!({
        "enabled": true, "targetResourceUri": VMSS, "profiles": profiles
    }))
    .unwrap();
    Engine::new(&s).unwrap()
}

fn ts(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

#[test]
fn multiprofile_weekday_weekend_recurring() {
    // "Autoscale with multiple profiles" template: Weekday profile from Monday 04:00, Weekend
    // profile from Saturday 00:01 (E. Europe Standard Time): each runs until the other starts.
    let e = settings(json!([
        {"name": "Weekday profile", "capacity": {"minimum": "3", "maximum": "20", "default": "3"}, "rules": [],
         "recurrence": {"frequency": "Week", "schedule": {"timeZone": "E. Europe Standard Time", "days": ["Monday"], "hours": [4], "minutes": [0]}}},
        {"name": "Weekend profile", "capacity": {"minimum": "1", "maximum": "3", "default": "1"}, "rules": [],
         "recurrence": {"frequency": "Week", "schedule": {"timeZone": "E. Europe Standard Time", "days": ["Saturday"], "hours": [0], "minutes": [1]}}}
    ]));
    let name = |t: &str| {
        e.profile_name(e.active_profile(ts(t)).unwrap().index)
            .to_string()
    };
    // Chisinau is UTC+2 in winter: Saturday 00:01 local = Friday 22:01 UTC.
    assert_eq!(name("2026-01-09T22:00:30Z"), "Weekday profile");
    assert_eq!(name("2026-01-09T22:01:00Z"), "Weekend profile");
    assert_eq!(name("2026-01-11T12:00:00Z"), "Weekend profile");
    assert_eq!(name("2026-01-12T02:00:00Z"), "Weekday profile");
    // Wednesday: still the Weekday profile started Monday.
    assert_eq!(name("2026-01-14T12:00:00Z"), "Weekday profile");
    let a = e.active_profile(ts("2026-01-14T12:00:00Z")).unwrap();
    assert_eq!(a.until, Some(ts("2026-01-16T22:01:00Z")));
    // The profile change raises the minimum at once.
    let d = e.decide(&Input {
        now: ts("2026-01-12T02:00:00Z"),
        current: 1,
        last_action: None,
        metrics: &MetricSeries::new(),
    });
    assert_eq!((d.new_count, d.outcome), (3, Outcome::BelowMinimum));
}

#[test]
fn recurring_is_dst_correct() {
    let e = settings(json!([
        {"name": "work", "capacity": {"minimum": "2", "maximum": "5", "default": "2"}, "rules": [],
         "recurrence": {"frequency": "Week", "schedule": {"timeZone": "W. Europe Standard Time", "days": ["Monday","Tuesday","Wednesday","Thursday","Friday"], "hours": [8], "minutes": [0]}}},
        {"name": "night", "capacity": {"minimum": "0", "maximum": "0", "default": "0"}, "rules": [],
         "recurrence": {"frequency": "Week", "schedule": {"timeZone": "W. Europe Standard Time", "days": ["Monday","Tuesday","Wednesday","Thursday","Friday"], "hours": [19], "minutes": [0]}}}
    ]));
    let name = |t: &str| {
        e.profile_name(e.active_profile(ts(t)).unwrap().index)
            .to_string()
    };
    // Winter (CET, UTC+1): 08:00 local = 07:00 UTC.
    assert_eq!(name("2026-01-13T06:59:00Z"), "night");
    assert_eq!(name("2026-01-13T07:00:00Z"), "work");
    // Summer (CEST, UTC+2): 08:00 local = 06:00 UTC.
    assert_eq!(name("2026-07-14T05:59:00Z"), "night");
    assert_eq!(name("2026-07-14T06:00:00Z"), "work");
    assert_eq!(name("2026-07-14T17:00:00Z"), "night");
    // Weekend: the Friday 19:00 profile runs on until Monday 08:00.
    assert_eq!(name("2026-07-18T12:00:00Z"), "night");
}

#[test]
fn fixed_date_wins_then_recurring_then_default() {
    // "Understand autoscale settings": fixed date (2017-12-26 Pacific) over the regular profile.
    let e = settings(json!([
        {"name": "regularProfile", "capacity": {"minimum": "1", "maximum": "5", "default": "1"}, "rules": []},
        {"name": "eventProfile", "capacity": {"minimum": "5", "maximum": "10", "default": "5"}, "rules": [],
         "fixedDate": {"timeZone": "Pacific Standard Time", "start": "2017-12-26T00:00:00", "end": "2017-12-26T23:59:00"}}
    ]));
    let name = |t: &str| {
        e.profile_name(e.active_profile(ts(t)).unwrap().index)
            .to_string()
    };
    assert_eq!(name("2017-12-26T07:59:59Z"), "regularProfile");
    assert_eq!(name("2017-12-26T08:00:00Z"), "eventProfile");
    assert_eq!(name("2017-12-27T07:58:00Z"), "eventProfile");
    // The documented end 23:59 leaves the last minute of the day to the default profile.
    assert_eq!(name("2017-12-27T07:59:00Z"), "regularProfile");
    // An explicit Z in the fixed date is taken as UTC (the REST example).
    let e = settings(json!([
        {"name": "adios", "capacity": {"minimum": "1", "maximum": "10", "default": "1"}, "rules": [],
         "fixedDate": {"timeZone": "UTC", "start": "2015-03-05T14:00:00Z", "end": "2015-03-05T14:30:00Z"}},
        {"name": "saludos", "capacity": {"minimum": "1", "maximum": "10", "default": "1"}, "rules": [],
         "recurrence": {"frequency": "Week", "schedule": {"timeZone": "UTC", "days": ["1"], "hours": [5], "minutes": [15]}}}
    ]));
    let name = |t: &str| {
        e.profile_name(e.active_profile(ts(t)).unwrap().index)
            .to_string()
    };
    assert_eq!(name("2015-03-05T14:10:00Z"), "adios");
    // Day "1" is Monday (.NET DayOfWeek); 2015-03-05 is a Thursday, saludos started Monday.
    assert_eq!(name("2015-03-05T15:00:00Z"), "saludos");
    // Only fixed-date profiles, outside them: no profile.
    let e = settings(json!([
        {"name": "x", "capacity": {"minimum": "1", "maximum": "1", "default": "1"}, "rules": [],
         "fixedDate": {"start": "2015-03-05T14:00:00Z", "end": "2015-03-05T14:30:00Z"}}
    ]));
    assert!(e.active_profile(ts("2016-01-01T00:00:00Z")).is_none());
    assert_eq!(
        e.decide(&Input {
            now: T0,
            current: 4,
            last_action: None,
            metrics: &MetricSeries::new()
        })
        .outcome,
        Outcome::NoProfile
    );
}

#[test]
fn bad_settings_are_reported_with_paths() {
    let s: AutoscaleSettings = serde_json::from_value(json!({
        "enabled": true,
        "profiles": [{"name": "p", "capacity": {"minimum": "x", "maximum": "2", "default": "1"},
            "rules": [{"metricTrigger": {"metricName": "m", "metricResourceUri": VMSS, "timeGrain": "1 minute",
                "statistic": "Average", "timeWindow": "PT5M", "timeAggregation": "Average", "operator": "GreaterThan", "threshold": 1},
                "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"}}],
            "recurrence": {"frequency": "Week", "schedule": {"timeZone": "Mars Standard Time", "days": ["Funday"], "hours": [8], "minutes": [0]}}}]
    }))
    .unwrap();
    let err = Engine::new(&s).unwrap_err();
    let paths: Vec<String> = err
        .validation()
        .unwrap()
        .errors
        .iter()
        .map(|d| d.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "profiles[0].capacity.minimum",
            "profiles[0].recurrence.schedule.timeZone",
            "profiles[0].recurrence.schedule.days[0]",
            "profiles[0].rules[0].metricTrigger.timeGrain"
        ]
    );
}

#[test]
fn exact_and_percent_counts() {
    let e = engine(
        0,
        50,
        0,
        vec![
            rule(
                "Percentage CPU",
                "GreaterThan",
                80.0,
                "Increase",
                "ExactCount",
                12,
            ),
            rule(
                "Percentage CPU",
                "LessThan",
                10.0,
                "Decrease",
                "PercentChangeCount",
                25,
            ),
        ],
    );
    assert_eq!(
        decide(&e, 4, &flat(&[("Percentage CPU", 90.0)])).new_count,
        12
    );
    // ExactCount below the current count never scales "out" in.
    assert_eq!(
        decide(&e, 20, &flat(&[("Percentage CPU", 90.0)])).outcome,
        Outcome::NoChange
    );
    // 25 % of 10 = 2.5 → 2 removed (rounded down on scale-in), at least one.
    assert_eq!(
        decide(&e, 10, &flat(&[("Percentage CPU", 1.0)])).new_count,
        8
    );
    assert_eq!(
        decide(&e, 2, &flat(&[("Percentage CPU", 1.0)])).new_count,
        1
    );
}
