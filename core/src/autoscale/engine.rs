//! The autoscale decision engine: a pure function of (settings, current instance count, metric
//! series, time, last scale action) → decision, reproducing Azure Monitor autoscale as the
//! Learn pages describe it ("Understand autoscale settings", "Best practices for autoscale",
//! "Flapping in autoscale", "Autoscale with multiple profiles"):
//!
//! 1. **Profile**: the first fixed-date profile whose `[start, end)` contains now; else the
//!    recurring profile whose latest start (in its own time zone, DST-correct) is the most
//!    recent — a recurring profile runs until the next recurring profile starts; else the
//!    default profile (no schedule). With none of these, nothing happens.
//! 2. **Limits**: a count below `minimum` is raised to it, above `maximum` lowered to it, at
//!    once (manual scaling outside the range is reset on the next run).
//! 3. **Missing metrics**: when a rule's metric has no data in its window and the count is
//!    below `default`, the count goes to `default`; above it, nothing is scaled in.
//! 4. **Cooldown**: after any rule action nothing is scaled, in either direction, until the
//!    cooldown of the rule that acted last has passed.
//! 5. **Scale out** if ANY scale-out rule fires: the largest resulting count wins.
//! 6. Otherwise **scale in** only if ALL scale-in rules fire: the largest resulting (smallest
//!    decrease) count wins, then the **flapping** estimate: every scale-out rule's metric is
//!    projected to the new count (`value × current ÷ new` for per-instance metrics); if one
//!    would fire, the counts between are tried upwards from the target and the first that
//!    would not flap is used (`FlappingOccurred`); if there is none the scale-in is skipped
//!    (`Flapping`). Scale-out is never checked for flapping.
//!
//! Metrics are given as Azure Monitor keeps them: one [`MetricPoint`] per minute (count, sum,
//! min and max of every instance's sample in that minute). A rule groups the points into
//! `timeGrain` buckets aligned to the epoch, reduces each with `statistic`, and reduces the
//! complete buckets of the last `timeWindow` with `timeAggregation`.
//!
//! Where the documentation is silent, the choice made is stated where it is made:
//! percentages round up on scale-out and down on scale-in, and always change by at least one;
//! `dividePerInstance` divides by `max(count, 1)`; limits and the default capacity are applied
//! regardless of cooldown and do not start one; a per-instance metric has no value at zero
//! instances, so a scale-in to zero is never blocked by it as flapping.
//!
//! Where the documentation contradicts itself (each also noted in the tests):
//! * "Understand autoscale settings" says `statistic` aggregates *within the time grain*;
//!   "Best practices" says it combines *instances* into each sample. Both hold here: a grain's
//!   statistic covers every instance sample of every minute in the grain.
//! * "Flapping in autoscale" scales 30 → 27 instances at 65 % CPU with a 70 % scale-out rule,
//!   but its own estimate gives 65 × 30 ÷ 27 = 72.2 % (> 70, still flapping); 28 is the
//!   first count that does not flap (69.6 %), which is what this engine returns.
//! * The same page's table shows 3 instances after a scale-in from 3 to 2 (row T3).
//! * An older "Best practices" example reads "increase when thread count <= 600, decrease when
//!   >= 600", operators swapped against its own narrative (scale out when high).
//! * "Multiple profiles" says the default profile is used "when there are no other profiles
//!   that match", yet a recurring profile has no end: once any recurring profile has started,
//!   the default profile is never used again; the portal works around this by writing the
//!   "default" as another recurring profile starting at the end time (the one-minute window).

use super::model::{
    AutoscaleSettings, ComparisonOperator, MetricStatistic, SCALE_SET_NAMESPACE, ScaleDirection,
    ScaleType, TimeAggregation,
};
use crate::error::{Diagnostic, Error, Result, ValidationErrors};
use crate::spec::tables::iana_zone;
use crate::spec::values::{parse_duration, parse_weekday};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;

