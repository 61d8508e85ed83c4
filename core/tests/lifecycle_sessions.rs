//! Publishing the session metrics (`lifecycle::publish_sessions`) against the ARM test double,
//! which serves the custom-metrics ingestion API: the two values land on the scale set the
//! autoscale rules read, with a monitoring-audience token; and the errors (no
//! `autoscale.sessions`, a missing role, a stale time, a pool that is not deployed).

mod lifecycle_common;

use chrono::{DateTime, Duration, Utc};
use dsvmpool::ErrorKind;
use dsvmpool::ValidPool;
use dsvmpool::lifecycle::{deploy, publish_sessions};
use dsvmpool_arm_double::{FaultAction, RequestKind, Running};
use lifecycle_common::*;

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// The lab pool, scaling on sessions.
fn sessions_pool() -> ValidPool {
    dsvmpool::Pool::from_toml(
        r#"
        name = "lab"
        location = "westeurope"
        resource_group = "rg-lab"
        [capacity]
        min = 0
        max = 8
        initial = 0
        [access]
        ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
        source_cidrs = ["203.0.113.0/24"]
        password = { env = "TEAM_ADMIN_PASSWORD" }
        [storage]
        kind = "azure_files_smb"
        share = { name = "workspace", quota_gib = 100 }
        credential = "account_key"
        [autoscale.sessions]
        target_per_vm = 4
        waiting_metric = "Waiting"
        "#,
    )
    .unwrap()
    .validate()
    .unwrap()
}

async fn deployed(d: &Running, pool: &ValidPool) -> dsvmpool::azure::ArmClient {
    let c = client(d, pool, None);
    deploy(&c, pool, &deploy_options(d, None)).await.unwrap();
    d.clear_requests();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_both_values_where_the_rules_read_them() {
    let d = double();
    let pool = sessions_pool();
    let c = deployed(&d, &pool).await;
    let at = now();
    let out = publish_sessions(&c, &pool, 5, 2, at).await.unwrap();
    let minute = at.format("%Y-%m-%dT%H:%M:00Z").to_string();
    assert_eq!(out.time, minute);
    assert_eq!(out.region, "westeurope");
    assert_eq!(out.namespace, "dsvmpool");
    let vmss = format!(
        "/subscriptions/{}/resourceGroups/rg-lab/providers/Microsoft.Compute/virtualMachineScaleSets/lab-vmss",
        d.subscription_id
    );
    assert_eq!(out.resource_id, vmss);
    let values: Vec<(&str, u64)> = out
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.value))
        .collect();
    assert_eq!(values, [("Sessions", 7), ("Waiting", 2)]);
    assert!(out.metrics.iter().all(|m| !m.request_id.is_empty()));

    // What the double accepted: one point per metric, for the minute, on the scale set.
    let points = d.metric_points();
    assert_eq!(points.len(), 2, "{:?}", calls(&d.requests()));
    for (p, (name, v)) in points.iter().zip([("Sessions", 7.0), ("Waiting", 2.0)]) {
        assert_eq!(p.region, "westeurope");
        assert_eq!(p.resource_id, vmss);
        assert_eq!(p.time, minute);
        assert_eq!(
            (p.namespace.as_str(), p.metric.as_str()),
            ("dsvmpool", name)
        );
        assert!(p.dim_names.is_empty());
        assert_eq!(p.series.len(), 1);
        let s = &p.series[0];
        assert_eq!((s.min, s.max, s.sum, s.count), (v, v, v, 1));
    }
    // The token for these calls was asked for the monitoring audience; no management call.
    let log = d.requests();
    assert!(log.iter().all(|r| r.kind != RequestKind::Management));
    let token_scopes: Vec<String> = log
        .iter()
        .filter(|r| r.kind == RequestKind::Token)
        .map(|r| form_urlencoded_scope(&r.body))
        .collect();
    assert_eq!(token_scopes, ["https://monitoring.azure.com/.default"]);

    // The deployed autoscale rules read exactly these metrics on this resource.
    let setting = c
        .autoscale_get("rg-lab", "lab-autoscale")
        .await
        .unwrap()
        .expect("the autoscale setting is deployed");
    let v = serde_json::to_value(&setting).unwrap();
    let rules: Vec<&serde_json::Value> = v["properties"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["rules"].as_array().unwrap())
        .collect();
    let read: Vec<(String, String, String)> = rules
        .iter()
        .map(|r| {
            let t = &r["metricTrigger"];
            (
                t["metricName"].as_str().unwrap().to_string(),
                t["metricNamespace"].as_str().unwrap_or("").to_string(),
                t["metricResourceUri"]
                    .as_str()
                    .unwrap()
                    .to_ascii_lowercase(),
            )
        })
        .collect();
    for name in ["Sessions", "Waiting"] {
        assert!(
            read.iter().any(|(m, ns, uri)| m == name
                && ns == "dsvmpool"
                && *uri == vmss.to_ascii_lowercase()),
            "no rule reads {name}: {read:?}"
        );
    }

    // A second publication in the same minute reuses the token.
    publish_sessions(&c, &pool, 0, 0, at).await.unwrap();
    assert_eq!(
        d.requests()
            .iter()
            .filter(|r| r.kind == RequestKind::Token)
            .count(),
        1
    );
    let last = d.metric_points();
    assert_eq!(last.len(), 4);
    assert_eq!(last[2].series[0].sum, 0.0);
}

