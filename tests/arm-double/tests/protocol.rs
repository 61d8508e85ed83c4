//! Protocol behaviour: tokens and authentication (including the official `azure_identity`
//! client-secret credential), api-versions, request ids, async operations, throttling, every
//! fault class, protocol switches, the request log, the control endpoint and the binary.

mod common;

use common::*;
use dsvmpool_arm_double::{ArmDouble, Config, FaultRule, RequestKind};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rule(v: Value) -> FaultRule {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn token_endpoint_follows_the_client_credentials_flow() {
    let d = ArmDouble::start(fast_config()).unwrap();
    let http = http_client(&d.ca_pem);
    let post = |form: Vec<(&'static str, String)>, url: String| {
        let http = http.clone();
        async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let good = || {
        vec![
            ("client_id", d.client_id.clone()),
            ("client_secret", d.client_secret.clone()),
            ("grant_type", "client_credentials".to_string()),
            ("scope", "https://management.azure.com/.default".to_string()),
        ]
    };
    let (s, v) = post(good(), d.token_url.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 3000);
    assert!(v["access_token"].as_str().unwrap().len() >= 32);

    let mut wrong_secret = good();
    wrong_secret[1].1 = "nope".into();
    let (s, v) = post(wrong_secret, d.token_url.clone()).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"][0], 7000215);
    let mut wrong_client = good();
    wrong_client[0].1 = "someone-else".into();
    assert_eq!(
        post(wrong_client, d.token_url.clone()).await.1["error"],
        "unauthorized_client"
    );
    let mut bad_scope = good();
    bad_scope[3].1 = "https://management.azure.com/user_impersonation".into();
    assert_eq!(
        post(bad_scope, d.token_url.clone()).await.1["error"],
        "invalid_scope"
    );
    let mut bad_grant = good();
    bad_grant[2].1 = "password".into();
    assert_eq!(
        post(bad_grant, d.token_url.clone()).await.1["error"],
        "unsupported_grant_type"
    );
    let other_tenant = d
        .token_url
        .replace(&d.tenant_id, "00000000-0000-0000-0000-000000000000");
    let (s, v) = post(good(), other_tenant).await;
    assert_eq!(s, 400);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90002")
    );

    // the secret never reaches the request log
    let log = d.requests();
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|r| r.kind == RequestKind::Token));
    assert!(log.iter().all(|r| !r.body.contains(&d.client_secret)));
    assert!(log[0].body.contains("client_secret=REDACTED"));
    assert!(!format!("{d:?}").contains(&d.client_secret));
    assert!(!format!("{:?}", d.endpoints()).contains(&d.client_secret));
}

#[tokio::test]
async fn azure_identity_client_secret_credential_gets_a_token_from_the_double() {
    use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
    use azure_core::credentials::TokenCredential;
    use azure_core::http::{ClientOptions, Transport};
    use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};

    let d = ArmDouble::start(fast_config()).unwrap();
    let http = http_client(&d.ca_pem);
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = d.token_authority_url.clone();
    let options = ClientSecretCredentialOptions {
        client_options: ClientOptions {
            transport: Some(Transport::new(Arc::new(http.clone()))),
            cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
            ..Default::default()
        },
    };
    let cred = ClientSecretCredential::new(
        &d.tenant_id,
        d.client_id.clone(),
        d.client_secret.clone().into(),
        Some(options),
    )
    .unwrap();
    let token = cred
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .unwrap();
    let r = http
        .get(format!(
            "{}subscriptions/{}/resourcegroups?api-version={RG_API}",
            d.management_url, d.subscription_id
        ))
        .bearer_auth(token.token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = d.requests();
    assert_eq!(log[0].kind, RequestKind::Token);
    assert_eq!(log[0].path, format!("/{}/oauth2/v2.0/token", d.tenant_id));
    assert_eq!(log[0].query_param("x"), None);
    assert_eq!(log[1].kind, RequestKind::Management);
    assert!(!log[1].headers.contains_key("authorization"));
}

