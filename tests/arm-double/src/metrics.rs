//! The custom-metrics ingestion endpoint: `POST /regions/{region}{resourceId}/metrics`.
//!
//! It follows the documented Azure Monitor custom-metrics REST API (one metric per request,
//! `{"time", "data": {"baseData": {"metric", "namespace", "dimNames", "series"}}}`, a bearer
//! token for the audience `https://monitoring.azure.com/`), with the region as the first path
//! segments instead of the host name (the double has one host). Accepted points stay in the
//! request log (kind `metrics`); [`MetricPoint::from_request`] reads them back.

use crate::error::ArmError;
use crate::record::{RecordedRequest, RequestKind};
use crate::state::State;
use crate::wire::{Reply, Req};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The token audience the ingestion endpoint accepts.
pub const MONITORING_AUDIENCE: &str = "https://monitoring.azure.com/";

/// How far in the past a point's `time` may be (documented: 20 minutes).
pub const MAX_AGE_SECS: i64 = 20 * 60;
/// How far in the future a point's `time` may be (documented: 5 minutes).
pub const MAX_AHEAD_SECS: i64 = 5 * 60;

/// Whether `req` is an ingestion call (`/regions/{region}/subscriptions/…/metrics`).
pub fn is_metrics_path(req: &Req) -> bool {
    req.segments.len() >= 4
        && req.segments[0].eq_ignore_ascii_case("regions")
        && req.segments[2].eq_ignore_ascii_case("subscriptions")
        && req
            .segments
            .last()
            .is_some_and(|s| s.eq_ignore_ascii_case("metrics"))
}

/// One series value of an accepted point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesValue {
    /// Dimension values (as many as `dim_names`).
    pub dim_values: Vec<String>,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// Sum.
    pub sum: f64,
    /// Number of samples.
    pub count: u64,
}

/// A custom-metric point as the double accepted it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Region of the endpoint it was posted to.
    pub region: String,
    /// Resource id (as sent, without `/metrics`).
    pub resource_id: String,
    /// `time` as sent.
    pub time: String,
    /// Metric name.
    pub metric: String,
    /// Metric namespace.
    pub namespace: String,
    /// Dimension names.
    pub dim_names: Vec<String>,
    /// Series.
    pub series: Vec<SeriesValue>,
}

impl MetricPoint {
    /// The point an accepted (200) ingestion request carried; `None` for other requests.
    pub fn from_request(r: &RecordedRequest) -> Option<Self> {
        if r.kind != RequestKind::Metrics || r.status != 200 {
            return None;
        }
        let segs: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
        let region = segs.get(1)?.to_string();
        let resource_id = format!("/{}", segs.get(2..segs.len() - 1)?.join("/"));
        let (time, base) = parse_body(&r.json()?).ok()?;
        Some(MetricPoint {
            region,
            resource_id,
            time,
            metric: base.metric,
            namespace: base.namespace,
            dim_names: base.dim_names,
            series: base.series,
        })
    }
}

struct BaseData {
    metric: String,
    namespace: String,
    dim_names: Vec<String>,
    series: Vec<SeriesValue>,
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::new("BadRequest", message)
}

fn string_list(o: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("'{at}{key}' must be an array of strings.")))
            })
            .collect(),
        Some(_) => Err(bad(format!("'{at}{key}' must be an array of strings."))),
    }
}

fn number(o: &Map<String, Value>, key: &str, at: &str) -> Result<f64, ArmError> {
    o.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| bad(format!("'{at}{key}' is required and must be a number.")))
}

fn parse_body(v: &Value) -> Result<(String, BaseData), ArmError> {
    let o = v
        .as_object()
        .ok_or_else(|| bad("The request body must be a JSON object."))?;
    let time = o
        .get("time")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("'time' is required (an ISO 8601 UTC timestamp)."))?
        .to_string();
    let base = o
        .get("data")
        .and_then(|d| d.get("baseData"))
        .and_then(Value::as_object)
        .ok_or_else(|| bad("'data.baseData' is required."))?;
    let text = |key: &str| -> Result<String, ArmError> {
        match base.get(key).and_then(Value::as_str) {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => Err(bad(format!(
                "'data.baseData.{key}' is required and must be a non-empty string."
            ))),
        }
    };
    let metric = text("metric")?;
    let namespace = text("namespace")?;
    let dim_names = string_list(base, "dimNames", "data.baseData.")?;
    let series = match base.get("series") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(bad(
                "'data.baseData.series' is required and must hold at least one series.",
            ));
        }
    };
    let mut out = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        let at = format!("data.baseData.series[{i}].");
        let s = s
            .as_object()
            .ok_or_else(|| bad(format!("'{at}' must be an object.")))?;
        let dim_values = string_list(s, "dimValues", &at)?;
        if dim_values.len() != dim_names.len() {
            return Err(bad(format!(
                "'{at}dimValues' has {} values for {} dimension names.",
                dim_values.len(),
                dim_names.len()
            )));
        }
        let (min, max, sum) = (
            number(s, "min", &at)?,
            number(s, "max", &at)?,
            number(s, "sum", &at)?,
        );
        let count = s
            .get("count")
            .and_then(Value::as_u64)
            .filter(|c| *c >= 1)
            .ok_or_else(|| bad(format!("'{at}count' is required and must be at least 1.")))?;
        if min > max {
            return Err(bad(format!("'{at}min' is greater than '{at}max'.")));
        }
        out.push(SeriesValue {
            dim_values,
            min,
            max,
            sum,
            count,
        });
    }
    Ok((
        time,
        BaseData {
            metric,
            namespace,
            dim_names,
            series: out,
        },
    ))
}