fn form_urlencoded_scope(body: &str) -> String {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("scope="))
        .map(|v| v.replace("%3A", ":").replace("%2F", "/"))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_without_session_scaling_is_refused_before_any_call() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    let e = publish_sessions(&c, &pool, 1, 0, now()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let v = e.validation().unwrap();
    assert_eq!(v.errors[0].path, "autoscale.sessions");
    assert!(e.to_string().contains("autoscale.sessions"), "{e}");
    assert!(d.requests().is_empty(), "{:?}", calls(&d.requests()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_the_ingestion_api() {
    let d = double();
    let pool = sessions_pool();
    let c = client(&d, &pool, None);

    // Not deployed: the scale set does not exist.
    let e = publish_sessions(&c, &pool, 1, 0, now()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("ResourceNotFound"), "{e}");

    let c = deployed(&d, &pool).await;
    // The identity lacks the role.
    d.set_faults(vec![fault(
        "POST",
        "/regions/*/metrics",
        1,
        1,
        FaultAction::Error {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "The client does not have authorization to perform action \
                      'Microsoft.Insights/Metrics/Write'."
                .into(),
            retry_after_secs: None,
        },
    )])
    .unwrap();
    let e = publish_sessions(&c, &pool, 3, 1, now()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    let s = e.to_string();
    assert!(s.contains("HTTP 403 AuthorizationFailed"), "{s}");
    assert!(s.contains("Monitoring Metrics Publisher"), "{s}");
    assert!(s.contains("/virtualMachineScaleSets/lab-vmss"), "{s}");
    assert!(d.metric_points().is_empty());

    // Throttled once: retried after Retry-After, then published.
    d.set_faults(vec![fault(
        "POST",
        "/regions/*/metrics",
        1,
        1,
        FaultAction::Throttle {
            retry_after_secs: 0.01,
        },
    )])
    .unwrap();
    d.clear_requests();
    publish_sessions(&c, &pool, 3, 1, now()).await.unwrap();
    let statuses: Vec<u16> = d.metrics_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200, 200]);
    d.set_faults(vec![]).unwrap();

    // A time outside the accepted window (20 minutes back, 5 ahead).
    let e = publish_sessions(&c, &pool, 3, 1, now() - Duration::hours(1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Http);
    assert!(e.to_string().contains("HTTP 400"), "{e}");
    assert!(e.to_string().contains("20 minutes"), "{e}");
}