#[tokio::test]
async fn authentication_api_versions_and_request_ids() {
    let (d, c) = start().await;
    let path = format!("/subscriptions/{}/resourcegroups", c.sub);
    let anon = c.http.get(c.url(&path, Some(RG_API))).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    assert!(anon.headers().get("www-authenticate").is_some());
    assert!(anon.headers().get("x-ms-request-id").is_some());
    let body: Value = anon.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    assert_eq!(body["error"]["details"], json!([]));

    let forged = Client {
        token: "forged".into(),
        ..Client::connect(&d).await
    };
    let r = forged.get(&path, RG_API).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "InvalidAuthenticationToken");

    let r = c.send("GET", &path, None, None, &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "MissingApiVersionParameter");
    let r = c.get(&path, "1999-01-01").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "InvalidApiVersionParameter");
    let r = c
        .get(
            &format!(
                "/subscriptions/{}/resourcegroups",
                "11111111-2222-3333-4444-555555555555"
            ),
            RG_API,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "SubscriptionNotFound");

    // request ids: fresh x-ms-request-id, correlation id echoed
    let r = c
        .send(
            "GET",
            &path,
            Some(RG_API),
            None,
            &[
                ("x-ms-correlation-request-id", "corr-1"),
                ("x-ms-client-request-id", "cli-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-correlation-request-id").unwrap(), "corr-1");
    assert_eq!(r.header("x-ms-client-request-id").unwrap(), "cli-1");
    let id1 = r.header("x-ms-request-id").unwrap();
    let r2 = c.get(&path, RG_API).await;
    assert_ne!(r2.header("x-ms-request-id").unwrap(), id1);
    assert!(r2.header("x-ms-correlation-request-id").is_some());
    let rec = d.requests();
    let last = rec.last().unwrap();
    assert_eq!(
        last.request_id.as_deref(),
        r2.header("x-ms-request-id").as_deref()
    );

    // expired tokens
    d.expire_tokens();
    let r = c.get(&path, RG_API).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "ExpiredAuthenticationToken");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    let fresh = Client::connect(&d).await;
    assert_eq!(fresh.get(&path, RG_API).await.status, 200);

    // short-lived tokens expire on their own
    let mut cfg = fast_config();
    cfg.token_lifetime_secs = 1;
    let (_d2, c2) = start_with(cfg).await;
    let p2 = format!("/subscriptions/{}/resourcegroups", c2.sub);
    assert_eq!(c2.get(&p2, RG_API).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        c2.get(&p2, RG_API).await.body["error"]["code"],
        "ExpiredAuthenticationToken"
    );
}

