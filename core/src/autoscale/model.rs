//! Serde models of `Microsoft.Insights/autoscalesettings` (API 2022-10-01), field for field as
//! ARM JSON spells them, and [`settings_from_pool`], which turns a pool's autoscale spec into
//! the `properties` object of that resource.
//!
//! # How the spec expands
//!
//! * Every profile of `autoscale.profiles` becomes one ARM profile of the same name, in the same
//!   order, with its rules followed by the session rules (when `autoscale.sessions` is set).
//! * The `autoscale.scale_to_zero` shorthand becomes two **recurring** profiles on the same
//!   days and time zone, placed after the explicit profiles:
//!   1. `work-hours`: starts at `start`; capacity `{min: scale_to_zero.min, max: capacity.max,
//!      default: scale_to_zero.min}`; rules: `autoscale.rules` then the session rules.
//!   2. `off-hours`: starts at `end`; capacity `{min: 0, max: capacity.max, default: 0}` with the
//!      same rules — or `{0, 0, 0}` when there are no rules at all, so that the pool really
//!      goes to zero (without rules autoscale only enforces min and max).
//!
//!   A recurring profile runs until the next recurring profile starts, so `off-hours` started
//!   on Friday evening runs through the weekend until `work-hours` starts on Monday. The end
//!   of working hours is a profile *start*, not an end time one minute earlier: the Azure
//!   portal writes end times as "one minute before the next start", which leaves a one-minute
//!   window where another (default) profile applies; this expansion has no such window, and
//!   no profile without a schedule.
//! * Without profiles and without the shorthand there is one default profile `default`:
//!   `{min: capacity.min, max: capacity.max, default: capacity.min}` with `autoscale.rules`
//!   and the session rules.
//! * Session rules (see [`crate::spec::SessionScaling`]): scale out by `scale_out_by` when
//!   `metric` per instance exceeds `target_per_vm`; scale out by `scale_out_by` when the last
//!   `waiting_metric` value is above 0 (`wake_on_waiting`); scale in by one when `metric` per
//!   instance is below `scale_in_below`.
//!
//! Durations are written in ISO 8601 (`PT5M`), days as English day names, fixed dates as local
//! `YYYY-MM-DDTHH:MM:SS` in their `timeZone`.

use crate::spec::values::{
    WEEKDAYS, format_iso_duration, parse_duration, parse_hhmm, parse_local_datetime, parse_weekday,
};
use crate::spec::{
    Aggregation, ChangeType, Direction, Operator, Profile, Rule, SessionScaling, Statistic,
    ValidPool,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Namespace of the scale set's own (host) metrics such as `Percentage CPU`.
pub const SCALE_SET_NAMESPACE: &str = "microsoft.compute/virtualmachinescalesets";

/// A whole `Microsoft.Insights/autoscalesettings` resource as ARM returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleSettingResource {
    /// Resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Microsoft.Insights/autoscaleSettings`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The setting.
    pub properties: AutoscaleSettings,
}

/// The `properties` of an autoscale setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleSettings {
    /// Profiles (at most 20).
    pub profiles: Vec<AutoscaleProfile>,
    /// Notifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<AutoscaleNotification>,
    /// Whether autoscale is on (ARM default false).
    #[serde(default)]
    pub enabled: bool,
    /// Predictive autoscale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictive_autoscale_policy: Option<PredictiveAutoscalePolicy>,
    /// Name of the setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource id of the scaled resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_uri: Option<String>,
    /// Location of the scaled resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_location: Option<String>,
}

/// One profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleProfile {
    /// Name.
    pub name: String,
    /// Instance limits.
    pub capacity: ScaleCapacity,
    /// Rules (at most 10).
    #[serde(default)]
    pub rules: Vec<ScaleRule>,
    /// Fixed date range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_date: Option<TimeWindow>,
    /// Weekly recurrence (start times only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
}

