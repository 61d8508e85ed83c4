//! Sans-IO request builder for the Azure Monitor custom-metrics ingestion API.
//!
//! `POST https://{region}.monitoring.azure.com{resourceId}/metrics` with a bearer token for the
//! audience `https://monitoring.azure.com/` (scope `https://monitoring.azure.com/.default`) and
//! the body
//!
//! ```json
//! {"time": "2025-01-01T10:42:00Z",
//!  "data": {"baseData": {"metric": "Sessions", "namespace": "dsvmpool", "dimNames": [],
//!           "series": [{"dimValues": [], "min": 3, "max": 3, "sum": 3, "count": 1}]}}}
//! ```
//!
//! One metric per request. The service answers 200 on success, and 400 (bad body, or a `time`
//! more than 20 minutes in the past or 5 minutes in the future), 401 (token), 403 (the caller
//! lacks the *Monitoring Metrics Publisher* role on the resource), 413 (too large) or 429
//! (throttled) with a JSON `error` body. The caller needs that role on the resource (or its
//! group or subscription).

use super::requests::{ArmRequest, Method, check_name, require_https};
use crate::error::{Diagnostic, Error, Result};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};
use url::Url;

/// The placeholder for the region in [`MetricsEndpoint::url_template`].
pub const REGION_PLACEHOLDER: &str = "{region}";

/// Where custom metrics go in one cloud, and the token scope they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsEndpoint {
    /// https URL with `{region}` for the resource's region, e.g.
    /// `https://{region}.monitoring.azure.com/`. Without `{region}`, every region uses the
    /// same URL (a local test server).
    pub url_template: String,
    /// Token scope, e.g. `https://monitoring.azure.com/.default`.
    pub token_scope: String,
}

impl MetricsEndpoint {
    fn known(host_suffix: &str) -> Self {
        Self {
            url_template: format!("https://{REGION_PLACEHOLDER}.{host_suffix}/"),
            token_scope: format!("https://{host_suffix}/.default"),
        }
    }

    /// Azure public cloud: `https://{region}.monitoring.azure.com/`.
    pub fn public() -> Self {
        Self::known("monitoring.azure.com")
    }

    /// Azure US Government: `https://{region}.monitoring.azure.us/`.
    pub fn us_government() -> Self {
        Self::known("monitoring.azure.us")
    }

    /// Azure operated by 21Vianet: `https://{region}.monitoring.azure.cn/`.
    pub fn china() -> Self {
        Self::known("monitoring.azure.cn")
    }

    /// Another ingestion URL (https; `{region}` optional) with the token scope of `self`:
    /// the audience stays the cloud's, whatever host serves the API.
    pub fn with_url(&self, url_template: &str) -> Result<Self> {
        let e = Self {
            url_template: url_template.trim().to_string(),
            token_scope: self.token_scope.clone(),
        };
        e.base_url("westeurope", "metrics_url")?;
        Ok(e)
    }

    /// The URL for one region (`westeurope`), to check where the endpoint points.
    pub fn sample_url(&self) -> Result<Url> {
        self.base_url("westeurope", "metrics_url")
    }

    fn base_url(&self, region: &str, field: &str) -> Result<Url> {
        let text = self.url_template.replace(REGION_PLACEHOLDER, region);
        let url = Url::parse(&text).map_err(|e| {
            Error::invalid(Diagnostic::error(
                field,
                "url",
                format!("`{}` is not a URL: {e}", self.url_template),
            ))
        })?;
        require_https(&url, field)?;
        Ok(url)
    }

    /// The ingestion URL for a resource: `<endpoint for region>{resource_id}/metrics`.
    pub fn url(&self, region: &str, resource_id: &str) -> Result<Url> {
        let region = region_name(region)?;
        let mut url = self.base_url(&region, "metrics_url")?;
        url.set_query(None);
        url.set_fragment(None);
        let segs = resource_segments(resource_id)?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| Error::Internal("an https URL always has a path".into()))?;
            path.pop_if_empty();
            path.extend(&segs);
            path.push("metrics");
        }
        Ok(url)
    }
}

impl Default for MetricsEndpoint {
    fn default() -> Self {
        Self::public()
    }
}

/// A region as the ingestion host wants it: `West Europe` → `westeurope`.
pub fn region_name(region: &str) -> Result<String> {
    let r: String = region
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(Diagnostic::error(
            "location",
            "region",
            format!("`{region}` is not an Azure region name (e.g. `westeurope`)"),
        )));
    }
    Ok(r)
}

fn resource_segments(resource_id: &str) -> Result<Vec<&str>> {
    let segs: Vec<&str> = resource_id
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let ok = segs.len() >= 4
        && segs[0].eq_ignore_ascii_case("subscriptions")
        && segs[2].eq_ignore_ascii_case("resourceGroups");
    if !ok {
        return Err(Error::invalid(Diagnostic::error(
            "resource_id",
            "resource-id",
            format!(
                "`{resource_id}` is not the id of a resource \
                 (/subscriptions/…/resourceGroups/…/providers/…)"
            ),
        )));
    }
    for s in &segs {
        check_name("resource_id", s)?;
    }
    Ok(segs)
}

/// One value of a custom metric for one minute, without dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Metric namespace, e.g. `dsvmpool`.
    pub namespace: String,
    /// Metric name, e.g. `Sessions`.
    pub metric: String,
    /// The value (sent as min = max = sum, count 1).
    pub value: u64,
    /// Any time in the minute the value is for.
    pub time: DateTime<Utc>,
}