#[tokio::test]
async fn resource_groups_follow_the_official_example() {
    let (_d, c) = start().await;
    let ex = read_fixture(
        "api-examples/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/examples/CreateResourceGroup.json",
    );
    let path = c.rg_path("my-resource-group");
    let r = c
        .put(&path, RG_API, ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 201);
    // every field of the example, with the same value (the real service also sends "type")
    let expected = ex["responses"]["201"]["body"]
        .to_string()
        .replace("00000000-0000-0000-0000-000000000000", &c.sub);
    let expected: Value = serde_json::from_str(&expected).unwrap();
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&r.body[k], v, "{k}");
    }
    assert_eq!(r.body["type"], "Microsoft.Resources/resourceGroups");
    let r = c
        .put(&path, RG_API, ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    let moved = c.put(&path, RG_API, json!({"location": "eastus2"})).await;
    assert_eq!(moved.status, 409);
    assert_eq!(
        c.send("HEAD", &path, Some(RG_API), None, &[]).await.status,
        204
    );
    let no_loc = c.put(&c.rg_path("x"), RG_API, json!({})).await;
    assert_eq!(no_loc.status, 400);
    assert_eq!(no_loc.body["error"]["code"], "LocationRequired");
    let bad_name = c
        .put(&c.rg_path("ends."), RG_API, json!({"location": "eastus"}))
        .await;
    assert_eq!(bad_name.status, 400);
    let tags = c
        .send(
            "PATCH",
            &path,
            Some(RG_API),
            Some(json!({"tags": {"team": "ds"}})),
            &[],
        )
        .await;
    assert_eq!(tags.body["tags"]["team"], "ds");
    let list = c
        .get(&format!("/subscriptions/{}/resourcegroups", c.sub), RG_API)
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn shapes_match_the_official_compute_examples() {
    let (_d, c) = start().await;
    c.create_rg("shapes").await;
    let dep = c
        .deploy("shapes", "d", pool_template(), pool_parameters("shape", 2))
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded");
    // deployment body keys as in PutDeploymentResourceGroup
    let ex = read_fixture(
        "api-examples/specification/resources/resource-manager/Microsoft.Resources/deployments/examples/2025-04-01/PutDeploymentResourceGroup.json",
    );
    let ex_body = &ex["responses"]["200"]["body"];
    for k in ex_body.as_object().unwrap().keys() {
        assert!(dep.get(k).is_some(), "deployment misses {k}");
    }
    for k in ex_body["properties"].as_object().unwrap().keys() {
        if k == "templateLink" {
            continue; // the template was sent inline
        }
        assert!(
            dep["properties"].get(k).is_some(),
            "deployment misses properties.{k}"
        );
    }
    let vmss_path = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/shape-vmss",
        c.rg_path("shapes")
    );
    let v = c.get(&vmss_path, COMPUTE_API).await.body;
    let ex = read_fixture(
        "api-examples/specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/VirtualMachineScaleSet_Get_WithUserData.json",
    );
    let ex = &ex["responses"]["200"]["body"];
    for k in ["name", "id", "type", "location", "sku", "properties"] {
        assert!(ex.get(k).is_some());
        assert!(v.get(k).is_some(), "scale set misses {k}");
    }
    for k in [
        "upgradePolicy",
        "virtualMachineProfile",
        "provisioningState",
        "uniqueId",
        "timeCreated",
    ] {
        assert!(
            v["properties"].get(k).is_some(),
            "scale set misses properties.{k}"
        );
    }
    assert_eq!(v["type"], ex["type"]);
    let ex_list = read_fixture(
        "api-examples/specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/VirtualMachineScaleSetVM_List_MinimumSet_Gen.json",
    );
    let list = c
        .get(&format!("{vmss_path}/virtualMachines"), COMPUTE_API)
        .await
        .body;
    for k in ex_list["responses"]["200"]["body"]["value"][0]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(list["value"][0].get(k).is_some(), "instance misses {k}");
    }
    assert!(
        list["value"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/virtualMachines/0")
    );
    // the create example's body is accepted by a direct PUT and answered with 201 + Creating
    let create = read_fixture(
        "api-examples/specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/VirtualMachineScaleSet_Create_WithAzureLoadBalancer.json",
    );
    let direct = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/direct",
        c.rg_path("shapes")
    );
    let r = c
        .put(
            &direct,
            COMPUTE_API,
            create["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201);
    let ex201 = &create["responses"]["201"]["body"];
    assert_eq!(
        r.body["properties"]["provisioningState"],
        ex201["properties"]["provisioningState"]
    );
    assert_eq!(r.body["sku"], ex201["sku"]);
    assert!(
        r.body["properties"]["virtualMachineProfile"]["osProfile"]
            .get("adminPassword")
            .is_none()
    );
    assert!(r.header("azure-asyncoperation").is_some());
    // the update example (empty body) answers 202 and keeps the resource
    let upd = c
        .send("PATCH", &direct, Some(COMPUTE_API), Some(json!({})), &[])
        .await;
    assert_eq!(upd.status, 202);
    let fin = c.poll_location(&upd.header("location").unwrap()).await;
    assert_eq!(fin.status, 200);
    assert_eq!(fin.body["location"], "westus");
    assert_eq!(
        c.get(&format!("{direct}/virtualMachines"), COMPUTE_API)
            .await
            .body["value"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn operation_status_and_location_follow_the_async_protocol() {
    let (d, c) = start().await;
    c.create_rg("rg").await;
    d.update_settings(|s| {
        s.latency.retry_after_secs = 7.0;
        s.latency.delete_default_secs = 1000.0;
    })
    .unwrap();
    let nsg = format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/n",
        c.rg_path("rg")
    );
    c.put(&nsg, NETWORK_API, json!({"location": "westeurope"}))
        .await;
    let del = c.send("DELETE", &nsg, Some(NETWORK_API), None, &[]).await;
    assert_eq!(del.status, 202);
    assert_eq!(del.body, Value::Null, "202 has no body");
    // Retry-After is whole seconds; retry-after-ms carries the scaled interval
    assert_eq!(del.header("retry-after").unwrap(), "1");
    assert_eq!(del.header("retry-after-ms").unwrap(), "7");
    let status_url = del.header("azure-asyncoperation").unwrap();
    let loc = del.header("location").unwrap();
    assert!(status_url.contains("/providers/Microsoft.Network/locations/westeurope/operations/"));
    assert!(loc.contains("/operationResults/"));
    let s = c.send("GET", &status_url, None, None, &[]).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.body["status"], "InProgress");
    assert!(s.header("retry-after").is_some());
    let l = c.send("GET", &loc, None, None, &[]).await;
    assert_eq!(l.status, 202);
    assert_eq!(l.header("location").unwrap(), loc);
    let done = c.poll_status(&status_url).await;
    assert_eq!(done["status"], "Succeeded");
    assert_eq!(c.send("GET", &loc, None, None, &[]).await.status, 204);
    let unknown = c
        .send("GET", &format!("/subscriptions/{}/providers/Microsoft.Network/locations/westeurope/operations/nope", c.sub), Some(NETWORK_API), None, &[])
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn lowercase_states_and_relative_locations_when_asked() {
    let mut cfg = fast_config();
    cfg.behaviour.lowercase_terminal_states = true;
    cfg.behaviour.relative_location = true;
    let (_d, c) = start_with(cfg).await;
    c.create_rg("rg").await;
    let nsg = format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/n",
        c.rg_path("rg")
    );
    let r = c
        .put(&nsg, NETWORK_API, json!({"location": "westeurope"}))
        .await;
    let url = r.header("azure-asyncoperation").unwrap();
    assert!(url.starts_with("/subscriptions/"), "{url}");
    let s = c.poll_status(&url).await;
    assert_eq!(s["status"], "succeeded");
    assert_eq!(
        c.get(&nsg, NETWORK_API).await.body["properties"]["provisioningState"],
        "succeeded"
    );
    let del = c
        .send("DELETE", &c.rg_path("rg"), Some(RG_API), None, &[])
        .await;
    let loc = del.header("location").unwrap();
    assert!(
        loc.starts_with("/subscriptions/") && loc.contains("/operationresults/"),
        "{loc}"
    );
    assert_eq!(c.poll_location(&loc).await.status, 200);
}

#[tokio::test]
async fn throttling_buckets_count_down_and_answer_429() {
    let mut cfg = fast_config();
    cfg.throttling.reads = dsvmpool_arm_double::Bucket {
        capacity: 3,
        refill_per_sec: 1.0,
    };
    cfg.time_scale = 1.0;
    let (d, c) = start_with(cfg).await;
    let path = format!("/subscriptions/{}/resourcegroups", c.sub);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = c.get(&path, RG_API).await;
        assert_eq!(r.status, 200);
        remaining.push(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .unwrap(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = c.get(&path, RG_API).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    assert_eq!(r.header("retry-after").unwrap(), "1");
    // writes have their own bucket
    let w = c
        .put(&c.rg_path("w"), RG_API, json!({"location": "westeurope"}))
        .await;
    assert_eq!(w.status, 201);
    assert_eq!(
        w.header("x-ms-ratelimit-remaining-subscription-writes")
            .unwrap(),
        "199"
    );
    let del = c
        .send("DELETE", &c.rg_path("w"), Some(RG_API), None, &[])
        .await;
    assert_eq!(
        del.header("x-ms-ratelimit-remaining-subscription-deletes")
            .unwrap(),
        "199"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(c.get(&path, RG_API).await.status, 200);
    d.refill_throttling();
    assert_eq!(
        c.get(&path, RG_API)
            .await
            .header("x-ms-ratelimit-remaining-subscription-reads")
            .unwrap(),
        "2"
    );
}

#[tokio::test]
async fn every_fault_class_can_be_injected() {
    let (d, c) = start().await;
    c.create_rg("rg").await;
    let rgs = format!("/subscriptions/{}/resourcegroups", c.sub);

    // 429 with Retry-After, on the 2nd matching GET only
    d.set_faults(vec![rule(json!({
        "method": "GET", "path": "/subscriptions/*/resourcegroups", "nth": 2,
        "action": {"kind": "throttle", "retry_after_secs": 30}
    }))])
    .unwrap();
    assert_eq!(c.get(&rgs, RG_API).await.status, 200);
    let r = c.get(&rgs, RG_API).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after-ms").unwrap(), "30");
    assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    assert!(r.header("x-ms-request-id").is_some());
    assert_eq!(c.get(&rgs, RG_API).await.status, 200);

    // 500 and 503 (with Retry-After), twice in a row
    d.set_faults(vec![
        rule(json!({"path": "*/resourcegroups/rg", "method": "GET", "times": 2,
                    "action": {"kind": "server_error", "status": 503, "retry_after_secs": 2}})),
        rule(json!({"path": "*/resourcegroups/rg", "method": "PUT", "action": {"kind": "server_error"}})),
    ])
    .unwrap();
    let a = c.get(&c.rg_path("rg"), RG_API).await;
    let b = c.get(&c.rg_path("rg"), RG_API).await;
    assert_eq!((a.status, b.status), (503, 503));
    assert_eq!(a.body["error"]["code"], "ServiceUnavailable");
    assert!(a.header("retry-after").is_some());
    assert_eq!(c.get(&c.rg_path("rg"), RG_API).await.status, 200);
    let p = c
        .put(&c.rg_path("rg"), RG_API, json!({"location": "westeurope"}))
        .await;
    assert_eq!(p.status, 500);
    assert_eq!(p.body["error"]["code"], "InternalServerError");

    // connection reset: no HTTP answer at all
    d.set_faults(vec![rule(
        json!({"path": "*/resourcegroups/rg", "action": {"kind": "connection_reset"}}),
    )])
    .unwrap();
    let err = c
        .try_send("GET", &c.rg_path("rg"), Some(RG_API), None, &[])
        .await;
    assert!(err.is_err(), "expected a transport error");
    assert_eq!(
        c.get(&c.rg_path("rg"), RG_API).await.status,
        200,
        "the next connection works"
    );
    let rec = d.requests();
    let reset = rec
        .iter()
        .rev()
        .find(|r| r.fault.as_deref() == Some("connection_reset"))
        .unwrap();
    assert_eq!(reset.status, 0);

    // expired token
    d.set_faults(vec![rule(
        json!({"path": "*", "method": "GET", "action": {"kind": "expired_token"}}),
    )])
    .unwrap();
    let r = c.get(&c.rg_path("rg"), RG_API).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "ExpiredAuthenticationToken");
    assert_eq!(c.get(&c.rg_path("rg"), RG_API).await.status, 200);

    // an operation ending Failed, then one ending Canceled
    let nsg = format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/n",
        c.rg_path("rg")
    );
    d.set_faults(vec![
        rule(json!({"method": "PUT", "path": "*/networkSecurityGroups/n", "action": {"kind": "operation_failed", "code": "InternalOperationError", "message": "disk on fire"}})),
        rule(json!({"method": "DELETE", "path": "*/networkSecurityGroups/n", "action": {"kind": "operation_canceled"}})),
    ])
    .unwrap();
    let r = c
        .put(&nsg, NETWORK_API, json!({"location": "westeurope"}))
        .await;
    assert_eq!(
        r.status, 201,
        "the PUT is accepted; the operation fails later"
    );
    let s = c
        .poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(s["status"], "Failed");
    assert_eq!(s["error"]["code"], "InternalOperationError");
    assert_eq!(
        c.get(&nsg, NETWORK_API).await.body["properties"]["provisioningState"],
        "Failed"
    );
    let del = c.send("DELETE", &nsg, Some(NETWORK_API), None, &[]).await;
    let s = c
        .poll_status(&del.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(s["status"], "Canceled");
    let loc = c.poll_location(&del.header("location").unwrap()).await;
    assert_eq!(loc.body["error"]["code"], "OperationCanceled");
    assert_eq!(
        c.get(&nsg, NETWORK_API).await.status,
        200,
        "a canceled delete leaves the resource"
    );

    // slow poll: a long Retry-After on the operation, and a delayed status answer
    d.update_settings(|s| s.latency.delete_default_secs = 5000.0)
        .unwrap();
    d.set_faults(vec![
        rule(json!({"method": "DELETE", "path": "*/networkSecurityGroups/n", "action": {"kind": "slow_poll", "retry_after_secs": 600}})),
        rule(json!({"method": "GET", "path": "*/operations/*", "action": {"kind": "slow_poll", "delay_secs": 300}})),
    ])
    .unwrap();
    let del = c.send("DELETE", &nsg, Some(NETWORK_API), None, &[]).await;
    assert_eq!(del.status, 202, "{}", del.body);
    assert_eq!(del.header("retry-after-ms").unwrap(), "600");
    let t0 = Instant::now();
    let s = c
        .send(
            "GET",
            &del.header("azure-asyncoperation").unwrap(),
            None,
            None,
            &[],
        )
        .await;
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(s.header("retry-after-ms").unwrap(), "600");

    // faults can also be changed through the control endpoint
    let http = http_client(&d.ca_pem);
    let r = http
        .put(format!("{}faults", d.control_url))
        .json(&json!({"rules": [{"method": "GET", "path": "*/resourcegroups/rg", "action": {"kind": "error", "status": 409, "code": "Conflict", "message": "busy"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(&c.rg_path("rg"), RG_API).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["message"], "busy");
    let listed: Value = http
        .get(format!("{}faults", d.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["rules"][0]["fired"], 1);
    let bad = http
        .post(format!("{}faults", d.control_url))
        .json(&json!({"path": "*", "action": {"kind": "server_error", "status": 200}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        http.delete(format!("{}faults", d.control_url))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(c.get(&c.rg_path("rg"), RG_API).await.status, 200);
}

#[tokio::test]
async fn requests_are_recorded_in_order_and_can_be_reset() {
    let (d, c) = start().await;
    d.clear_requests();
    c.create_rg("rec").await;
    c.get(&c.rg_path("rec"), RG_API).await;
    c.send(
        "PATCH",
        &c.rg_path("rec"),
        Some(RG_API),
        Some(json!({"tags": {"a": "b"}})),
        &[("x-test", "1")],
    )
    .await;
    let log = d.management_requests();
    let summary: Vec<(String, u16)> = log.iter().map(|r| (r.method.clone(), r.status)).collect();
    assert_eq!(
        summary,
        [
            ("PUT".to_string(), 201),
            ("GET".to_string(), 200),
            ("PATCH".to_string(), 200)
        ]
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(log[0].json().unwrap()["location"], "westeurope");
    assert_eq!(log[0].query_param("api-version").as_deref(), Some(RG_API));
    assert_eq!(log[2].headers.get("x-test").map(String::as_str), Some("1"));
    assert!(log.iter().all(|r| !r.headers.contains_key("authorization")));
    assert!(log[0].is_write() && !log[1].is_write());
    assert!(log[1].path_matches("/subscriptions/*/resourceGroups/rec"));
    assert!(!log[0].timestamp.is_empty());

    // the same through the control endpoint
    let http = http_client(&d.ca_pem);
    let via_http: Vec<dsvmpool_arm_double::RecordedRequest> = http
        .get(format!("{}requests", d.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_http.len(), d.requests().len());
    assert_eq!(
        http.delete(format!("{}requests", d.control_url))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(d.requests().is_empty());
    // control calls are not recorded
    let info: dsvmpool_arm_double::Endpoints = http
        .get(format!("{}info", d.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info.management_url, d.management_url);
    assert!(d.requests().is_empty());
    let pem = http
        .get(format!("{}ca.pem", d.control_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, d.ca_pem);
    let state: Value = http
        .get(format!("{}state", d.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["resource_groups"][0]["name"], "rec");
    // settings can be patched at run time, and are validated
    let s: Value = http
        .patch(format!("{}settings", d.control_url))
        .json(&json!({"latency": {"retry_after_secs": 3}, "behaviour": {"lowercase_terminal_states": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["latency"]["retry_after_secs"], 3.0);
    assert!(d.settings().behaviour.lowercase_terminal_states);
    let bad = http
        .patch(format!("{}settings", d.control_url))
        .json(&json!({"latency": {"retry_after_secs": -1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(d.settings().latency.retry_after_secs, 3.0);
}

#[test]
fn the_binary_prints_its_endpoints_and_serves_until_stdin_closes() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("arm-double-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("double.toml");
    std::fs::write(
        &cfg,
        "time_scale = 0.001\nsubscription_id = \"0b1e2c3d-0000-4000-8000-00000000abcd\"\n[[faults]]\npath = \"*\"\nmethod = \"DELETE\"\naction = { kind = \"connection_reset\" }\n",
    )
    .unwrap();
    let env_file = dir.join("env.sh");
    let mut child = Command::new(env!("CARGO_BIN_EXE_arm-double"))
        .arg("--config")
        .arg(&cfg)
        .arg("--ca-out")
        .arg(dir.join("ca.pem"))
        .arg("--env-file")
        .arg(&env_file)
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: dsvmpool_arm_double::Endpoints = serde_json::from_str(&line).unwrap();
    assert_eq!(info.subscription_id, "0b1e2c3d-0000-4000-8000-00000000abcd");
    assert_eq!(info.time_scale, 0.001);
    let ca = std::fs::read_to_string(info.ca_pem_path.as_ref().unwrap()).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(env.contains(&format!("export AZURE_TENANT_ID='{}'", info.tenant_id)));
    assert!(env.contains("export ARM_DOUBLE_CA_FILE="));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = http_client(&ca);
        let faults: Value = http
            .get(format!("{}faults", info.control_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(faults["rules"][0]["action"]["kind"], "connection_reset");
        let tok: Value = http
            .post(&info.token_url)
            .form(&[
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("grant_type", "client_credentials"),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = http
            .get(format!(
                "{}subscriptions/{}?api-version={RG_API}",
                info.management_url, info.subscription_id
            ))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    // closing stdin stops it
    child.stdin.take().unwrap().flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "arm-double did not exit after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // a bad configuration is a clear error, not a panic
    std::fs::write(&cfg, "time_scale = -1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arm-double"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("time_scale"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_library_starts_from_sync_code_and_stops_on_drop() {
    let d = ArmDouble::start(Config::default()).unwrap();
    let addr = d.addr;
    assert!(std::net::TcpStream::connect(addr).is_ok());
    assert!(d.real_duration(10.0) == Duration::from_secs(10));
    drop(d);
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is released"
    );
    let bad = Config {
        time_scale: 0.0,
        ..Config::default()
    };
    assert!(ArmDouble::start(bad).is_err());
}

#[tokio::test]
async fn latencies_follow_the_time_scale() {
    let mut cfg = fast_config();
    cfg.time_scale = 0.002;
    cfg.latency.request_secs = 100.0; // 0.2 s per management request
    let (d, c) = start_with(cfg).await;
    let t0 = Instant::now();
    c.create_rg("lat").await;
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t0.elapsed()
    );
    d.update_settings(|s| {
        s.latency.request_secs = 0.0;
        s.latency.retry_after_secs = 2.0;
        s.latency.deployment_start_secs = 10.0;
        s.latency.deployment_finish_secs = 5.0;
        s.latency.provisioning_default_secs = 20.0;
        s.latency.provisioning.clear();
        s.latency
            .provisioning
            .insert("Microsoft.Compute/virtualMachineScaleSets".into(), 150.0);
    })
    .unwrap();
    let t0 = Instant::now();
    let dep = c
        .deploy("lat", "timed", pool_template(), pool_parameters("timed", 1))
        .await;
    let wall = t0.elapsed();
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded");
    let tl = d.deployment_timeline("lat", "timed").unwrap();
    // start 10 + pip 20 + lb 20 + scale set 150 + autoscale 20 + finish 5 = 225 simulated seconds
    assert_eq!(tl["critical_path_secs"], 225.0);
    let critical = Duration::from_secs_f64(tl["critical_path_real_secs"].as_f64().unwrap());
    assert_eq!(critical, d.real_duration(225.0));
    // a deployment can never be seen finished before its critical path has elapsed
    assert!(wall >= critical, "{wall:?} < {critical:?}");
    let http = http_client(&d.ca_pem);
    let via_http: Value = http
        .get(format!("{}deployments/lat/timed/timeline", d.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_http["critical_path_secs"], 225.0);
    let missing = http
        .get(format!("{}deployments/lat/nope/timeline", d.control_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
