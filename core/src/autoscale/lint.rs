//! Lint: what a pool's autoscale will do that its author probably did not intend, found
//! before deploying. Each finding is a [`Diagnostic`] with the spec field path it concerns.
//!
//! | rule | severity | finding |
//! |---|---|---|
//! | `flapping-thresholds` | warning | scale-in/out thresholds on one metric so close that the flapping estimate defers scale-in (or they overlap) |
//! | `scale-in-metric` | warning | a scale-in rule on a metric no scale-out rule watches (best practices: scale both ways on the same metric) |
//! | `one-way-rules` | warning | a profile that can scale out but never in |
//! | `min-equals-max` | warning | rules in a profile whose minimum equals its maximum: they can never act |
//! | `scale-from-zero` | error / warning | minimum 0, default 0, and every scale-out rule reads the instances' own metrics: at zero there is no metric, so the pool stays at zero (error when no schedule raises the minimum, else a warning naming the wait) |
//! | `default-profile-unused` | warning | a profile without a schedule next to recurring ones: a recurring profile runs until the next one starts, so the default is never used |
//! | `short-profile-window` | warning | a profile in force for only a few minutes a week, like the one-minute window the portal's end times leave |
//! | `profile-overlap` | warning | two profiles starting at the same instant, or overlapping fixed dates: only the first is used |
//! | `no-profile` | warning | only fixed-date profiles: outside them nothing is enforced |
//! | `fixed-date-end-minute` | warning | a fixed date ending at `:59`: its last minute falls back to another profile |
//! | `range` | error / warning | a CPU threshold outside 0-100 % (never or always fires), a percentage scale-in of 100 % or more |
//! | `operator-direction` | warning | scaling out when CPU is low, or in when it is high |
//! | `cooldown-boot` | warning | a scale-out cooldown shorter than the instance boot time: the rule fires again before the new instance carries load |
//! | `budget-max` | warning | `capacity.max` × price × 730 h above `budget.monthly` |
//! | `budget-floor` | error | the scheduled minimums alone cost more than `budget.monthly` |
//! | `budget-price-unknown` | warning | a budget is set but the VM size is not in the price table |

use super::engine::{parse_day, resolve_local, time_zone};
use super::model::{
    AutoscaleProfile, AutoscaleSettings, ComparisonOperator, MetricTrigger, Origins,
    SCALE_SET_NAMESPACE, ScaleDirection, ScaleRule, ScaleType, settings_with_origins,
};
use crate::error::{Diagnostic, Severity};
use crate::pricing::{self, HOURS_PER_MONTH};
use crate::spec::values::parse_duration;
use crate::spec::{Os, ValidPool};
use chrono::{Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// Lint settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LintOptions {
    /// Seconds from scale-out to an instance that carries load. Default: 300 for Ubuntu
    /// DSVMs, 600 for Windows.
    pub boot_time: Option<i64>,
}

/// Every finding for a valid pool: its validation warnings, then the autoscale findings.
pub fn lint(pool: &ValidPool, opts: &LintOptions) -> Vec<Diagnostic> {
    let target = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool";
    let (settings, origins) = settings_with_origins(pool, target);
    let mut out = pool.warnings().to_vec();
    if !settings.enabled {
        return out;
    }
    let boot = opts
        .boot_time
        .unwrap_or(if pool.spec().vm.os == Os::Windows {
            600
        } else {
            300
        });
    let mut l = Linter {
        s: &settings,
        o: &origins,
        target,
        out: Vec::new(),
    };
    l.rules(boot);
    let week = l.schedule();
    l.budget(pool, &week);
    out.extend(l.out);
    out
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Diagnostic]) -> bool {
    findings.iter().any(|d| d.severity == Severity::Error)
}

struct Linter<'a> {
    s: &'a AutoscaleSettings,
    o: &'a Origins,
    target: &'a str,
    out: Vec<Diagnostic>,
}

/// One span of the weekly recurring schedule.
struct Span {
    profile: usize,
    start: i64,
    end: i64,
}

fn cap(p: &AutoscaleProfile) -> (u32, u32, u32) {
    let n = |s: &str| s.trim().parse::<u32>().unwrap_or(0);
    (
        n(&p.capacity.minimum),
        n(&p.capacity.maximum),
        n(&p.capacity.default),
    )
}