/// Instance limits; ARM carries the numbers as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleCapacity {
    /// Minimum.
    pub minimum: String,
    /// Maximum.
    pub maximum: String,
    /// Count set when metrics are missing and the count is below it.
    pub default: String,
}

impl ScaleCapacity {
    /// Capacity from numbers.
    pub fn new(minimum: u32, maximum: u32, default: u32) -> Self {
        Self {
            minimum: minimum.to_string(),
            maximum: maximum.to_string(),
            default: default.to_string(),
        }
    }
}

/// A metric rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleRule {
    /// When.
    pub metric_trigger: MetricTrigger,
    /// What.
    pub scale_action: ScaleAction,
}

/// The metric condition of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTrigger {
    /// Metric name, e.g. `Percentage CPU`.
    pub metric_name: String,
    /// Metric namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_namespace: Option<String>,
    /// Resource the metric comes from.
    pub metric_resource_uri: String,
    /// Location of that resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_resource_location: Option<String>,
    /// Granularity (ISO 8601, 1 min-12 h).
    pub time_grain: String,
    /// How values within a grain are combined.
    pub statistic: MetricStatistic,
    /// Look-back window (ISO 8601, 5 min-12 h).
    pub time_window: String,
    /// How the grains of the window are combined.
    pub time_aggregation: TimeAggregation,
    /// Comparison.
    pub operator: ComparisonOperator,
    /// Threshold.
    pub threshold: f64,
    /// Dimension filters.
    #[serde(default, alias = "Dimensions", skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<ScaleRuleMetricDimension>,
    /// Divide the value by the instance count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divide_per_instance: Option<bool>,
}

/// A dimension filter (ARM spells these fields in PascalCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleRuleMetricDimension {
    /// Dimension name.
    #[serde(rename = "DimensionName")]
    pub dimension_name: String,
    /// `Equals` or `NotEquals`.
    #[serde(rename = "Operator")]
    pub operator: String,
    /// Values.
    #[serde(rename = "Values")]
    pub values: Vec<String>,
}

/// Statistic within a grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MetricStatistic {
    /// Mean.
    Average,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Sum.
    Sum,
    /// Count.
    Count,
}

/// Aggregation over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeAggregation {
    /// Mean.
    Average,
    /// Minimum.
    Minimum,
    /// Maximum.
    Maximum,
    /// Sum.
    Total,
    /// Number of grains.
    Count,
    /// Latest grain.
    Last,
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonOperator {
    /// `==`
    Equals,
    /// `!=`
    NotEquals,
    /// `>`
    GreaterThan,
    /// `>=`
    GreaterThanOrEqual,
    /// `<`
    LessThan,
    /// `<=`
    LessThanOrEqual,
}

impl ComparisonOperator {
    /// Whether `value <op> threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::Equals => value == threshold,
            ComparisonOperator::NotEquals => value != threshold,
            ComparisonOperator::GreaterThan => value > threshold,
            ComparisonOperator::GreaterThanOrEqual => value >= threshold,
            ComparisonOperator::LessThan => value < threshold,
            ComparisonOperator::LessThanOrEqual => value <= threshold,
        }
    }
    /// The usual symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            ComparisonOperator::Equals => "==",
            ComparisonOperator::NotEquals => "!=",
            ComparisonOperator::GreaterThan => ">",
            ComparisonOperator::GreaterThanOrEqual => ">=",
            ComparisonOperator::LessThan => "<",
            ComparisonOperator::LessThanOrEqual => "<=",
        }
    }
}

/// The action of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleAction {
    /// Out, in (or none).
    pub direction: ScaleDirection,
    /// How the count changes.
    #[serde(rename = "type")]
    pub kind: ScaleType,
    /// Instances, percent or exact count, as a string (ARM default `"1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Wait after this action (ISO 8601, 1 min-1 week).
    pub cooldown: String,
}

/// Scale direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScaleDirection {
    /// No change.
    None,
    /// Scale out.
    Increase,
    /// Scale in.
    Decrease,
}

