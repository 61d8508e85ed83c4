//! The custom-metrics ingestion endpoint over HTTP: token audience, body shape, time window,
//! region and resource checks, and points read back from the request log.

mod common;

use common::*;
use dsvmpool_arm_double::{RequestKind, Running};
use serde_json::{Value, json};

async fn token(d: &Running, scope: &str) -> String {
    let http = http_client(&d.ca_pem);
    let v: Value = http
        .post(&d.token_url)
        .form(&[
            ("client_id", d.client_id.as_str()),
            ("client_secret", d.client_secret.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

fn now_stamp(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn body(time: &str, value: i64) -> Value {
    json!({"time": time, "data": {"baseData": {
        "metric": "Sessions", "namespace": "dsvmpool", "dimNames": [],
        "series": [{"dimValues": [], "min": value, "max": value, "sum": value, "count": 1}]}}})
}

async fn post(d: &Running, token: &str, region: &str, id: &str, b: Option<Value>) -> (u16, Value) {
    let url = format!(
        "{}{}/metrics",
        d.metrics_url
            .replace("{region}", region)
            .trim_end_matches('/'),
        id
    );
    let mut rb = http_client(&d.ca_pem).post(url).bearer_auth(token);
    rb = match b {
        Some(b) => rb.json(&b),
        None => rb.json(&json!({})),
    };
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion() {
    let (d, c) = start().await;
    c.create_rg("rg-m").await;
    let id = format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/pip",
        c.rg_path("rg-m")
    );
    let r = c
        .put(
            &id,
            "2024-05-01",
            json!({"location": "westeurope", "sku": {"name": "Standard"}}),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    let monitoring = token(&d, "https://monitoring.azure.com/.default").await;

    // A management token is for the wrong audience, and the other way round.
    let (s, e) = post(
        &d,
        &c.token,
        "westeurope",
        &id,
        Some(body(&now_stamp(0), 1)),
    )
    .await;
    assert_eq!(s, 401, "{e}");
    assert_eq!(e["error"]["code"], "InvalidAuthenticationTokenAudience");
    let mc = common::Client {
        token: monitoring.clone(),
        ..Client::connect(&d).await
    };
    let r = mc.get(&id, "2024-05-01").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"]["code"],
        "InvalidAuthenticationTokenAudience"
    );

    // Accepted.
    let t = now_stamp(-30);
    let (s, e) = post(&d, &monitoring, "westeurope", &id, Some(body(&t, 4))).await;
    assert_eq!(s, 200, "{e}");
    let points = d.metric_points();
    assert_eq!(points.len(), 1);
    let p = &points[0];
    assert_eq!(
        (p.region.as_str(), p.resource_id.as_str(), p.time.as_str()),
        ("westeurope", id.as_str(), t.as_str())
    );
    assert_eq!(
        (p.metric.as_str(), p.namespace.as_str()),
        ("Sessions", "dsvmpool")
    );
    assert_eq!(p.series[0].max, 4.0);

    // Rejections.
    let cases: Vec<(&str, &str, Option<Value>, u16, &str)> = vec![
        (
            "northeurope",
            id.as_str(),
            Some(body(&now_stamp(0), 1)),
            400,
            "region",
        ),
        (
            "westeurope",
            id.as_str(),
            Some(body(&now_stamp(-21 * 60), 1)),
            400,
            "20 minutes",
        ),
        (
            "westeurope",
            id.as_str(),
            Some(body(&now_stamp(6 * 60), 1)),
            400,
            "5 minutes",
        ),
        (
            "westeurope",
            id.as_str(),
            Some(body("yesterday", 1)),
            400,
            "ISO 8601",
        ),
        ("westeurope", id.as_str(), None, 400, "time"),
        (
            "westeurope",
            "/subscriptions/x/resourceGroups/rg-m/providers/Microsoft.Network/publicIPAddresses/nope",
            Some(body(&now_stamp(0), 1)),
            404,
            "not found",
        ),
    ];
    for (region, rid, b, status, needle) in cases {
        let (s, e) = post(&d, &monitoring, region, rid, b).await;
        assert_eq!(s, status, "{region} {rid}: {e}");
        let m = e["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(needle), "{needle}: {e}");
    }
    assert_eq!(d.metric_points().len(), 1, "rejected points are not kept");

    // The log keeps them apart from management calls.
    assert_eq!(d.metrics_requests().len(), 8);
    assert!(
        d.management_requests()
            .iter()
            .all(|r| r.kind == RequestKind::Management && !r.path.ends_with("/metrics"))
    );
}