/// One minute of a metric, across every instance that reported in that minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricPoint {
    /// Start of the minute (Unix seconds).
    pub time: i64,
    /// Samples in the minute (e.g. one per running instance).
    pub count: u32,
    /// Sum of the samples.
    pub sum: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

impl MetricPoint {
    /// A minute with a single sample (a custom metric published once for the whole pool).
    pub fn single(time: i64, value: f64) -> Self {
        Self {
            time,
            count: 1,
            sum: value,
            min: value,
            max: value,
        }
    }
    /// A minute with one sample per instance.
    pub fn of(time: i64, values: &[f64]) -> Option<Self> {
        let (first, rest) = values.split_first()?;
        let mut p = Self::single(time, *first);
        for v in rest {
            p.count += 1;
            p.sum += v;
            p.min = p.min.min(*v);
            p.max = p.max.max(*v);
        }
        Some(p)
    }
}

/// Which metric a rule reads: name, namespace and resource, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MetricKey {
    /// Metric name, lowercase.
    pub name: String,
    /// Namespace, lowercase (the scale set's when the rule has none).
    pub namespace: String,
    /// Resource id, lowercase.
    pub resource: String,
}

impl MetricKey {
    /// A key (lowercased).
    pub fn new(name: &str, namespace: &str, resource: &str) -> Self {
        Self {
            name: name.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            resource: resource.to_ascii_lowercase(),
        }
    }
}

/// Where the engine reads metrics from.
pub trait Metrics {
    /// The per-minute points of `metric` whose `time` is in `[from, to)`, oldest first. A
    /// metric without points there has no data (an empty slice).
    fn points(&self, metric: &MetricKey, from: i64, to: i64) -> &[MetricPoint];
}

/// The points of a time-ordered slice in `[from, to)`.
pub fn points_between(points: &[MetricPoint], from: i64, to: i64) -> &[MetricPoint] {
    let i = points.partition_point(|p| p.time < from);
    let j = i + points[i..].partition_point(|p| p.time < to);
    &points[i..j]
}

/// An in-memory [`Metrics`]: per-minute points per metric.
#[derive(Debug, Clone, Default)]
pub struct MetricSeries {
    series: HashMap<MetricKey, Vec<MetricPoint>>,
}

impl MetricSeries {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a point (points of a metric must be added in time order).
    pub fn push(&mut self, metric: &MetricKey, point: MetricPoint) {
        self.series.entry(metric.clone()).or_default().push(point);
    }
    /// Add a single-sample point per minute, from `start`, one value per minute.
    pub fn extend_minutes(&mut self, metric: &MetricKey, start: i64, values: &[f64]) {
        for (i, v) in values.iter().enumerate() {
            self.push(metric, MetricPoint::single(start + 60 * i as i64, *v));
        }
    }
}

impl Metrics for MetricSeries {
    fn points(&self, metric: &MetricKey, from: i64, to: i64) -> &[MetricPoint] {
        self.series
            .get(metric)
            .map_or(&[], |v| points_between(v, from, to))
    }
}

/// The last scale action: when, and the cooldown of the rule that acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastAction {
    /// When (Unix seconds).
    pub time: i64,
    /// Cooldown in seconds.
    pub cooldown: i64,
}

/// What the engine is asked about.
pub struct Input<'a> {
    /// Now (Unix seconds).
    pub now: i64,
    /// Current instance count (the scale set's capacity).
    pub current: u32,
    /// The last rule action, if any.
    pub last_action: Option<LastAction>,
    /// The metrics.
    pub metrics: &'a dyn Metrics,
}