/// Scale action type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScaleType {
    /// By a number of instances.
    ChangeCount,
    /// By a percentage of the current count.
    PercentChangeCount,
    /// To an exact count.
    ExactCount,
    /// The next count the service allows (App Service / some PaaS; not scale sets).
    ServiceAllowedNextValue,
}

/// A fixed date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindow {
    /// Windows time-zone id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Start (ISO 8601).
    pub start: String,
    /// End (ISO 8601).
    pub end: String,
}

/// A recurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recurrence {
    /// Always `Week` for autoscale.
    pub frequency: RecurrenceFrequency,
    /// Start times.
    pub schedule: RecurrentSchedule,
}

/// Recurrence frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecurrenceFrequency {
    /// None.
    None,
    /// Second.
    Second,
    /// Minute.
    Minute,
    /// Hour.
    Hour,
    /// Day.
    Day,
    /// Week (the one autoscale uses).
    Week,
    /// Month.
    Month,
    /// Year.
    Year,
}

/// The start times of a recurring profile: every combination of `days` × `hours` × `minutes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrentSchedule {
    /// Windows time-zone id.
    pub time_zone: String,
    /// Day names (`Monday` … `Sunday`).
    pub days: Vec<String>,
    /// Hours 0-23.
    pub hours: Vec<u32>,
    /// Minutes 0-59.
    pub minutes: Vec<u32>,
}

/// A notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleNotification {
    /// Always `Scale`.
    pub operation: String,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailNotification>,
    /// Webhooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookNotification>,
}

/// E-mail notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailNotification {
    /// Mail the subscription administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_to_subscription_administrator: Option<bool>,
    /// Mail the co-administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_to_subscription_co_administrators: Option<bool>,
    /// More addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_emails: Vec<String>,
}

/// Webhook notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookNotification {
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_uri: Option<String>,
    /// Settings (may be empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
}

/// Predictive autoscale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictiveAutoscalePolicy {
    /// `Disabled`, `ForecastOnly` or `Enabled`.
    pub scale_mode: String,
    /// Lead time (ISO 8601, 1-60 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_look_ahead_time: Option<String>,
}

/// Where each generated profile and rule comes from in the spec (field paths), so findings about
/// the settings can point at what the user wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origins {
    /// One per profile: its spec path.
    pub profiles: Vec<String>,
    /// One per profile: the spec path of each of its rules.
    pub rules: Vec<Vec<String>>,
}

/// The autoscale setting of a pool (the `properties` object of its
/// `Microsoft.Insights/autoscalesettings` resource), with `targetResourceUri` and every rule's
/// default `metricResourceUri` set to `target_resource_uri` (an id or an ARM expression).
/// See the module docs for the exact expansion.
pub fn settings_from_pool(pool: &ValidPool, target_resource_uri: &str) -> AutoscaleSettings {
    settings_with_origins(pool, target_resource_uri).0
}

