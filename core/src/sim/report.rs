//! What a simulation reports: cost, instance hours, waits, refused and killed sessions, a
//! timeline and daily figures; as JSON (serde) or a text table.

use crate::pricing;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use std::fmt;

/// The pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimelinePoint {
    /// Unix seconds.
    pub time: i64,
    /// Instances (booting or running): the scale set's capacity.
    pub instances: u32,
    /// Running instances.
    pub running: u32,
    /// Sessions on an instance.
    pub active_sessions: u32,
    /// Sessions waiting for an instance.
    pub waiting: u32,
    /// Distinct users with an active or waiting session.
    pub active_users: u32,
}

/// One day (UTC).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayStats {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Instance hours billed that day.
    pub instance_hours: f64,
    /// Compute cost that day.
    pub cost: Option<f64>,
    /// Sessions that arrived.
    pub sessions: u64,
    /// Sessions (by arrival day) that gave up waiting.
    pub refused: u64,
    /// Sessions killed by a scale-in.
    pub killed: u64,
}

/// The result of simulating one policy on one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// Policy name (`spec`, `fixed`, `cpu`, `sessions`).
    pub policy: String,
    /// Start (RFC 3339).
    pub start: String,
    /// End (RFC 3339).
    pub end: String,
    /// Days simulated.
    pub days: f64,
    /// Sessions that arrived.
    pub sessions: u64,
    /// Sessions that got an instance.
    pub served: u64,
    /// Served sessions that had to wait.
    pub waited: u64,
    /// Sessions that gave up waiting.
    pub refused: u64,
    /// Sessions still waiting at the end.
    pub still_waiting: u64,
    /// Served sessions killed by a scale-in.
    pub killed: u64,
    /// Served sessions whose user was mapped to another instance by a membership change while
    /// the session ran (their next connection lands on an instance without their server).
    pub affinity_moved: u64,
    /// Median wait of served sessions (seconds).
    pub wait_p50_s: f64,
    /// 95th-percentile wait of served sessions (seconds).
    pub wait_p95_s: f64,
    /// Longest wait of a served session (seconds).
    pub wait_max_s: f64,
    /// Instance hours billed.
    pub instance_hours: f64,
    /// Most instances at once.
    pub peak_instances: u32,
    /// Price of one instance per hour (bundled table), if known.
    pub hourly_price: Option<f64>,
    /// Compute cost.
    pub cost: Option<f64>,
    /// Compute cost per 30 days.
    pub cost_per_month: Option<f64>,
    /// Currency.
    pub currency: &'static str,
    /// Scale-out actions.
    pub scale_outs: u64,
    /// Scale-in actions.
    pub scale_ins: u64,
    /// Scale-ins skipped as flapping (`Flapping`).
    pub flapping: u64,
    /// Scale-ins shortened to avoid flapping (`FlappingOccurred`).
    pub flapping_occurred: u64,
    /// Per day.
    pub daily: Vec<DayStats>,
    /// The pool over time.
    pub timeline: Vec<TimelinePoint>,
    /// What the simulation could not model.
    pub warnings: Vec<String>,
}