/// Why the count changes or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Autoscale is disabled.
    Disabled,
    /// No profile applies now.
    NoProfile,
    /// Count below the profile minimum: raised to it.
    BelowMinimum,
    /// Count above the profile maximum: lowered to it.
    AboveMaximum,
    /// A metric is missing and the count was below the default: set to the default.
    DefaultCapacity,
    /// A rule action happened less than its cooldown ago.
    Cooldown {
        /// End of the cooldown.
        until: i64,
    },
    /// Scale out by the rule that gives the largest count.
    ScaleOut {
        /// Rule index in the profile.
        rule: usize,
    },
    /// Scale in (every scale-in rule fired; this one gives the largest count).
    ScaleIn {
        /// Rule index in the profile.
        rule: usize,
    },
    /// Scale in to a count between, because the target would flap (`FlappingOccurred`).
    FlappingOccurred {
        /// Rule index in the profile.
        rule: usize,
        /// The count the rules asked for.
        intended: u32,
    },
    /// Scale-in skipped because every count towards the target would flap (`Flapping`).
    Flapping {
        /// Rule index in the profile.
        rule: usize,
        /// The count the rules asked for.
        intended: u32,
    },
    /// Nothing to do.
    NoChange,
}

/// The engine's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Index of the profile used.
    pub profile: Option<usize>,
    /// Count before.
    pub current: u32,
    /// Count after (equal to `current` when nothing changes).
    pub new_count: u32,
    /// Why.
    pub outcome: Outcome,
    /// Cooldown (seconds) this decision starts; 0 for limits and defaults.
    pub cooldown: i64,
    /// Whether some rule of the profile had no data in its window.
    pub metrics_missing: bool,
}

impl Decision {
    /// Whether the count changes.
    pub fn changed(&self) -> bool {
        self.new_count != self.current
    }
    /// The activity-log event Azure would write for it, if any.
    pub fn event(&self) -> Option<&'static str> {
        match self.outcome {
            Outcome::Flapping { .. } => Some("Flapping"),
            Outcome::FlappingOccurred { .. } => Some("FlappingOccurred"),
            _ if self.changed() => Some("Autoscale"),
            _ if self.metrics_missing => Some("MetricsUnavailable"),
            _ => None,
        }
    }
}

/// The profile in force and how long it stays so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActiveProfile {
    /// Profile index.
    pub index: usize,
    /// No profile change before this instant (Unix seconds), if any change is scheduled.
    pub until: Option<i64>,
}

#[derive(Debug, Clone)]
enum Schedule {
    Fixed {
        start: i64,
        end: i64,
    },
    Recurring {
        tz: Tz,
        starts: Vec<(u32, u32)>,
        days: [bool; 7],
    },
    Default,
}

#[derive(Debug, Clone)]
struct CRule {
    key: MetricKey,
    grain: i64,
    window: i64,
    statistic: MetricStatistic,
    aggregation: TimeAggregation,
    op: ComparisonOperator,
    threshold: f64,
    divide: bool,
    /// A per-instance value of the scaled resource's own metric (projected on scale-in).
    per_instance: bool,
    direction: ScaleDirection,
    kind: ScaleType,
    value: u32,
    cooldown: i64,
}

#[derive(Debug, Clone)]
struct CProfile {
    min: u32,
    max: u32,
    default: u32,
    schedule: Schedule,
    rules: Vec<CRule>,
}

/// Compiled autoscale settings, ready to decide.
#[derive(Debug, Clone)]
pub struct Engine {
    enabled: bool,
    names: Vec<String>,
    profiles: Vec<CProfile>,
}

/// The IANA zone of a Windows time-zone id (or an IANA name).
pub fn time_zone(id: &str) -> Option<Tz> {
    iana_zone(id).unwrap_or(id).parse().ok()
}

/// Parse a day as autoscale writes it: a name (`Monday`, `mon`) or a number `0`-`6` with 0 for
/// Sunday (as .NET's DayOfWeek, used by the REST example). Returns 0 = Monday … 6 = Sunday.
pub fn parse_day(s: &str) -> Option<usize> {
    match s.trim().parse::<u8>() {
        Ok(n) if n <= 6 => Some((usize::from(n) + 6) % 7),
        Ok(_) => None,
        Err(_) => parse_weekday(s),
    }
}