/// [`settings_from_pool`] plus where each profile and rule came from in the spec.
pub fn settings_with_origins(
    pool: &ValidPool,
    target_resource_uri: &str,
) -> (AutoscaleSettings, Origins) {
    let s = pool.spec();
    let a = &s.autoscale;
    let cap = &s.capacity;
    let mut profiles = Vec::new();
    let mut origins = Origins::default();
    let sessions: Vec<(ScaleRule, String)> = a
        .sessions
        .as_ref()
        .map(|z| session_rules(z, target_resource_uri))
        .unwrap_or_default();
    let generated_rules: Vec<(ScaleRule, String)> = a
        .rules
        .iter()
        .enumerate()
        .map(|(j, r)| {
            (
                rule(r, target_resource_uri),
                format!("autoscale.rules[{j}]"),
            )
        })
        .chain(sessions.iter().cloned())
        .collect();
    let mut push = |p: AutoscaleProfile, path: String, rule_paths: Vec<String>| {
        profiles.push(p);
        origins.profiles.push(path);
        origins.rules.push(rule_paths);
    };
    for (i, p) in a.profiles.iter().enumerate() {
        let pp = format!("autoscale.profiles[{i}]");
        let mut rules: Vec<ScaleRule> = p
            .rules
            .iter()
            .map(|r| rule(r, target_resource_uri))
            .collect();
        let mut paths: Vec<String> = (0..p.rules.len())
            .map(|j| format!("{pp}.rules[{j}]"))
            .collect();
        for (r, path) in &sessions {
            rules.push(r.clone());
            paths.push(path.clone());
        }
        push(profile(p, rules), pp, paths);
    }
    let (rules, paths): (Vec<ScaleRule>, Vec<String>) = generated_rules.into_iter().unzip();
    if let Some(z) = &a.scale_to_zero {
        let days: Vec<String> = z
            .days
            .iter()
            .filter_map(|d| parse_weekday(d))
            .map(|i| WEEKDAYS[i].to_string())
            .collect();
        let at = |hhmm: &str| parse_hhmm(hhmm).unwrap_or((0, 0));
        let recurrence = |(h, m): (u8, u8)| Recurrence {
            frequency: RecurrenceFrequency::Week,
            schedule: RecurrentSchedule {
                time_zone: z.time_zone.clone(),
                days: days.clone(),
                hours: vec![u32::from(h)],
                minutes: vec![u32::from(m)],
            },
        };
        push(
            AutoscaleProfile {
                name: "work-hours".into(),
                capacity: ScaleCapacity::new(z.min, cap.max, z.min),
                rules: rules.clone(),
                fixed_date: None,
                recurrence: Some(recurrence(at(&z.start))),
            },
            "autoscale.scale_to_zero.start".into(),
            paths.clone(),
        );
        let off_max = if rules.is_empty() { 0 } else { cap.max };
        push(
            AutoscaleProfile {
                name: "off-hours".into(),
                capacity: ScaleCapacity::new(0, off_max, 0),
                rules,
                fixed_date: None,
                recurrence: Some(recurrence(at(&z.end))),
            },
            "autoscale.scale_to_zero.end".into(),
            paths,
        );
    } else if a.profiles.is_empty() {
        push(
            AutoscaleProfile {
                name: "default".into(),
                capacity: ScaleCapacity::new(cap.min, cap.max, cap.min),
                rules,
                fixed_date: None,
                recurrence: None,
            },
            "capacity".into(),
            paths,
        );
    }
    let settings = AutoscaleSettings {
        profiles,
        notifications: vec![],
        enabled: a.enabled,
        predictive_autoscale_policy: None,
        name: Some(crate::names::ResourceNames::for_pool(pool).autoscale),
        target_resource_uri: Some(target_resource_uri.to_string()),
        target_resource_location: Some(s.location.clone()),
    };
    (settings, origins)
}

fn iso(d: &str, fallback: u64) -> String {
    format_iso_duration(parse_duration(d).unwrap_or(fallback))
}

fn profile(p: &Profile, rules: Vec<ScaleRule>) -> AutoscaleProfile {
    let recurrence = p.recurrence.as_ref().map(|r| {
        let (h, m) = parse_hhmm(&r.start).unwrap_or((0, 0));
        Recurrence {
            frequency: RecurrenceFrequency::Week,
            schedule: RecurrentSchedule {
                time_zone: r.time_zone.clone(),
                days: r
                    .days
                    .iter()
                    .filter_map(|d| parse_weekday(d))
                    .map(|i| WEEKDAYS[i].to_string())
                    .collect(),
                hours: vec![u32::from(h)],
                minutes: vec![u32::from(m)],
            },
        }
    });
    let fixed_date = p.fixed_date.as_ref().map(|f| TimeWindow {
        time_zone: Some(f.time_zone.clone()),
        start: parse_local_datetime(&f.start).map_or_else(|| f.start.clone(), |d| d.to_iso()),
        end: parse_local_datetime(&f.end).map_or_else(|| f.end.clone(), |d| d.to_iso()),
    });
    AutoscaleProfile {
        name: p.name.clone(),
        capacity: ScaleCapacity::new(p.min, p.max, p.default),
        rules,
        fixed_date,
        recurrence,
    }
}