/// The start of the minute `t` falls in.
pub fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or(t)
}

/// ISO 8601 UTC of the minute `t` falls in, e.g. `2025-01-01T10:42:00Z`.
pub fn minute_stamp(t: DateTime<Utc>) -> String {
    minute_of(t).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The request body for one value.
pub fn metric_body(m: &MetricValue) -> Value {
    json!({
        "time": minute_stamp(m.time),
        "data": {
            "baseData": {
                "metric": m.metric,
                "namespace": m.namespace,
                "dimNames": [],
                "series": [{
                    "dimValues": [],
                    "min": m.value,
                    "max": m.value,
                    "sum": m.value,
                    "count": 1
                }]
            }
        }
    })
}

/// The ingestion request for one value on `resource_id` in `region`.
pub fn publish_request(
    endpoint: &MetricsEndpoint,
    region: &str,
    resource_id: &str,
    m: &MetricValue,
) -> Result<ArmRequest> {
    for (field, v) in [("metric", &m.metric), ("namespace", &m.namespace)] {
        if v.trim().is_empty() {
            return Err(Error::invalid(Diagnostic::error(
                field,
                "required",
                format!("the {field} of a custom metric must not be empty"),
            )));
        }
    }
    let url = endpoint.url(region, resource_id)?;
    Ok(ArmRequest {
        method: Method::Post,
        url,
        headers: vec![
            ("Accept".into(), "application/json".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(metric_body(m)),
        operation: format!(
            "publish metric {}/{} = {} on {}",
            m.namespace,
            m.metric,
            m.value,
            super::requests::short_id(resource_id)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const VMSS: &str = "/subscriptions/5a2f7c91-3e4b-4d68-8f0a-b1c2d3e4f506/resourceGroups/rg-team/providers/Microsoft.Compute/virtualMachineScaleSets/team-vmss";

    fn value(v: u64) -> MetricValue {
        MetricValue {
            namespace: "dsvmpool".into(),
            metric: "Sessions".into(),
            value: v,
            time: Utc.with_ymd_and_hms(2025, 3, 4, 10, 42, 37).unwrap()
                + chrono::Duration::milliseconds(250),
        }
    }

    #[test]
    fn exact_request() {
        let r =
            publish_request(&MetricsEndpoint::public(), "West Europe", VMSS, &value(7)).unwrap();
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url.as_str(),
            format!("https://westeurope.monitoring.azure.com{VMSS}/metrics")
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.body.clone().unwrap(),
            serde_json::json!({
                "time": "2025-03-04T10:42:00Z",
                "data": {"baseData": {
                    "metric": "Sessions", "namespace": "dsvmpool", "dimNames": [],
                    "series": [{"dimValues": [], "min": 7, "max": 7, "sum": 7, "count": 1}]
                }}
            })
        );
        assert!(
            r.operation.contains("dsvmpool/Sessions = 7"),
            "{}",
            r.operation
        );
        assert_eq!(r.api_version(), None);
    }

    #[test]
    fn scopes_per_cloud() {
        assert_eq!(
            MetricsEndpoint::public().token_scope,
            "https://monitoring.azure.com/.default"
        );
        assert_eq!(
            MetricsEndpoint::us_government()
                .url(" usgovvirginia", VMSS)
                .unwrap()
                .host_str(),
            Some("usgovvirginia.monitoring.azure.us")
        );
        assert_eq!(
            MetricsEndpoint::china().token_scope,
            "https://monitoring.azure.cn/.default"
        );
    }

    #[test]
    fn overridden_endpoint_keeps_the_scope() {
        let e = MetricsEndpoint::public()
            .with_url("https://127.0.0.1:8443/regions/{region}/")
            .unwrap();
        assert_eq!(e.token_scope, "https://monitoring.azure.com/.default");
        assert_eq!(
            e.url("eastus", VMSS).unwrap().as_str(),
            format!("https://127.0.0.1:8443/regions/eastus{VMSS}/metrics")
        );
        let plain = MetricsEndpoint::public()
            .with_url("https://127.0.0.1:8443")
            .unwrap();
        assert_eq!(
            plain.url("eastus", VMSS).unwrap().as_str(),
            format!("https://127.0.0.1:8443{VMSS}/metrics")
        );
        let e = MetricsEndpoint::public()
            .with_url("http://127.0.0.1:8443/")
            .unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].rule, "https-only");
    }

    #[test]
    fn bad_input_is_named() {
        let e = MetricsEndpoint::public()
            .url("west/europe", VMSS)
            .unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].path, "location");
        for id in [
            "/subscriptions/x",
            "team-vmss",
            "/subscriptions/s/resourceGroups/../x",
        ] {
            let e = MetricsEndpoint::public().url("westeurope", id).unwrap_err();
            assert_eq!(
                e.validation().unwrap().errors[0].path,
                "resource_id",
                "{id}"
            );
        }
        let mut m = value(1);
        m.metric = " ".into();
        let e = publish_request(&MetricsEndpoint::public(), "westeurope", VMSS, &m).unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].path, "metric");
    }

    #[test]
    fn minutes() {
        assert_eq!(minute_stamp(value(0).time), "2025-03-04T10:42:00Z");
        let t = Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(minute_stamp(t), "2025-12-31T23:59:00Z");
    }
}