fn parse_instant(s: &str, tz: Tz) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    Some(resolve_local(tz, naive))
}

/// A local wall-clock time in `tz` as an instant: the earlier of an ambiguous time (DST
/// fall-back), and for a time skipped by DST spring-forward the instant the clock jumps to.
pub(crate) fn resolve_local(tz: Tz, naive: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.timestamp(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp(),
        chrono::LocalResult::None => {
            // Inside a gap: move forward minute by minute to the first valid time.
            let mut n = naive;
            for _ in 0..180 {
                n += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&n).earliest() {
                    return t.timestamp();
                }
            }
            Utc.from_utc_datetime(&naive).timestamp()
        }
    }
}

impl Engine {
    /// Compile settings; every problem (bad number, duration, time zone, day) is reported with
    /// its path in the settings JSON.
    pub fn new(settings: &AutoscaleSettings) -> Result<Engine> {
        let mut errs = Vec::new();
        let mut profiles = Vec::new();
        let mut names = Vec::new();
        let target = settings
            .target_resource_uri
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        for (i, p) in settings.profiles.iter().enumerate() {
            let pp = format!("profiles[{i}]");
            let num = |errs: &mut Vec<Diagnostic>, f: &str, v: &str| -> u32 {
                v.trim().parse::<u32>().unwrap_or_else(|_| {
                    errs.push(Diagnostic::error(
                        format!("{pp}.capacity.{f}"),
                        "capacity",
                        format!("`{v}` is not an instance count"),
                    ));
                    0
                })
            };
            let min = num(&mut errs, "minimum", &p.capacity.minimum);
            let max = num(&mut errs, "maximum", &p.capacity.maximum);
            let default = num(&mut errs, "default", &p.capacity.default);
            if min > max {
                errs.push(Diagnostic::error(
                    format!("{pp}.capacity"),
                    "capacity",
                    format!("minimum {min} > maximum {max}"),
                ));
            }
            let schedule = match (&p.fixed_date, &p.recurrence) {
                (Some(f), _) => {
                    let tz_id = f.time_zone.as_deref().unwrap_or("UTC");
                    let tz = time_zone(tz_id).unwrap_or_else(|| {
                        errs.push(Diagnostic::error(
                            format!("{pp}.fixedDate.timeZone"),
                            "time-zone",
                            format!("unknown time zone `{tz_id}`"),
                        ));
                        Tz::UTC
                    });
                    let mut at = |f: &str, v: &str| {
                        parse_instant(v, tz).unwrap_or_else(|| {
                            errs.push(Diagnostic::error(
                                format!("{pp}.fixedDate.{f}"),
                                "datetime",
                                format!("`{v}` is not an ISO 8601 date-time"),
                            ));
                            0
                        })
                    };
                    Schedule::Fixed {
                        start: at("start", &f.start),
                        end: at("end", &f.end),
                    }
                }
                (None, Some(r)) => {
                    let s = &r.schedule;
                    let tz = time_zone(&s.time_zone).unwrap_or_else(|| {
                        errs.push(Diagnostic::error(
                            format!("{pp}.recurrence.schedule.timeZone"),
                            "time-zone",
                            format!("unknown time zone `{}`", s.time_zone),
                        ));
                        Tz::UTC
                    });
                    let mut days = [false; 7];
                    for (j, d) in s.days.iter().enumerate() {
                        match parse_day(d) {
                            Some(n) => days[n] = true,
                            None => errs.push(Diagnostic::error(
                                format!("{pp}.recurrence.schedule.days[{j}]"),
                                "weekday",
                                format!("`{d}` is not a day"),
                            )),
                        }
                    }
                    let mut starts = Vec::new();
                    for h in &s.hours {
                        for m in &s.minutes {
                            if *h < 24 && *m < 60 {
                                starts.push((*h, *m));
                            } else {
                                errs.push(Diagnostic::error(
                                    format!("{pp}.recurrence.schedule"),
                                    "time-of-day",
                                    format!("{h}:{m:02} is not a time of day"),
                                ));
                            }
                        }
                    }
                    starts.sort_unstable();
                    starts.dedup();
                    if s.days.is_empty() || s.hours.is_empty() || s.minutes.is_empty() {
                        errs.push(Diagnostic::error(
                            format!("{pp}.recurrence.schedule"),
                            "recurrence",
                            "a recurrence needs days, hours and minutes",
                        ));
                    }
                    Schedule::Recurring { tz, starts, days }
                }
                (None, None) => Schedule::Default,
            };
            let mut rules = Vec::new();
            for (j, r) in p.rules.iter().enumerate() {
                let rp = format!("{pp}.rules[{j}]");
                let t = &r.metric_trigger;
                let a = &r.scale_action;
                let mut dur = |f: &str, v: &str| -> i64 {
                    match parse_duration(v) {
                        Some(d) if d > 0 => d as i64,
                        _ => {
                            errs.push(Diagnostic::error(
                                format!("{rp}.{f}"),
                                "duration",
                                format!("`{v}` is not an ISO 8601 duration"),
                            ));
                            60
                        }
                    }
                };
                let grain = dur("metricTrigger.timeGrain", &t.time_grain);
                let window = dur("metricTrigger.timeWindow", &t.time_window);
                let cooldown = dur("scaleAction.cooldown", &a.cooldown);
                let value_text = a.value.as_deref().unwrap_or("1");
                let value = value_text.trim().parse::<u32>().unwrap_or_else(|_| {
                    errs.push(Diagnostic::error(
                        format!("{rp}.scaleAction.value"),
                        "action-value",
                        format!("`{value_text}` is not a whole number"),
                    ));
                    1
                });
                if a.kind == ScaleType::ServiceAllowedNextValue {
                    errs.push(Diagnostic::error(
                        format!("{rp}.scaleAction.type"),
                        "action-type",
                        "ServiceAllowedNextValue does not apply to scale sets",
                    ));
                }
                let namespace = t.metric_namespace.as_deref().unwrap_or(SCALE_SET_NAMESPACE);
                let key = MetricKey::new(&t.metric_name, namespace, &t.metric_resource_uri);
                let own = key.resource == target && key.namespace == SCALE_SET_NAMESPACE;
                let divide = t.divide_per_instance.unwrap_or(false);
                rules.push(CRule {
                    per_instance: own
                        && !divide
                        && matches!(
                            t.statistic,
                            MetricStatistic::Average | MetricStatistic::Min | MetricStatistic::Max
                        ),
                    key,
                    grain,
                    window,
                    statistic: t.statistic,
                    aggregation: t.time_aggregation,
                    op: t.operator,
                    threshold: t.threshold,
                    divide,
                    direction: a.direction,
                    kind: a.kind,
                    value,
                    cooldown,
                });
            }
            names.push(p.name.clone());
            profiles.push(CProfile {
                min,
                max,
                default,
                schedule,
                rules,
            });
        }
        if !errs.is_empty() {
            return Err(Error::Validation(ValidationErrors {
                errors: errs,
                warnings: vec![],
            }));
        }
        Ok(Engine {
            enabled: settings.enabled,
            names,
            profiles,
        })
    }