/// One spec rule as an ARM rule.
pub fn rule(r: &Rule, target_resource_uri: &str) -> ScaleRule {
    let namespace = r.namespace.clone().or_else(|| {
        r.resource_id
            .is_none()
            .then(|| SCALE_SET_NAMESPACE.to_string())
    });
    ScaleRule {
        metric_trigger: MetricTrigger {
            metric_name: r.metric.clone(),
            metric_namespace: namespace,
            metric_resource_uri: r
                .resource_id
                .clone()
                .unwrap_or_else(|| target_resource_uri.to_string()),
            metric_resource_location: None,
            time_grain: iso(&r.time_grain, 60),
            statistic: match r.statistic {
                Statistic::Average => MetricStatistic::Average,
                Statistic::Min => MetricStatistic::Min,
                Statistic::Max => MetricStatistic::Max,
                Statistic::Sum => MetricStatistic::Sum,
                Statistic::Count => MetricStatistic::Count,
            },
            time_window: iso(&r.window, 600),
            time_aggregation: match r.aggregation {
                Aggregation::Average => TimeAggregation::Average,
                Aggregation::Minimum => TimeAggregation::Minimum,
                Aggregation::Maximum => TimeAggregation::Maximum,
                Aggregation::Total => TimeAggregation::Total,
                Aggregation::Count => TimeAggregation::Count,
                Aggregation::Last => TimeAggregation::Last,
            },
            operator: match r.operator {
                Operator::GreaterThan => ComparisonOperator::GreaterThan,
                Operator::GreaterThanOrEqual => ComparisonOperator::GreaterThanOrEqual,
                Operator::LessThan => ComparisonOperator::LessThan,
                Operator::LessThanOrEqual => ComparisonOperator::LessThanOrEqual,
                Operator::Equals => ComparisonOperator::Equals,
                Operator::NotEquals => ComparisonOperator::NotEquals,
            },
            threshold: r.threshold,
            dimensions: vec![],
            divide_per_instance: Some(false),
        },
        scale_action: ScaleAction {
            direction: match r.action {
                Direction::Increase => ScaleDirection::Increase,
                Direction::Decrease => ScaleDirection::Decrease,
            },
            kind: match r.change {
                ChangeType::ChangeCount => ScaleType::ChangeCount,
                ChangeType::PercentChangeCount => ScaleType::PercentChangeCount,
                ChangeType::ExactCount => ScaleType::ExactCount,
            },
            value: Some(r.value.to_string()),
            cooldown: iso(&r.cooldown, 300),
        },
    }
}