fn value(r: &ScaleRule) -> u32 {
    r.scale_action
        .value
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

fn is_cpu(t: &MetricTrigger) -> bool {
    t.metric_name.eq_ignore_ascii_case("Percentage CPU")
}

fn same_metric(a: &MetricTrigger, b: &MetricTrigger) -> bool {
    a.metric_name.eq_ignore_ascii_case(&b.metric_name)
        && a.metric_resource_uri
            .eq_ignore_ascii_case(&b.metric_resource_uri)
        && a.metric_namespace
            .as_deref()
            .unwrap_or(SCALE_SET_NAMESPACE)
            .eq_ignore_ascii_case(b.metric_namespace.as_deref().unwrap_or(SCALE_SET_NAMESPACE))
}

fn after(r: &ScaleRule, n: u32) -> u32 {
    let v = value(r);
    let pct = f64::from(n) * f64::from(v) / 100.0;
    match (r.scale_action.kind, r.scale_action.direction) {
        (ScaleType::ExactCount, _) => v,
        (ScaleType::ChangeCount, ScaleDirection::Decrease) => n.saturating_sub(v),
        (ScaleType::PercentChangeCount, ScaleDirection::Decrease) => {
            n.saturating_sub((pct.floor() as u32).max(1))
        }
        (ScaleType::ChangeCount, _) => n.saturating_add(v),
        (ScaleType::PercentChangeCount, _) => n.saturating_add((pct.ceil() as u32).max(1)),
        _ => n,
    }
}

fn hours(secs: f64) -> String {
    if secs % 3600.0 == 0.0 {
        format!("{} h", secs / 3600.0)
    } else {
        format!("{} min", (secs / 60.0).round())
    }
}

fn is_lower(op: ComparisonOperator) -> bool {
    matches!(
        op,
        ComparisonOperator::LessThan | ComparisonOperator::LessThanOrEqual
    )
}

impl Linter<'_> {
    fn ppath(&self, i: usize) -> &str {
        &self.o.profiles[i]
    }
    fn rpath(&self, i: usize, j: usize) -> &str {
        &self.o.rules[i][j]
    }
    fn push(&mut self, d: Diagnostic) {
        if !self
            .out
            .iter()
            .any(|x| x.path == d.path && x.rule == d.rule)
        {
            self.out.push(d);
        }
    }

    /// Whether a rule reads the scaled instances' own metric (no value at zero instances).
    fn own_metric(&self, t: &MetricTrigger) -> bool {
        t.metric_resource_uri.eq_ignore_ascii_case(self.target)
            && t.metric_namespace
                .as_deref()
                .unwrap_or(SCALE_SET_NAMESPACE)
                .eq_ignore_ascii_case(SCALE_SET_NAMESPACE)
    }

    fn rules(&mut self, boot: i64) {
        let s = self.s;
        for (i, p) in s.profiles.iter().enumerate() {
            let (min, max, default) = cap(p);
            if !p.rules.is_empty() && min == max {
                let d = Diagnostic::warning(
                    self.ppath(i),
                    "min-equals-max",
                    format!("profile `{}` has rules but minimum = maximum = {min}: no rule can ever act", p.name),
                )
                .hint("widen the range or drop the rules");
                self.push(d);
            }
            let outs: Vec<usize> = (0..p.rules.len())
                .filter(|j| p.rules[*j].scale_action.direction == ScaleDirection::Increase)
                .collect();
            let ins: Vec<usize> = (0..p.rules.len())
                .filter(|j| p.rules[*j].scale_action.direction == ScaleDirection::Decrease)
                .collect();
            if !outs.is_empty() && ins.is_empty() && max > min {
                let d = Diagnostic::warning(
                    self.ppath(i),
                    "one-way-rules",
                    format!("profile `{}` scales out but has no scale-in rule: it only comes back down when another profile starts", p.name),
                )
                .hint("add a scale-in rule on the same metric");
                self.push(d);
            }
            for &j in &ins {
                let t = &p.rules[j].metric_trigger;
                if !outs
                    .iter()
                    .any(|&k| same_metric(&p.rules[k].metric_trigger, t))
                    && !outs.is_empty()
                {
                    let d = Diagnostic::warning(
                        self.rpath(i, j),
                        "scale-in-metric",
                        format!("scale-in on `{}`, which no scale-out rule of profile `{}` watches: the two conditions can hold together and flap", t.metric_name, p.name),
                    )
                    .hint("scale in and out on the same metric (Best practices for autoscale)");
                    self.push(d);
                }
            }
            for &j in &ins {
                for &k in &outs {
                    self.flapping(i, j, k, min, max);
                }
            }
            // Scale from zero.
            if min == 0 && max > 0 && default == 0 {
                let wakes = outs
                    .iter()
                    .any(|&k| !self.own_metric(&p.rules[k].metric_trigger));
                if !wakes {
                    let raised: Vec<&str> = s
                        .profiles
                        .iter()
                        .filter(|q| cap(q).0 > 0 || cap(q).2 > 0)
                        .map(|q| q.name.as_str())
                        .collect();
                    let what = if outs.is_empty() {
                        "has no scale-out rule".to_string()
                    } else {
                        "scales out only on the instances' own metrics, which do not exist at zero instances".to_string()
                    };
                    let d = if raised.is_empty() {
                        Diagnostic::error(
                            self.ppath(i),
                            "scale-from-zero",
                            format!(
                                "profile `{}` allows zero instances and {what}, and no profile raises the minimum: once at zero the pool never starts again, and every session waits for nothing",
                                p.name
                            ),
                        )
                    } else {
                        Diagnostic::warning(
                            self.ppath(i),
                            "scale-from-zero",
                            format!(
                                "profile `{}` allows zero instances and {what}: once at zero, sessions find no instance until {} starts",
                                p.name,
                                raised
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            ),
                        )
                    };
                    self.push(d.hint("scale on sessions (`autoscale.sessions`, which wakes the pool when someone waits), or keep a minimum of 1"));
                }
            }
            for (j, r) in p.rules.iter().enumerate() {
                let t = &r.metric_trigger;
                let a = &r.scale_action;
                if is_cpu(t) && !(0.0..=100.0).contains(&t.threshold) {
                    let d = Diagnostic::error(
                        format!("{}.threshold", self.rpath(i, j)),
                        "range",
                        format!("Percentage CPU is 0-100; a threshold of {} makes the rule never (or always) fire", t.threshold),
                    )
                    .hint("use a percentage such as 70");
                    self.push(d);
                }
                if a.direction == ScaleDirection::Decrease
                    && a.kind == ScaleType::PercentChangeCount
                    && value(r) >= 100
                {
                    let d = Diagnostic::warning(
                        format!("{}.value", self.rpath(i, j)),
                        "range",
                        format!(
                            "a scale-in of {} % removes every instance down to the minimum in one step",
                            value(r)
                        ),
                    );
                    self.push(d);
                }
                if is_cpu(t) && ((a.direction == ScaleDirection::Increase) == is_lower(t.operator))
                {
                    let what = if a.direction == ScaleDirection::Increase {
                        "scales out when CPU is low"
                    } else {
                        "scales in when CPU is high"
                    };
                    let d = Diagnostic::warning(
                        format!("{}.operator", self.rpath(i, j)),
                        "operator-direction",
                        format!(
                            "this rule {what} (`{} {}`)",
                            t.operator.symbol(),
                            t.threshold
                        ),
                    )
                    .hint("swap the operator or the action");
                    self.push(d);
                }
                if a.direction == ScaleDirection::Increase {
                    let cd = parse_duration(&a.cooldown).unwrap_or(300) as i64;
                    if cd < boot {
                        let d = Diagnostic::warning(
                            format!("{}.cooldown", self.rpath(i, j)),
                            "cooldown-boot",
                            format!("cooldown {} is shorter than the instance boot time (~{}): the rule can fire again before the new instance carries load, adding more instances than needed", hours(cd as f64), hours(boot as f64)),
                        )
                        .hint(format!("use a cooldown of at least {}", hours(boot as f64)));
                        self.push(d);
                    }
                }
            }
        }
    }

    /// Scale-in rule `j` against scale-out rule `k` of profile `i` on the same metric.
    fn flapping(&mut self, i: usize, j: usize, k: usize, min: u32, max: u32) {
        let p = &self.s.profiles[i];
        let (rin, rout) = (&p.rules[j], &p.rules[k]);
        let (tin, tout) = (&rin.metric_trigger, &rout.metric_trigger);
        if !same_metric(tin, tout) || !is_lower(tin.operator) || is_lower(tout.operator) {
            return;
        }
        // Overlap: a value can satisfy both.
        let v = tin.threshold.min(tout.threshold);
        let overlap = tin.threshold > tout.threshold
            || (tin.threshold == tout.threshold
                && tin.operator.holds(v, tin.threshold)
                && tout.operator.holds(v, tout.threshold));
        if overlap {
            let d = Diagnostic::warning(
                self.rpath(i, j),
                "flapping-thresholds",
                format!("the scale-in threshold `{} {}` overlaps the scale-out threshold `{} {}`: between them both fire (scale-out wins)", tin.operator.symbol(), tin.threshold, tout.operator.symbol(), tout.threshold),
            )
            .hint("leave a margin, e.g. out above 70, in below 30");
            self.push(d);
            return;
        }
        let per_instance = tin.divide_per_instance.unwrap_or(false)
            || (self.own_metric(tin)
                && !matches!(
                    tin.statistic,
                    super::model::MetricStatistic::Sum | super::model::MetricStatistic::Count
                ));
        if !per_instance {
            return;
        }
        // Just below the scale-in threshold, at n instances, does the estimate flap?
        let edge = if tin.operator == ComparisonOperator::LessThan {
            tin.threshold - 1e-9 * tin.threshold.abs().max(1.0)
        } else {
            tin.threshold
        };
        for n in min.max(1)..=max.min(1000) {
            let to = after(rin, n).max(min);
            if to >= n || to == 0 {
                continue;
            }
            let projected = edge * f64::from(n) / f64::from(to);
            if tout.operator.holds(projected, tout.threshold) {
                let effective = tout.threshold * f64::from(to) / f64::from(n);
                let d = Diagnostic::warning(
                    self.rpath(i, j),
                    "flapping-thresholds",
                    format!("thresholds too close: at {n} instances a scale-in at {} {} would project {projected:.1} per instance at {to}, which triggers the scale-out rule (`{} {}`), so autoscale skips it (Flapping) until the metric falls below about {effective:.1}", tin.metric_name, tin.threshold, tout.operator.symbol(), tout.threshold),
                )
                .hint(format!("keep the scale-in threshold below scale-out × (n−{})/n, e.g. below {:.1}", n - to, effective));
                self.push(d);
                return;
            }
        }
    }

    /// Recurring profiles over a reference week in winter and in summer; findings about
    /// windows, overlaps and unused profiles. Returns the winter week's spans.
    fn schedule(&mut self) -> Vec<Span> {
        let s = self.s;
        let recurring: Vec<usize> = (0..s.profiles.len())
            .filter(|i| s.profiles[*i].recurrence.is_some() && s.profiles[*i].fixed_date.is_none())
            .collect();
        let fixed: Vec<usize> = (0..s.profiles.len())
            .filter(|i| s.profiles[*i].fixed_date.is_some())
            .collect();
        let defaults: Vec<usize> = (0..s.profiles.len())
            .filter(|i| s.profiles[*i].recurrence.is_none() && s.profiles[*i].fixed_date.is_none())
            .collect();
        if let Some(&d) = defaults.first() {
            if !recurring.is_empty() {
                let f = Diagnostic::warning(
                    self.ppath(d),
                    "default-profile-unused",
                    format!("profile `{}` has no schedule, but a recurring profile runs until the next one starts: after the first recurring start this profile is never used", s.profiles[d].name),
                )
                .hint("give it a recurrence starting where the others should end (as the portal does)");
                self.push(f);
            }
        }
        if recurring.is_empty() && defaults.is_empty() && !fixed.is_empty() {
            let f = Diagnostic::warning(
                "autoscale.profiles",
                "no-profile",
                "only fixed-date profiles: outside their dates no profile applies and autoscale enforces nothing",
            )
            .hint("add a default profile");
            self.push(f);
        }
        for (n, &i) in fixed.iter().enumerate() {
            let fd = s.profiles[i].fixed_date.as_ref().expect("fixed");
            if fd.end.len() >= 16 && &fd.end[14..16] == "59" {
                let f = Diagnostic::warning(
                    format!("{}.fixed_date.end", self.ppath(i)),
                    "fixed-date-end-minute",
                    format!("ends at {}: the profile is over at that instant, so its last minute falls back to another profile", fd.end),
                )
                .hint("end on the hour (e.g. the next day at 00:00)");
                self.push(f);
            }
            let tz = |z: &Option<String>| {
                time_zone(z.as_deref().unwrap_or("UTC")).unwrap_or(chrono_tz::UTC)
            };
            let inst = |v: &str, z| {
                chrono::NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .map(|t| resolve_local(tz(z), t))
            };
            for &k in &fixed[..n] {
                let other = s.profiles[k].fixed_date.as_ref().expect("fixed");
                if let (Some(a0), Some(a1), Some(b0), Some(b1)) = (
                    inst(&fd.start, &fd.time_zone),
                    inst(&fd.end, &fd.time_zone),
                    inst(&other.start, &other.time_zone),
                    inst(&other.end, &other.time_zone),
                ) {
                    if a0 < b1 && b0 < a1 {
                        let f = Diagnostic::warning(
                            self.ppath(i),
                            "profile-overlap",
                            format!(
                                "fixed dates overlap those of `{}`, which comes first and wins",
                                s.profiles[k].name
                            ),
                        );
                        self.push(f);
                    }
                }
            }
        }
        let mut winter = Vec::new();
        for (w, monday) in [(0, (2026, 1, 5)), (1, (2026, 7, 6))] {
            let spans = self.week(&recurring, monday);
            if w == 0 {
                winter = spans;
            }
        }
        winter
    }

    fn week(&mut self, recurring: &[usize], (y, m, d): (i32, u32, u32)) -> Vec<Span> {
        let s = self.s;
        let Some(monday) = NaiveDate::from_ymd_opt(y, m, d) else {
            return vec![];
        };
        let week_start = monday.and_time(NaiveTime::MIN).and_utc().timestamp();
        let mut starts: Vec<(i64, usize)> = Vec::new();
        for &i in recurring {
            let r = &s.profiles[i]
                .recurrence
                .as_ref()
                .expect("recurring")
                .schedule;
            let Some(tz) = time_zone(&r.time_zone) else {
                continue;
            };
            // Two days around the week so spans wrap correctly.
            for back in -8..=8i64 {
                let date = monday + Duration::days(back);
                let wd = chrono::Datelike::weekday(&date).num_days_from_monday() as usize;
                if !r.days.iter().any(|x| parse_day(x) == Some(wd)) {
                    continue;
                }
                for h in &r.hours {
                    for mm in &r.minutes {
                        let Some(t) = NaiveTime::from_hms_opt(*h, *mm, 0) else {
                            continue;
                        };
                        starts.push((resolve_local(tz, date.and_time(t)), i));
                    }
                }
            }
        }
        starts.sort();
        // Same instant: only the first listed profile counts.
        let mut spans = Vec::new();
        let mut k = 0;
        while k < starts.len() {
            let (t, i) = starts[k];
            let mut same = k + 1;
            while same < starts.len() && starts[same].0 == t {
                let j = starts[same].1;
                if j != i {
                    let (first, second) = (i.min(j), i.max(j));
                    let f = Diagnostic::warning(
                        self.ppath(second),
                        "profile-overlap",
                        format!(
                            "starts at the same moment as `{}`, which is listed first and wins",
                            s.profiles[first].name
                        ),
                    );
                    self.push(f);
                }
                same += 1;
            }
            let winner = starts[k..same].iter().map(|x| x.1).min().unwrap_or(i);
            let end = starts.get(same).map_or(t, |x| x.0);
            spans.push(Span {
                profile: winner,
                start: t,
                end,
            });
            k = same;
        }
        let week_end = week_start + 7 * 86_400;
        let spans: Vec<Span> = spans
            .into_iter()
            .filter(|sp| sp.end > week_start && sp.start < week_end)
            .map(|sp| Span {
                profile: sp.profile,
                start: sp.start.max(week_start),
                end: sp.end.min(week_end),
            })
            .collect();
        for sp in &spans {
            let len = sp.end - sp.start;
            // Only whole spans (not cut by the reference week's edges) count as windows.
            if len > 0 && len <= 15 * 60 && sp.start > week_start && sp.end < week_end {
                let p = &s.profiles[sp.profile];
                let (min, max, _) = cap(p);
                let when = chrono::DateTime::from_timestamp(sp.start, 0)
                    .map(|t| t.format("%a %H:%M UTC").to_string())
                    .unwrap_or_default();
                let f = Diagnostic::warning(
                    self.ppath(sp.profile),
                    "short-profile-window",
                    format!("profile `{}` is in force for only {} minute(s) (from {when}): during that window its limits {min}..{max} apply, which can remove or add instances for a moment — the one-minute default-profile window the portal's end times leave", p.name, len / 60),
                )
                .hint("start the next profile where this one should end, without an end time one minute earlier");
                self.push(f);
            }
        }
        spans
    }

    fn budget(&mut self, pool: &ValidPool, week: &[Span]) {
        let spec = pool.spec();
        let Some(b) = &spec.budget else { return };
        let Some(price) = pricing::instance_price(&spec.vm.size, spec.vm.os, spec.vm.priority)
        else {
            self.push(Diagnostic::warning(
                "budget.monthly",
                "budget-price-unknown",
                format!(
                    "`{}` is not in the bundled price table: the budget cannot be checked",
                    spec.vm.size
                ),
            ));
            return;
        };
        let at_max = price.hourly * f64::from(spec.capacity.max) * HOURS_PER_MONTH;
        if at_max > b.monthly {
            let d = Diagnostic::warning(
                "capacity.max",
                "budget-max",
                format!("at capacity.max ({}) the pool costs ${at_max:.0} a month ({} at ${:.3}/h × 730 h), above the budget of ${:.0}", spec.capacity.max, spec.vm.size, price.hourly, b.monthly),
            )
            .hint(format!("lower capacity.max to {} or raise the budget", (b.monthly / (price.hourly * HOURS_PER_MONTH)).floor()));
            self.push(d);
        }
        // The floor: minimum instances of the profile in force, hour by hour.
        let floor_hours_week: f64 = if week.is_empty() {
            let min = self
                .s
                .profiles
                .iter()
                .find(|p| p.recurrence.is_none() && p.fixed_date.is_none())
                .map_or(0, |p| cap(p).0);
            f64::from(min) * 168.0
        } else {
            week.iter()
                .map(|sp| {
                    f64::from(cap(&self.s.profiles[sp.profile]).0) * (sp.end - sp.start) as f64
                        / 3600.0
                })
                .sum()
        };
        let floor = floor_hours_week * HOURS_PER_MONTH / 168.0 * price.hourly;
        if floor > b.monthly {
            let d = Diagnostic::error(
                "budget.monthly",
                "budget-floor",
                format!("the scheduled minimums alone cost ${floor:.0} a month, above the budget of ${:.0}", b.monthly),
            )
            .hint("lower the minimums or shorten the working hours");
            self.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pool;

    fn findings(extra: &str) -> Vec<Diagnostic> {
        let p = Pool::from_toml(&format!(
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
        .unwrap();
        lint(&p, &LintOptions::default())
    }

    fn rules_of(f: &[Diagnostic]) -> Vec<(&str, &str, Severity)> {
        f.iter()
            .map(|d| (d.rule.as_str(), d.path.as_str(), d.severity))
            .collect()
    }

    const CPU_RULES: &str = r#"
        [[autoscale.rules]]
        metric = "Percentage CPU"
        operator = ">"
        threshold = 70
        action = "increase"
        value = 2
        cooldown = "PT10M"
        [[autoscale.rules]]
        metric = "Percentage CPU"
        operator = "<"
        threshold = 25
        action = "decrease"
        value = 1
        cooldown = "PT10M"
    "#;

    #[test]
    fn cpu_only_with_zero_minimum() {
        // No schedule raises the minimum: an error.
        let f = findings(&format!("[capacity]\nmin = 0\nmax = 10\n{CPU_RULES}"));
        assert!(
            rules_of(&f).contains(&("scale-from-zero", "capacity", Severity::Error)),
            "{f:#?}"
        );
        assert!(has_errors(&f));
        // Working hours raise it: a warning on the off-hours profile.
        let f = findings(&format!(
            "[capacity]\nmax = 10\n[autoscale.scale_to_zero]\nmin = 2\n{CPU_RULES}"
        ));
        assert!(
            rules_of(&f).contains(&(
                "scale-from-zero",
                "autoscale.scale_to_zero.end",
                Severity::Warning
            )),
            "{f:#?}"
        );
        assert!(!has_errors(&f));
        // Session rules wake the pool: no finding.
        let f = findings(&format!(
            "[capacity]\nmax = 10\n[autoscale.scale_to_zero]\nmin = 2\n[autoscale.sessions]\ntarget_per_vm = 4\ncooldown = \"PT6M\"\n{CPU_RULES}"
        ));
        assert!(!f.iter().any(|d| d.rule == "scale-from-zero"), "{f:#?}");
    }

    #[test]
    fn flapping_thresholds_and_metrics() {
        let f = findings(
            r#"
            [[autoscale.profiles]]
            name = "p"
            min = 1
            max = 10
            default = 1
            [[autoscale.profiles.rules]]
            metric = "Percentage CPU"
            operator = ">"
            threshold = 50
            action = "increase"
            value = 1
            cooldown = "PT10M"
            [[autoscale.profiles.rules]]
            metric = "Percentage CPU"
            operator = "<"
            threshold = 30
            action = "decrease"
            value = 1
            [[autoscale.profiles.rules]]
            metric = "Memory"
            operator = "<"
            threshold = 30
            action = "decrease"
            value = 1
            "#,
        );
        let r = rules_of(&f);
        // 30 × 2 / 1 = 60 > 50: the flapping doc's first example.
        assert!(
            r.contains(&(
                "flapping-thresholds",
                "autoscale.profiles[0].rules[1]",
                Severity::Warning
            )),
            "{f:#?}"
        );
        assert!(r.contains(&(
            "scale-in-metric",
            "autoscale.profiles[0].rules[2]",
            Severity::Warning
        )));
        // Out > 70, in < 25: no flapping finding at any count (25 × 2 = 50 < 70).
        let f = findings(&format!("[capacity]\nmin = 1\nmax = 10\n{CPU_RULES}"));
        assert!(!f.iter().any(|d| d.rule == "flapping-thresholds"), "{f:#?}");
        // Overlapping thresholds.
        let f = findings(&format!(
            "[capacity]\nmin = 1\nmax = 10\n{}",
            CPU_RULES.replace("threshold = 25", "threshold = 80")
        ));
        assert!(
            f.iter()
                .any(|d| d.rule == "flapping-thresholds" && d.message.contains("overlaps"))
        );
    }

    #[test]
    fn ranges_directions_cooldown_min_max() {
        let f = findings(
            r#"
            [[autoscale.profiles]]
            name = "p"
            min = 3
            max = 3
            default = 3
            [[autoscale.profiles.rules]]
            metric = "Percentage CPU"
            operator = "<="
            threshold = 600
            action = "increase"
            value = 1
            cooldown = "PT2M"
            [[autoscale.profiles.rules]]
            metric = "Percentage CPU"
            operator = ">="
            threshold = 600
            action = "decrease"
            type = "percent_change_count"
            value = 100
            "#,
        );
        let r = rules_of(&f);
        assert!(r.contains(&("min-equals-max", "autoscale.profiles[0]", Severity::Warning)));
        assert!(r.contains(&(
            "range",
            "autoscale.profiles[0].rules[0].threshold",
            Severity::Error
        )));
        assert!(r.contains(&(
            "range",
            "autoscale.profiles[0].rules[1].value",
            Severity::Warning
        )));
        assert!(r.contains(&(
            "operator-direction",
            "autoscale.profiles[0].rules[0].operator",
            Severity::Warning
        )));
        assert!(r.contains(&(
            "operator-direction",
            "autoscale.profiles[0].rules[1].operator",
            Severity::Warning
        )));
        assert!(r.contains(&(
            "cooldown-boot",
            "autoscale.profiles[0].rules[0].cooldown",
            Severity::Warning
        )));
    }

    #[test]
    fn one_minute_window_and_unused_default() {
        // The portal's pattern: work ends 17:59, the evening profile starts 18:00 — the
        // "default" (auto-created recurring profile at 17:59) is in force for one minute.
        let profile = |name: &str, start: &str, min: u32| {
            format!(
                "[[autoscale.profiles]]\nname = \"{name}\"\nmin = {min}\nmax = 10\ndefault = {min}\nrecurrence = {{ days = [\"monday\",\"tuesday\",\"wednesday\",\"thursday\",\"friday\"], start = \"{start}\", time_zone = \"W. Europe Standard Time\" }}\n"
            )
        };
        let f = findings(&format!(
            "[capacity]\nmax = 10\n{}{}{}",
            profile("work", "08:00", 4),
            profile("auto-default", "17:59", 1),
            profile("evening", "18:00", 2)
        ));
        let w: Vec<_> = f
            .iter()
            .filter(|d| d.rule == "short-profile-window")
            .collect();
        assert_eq!(w.len(), 1, "{f:#?}");
        assert_eq!(w[0].path, "autoscale.profiles[1]");
        assert!(w[0].message.contains("only 1 minute"));
        // A default profile next to a recurring one is never used.
        let f = findings(&format!(
            "[capacity]\nmax = 10\n{}[[autoscale.profiles]]\nname = \"rest\"\nmin = 0\nmax = 2\ndefault = 0\n",
            profile("work", "08:00", 4)
        ));
        assert!(rules_of(&f).contains(&(
            "default-profile-unused",
            "autoscale.profiles[1]",
            Severity::Warning
        )));
        // Two profiles starting at the same time.
        let f = findings(&format!(
            "[capacity]\nmax = 10\n{}{}",
            profile("a", "08:00", 1),
            profile("b", "08:00", 2)
        ));
        assert!(rules_of(&f).contains(&(
            "profile-overlap",
            "autoscale.profiles[1]",
            Severity::Warning
        )));
        // The shorthand leaves no window.
        let f = findings("[capacity]\nmax = 10\n[autoscale.scale_to_zero]\nmin = 1\n");
        assert!(
            !f.iter()
                .any(|d| d.rule == "short-profile-window" || d.rule == "profile-overlap"),
            "{f:#?}"
        );
    }

    #[test]
    fn fixed_dates() {
        let f = findings(
            r#"
            [[autoscale.profiles]]
            name = "event"
            min = 1
            max = 5
            default = 1
            fixed_date = { start = "2026-12-26T00:00", end = "2026-12-26T23:59" }
            [[autoscale.profiles]]
            name = "event2"
            min = 1
            max = 5
            default = 1
            fixed_date = { start = "2026-12-26T12:00", end = "2026-12-27T00:00" }
            "#,
        );
        let r = rules_of(&f);
        assert!(r.contains(&(
            "fixed-date-end-minute",
            "autoscale.profiles[0].fixed_date.end",
            Severity::Warning
        )));
        assert!(r.contains(&(
            "profile-overlap",
            "autoscale.profiles[1]",
            Severity::Warning
        )));
        assert!(r.contains(&("no-profile", "autoscale.profiles", Severity::Warning)));
    }

    #[test]
    fn budget() {
        // D4s_v5 at $0.192/h: 10 × 0.192 × 730 = $1401.6 > $1000; floor 2 × 11 h × 5 days.
        let f = findings(
            "[capacity]\nmax = 10\n[autoscale.scale_to_zero]\nmin = 2\n[budget]\nmonthly = 1000\n",
        );
        assert!(
            rules_of(&f).contains(&("budget-max", "capacity.max", Severity::Warning)),
            "{f:#?}"
        );
        assert!(!has_errors(&f));
        // Floor: 2 × 55 h a week ≈ 478 h a month ≈ $92 > $50.
        let f = findings(
            "[capacity]\nmax = 10\n[autoscale.scale_to_zero]\nmin = 2\n[budget]\nmonthly = 50\n",
        );
        assert!(
            rules_of(&f).contains(&("budget-floor", "budget.monthly", Severity::Error)),
            "{f:#?}"
        );
        let f = findings("[vm]\nsize = \"Standard_Z9\"\n[budget]\nmonthly = 50\n");
        assert!(f.iter().any(|d| d.rule == "budget-price-unknown"));
    }
}