pub(crate) struct Totals {
    pub policy: String,
    pub start: i64,
    pub end: i64,
    pub sessions: u64,
    pub waits: Vec<i64>,
    pub refused: u64,
    pub still_waiting: u64,
    pub killed: u64,
    pub affinity_moved: u64,
    pub instance_hours: f64,
    pub hourly: Option<f64>,
    pub peak_instances: u32,
    pub scale_outs: u64,
    pub scale_ins: u64,
    pub flapping: u64,
    pub flapping_occurred: u64,
    pub daily: Vec<DayStats>,
    pub timeline: Vec<TimelinePoint>,
    pub warnings: Vec<String>,
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date_of(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0).single().map_or_else(
        || t.to_string(),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

impl SimReport {
    pub(crate) fn build(t: Totals) -> SimReport {
        let mut waits = t.waits;
        waits.sort_unstable();
        let days = (t.end - t.start) as f64 / 86_400.0;
        let cost = t.hourly.map(|h| h * t.instance_hours);
        SimReport {
            policy: t.policy,
            start: rfc3339(t.start),
            end: rfc3339(t.end),
            days,
            sessions: t.sessions,
            served: waits.len() as u64,
            waited: waits.iter().filter(|w| **w > 0).count() as u64,
            refused: t.refused,
            still_waiting: t.still_waiting,
            killed: t.killed,
            affinity_moved: t.affinity_moved,
            wait_p50_s: percentile(&waits, 50.0),
            wait_p95_s: percentile(&waits, 95.0),
            wait_max_s: waits.last().copied().unwrap_or(0) as f64,
            instance_hours: t.instance_hours,
            peak_instances: t.peak_instances,
            hourly_price: t.hourly,
            cost,
            cost_per_month: cost.filter(|_| days > 0.0).map(|c| c / days * 30.0),
            currency: pricing::CURRENCY,
            scale_outs: t.scale_outs,
            scale_ins: t.scale_ins,
            flapping: t.flapping,
            flapping_occurred: t.flapping_occurred,
            daily: t.daily,
            timeline: t.timeline,
            warnings: t.warnings,
        }
    }

    /// Share of arrived sessions refused, in percent.
    pub fn refused_pct(&self) -> f64 {
        pct(self.refused, self.sessions)
    }

    /// Share of served sessions killed, in percent.
    pub fn killed_pct(&self) -> f64 {
        pct(self.killed, self.served)
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

fn minutes(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

fn money(c: Option<f64>) -> String {
    c.map_or_else(|| "n/a".into(), |c| format!("${c:.2}"))
}

/// Several reports side by side as a text table.
pub fn comparison_table(reports: &[SimReport]) -> String {
    type Cell = Box<dyn Fn(&SimReport) -> String>;
    let rows: Vec<(&str, Cell)> = vec![
        ("cost", Box::new(|r: &SimReport| money(r.cost))),
        (
            "cost / 30 days",
            Box::new(|r: &SimReport| money(r.cost_per_month)),
        ),
        (
            "instance hours",
            Box::new(|r: &SimReport| format!("{:.1}", r.instance_hours)),
        ),
        (
            "peak instances",
            Box::new(|r: &SimReport| r.peak_instances.to_string()),
        ),
        ("sessions", Box::new(|r: &SimReport| r.sessions.to_string())),
        ("served", Box::new(|r: &SimReport| r.served.to_string())),
        (
            "refused",
            Box::new(|r: &SimReport| format!("{} ({:.1} %)", r.refused, r.refused_pct())),
        ),
        (
            "killed",
            Box::new(|r: &SimReport| format!("{} ({:.1} %)", r.killed, r.killed_pct())),
        ),
        ("waited", Box::new(|r: &SimReport| r.waited.to_string())),
        ("wait p50", Box::new(|r: &SimReport| minutes(r.wait_p50_s))),
        ("wait p95", Box::new(|r: &SimReport| minutes(r.wait_p95_s))),
        ("wait max", Box::new(|r: &SimReport| minutes(r.wait_max_s))),
        (
            "affinity moved",
            Box::new(|r: &SimReport| r.affinity_moved.to_string()),
        ),
        (
            "scale out / in",
            Box::new(|r: &SimReport| format!("{} / {}", r.scale_outs, r.scale_ins)),
        ),
        (
            "flapping (skipped / shortened)",
            Box::new(|r: &SimReport| format!("{} / {}", r.flapping, r.flapping_occurred)),
        ),
    ];
    let label_w = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(_, f)| reports.iter().map(f.as_ref()).collect())
        .collect();
    let col_w: Vec<usize> = (0..reports.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .chain([reports[c].policy.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{:label_w$}", "");
    for (r, w) in reports.iter().zip(&col_w) {
        out.push_str(&format!("  {:>w$}", r.policy));
    }
    out.push('\n');
    for ((label, _), row) in rows.iter().zip(&cells) {
        out.push_str(&format!("{label:label_w$}"));
        for (c, w) in row.iter().zip(&col_w) {
            out.push_str(&format!("  {c:>w$}"));
        }
        out.push('\n');
    }
    let mut seen = Vec::new();
    for r in reports {
        for w in &r.warnings {
            let line = format!("warning ({}): {w}", r.policy);
            if !seen.contains(&line) {
                seen.push(line);
            }
        }
    }
    for w in seen {
        out.push_str(&w);
        out.push('\n');
    }
    out
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Policy `{}` from {} to {} ({:.1} days)",
            self.policy, self.start, self.end, self.days
        )?;
        f.write_str(&comparison_table(std::slice::from_ref(self)))
    }
}