/// The rules `autoscale.sessions` adds to every profile, with their spec paths.
pub fn session_rules(z: &SessionScaling, target_resource_uri: &str) -> Vec<(ScaleRule, String)> {
    let uri = z
        .resource_id
        .clone()
        .unwrap_or_else(|| target_resource_uri.to_string());
    let trigger = |metric: &str, stat, agg, op, threshold, per_instance| MetricTrigger {
        metric_name: metric.to_string(),
        metric_namespace: Some(z.namespace.clone()),
        metric_resource_uri: uri.clone(),
        metric_resource_location: None,
        time_grain: "PT1M".into(),
        statistic: stat,
        time_window: iso(&z.window, 300),
        time_aggregation: agg,
        operator: op,
        threshold,
        dimensions: vec![],
        divide_per_instance: Some(per_instance),
    };
    let action = |direction, value: u32| ScaleAction {
        direction,
        kind: ScaleType::ChangeCount,
        value: Some(value.to_string()),
        cooldown: iso(&z.cooldown, 300),
    };
    let mut out = vec![(
        ScaleRule {
            metric_trigger: trigger(
                &z.metric,
                MetricStatistic::Max,
                TimeAggregation::Average,
                ComparisonOperator::GreaterThan,
                f64::from(z.target_per_vm),
                true,
            ),
            scale_action: action(ScaleDirection::Increase, z.scale_out_by),
        },
        "autoscale.sessions.target_per_vm".to_string(),
    )];
    if z.wake_on_waiting {
        out.push((
            ScaleRule {
                metric_trigger: trigger(
                    &z.waiting_metric,
                    MetricStatistic::Max,
                    TimeAggregation::Last,
                    ComparisonOperator::GreaterThan,
                    0.0,
                    false,
                ),
                scale_action: action(ScaleDirection::Increase, z.scale_out_by),
            },
            "autoscale.sessions.wake_on_waiting".to_string(),
        ));
    }
    out.push((
        ScaleRule {
            metric_trigger: trigger(
                &z.metric,
                MetricStatistic::Max,
                TimeAggregation::Average,
                ComparisonOperator::LessThan,
                z.scale_in_below(),
                true,
            ),
            scale_action: action(ScaleDirection::Decrease, 1),
        },
        "autoscale.sessions.scale_in_below".to_string(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pool;

    const EXAMPLES: &str = "../../shared/fixtures/arm/api-examples/specification/monitor/resource-manager/Microsoft.Insights/stable/2022-10-01/examples";

    fn example(name: &str) -> serde_json::Value {
        let path = format!("{}/{EXAMPLES}/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn official_examples_round_trip() {
        let create = example("createOrUpdateAutoscaleSetting.json");
        let req = &create["parameters"]["parameters"]["properties"];
        let settings: AutoscaleSettings = serde_json::from_value(req.clone()).unwrap();
        assert_eq!(settings.profiles.len(), 2);
        assert_eq!(settings.profiles[0].capacity, ScaleCapacity::new(1, 10, 1));
        let r = &settings.profiles[0].rules[1];
        assert_eq!(r.metric_trigger.time_grain, "PT2M");
        assert_eq!(r.scale_action.direction, ScaleDirection::Decrease);
        assert_eq!(r.scale_action.value.as_deref(), Some("2"));
        assert_eq!(
            settings.profiles[1]
                .recurrence
                .as_ref()
                .unwrap()
                .schedule
                .minutes,
            vec![15]
        );
        assert_eq!(
            settings.notifications[0]
                .email
                .as_ref()
                .unwrap()
                .custom_emails,
            vec!["gu@ms.com", "ge@ns.net"]
        );
        // Serializing gives back the request body, key for key.
        assert_eq!(&serde_json::to_value(&settings).unwrap(), req);
        for code in ["200", "201"] {
            let body = &create["responses"][code]["body"];
            let res: AutoscaleSettingResource = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(res.properties.name.as_deref(), Some("MySetting"));
        }
        let get = example("getAutoscaleSetting.json");
        let res: AutoscaleSettingResource =
            serde_json::from_value(get["responses"]["200"]["body"].clone()).unwrap();
        assert_eq!(
            res.kind.as_deref(),
            Some("Microsoft.Insights/autoscaleSettings")
        );
        assert!(res.properties.enabled);
        assert_eq!(
            res.properties
                .predictive_autoscale_policy
                .as_ref()
                .unwrap()
                .scale_look_ahead_time,
            None
        );
    }

    fn pool(extra: &str) -> ValidPool {
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

    const VMSS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-team/providers/Microsoft.Compute/virtualMachineScaleSets/team-vmss";

    #[test]
    fn shorthand_expands_to_two_recurring_profiles() {
        let p = pool(
            r#"
            [capacity]
            max = 8
            [autoscale.scale_to_zero]
            start = "08:30"
            end = "19:00"
            time_zone = "W. Europe Standard Time"
            min = 2
            "#,
        );
        let s = settings_from_pool(&p, VMSS);
        assert_eq!(s.profiles.len(), 2);
        let w = &s.profiles[0];
        assert_eq!(w.name, "work-hours");
        assert_eq!(w.capacity, ScaleCapacity::new(2, 8, 2));
        let r = w.recurrence.as_ref().unwrap();
        assert_eq!(r.frequency, RecurrenceFrequency::Week);
        assert_eq!(
            r.schedule.days,
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
        );
        assert_eq!(
            (r.schedule.hours.clone(), r.schedule.minutes.clone()),
            (vec![8], vec![30])
        );
        let o = &s.profiles[1];
        assert_eq!(o.name, "off-hours");
        // No rules: off-hours is a hard zero.
        assert_eq!(o.capacity, ScaleCapacity::new(0, 0, 0));
        assert_eq!(o.recurrence.as_ref().unwrap().schedule.hours, vec![19]);
        assert!(s.profiles.iter().all(|p| p.recurrence.is_some()));
        assert_eq!(s.target_resource_uri.as_deref(), Some(VMSS));
        assert_eq!(s.name.as_deref(), Some("team-autoscale"));
        assert!(s.enabled);
    }

    #[test]
    fn sessions_and_generated_rules() {
        let p = pool(
            r#"
            [capacity]
            max = 20
            [autoscale.scale_to_zero]
            min = 1
            [[autoscale.rules]]
            metric = "Percentage CPU"
            operator = ">"
            threshold = 70
            action = "increase"
            value = 2
            time_grain = "1m"
            window = "10m"
            [autoscale.sessions]
            target_per_vm = 4
            "#,
        );
        let (s, o) = settings_with_origins(&p, VMSS);
        let off = &s.profiles[1];
        assert_eq!(off.capacity, ScaleCapacity::new(0, 20, 0));
        assert_eq!(off.rules.len(), 4);
        let cpu = &off.rules[0].metric_trigger;
        assert_eq!(cpu.time_window, "PT10M");
        assert_eq!(cpu.metric_namespace.as_deref(), Some(SCALE_SET_NAMESPACE));
        assert_eq!(cpu.metric_resource_uri, VMSS);
        let out = &off.rules[1];
        assert_eq!(out.metric_trigger.metric_name, "Sessions");
        assert_eq!(out.metric_trigger.divide_per_instance, Some(true));
        assert_eq!(out.metric_trigger.threshold, 4.0);
        let wake = &off.rules[2];
        assert_eq!(wake.metric_trigger.metric_name, "WaitingSessions");
        assert_eq!(wake.metric_trigger.time_aggregation, TimeAggregation::Last);
        let inr = &off.rules[3];
        assert_eq!(inr.scale_action.direction, ScaleDirection::Decrease);
        assert_eq!(inr.metric_trigger.threshold, 2.0);
        assert_eq!(o.rules[1][0], "autoscale.rules[0]");
        assert_eq!(o.rules[1][3], "autoscale.sessions.scale_in_below");
        assert_eq!(o.profiles[1], "autoscale.scale_to_zero.end");
    }

    #[test]
    fn explicit_and_default_profiles() {
        let p = pool(
            r#"
            [capacity]
            min = 1
            max = 6
            [[autoscale.profiles]]
            name = "year-end"
            min = 0
            max = 0
            default = 0
            fixed_date = { start = "2026-12-24T00:00", end = "2027-01-02T00:00", time_zone = "W. Europe Standard Time" }
            "#,
        );
        let s = settings_from_pool(&p, VMSS);
        assert_eq!(s.profiles.len(), 1);
        let f = s.profiles[0].fixed_date.as_ref().unwrap();
        assert_eq!(f.start, "2026-12-24T00:00:00");
        assert_eq!(f.time_zone.as_deref(), Some("W. Europe Standard Time"));
        let d = settings_from_pool(&pool("[capacity]\nmin = 1\nmax = 6"), VMSS);
        assert_eq!(d.profiles[0].name, "default");
        assert_eq!(d.profiles[0].capacity, ScaleCapacity::new(1, 6, 1));
        assert!(d.profiles[0].rules.is_empty());
        // Serialized as ARM JSON: camelCase, strings for counts.
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["profiles"][0]["capacity"]["minimum"], "1");
        assert_eq!(v["targetResourceLocation"], "westeurope");
    }
}