    /// Number of profiles.
    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    /// Name of a profile.
    pub fn profile_name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// `(minimum, maximum, default)` of a profile.
    pub fn capacity(&self, index: usize) -> (u32, u32, u32) {
        let p = &self.profiles[index];
        (p.min, p.max, p.default)
    }

    /// The metrics the rules of every profile read.
    pub fn metric_keys(&self) -> Vec<MetricKey> {
        let mut v: Vec<MetricKey> = self
            .profiles
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| r.key.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The longest look-back any rule needs (seconds): window plus a grain.
    pub fn max_lookback(&self) -> i64 {
        self.profiles
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| r.window + r.grain))
            .max()
            .unwrap_or(0)
    }

    /// The latest start of a recurring profile at or before `now`.
    fn last_start(tz: Tz, starts: &[(u32, u32)], days: &[bool; 7], now: i64) -> Option<i64> {
        let local = tz.timestamp_opt(now, 0).single()?.naive_local();
        let today = local.date();
        for back in 0..=8 {
            let date = today - Duration::days(back);
            if !days[date.weekday().num_days_from_monday() as usize] {
                continue;
            }
            for (h, m) in starts.iter().rev() {
                let t = resolve_local(tz, at(date, *h, *m));
                if t <= now {
                    return Some(t);
                }
            }
        }
        None
    }

    /// The first start of a recurring profile after `now`.
    fn next_start(tz: Tz, starts: &[(u32, u32)], days: &[bool; 7], now: i64) -> Option<i64> {
        let local = tz.timestamp_opt(now, 0).single()?.naive_local();
        let today = local.date();
        for fwd in 0..=8 {
            let date = today + Duration::days(fwd);
            if !days[date.weekday().num_days_from_monday() as usize] {
                continue;
            }
            for (h, m) in starts {
                let t = resolve_local(tz, at(date, *h, *m));
                if t > now {
                    return Some(t);
                }
            }
        }
        None
    }

    /// The profile in force at `now` (fixed date → recurring → default), and until when.
    pub fn active_profile(&self, now: i64) -> Option<ActiveProfile> {
        let mut chosen = None;
        let mut best_recurring: Option<(i64, usize)> = None;
        let mut default = None;
        let mut until: Option<i64> = None;
        let mut bound = |t: i64| {
            if t > now {
                until = Some(until.map_or(t, |u: i64| u.min(t)));
            }
        };
        for (i, p) in self.profiles.iter().enumerate() {
            match &p.schedule {
                Schedule::Fixed { start, end } => {
                    bound(*start);
                    bound(*end);
                    if chosen.is_none() && *start <= now && now < *end {
                        chosen = Some(i);
                    }
                }
                Schedule::Recurring { tz, starts, days } => {
                    if let Some(t) = Self::next_start(*tz, starts, days, now) {
                        bound(t);
                    }
                    if let Some(t) = Self::last_start(*tz, starts, days, now) {
                        if best_recurring.is_none_or(|(b, _)| t > b) {
                            best_recurring = Some((t, i));
                        }
                    }
                }
                Schedule::Default => {
                    if default.is_none() {
                        default = Some(i);
                    }
                }
            }
        }
        let index = chosen.or(best_recurring.map(|(_, i)| i)).or(default)?;
        Some(ActiveProfile { index, until })
    }

    /// Decide at `input.now` with the profile in force then.
    pub fn decide(&self, input: &Input) -> Decision {
        match self.active_profile(input.now) {
            Some(p) => self.decide_in_profile(p.index, input),
            None => Decision {
                profile: None,
                current: input.current,
                new_count: input.current,
                outcome: if self.enabled {
                    Outcome::NoProfile
                } else {
                    Outcome::Disabled
                },
                cooldown: 0,
                metrics_missing: false,
            },
        }
    }

    /// The value a rule compares with its threshold now (`None`: no data in the window).
    pub fn rule_value(&self, profile: usize, rule: usize, input: &Input) -> Option<f64> {
        rule_value(&self.profiles[profile].rules[rule], input)
    }

    /// Decide with a given profile (the caller tracked [`Engine::active_profile`]).
    pub fn decide_in_profile(&self, profile: usize, input: &Input) -> Decision {
        let p = &self.profiles[profile];
        let current = input.current;
        let mut d = Decision {
            profile: Some(profile),
            current,
            new_count: current,
            outcome: Outcome::NoChange,
            cooldown: 0,
            metrics_missing: false,
        };
        if !self.enabled {
            d.outcome = Outcome::Disabled;
            return d;
        }
        if current < p.min {
            d.new_count = p.min;
            d.outcome = Outcome::BelowMinimum;
            return d;
        }
        if current > p.max {
            d.new_count = p.max;
            d.outcome = Outcome::AboveMaximum;
            return d;
        }
        let mut values = [None; 16];
        let mut many = Vec::new();
        let vals: &mut [Option<f64>] = if p.rules.len() <= 16 {
            &mut values[..p.rules.len()]
        } else {
            many.resize(p.rules.len(), None);
            &mut many
        };
        for (v, r) in vals.iter_mut().zip(&p.rules) {
            *v = rule_value(r, input);
        }
        d.metrics_missing = vals.iter().any(Option::is_none);
        if d.metrics_missing && current < p.default {
            d.new_count = p.default.min(p.max);
            d.outcome = Outcome::DefaultCapacity;
            return d;
        }
        if let Some(last) = input.last_action {
            let until = last.time + last.cooldown;
            if input.now < until {
                d.outcome = Outcome::Cooldown { until };
                return d;
            }
        }
        // Scale out: any rule; the largest count wins.
        let mut best: Option<(u32, usize)> = None;
        for (i, (r, v)) in p.rules.iter().zip(vals.iter()).enumerate() {
            if r.direction != ScaleDirection::Increase {
                continue;
            }
            let Some(v) = v else { continue };
            if !r.op.holds(*v, r.threshold) {
                continue;
            }
            let n = apply(r, current).min(p.max);
            if n > current && best.is_none_or(|(b, _)| n > b) {
                best = Some((n, i));
            }
        }
        if let Some((n, i)) = best {
            d.new_count = n;
            d.outcome = Outcome::ScaleOut { rule: i };
            d.cooldown = p.rules[i].cooldown;
            return d;
        }
        // Scale in: every scale-in rule must fire; the largest count wins.
        let mut any_in = false;
        let mut target: Option<(u32, usize)> = None;
        for (i, (r, v)) in p.rules.iter().zip(vals.iter()).enumerate() {
            if r.direction != ScaleDirection::Decrease {
                continue;
            }
            any_in = true;
            match v {
                Some(v) if r.op.holds(*v, r.threshold) => {
                    let n = apply(r, current).max(p.min);
                    if target.is_none_or(|(b, _)| n > b) {
                        target = Some((n, i));
                    }
                }
                _ => return d,
            }
        }
        let Some((n, i)) = target.filter(|_| any_in) else {
            return d;
        };
        if n >= current {
            return d;
        }
        d.cooldown = p.rules[i].cooldown;
        if !flaps(p, vals, current, n) {
            d.new_count = n;
            d.outcome = Outcome::ScaleIn { rule: i };
            return d;
        }
        for m in n + 1..current {
            if !flaps(p, vals, current, m) {
                d.new_count = m;
                d.outcome = Outcome::FlappingOccurred {
                    rule: i,
                    intended: n,
                };
                return d;
            }
        }
        d.cooldown = 0;
        d.outcome = Outcome::Flapping {
            rule: i,
            intended: n,
        };
        d
    }
}

fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN))
}

/// Whether some scale-out rule would fire at `target` instances, projecting per-instance
/// values from `current` instances.
fn flaps(p: &CProfile, vals: &[Option<f64>], current: u32, target: u32) -> bool {
    p.rules.iter().zip(vals).any(|(r, v)| {
        if r.direction != ScaleDirection::Increase {
            return false;
        }
        let Some(v) = *v else { return false };
        let projected = if r.divide {
            // The value was divided by max(current, 1); the total is unchanged.
            v * f64::from(current.max(1)) / f64::from(target.max(1))
        } else if r.per_instance {
            if target == 0 {
                return false; // no instance, no value
            }
            v * f64::from(current) / f64::from(target)
        } else {
            v
        };
        r.op.holds(projected, r.threshold)
    })
}

/// The count a rule's action leads to from `current` (not yet clamped to the profile).
fn apply(r: &CRule, current: u32) -> u32 {
    let pct = || f64::from(current) * f64::from(r.value) / 100.0;
    match (r.kind, r.direction) {
        (ScaleType::ExactCount, _) => r.value,
        (ScaleType::ChangeCount, ScaleDirection::Increase) => current.saturating_add(r.value),
        (ScaleType::ChangeCount, ScaleDirection::Decrease) => current.saturating_sub(r.value),
        (ScaleType::PercentChangeCount, ScaleDirection::Increase) => {
            current.saturating_add((pct().ceil() as u32).max(1))
        }
        (ScaleType::PercentChangeCount, ScaleDirection::Decrease) => {
            current.saturating_sub((pct().floor() as u32).max(1))
        }
        _ => current,
    }
}