/// Serves one ingestion request (the caller has authenticated it for [`MONITORING_AUDIENCE`]).
pub fn handle(st: &State, req: &Req) -> Reply {
    if req.method != "POST" {
        return Reply::error(
            405,
            ArmError::new(
                "MethodNotAllowed",
                "The metrics ingestion endpoint only accepts POST.",
            ),
        );
    }
    let region = req.segments[1].to_ascii_lowercase();
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Reply::error(400, bad(format!("'{region}' is not a region name.")));
    }
    let ctype = req.header("content-type").unwrap_or("");
    if !ctype
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    {
        return Reply::error(
            415,
            ArmError::new(
                "UnsupportedMediaType",
                "The request Content-Type must be application/json.",
            ),
        );
    }
    let body = match req.json() {
        Ok(v) => v,
        Err(e) => return Reply::error(400, bad(e.message)),
    };
    let (time, _) = match parse_body(&body) {
        Ok(p) => p,
        Err(e) => return Reply::error(400, e),
    };
    let Ok(t) = OffsetDateTime::parse(&time, &Rfc3339) else {
        return Reply::error(
            400,
            bad(format!(
                "'time' `{time}` is not an ISO 8601 timestamp (e.g. 2018-09-13T16:34:20Z)."
            )),
        );
    };
    let now = OffsetDateTime::now_utc();
    let age = (now - t).whole_seconds();
    if age > MAX_AGE_SECS || -age > MAX_AHEAD_SECS {
        return Reply::error(
            400,
            bad(format!(
                "'time' {time} is outside the accepted window: at most 20 minutes in the past \
                 and 5 minutes in the future (now {}).",
                crate::clock::stamp(now)
            )),
        );
    }
    let resource_id = format!("/{}", req.segments[2..req.segments.len() - 1].join("/"));
    let key = crate::template::normalise_id(&resource_id);
    let Some(r) = st.visible(&key) else {
        return Reply::error(
            404,
            ArmError::new(
                "ResourceNotFound",
                format!("The resource '{resource_id}' was not found."),
            ),
        );
    };
    let location: String = r
        .model
        .get("location")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if !location.is_empty() && location != region {
        return Reply::error(
            400,
            bad(format!(
                "The resource '{resource_id}' is in region '{location}'; send its metrics to \
                 the '{location}' endpoint, not '{region}'."
            )),
        );
    }
    Reply::empty(200)
}

/// The audience a token was issued for, from the requested scope (`<audience>/.default`).
pub fn audience_of_scope(scope: &str) -> String {
    let a = scope.split(' ').next().unwrap_or("");
    let a = a.strip_suffix(".default").unwrap_or(a);
    if a.ends_with('/') {
        a.to_string()
    } else {
        format!("{a}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(path: &str) -> Req {
        Req::new("POST", path, "", vec![], vec![])
    }

    #[test]
    fn recognises_ingestion_paths() {
        assert!(is_metrics_path(&req(
            "/regions/westeurope/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v/metrics"
        )));
        assert!(!is_metrics_path(&req(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/metrics"
        )));
        assert!(!is_metrics_path(&req("/regions/westeurope/metrics")));
    }

    #[test]
    fn body_shape_is_checked() {
        let good = json!({"time": "2024-01-01T00:00:00Z", "data": {"baseData": {
            "metric": "Sessions", "namespace": "dsvmpool", "dimNames": [],
            "series": [{"dimValues": [], "min": 3, "max": 3, "sum": 3, "count": 1}]}}});
        let (t, b) = parse_body(&good).unwrap();
        assert_eq!(t, "2024-01-01T00:00:00Z");
        assert_eq!(b.series[0].sum, 3.0);
        for (bad_body, needle) in [
            (json!({"data": {}}), "'time'"),
            (json!({"time": "x"}), "baseData"),
            (
                json!({"time": "x", "data": {"baseData": {"metric": "", "namespace": "n", "series": [{}]}}}),
                "metric",
            ),
            (
                json!({"time": "x", "data": {"baseData": {"metric": "m", "namespace": "n", "series": []}}}),
                "series",
            ),
            (
                json!({"time": "x", "data": {"baseData": {"metric": "m", "namespace": "n", "dimNames": ["a"],
                    "series": [{"dimValues": [], "min": 1, "max": 1, "sum": 1, "count": 1}]}}}),
                "dimValues",
            ),
            (
                json!({"time": "x", "data": {"baseData": {"metric": "m", "namespace": "n",
                    "series": [{"min": 1, "max": 1, "sum": 1, "count": 0}]}}}),
                "count",
            ),
            (
                json!({"time": "x", "data": {"baseData": {"metric": "m", "namespace": "n",
                    "series": [{"min": 2, "max": 1, "sum": 1, "count": 1}]}}}),
                "greater",
            ),
        ] {
            let e = parse_body(&bad_body).err().expect("rejected");
            assert!(e.message.contains(needle), "{needle}: {}", e.message);
        }
    }

    #[test]
    fn audiences() {
        assert_eq!(
            audience_of_scope("https://monitoring.azure.com/.default"),
            MONITORING_AUDIENCE
        );
        assert_eq!(
            audience_of_scope("https://monitoring.azure.com"),
            MONITORING_AUDIENCE
        );
        assert_eq!(
            audience_of_scope("https://127.0.0.1:1/.default"),
            "https://127.0.0.1:1/"
        );
    }
}