/// `t.div_euclid(g)`, with the one-minute grain (nearly every rule) as a division by a
/// constant, which compiles to a multiplication.
#[inline]
fn grain_index(t: i64, g: i64) -> i64 {
    if g == 60 {
        t.div_euclid(60)
    } else {
        t.div_euclid(g)
    }
}

fn rule_value(r: &CRule, input: &Input) -> Option<f64> {
    let g = r.grain;
    let from = input.now - r.window;
    let first = {
        let i = grain_index(from, g);
        if i * g == from { from } else { (i + 1) * g }
    };
    let end = grain_index(input.now, g) * g;
    if end <= first {
        return None;
    }
    struct Acc {
        bucket: i64,
        count: u32,
        sum: f64,
        min: f64,
        max: f64,
    }
    let mut acc: Option<Acc> = None;
    let mut agg_n = 0u32;
    let mut agg_sum = 0.0;
    let mut agg_min = f64::INFINITY;
    let mut agg_max = f64::NEG_INFINITY;
    let mut last = 0.0;
    let stat = r.statistic;
    let mut close = |a: &Acc| {
        let v = match stat {
            MetricStatistic::Average => a.sum / f64::from(a.count.max(1)),
            MetricStatistic::Min => a.min,
            MetricStatistic::Max => a.max,
            MetricStatistic::Sum => a.sum,
            MetricStatistic::Count => f64::from(a.count),
        };
        agg_n += 1;
        agg_sum += v;
        agg_min = agg_min.min(v);
        agg_max = agg_max.max(v);
        last = v;
    };
    for pt in input.metrics.points(&r.key, first, end) {
        if pt.count == 0 {
            continue;
        }
        let b = grain_index(pt.time, g);
        match &mut acc {
            Some(a) if a.bucket == b => {
                a.count += pt.count;
                a.sum += pt.sum;
                a.min = a.min.min(pt.min);
                a.max = a.max.max(pt.max);
            }
            _ => {
                if let Some(a) = acc.take() {
                    close(&a);
                }
                acc = Some(Acc {
                    bucket: b,
                    count: pt.count,
                    sum: pt.sum,
                    min: pt.min,
                    max: pt.max,
                });
            }
        }
    }
    if let Some(a) = acc.take() {
        close(&a);
    }
    if agg_n == 0 {
        return None;
    }
    let v = match r.aggregation {
        TimeAggregation::Average => agg_sum / f64::from(agg_n),
        TimeAggregation::Minimum => agg_min,
        TimeAggregation::Maximum => agg_max,
        TimeAggregation::Total => agg_sum,
        TimeAggregation::Count => f64::from(agg_n),
        TimeAggregation::Last => last,
    };
    Some(if r.divide {
        v / f64::from(input.current.max(1))
    } else {
        v
    })
}

#[cfg(test)]
mod tests;
